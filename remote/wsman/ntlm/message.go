package ntlm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf16"
)

// NegotiateFlags are the NTLMSSP_NEGOTIATE_* bits (MS-NLMP 2.2.2.5).
type NegotiateFlags uint32

// Negotiate flags (MS-NLMP 2.2.2.5).
const (
	FlagUnicode                 NegotiateFlags = 0x00000001 // NTLMSSP_NEGOTIATE_UNICODE
	FlagOEM                     NegotiateFlags = 0x00000002 // NTLM_NEGOTIATE_OEM
	FlagRequestTarget           NegotiateFlags = 0x00000004 // NTLMSSP_REQUEST_TARGET
	FlagSign                    NegotiateFlags = 0x00000010 // NTLMSSP_NEGOTIATE_SIGN
	FlagSeal                    NegotiateFlags = 0x00000020 // NTLMSSP_NEGOTIATE_SEAL
	FlagLMKey                   NegotiateFlags = 0x00000080 // NTLMSSP_NEGOTIATE_LM_KEY
	FlagNTLM                    NegotiateFlags = 0x00000200 // NTLMSSP_NEGOTIATE_NTLM
	FlagAnonymous               NegotiateFlags = 0x00000800 // NTLMSSP_ANONYMOUS ("J")
	FlagAlwaysSign              NegotiateFlags = 0x00008000 // NTLMSSP_NEGOTIATE_ALWAYS_SIGN
	FlagTargetTypeDomain        NegotiateFlags = 0x00010000 // NTLMSSP_TARGET_TYPE_DOMAIN
	FlagTargetTypeServer        NegotiateFlags = 0x00020000 // NTLMSSP_TARGET_TYPE_SERVER
	FlagExtendedSessionSecurity NegotiateFlags = 0x00080000 // NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY
	FlagTargetInfo              NegotiateFlags = 0x00800000 // NTLMSSP_NEGOTIATE_TARGET_INFO
	FlagVersion                 NegotiateFlags = 0x02000000 // NTLMSSP_NEGOTIATE_VERSION
	Flag128                     NegotiateFlags = 0x20000000 // NTLMSSP_NEGOTIATE_128
	FlagKeyExch                 NegotiateFlags = 0x40000000 // NTLMSSP_NEGOTIATE_KEY_EXCH
	Flag56                      NegotiateFlags = 0x80000000 // NTLMSSP_NEGOTIATE_56
)

// Has reports whether all bits of f2 are set in f.
func (f NegotiateFlags) Has(f2 NegotiateFlags) bool { return f&f2 == f2 }

// Message types (MS-NLMP 2.2.1).
const (
	typeNegotiate    uint32 = 1
	typeChallenge    uint32 = 2
	typeAuthenticate uint32 = 3
)

// AV_PAIR identifiers (MS-NLMP 2.2.2.1).
const (
	avEOL             uint16 = 0
	avNbComputerName  uint16 = 1
	avNbDomainName    uint16 = 2
	avDNSComputerName uint16 = 3
	avDNSDomainName   uint16 = 4
	avDNSTreeName     uint16 = 5
	avFlags           uint16 = 6
	avTimestamp       uint16 = 7
	avTargetName      uint16 = 9
	avChannelBindings uint16 = 10
)

// MsvAvFlags bits (MS-NLMP 2.2.2.1).
const avFlagMICPresent uint32 = 0x00000002

// Fixed layout sizes and offsets (MS-NLMP 2.2.1.1–2.2.1.3).
const (
	negotiateHeaderLen    = 32 // without Version
	challengeHeaderLen    = 48 // without Version
	authenticateHeaderLen = 64 // without Version and MIC
	versionLen            = 8
	micLen                = 16
	micOffset             = authenticateHeaderLen + versionLen // 72
)

// MaxTokenSize bounds every NTLM message accepted from a peer. Real messages
// are well under 4 KiB; every field length on the wire is a uint16, so a
// larger message is either padding or an attack.
const MaxTokenSize = 64 << 10

var signature = []byte("NTLMSSP\x00")

// defaultVersion is the VERSION structure sent (MS-NLMP 2.2.2.10): Windows 10
// build 19041, NTLMSSP_REVISION_W2K3.
var defaultVersion = [versionLen]byte{10, 0, 0x61, 0x4a, 0, 0, 0, 0x0f}

// IsNTLMToken reports whether b starts with the NTLMSSP signature.
func IsNTLMToken(b []byte) bool { return bytes.HasPrefix(b, signature) }

// messageType returns the MessageType of a raw NTLM message.
func messageType(b []byte) (uint32, error) {
	if len(b) > MaxTokenSize {
		return 0, fmt.Errorf("ntlm: message of %d bytes exceeds the %d byte limit", len(b), MaxTokenSize)
	}
	if len(b) < 12 || !IsNTLMToken(b) {
		return 0, errors.New("ntlm: not an NTLMSSP message")
	}
	return binary.LittleEndian.Uint32(b[8:12]), nil
}

// field reads a (Len, MaxLen, Offset) descriptor at off and returns the bytes
// it points to, checking bounds against the whole message.
func field(b []byte, off int, name string) ([]byte, error) {
	if off+8 > len(b) {
		return nil, fmt.Errorf("ntlm: truncated message: %s descriptor", name)
	}
	n := int(binary.LittleEndian.Uint16(b[off:]))
	start := int(binary.LittleEndian.Uint32(b[off+4:]))
	if n == 0 {
		return nil, nil
	}
	if start < 0 || start > len(b) || n > len(b)-start {
		return nil, fmt.Errorf("ntlm: %s field (offset %d, length %d) outside the %d byte message", name, start, n, len(b))
	}
	return b[start : start+n], nil
}

// payloadWriter lays out variable fields after a fixed header.
type payloadWriter struct {
	buf []byte // whole message; header part pre-sized
}

// put appends v to the payload and writes its descriptor at off.
func (w *payloadWriter) put(off int, v []byte) {
	binary.LittleEndian.PutUint16(w.buf[off:], uint16(len(v)))
	binary.LittleEndian.PutUint16(w.buf[off+2:], uint16(len(v)))
	binary.LittleEndian.PutUint32(w.buf[off+4:], uint32(len(w.buf)))
	w.buf = append(w.buf, v...)
}

func newMessage(typ uint32, headerLen int) *payloadWriter {
	b := make([]byte, headerLen, headerLen+256)
	copy(b, signature)
	binary.LittleEndian.PutUint32(b[8:], typ)
	return &payloadWriter{buf: b}
}

// utf16le encodes s as UTF-16LE (MS-NLMP strings when NTLMSSP_NEGOTIATE_UNICODE).
func utf16le(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	return b
}

// fromUTF16LE decodes UTF-16LE; an odd trailing byte is an error.
func fromUTF16LE(b []byte) (string, error) {
	if len(b)%2 != 0 {
		return "", errors.New("ntlm: odd-length UTF-16 string")
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u)), nil
}

// avPair is one AV_PAIR (MS-NLMP 2.2.2.1).
type avPair struct {
	ID    uint16
	Value []byte
}

// avPairs is an ordered AV_PAIR list without the terminating MsvAvEOL.
type avPairs []avPair

// parseAVPairs decodes a TargetInfo / NTLMv2 client challenge AV list. The
// list must end with MsvAvEOL; bytes after it are ignored (the NTLMv2 blob
// has Z(4) padding after the list).
func parseAVPairs(b []byte) (avPairs, error) {
	var out avPairs
	for {
		if len(b) < 4 {
			return nil, errors.New("ntlm: AV_PAIR list not terminated by MsvAvEOL")
		}
		id := binary.LittleEndian.Uint16(b)
		n := int(binary.LittleEndian.Uint16(b[2:]))
		b = b[4:]
		if id == avEOL {
			return out, nil
		}
		if n > len(b) {
			return nil, fmt.Errorf("ntlm: AV_PAIR %d of length %d overruns the list", id, n)
		}
		out = append(out, avPair{ID: id, Value: b[:n:n]})
		b = b[n:]
	}
}

func (l avPairs) get(id uint16) ([]byte, bool) {
	for _, p := range l {
		if p.ID == id {
			return p.Value, true
		}
	}
	return nil, false
}

// set replaces the value of id or appends it.
func (l avPairs) set(id uint16, v []byte) avPairs {
	for i := range l {
		if l[i].ID == id {
			l[i].Value = v
			return l
		}
	}
	return append(l, avPair{ID: id, Value: v})
}

func (l avPairs) marshal() []byte {
	var b []byte
	for _, p := range l {
		b = binary.LittleEndian.AppendUint16(b, p.ID)
		b = binary.LittleEndian.AppendUint16(b, uint16(len(p.Value)))
		b = append(b, p.Value...)
	}
	return append(b, 0, 0, 0, 0) // MsvAvEOL
}

// challengeMessage is the parsed CHALLENGE_MESSAGE (MS-NLMP 2.2.1.2).
type challengeMessage struct {
	Flags           NegotiateFlags
	ServerChallenge [8]byte
	TargetName      []byte
	TargetInfo      avPairs
}

func parseChallenge(b []byte) (*challengeMessage, error) {
	typ, err := messageType(b)
	if err != nil {
		return nil, err
	}
	if typ != typeChallenge {
		return nil, fmt.Errorf("ntlm: expected CHALLENGE_MESSAGE, got message type %d", typ)
	}
	if len(b) < challengeHeaderLen {
		return nil, errors.New("ntlm: truncated CHALLENGE_MESSAGE")
	}
	m := &challengeMessage{Flags: NegotiateFlags(binary.LittleEndian.Uint32(b[20:]))}
	copy(m.ServerChallenge[:], b[24:32])
	if m.TargetName, err = field(b, 12, "TargetName"); err != nil {
		return nil, err
	}
	ti, err := field(b, 40, "TargetInfo")
	if err != nil {
		return nil, err
	}
	if len(ti) > 0 {
		if m.TargetInfo, err = parseAVPairs(ti); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// authenticateMessage is the parsed AUTHENTICATE_MESSAGE (MS-NLMP 2.2.1.3).
type authenticateMessage struct {
	Flags                     NegotiateFlags
	LmChallengeResponse       []byte
	NtChallengeResponse       []byte
	DomainName                string
	UserName                  string
	Workstation               string
	EncryptedRandomSessionKey []byte
	// payloadStart is the lowest payload offset, used to tell whether the
	// message has room for Version and MIC.
	payloadStart int
}

func parseAuthenticate(b []byte) (*authenticateMessage, error) {
	typ, err := messageType(b)
	if err != nil {
		return nil, err
	}
	if typ != typeAuthenticate {
		return nil, fmt.Errorf("ntlm: expected AUTHENTICATE_MESSAGE, got message type %d", typ)
	}
	if len(b) < authenticateHeaderLen {
		return nil, errors.New("ntlm: truncated AUTHENTICATE_MESSAGE")
	}
	m := &authenticateMessage{Flags: NegotiateFlags(binary.LittleEndian.Uint32(b[60:])), payloadStart: len(b)}
	if !m.Flags.Has(FlagUnicode) {
		return nil, errors.New("ntlm: AUTHENTICATE_MESSAGE without NTLMSSP_NEGOTIATE_UNICODE is not supported")
	}
	fields := []struct {
		off  int
		name string
		dst  *[]byte
	}{
		{12, "LmChallengeResponse", &m.LmChallengeResponse},
		{20, "NtChallengeResponse", &m.NtChallengeResponse},
		{52, "EncryptedRandomSessionKey", &m.EncryptedRandomSessionKey},
	}
	for _, f := range fields {
		v, err := field(b, f.off, f.name)
		if err != nil {
			return nil, err
		}
		*f.dst = v
		m.notePayload(b, f.off)
	}
	strs := []struct {
		off  int
		name string
		dst  *string
	}{
		{28, "DomainName", &m.DomainName},
		{36, "UserName", &m.UserName},
		{44, "Workstation", &m.Workstation},
	}
	for _, f := range strs {
		v, err := field(b, f.off, f.name)
		if err != nil {
			return nil, err
		}
		if *f.dst, err = fromUTF16LE(v); err != nil {
			return nil, fmt.Errorf("ntlm: %s: %w", f.name, err)
		}
		m.notePayload(b, f.off)
	}
	return m, nil
}

func (m *authenticateMessage) notePayload(b []byte, off int) {
	if binary.LittleEndian.Uint16(b[off:]) == 0 {
		return
	}
	if start := int(binary.LittleEndian.Uint32(b[off+4:])); start < m.payloadStart {
		m.payloadStart = start
	}
}
