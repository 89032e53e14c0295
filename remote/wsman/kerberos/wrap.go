package kerberos

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/crypto/etype"
	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/types"
)

// Wrap token flags (RFC 4121 §4.2.2).
const (
	flagSentByAcceptor = 0x01
	flagSealed         = 0x02
	flagAcceptorSubkey = 0x04
)

// Key usages of wrap tokens (RFC 4121 §2).
const (
	usageAcceptorSeal  = 22
	usageInitiatorSeal = 24
)

// wrapHeaderLen is the size of a wrap token header (RFC 4121 §4.2.6.2).
const wrapHeaderLen = 16

// Session is an established Kerberos security context's message protection:
// RFC 4121 sealed wrap tokens laid out as WinRM uses them (PROTOCOL.md
// §6.4), RFC 4757 ones for RC4-HMAC, and MIC tokens. It implements
// transport.Sealer. Each direction has one sequence number, spent by Seal
// and GetMIC; Unseal and VerifyMIC refuse numbers below the next expected
// one, so calls must follow wire order. A Session is not safe for
// concurrent use.
type Session struct {
	key            types.EncryptionKey
	et             etype.EType // AES etypes; nil otherwise
	rc4            bool        // RC4-HMAC (RFC 4757) wrap tokens
	rc4Keys                    // their per-session keys, when rc4
	acceptor       bool        // our role
	acceptorSubkey bool        // key is the acceptor's subkey (flag 0x04)
	outSeq, inSeq  uint64
}

func newSession(key types.EncryptionKey, acceptor, acceptorSubkey bool, outSeq, inSeq uint64) *Session {
	s := &Session{key: key, acceptor: acceptor, acceptorSubkey: acceptorSubkey, outSeq: outSeq, inSeq: inSeq}
	switch key.KeyType {
	case etypeID.AES128_CTS_HMAC_SHA1_96, etypeID.AES256_CTS_HMAC_SHA1_96, etypeID.AES128_CTS_HMAC_SHA256_128:
		if et, err := crypto.GetEtype(key.KeyType); err == nil && len(key.KeyValue) == et.GetKeyByteSize() {
			s.et = et
		}
	case etypeID.RC4_HMAC:
		if s.rc4 = len(key.KeyValue) == 16; s.rc4 {
			s.rc4Keys = deriveRC4Keys(key.KeyValue)
		}
	}
	return s
}

func (s *Session) unsupported() error {
	return newError(KindProtocol, "", "message sealing with etype %d (%s) is not supported; only AES (17, 18, 19) and RC4-HMAC (23) are",
		s.key.KeyType, etypeName(s.key.KeyType))
}

func etypeName(id int32) string {
	switch id {
	case etypeID.RC4_HMAC:
		return "rc4-hmac"
	case etypeID.DES3_CBC_SHA1_KD:
		return "des3-cbc-sha1-kd"
	case etypeID.AES128_CTS_HMAC_SHA1_96:
		return "aes128-cts-hmac-sha1-96"
	case etypeID.AES256_CTS_HMAC_SHA1_96:
		return "aes256-cts-hmac-sha1-96"
	case etypeID.AES128_CTS_HMAC_SHA256_128:
		return "aes128-cts-hmac-sha256-128"
	case etypeID.AES256_CTS_HMAC_SHA384_192:
		return "aes256-cts-hmac-sha384-192"
	}
	return "unknown"
}

// SealedLength is how many bytes the sealed data carries for plainLen bytes
// of plaintext, the value of OriginalContent's Length: AES wrap tokens as
// sent here never pad (EC 0), so it is plainLen; RC4-HMAC adds one byte of
// padding.
func (s *Session) SealedLength(plainLen int) int {
	if s.rc4 {
		return plainLen + 1
	}
	return plainLen
}

// trailerLen is what RFC 4121 rotates to the front for our tokens: the
// encrypted header copy and the checksum (28 for the SHA-1 enctypes).
func (s *Session) trailerLen() int { return wrapHeaderLen + s.et.GetHMACBitLength()/8 }

func (s *Session) header(ec, rrc uint16, seq uint64) []byte {
	h := make([]byte, wrapHeaderLen)
	h[0], h[1] = 0x05, 0x04
	h[2] = flagSealed
	if s.acceptor {
		h[2] |= flagSentByAcceptor
	}
	if s.acceptorSubkey {
		h[2] |= flagAcceptorSubkey
	}
	h[3] = 0xff
	binary.BigEndian.PutUint16(h[4:], ec)
	binary.BigEndian.PutUint16(h[6:], rrc)
	binary.BigEndian.PutUint64(h[8:], seq)
	return h
}

// Seal wraps plain in a sealed wrap token and splits it the WinRM way: sig
// is the 16-byte token header followed by the first bytes of the rotated
// ciphertext (60 bytes in all for etypes 17 and 18), sealed is the rest,
// exactly as long as plain.
//
// We send EC = 0 and RRC = 16 + checksum length (28 for etypes 17/18): the
// shape MIT's gss_wrap_iov produces (HEADER|DATA|PADDING, used by pywinrm)
// and that two independent clients tested against Windows send
// (PROTOCOL.md §6.4). With EC = 0 the Windows "rotate by RRC+EC" quirk and
// the RFC 4121 rotation by RRC agree, so every receiver reads the token the
// same way; an EC of 16 would need the receiver to guess which rotation the
// sender used, and MIT outside DCE style guesses differently from Windows.
func (s *Session) Seal(plain []byte) (sig, sealed []byte, err error) {
	if s.rc4 {
		return s.sealRC4(plain)
	}
	if s.et == nil {
		return nil, nil, s.unsupported()
	}
	rrc := s.trailerLen()
	seq := s.outSeq
	inner := s.header(0, 0, seq) // the encrypted copy carries RRC 0 (RFC 4121 §4.2.5)
	msg := make([]byte, 0, len(plain)+wrapHeaderLen)
	msg = append(msg, plain...)
	msg = append(msg, inner...)
	_, ct, err := s.et.EncryptMessage(s.key.KeyValue, msg, s.usage(false))
	if err != nil {
		return nil, nil, fmt.Errorf("kerberos: seal: %w", err)
	}
	// ct = confounder|plain|header encrypted, then the checksum. Rotating
	// right by RRC moves the encrypted header and checksum to the front.
	rot := rotateRight(ct, rrc)
	sigTail := len(rot) - len(plain)
	sig = make([]byte, 0, wrapHeaderLen+sigTail)
	sig = append(sig, s.header(0, uint16(rrc), seq)...)
	sig = append(sig, rot[:sigTail]...)
	s.outSeq++
	return sig, rot[sigTail:], nil
}

// usage is the key usage for tokens we send (incoming=false) or receive.
func (s *Session) usage(incoming bool) uint32 {
	if s.acceptor != incoming {
		return usageAcceptorSeal
	}
	return usageInitiatorSeal
}

// Unseal verifies and decrypts a sealed wrap token split as sig|sealed (the
// split point does not matter). It honours EC and RRC from the header and
// accepts both the RFC 4121 rotation (by RRC) and the Windows one (by
// RRC+EC), so EC=0 senders (MIT, pywinrm, us) and EC=16 senders (Windows
// SSPI, impacket) both unseal. The sequence number must not be below the
// next one expected from the peer (see checkSeq). Every failure on peer
// data is a KindIntegrity *Error.
func (s *Session) Unseal(sig, sealed []byte) (plain []byte, err error) {
	if s.rc4 {
		return s.unsealRC4(sig, sealed)
	}
	if s.et == nil {
		return nil, s.unsupported()
	}
	if len(sig) < wrapHeaderLen {
		return nil, newError(KindIntegrity, "", "wrap token signature of %d bytes is shorter than its header", len(sig))
	}
	h := sig[:wrapHeaderLen]
	if h[0] != 0x05 || h[1] != 0x04 || h[3] != 0xff {
		return nil, newError(KindIntegrity, "", "not an RFC 4121 wrap token (header % x)", h[:4])
	}
	flags := h[2]
	if flags&flagSealed == 0 {
		return nil, newError(KindIntegrity, "", "wrap token is not sealed")
	}
	if (flags&flagSentByAcceptor != 0) == s.acceptor {
		return nil, newError(KindIntegrity, "", "wrap token has the wrong direction (flags %#02x)", flags)
	}
	if (flags&flagAcceptorSubkey != 0) != s.acceptorSubkey {
		return nil, newError(KindIntegrity, "", "wrap token names the wrong key (flags %#02x)", flags)
	}
	ec := int(binary.BigEndian.Uint16(h[4:]))
	rrc := int(binary.BigEndian.Uint16(h[6:]))
	seq := binary.BigEndian.Uint64(h[8:])
	if err := s.checkSeq(seq); err != nil {
		return nil, err
	}
	ct := make([]byte, 0, len(sig)-wrapHeaderLen+len(sealed))
	ct = append(ct, sig[wrapHeaderLen:]...)
	ct = append(ct, sealed...)
	min := s.et.GetConfounderByteSize() + ec + wrapHeaderLen + s.et.GetHMACBitLength()/8
	if len(ct) < min {
		return nil, newError(KindIntegrity, "", "wrap token of %d bytes is too short for EC %d", len(ct), ec)
	}
	rotations := []int{rrc}
	if ec != 0 {
		rotations = []int{rrc + ec, rrc} // Windows first: it is the EC != 0 sender we meet
	}
	var dec []byte
	for _, r := range rotations {
		dec, err = s.et.DecryptMessage(s.key.KeyValue, rotateLeft(ct, r), s.usage(true))
		if err == nil {
			break
		}
	}
	if err != nil {
		return nil, &Error{Kind: KindIntegrity, Err: fmt.Errorf("unseal: %w", err)}
	}
	if len(dec) < ec+wrapHeaderLen {
		return nil, newError(KindIntegrity, "", "decrypted wrap token too short")
	}
	inner := dec[len(dec)-wrapHeaderLen:]
	// The encrypted copy must match the header; its RRC is 0 per RFC 4121
	// §4.2.5 but senders are not consistent, so RRC is not compared.
	if !bytes.Equal(inner[:6], h[:6]) || !bytes.Equal(inner[8:], h[8:]) {
		return nil, newError(KindIntegrity, "", "wrap token header does not match its encrypted copy")
	}
	s.inSeq = seq + 1
	return dec[:len(dec)-ec-wrapHeaderLen], nil
}

// checkSeq refuses a peer token whose sequence number is below the next
// expected one (a replay or reordering). A higher one is a gap, which MIT
// also accepts (GSS_S_GAP_TOKEN is only informational): a peer may have
// spent numbers on MIC tokens (SPNEGO mechListMIC) we were not shown.
func (s *Session) checkSeq(seq uint64) error {
	if seq < s.inSeq {
		return newError(KindIntegrity, "", "token sequence number %d, expected %d or later (replayed or reordered)", seq, s.inSeq)
	}
	return nil
}

// rotateRight returns b rotated right by n bytes (RFC 4121 §4.2.5).
func rotateRight(b []byte, n int) []byte {
	if len(b) == 0 {
		return nil
	}
	n %= len(b)
	out := make([]byte, 0, len(b))
	out = append(out, b[len(b)-n:]...)
	return append(out, b[:len(b)-n]...)
}

// rotateLeft undoes rotateRight.
func rotateLeft(b []byte, n int) []byte {
	if len(b) == 0 {
		return nil
	}
	n %= len(b)
	out := make([]byte, 0, len(b))
	out = append(out, b[n:]...)
	return append(out, b[:n]...)
}
