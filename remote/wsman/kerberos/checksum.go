package kerberos

import (
	"crypto/md5"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
)

// GSS-API context flags carried in the authenticator checksum (RFC 4121
// §4.1.1.1, RFC 2744 §3.1).
const (
	gssDelegFlag    = 0x01
	gssMutualFlag   = 0x02
	gssReplayFlag   = 0x04
	gssSequenceFlag = 0x08
	gssConfFlag     = 0x10
	gssIntegFlag    = 0x20
)

// gssChecksumType is the authenticator checksum type of the GSS-API
// Kerberos mechanism (RFC 4121 §4.1.1).
const gssChecksumType = 0x8003

// gssChecksumLen is Lgth(4) + Bnd(16) + Flags(4), without delegation.
const gssChecksumLen = 24

// channelBindingsHash is Bnd: the MD5 of the gss_channel_bindings_struct
// (RFC 4121 §4.1.1.2) with no addresses (address types and lengths zero,
// as HTTP clients send them) and appData as application data. No bindings
// give 16 zero bytes.
func channelBindingsHash(appData []byte) []byte {
	if len(appData) == 0 {
		return make([]byte, 16)
	}
	b := make([]byte, 16, 20+len(appData)) // initiator addrtype, length; acceptor addrtype, length
	b = binary.LittleEndian.AppendUint32(b, uint32(len(appData)))
	b = append(b, appData...)
	sum := md5.Sum(b)
	return sum[:]
}

// gssChecksum builds the RFC 4121 §4.1.1 checksum value.
func gssChecksum(channelBindings []byte, flags uint32) []byte {
	c := make([]byte, 0, gssChecksumLen)
	c = binary.LittleEndian.AppendUint32(c, 16)
	c = append(c, channelBindingsHash(channelBindings)...)
	return binary.LittleEndian.AppendUint32(c, flags)
}

// parsedChecksum is what the acceptor reads from an authenticator checksum.
type parsedChecksum struct {
	bnd   []byte
	flags uint32
}

func parseGSSChecksum(c []byte) (parsedChecksum, error) {
	if len(c) < gssChecksumLen {
		return parsedChecksum{}, fmt.Errorf("authenticator checksum of %d bytes, want at least %d", len(c), gssChecksumLen)
	}
	if l := binary.LittleEndian.Uint32(c); l != 16 {
		return parsedChecksum{}, fmt.Errorf("authenticator checksum binding length %d, want 16", l)
	}
	return parsedChecksum{bnd: c[4:20], flags: binary.LittleEndian.Uint32(c[20:24])}, nil
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func equalBytes(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }
