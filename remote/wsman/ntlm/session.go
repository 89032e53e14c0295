package ntlm

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rc4"
	"encoding/binary"
	"errors"
	"fmt"
)

// SignatureSize is the size of an NTLMSSP_MESSAGE_SIGNATURE (MS-NLMP 2.2.2.9.1).
const SignatureSize = 16

// Magic constants of SIGNKEY and SEALKEY (MS-NLMP 3.4.5.2, 3.4.5.3); the
// trailing NUL is part of the constant.
const (
	clientSigningMagic = "session key to client-to-server signing key magic constant\x00"
	serverSigningMagic = "session key to server-to-client signing key magic constant\x00"
	clientSealingMagic = "session key to client-to-server sealing key magic constant\x00"
	serverSealingMagic = "session key to server-to-client sealing key magic constant\x00"
)

// ErrSessionBroken is returned by Seal and Unseal after a message failed to
// verify: the RC4 streams are then out of step and the connection's security
// context cannot be used any more.
var ErrSessionBroken = errors.New("ntlm: security context unusable after a failed message")

var errNoSeal = errors.New("ntlm: message confidentiality (NTLMSSP_NEGOTIATE_SEAL) was not negotiated")

// Confidential reports whether sealing was negotiated (NTLMSSP_NEGOTIATE_SEAL).
func (s *Session) Confidential() bool { return s.flags.Has(FlagSeal) }

// Session is the connection-oriented session security of one authenticated
// NTLM context (MS-NLMP 3.4.3, 3.4.4 with extended session security). Seal
// and Unseal must be called in wire order; a Session is not safe for
// concurrent use.
type Session struct {
	flags                 NegotiateFlags
	outSignKey, inSignKey []byte
	outSeal, inSeal       *rc4.Cipher
	outSeq, inSeq         uint32
	broken                bool
}

// newSession derives the four keys from the exported session key; client
// selects the orientation (client-to-server keys outbound for the client,
// inbound for the server).
func newSession(flags NegotiateFlags, exportedSessionKey []byte, client bool) (*Session, error) {
	if !flags.Has(FlagExtendedSessionSecurity) {
		return nil, errors.New("ntlm: session security without extended session security is not supported")
	}
	s := &Session{flags: flags}
	cSign := md5Of(exportedSessionKey, []byte(clientSigningMagic))
	sSign := md5Of(exportedSessionKey, []byte(serverSigningMagic))
	cSealKey := sealKey(flags, exportedSessionKey, clientSealingMagic)
	sSealKey := sealKey(flags, exportedSessionKey, serverSealingMagic)
	cSeal, err := rc4.NewCipher(cSealKey)
	if err != nil {
		return nil, fmt.Errorf("ntlm: sealing key: %w", err)
	}
	sSeal, err := rc4.NewCipher(sSealKey)
	if err != nil {
		return nil, fmt.Errorf("ntlm: sealing key: %w", err)
	}
	if client {
		s.outSignKey, s.inSignKey, s.outSeal, s.inSeal = cSign, sSign, cSeal, sSeal
	} else {
		s.outSignKey, s.inSignKey, s.outSeal, s.inSeal = sSign, cSign, sSeal, cSeal
	}
	return s, nil
}

// sealKey is SEALKEY with extended session security (MS-NLMP 3.4.5.3).
func sealKey(flags NegotiateFlags, esk []byte, magic string) []byte {
	switch {
	case flags.Has(Flag128):
		return md5Of(esk, []byte(magic))
	case flags.Has(Flag56):
		return md5Of(esk[:7], []byte(magic))
	default:
		return md5Of(esk[:5], []byte(magic))
	}
}

// checksum computes the signature of msg with sequence number seq and the
// given signing key and RC4 stream (MS-NLMP 3.4.4.2).
func (s *Session) checksum(key []byte, stream *rc4.Cipher, seq uint32, msg []byte) []byte {
	sig := make([]byte, SignatureSize)
	s.checksumTo(sig, key, stream, seq, msg)
	return sig
}

// checksumTo writes the signature into sig (SignatureSize bytes).
func (s *Session) checksumTo(sig, key []byte, stream *rc4.Cipher, seq uint32, msg []byte) {
	var seqb [4]byte
	binary.LittleEndian.PutUint32(seqb[:], seq)
	h := hmac.New(md5.New, key)
	h.Write(seqb[:])
	h.Write(msg)
	var sum [md5.Size]byte
	h.Sum(sum[:0])
	if s.flags.Has(FlagKeyExch) {
		stream.XORKeyStream(sum[:8], sum[:8])
	}
	binary.LittleEndian.PutUint32(sig[0:4], 1) // NTLMSSP_MESSAGE_SIGNATURE_VERSION
	copy(sig[4:12], sum[:8])
	copy(sig[12:16], seqb[:])
}

// Seal encrypts plain and returns the 16-byte signature and the sealed data
// (MS-NLMP 3.4.3, GSS_WrapEx). The message is encrypted before the checksum,
// both with the same continuous RC4 stream.
func (s *Session) Seal(plain []byte) (sig, sealed []byte, err error) {
	sig, sealed = make([]byte, SignatureSize), make([]byte, len(plain))
	if err := s.SealTo(sig, sealed, plain); err != nil {
		return nil, nil, err
	}
	return sig, sealed, nil
}

// SignatureSize is the size of every signature Seal makes.
func (s *Session) SignatureSize() int { return SignatureSize }

// SealTo is Seal writing into buffers the caller provides: the signature
// into sig (SignatureSize bytes) and the sealed data into dst (len(plain)
// bytes, not overlapping plain), so that a caller can seal straight into
// its wire frame.
func (s *Session) SealTo(sig, dst, plain []byte) error {
	if s.broken {
		return ErrSessionBroken
	}
	if !s.Confidential() {
		return errNoSeal
	}
	if len(sig) != SignatureSize || len(dst) != len(plain) {
		return fmt.Errorf("ntlm: seal buffers of %d and %d bytes for a %d-byte message", len(sig), len(dst), len(plain))
	}
	s.outSeal.XORKeyStream(dst, plain)
	s.checksumTo(sig, s.outSignKey, s.outSeal, s.outSeq, plain)
	s.outSeq++
	return nil
}

// Unseal decrypts sealed and verifies sig (MS-NLMP 3.4.3, GSS_UnwrapEx). A
// message that fails to verify breaks the session for good.
func (s *Session) Unseal(sig, sealed []byte) ([]byte, error) {
	return s.UnsealInPlace(sig, bytes.Clone(sealed))
}

// UnsealInPlace is Unseal decrypting sealed where it is: the plaintext it
// returns is sealed itself, and sealed is garbage after an error.
func (s *Session) UnsealInPlace(sig, sealed []byte) ([]byte, error) {
	if s.broken {
		return nil, ErrSessionBroken
	}
	if !s.Confidential() {
		return nil, errNoSeal
	}
	if len(sig) != SignatureSize {
		s.broken = true
		return nil, fmt.Errorf("ntlm: message signature is %d bytes, want %d", len(sig), SignatureSize)
	}
	plain := sealed
	s.inSeal.XORKeyStream(plain, sealed)
	var want [SignatureSize]byte
	s.checksumTo(want[:], s.inSignKey, s.inSeal, s.inSeq, plain)
	if !hmac.Equal(sig, want[:]) {
		s.broken = true
		got := binary.LittleEndian.Uint32(sig[12:])
		if got != s.inSeq {
			return nil, fmt.Errorf("ntlm: message sequence number %d, want %d", got, s.inSeq)
		}
		return nil, errors.New("ntlm: message signature does not verify")
	}
	s.inSeq++
	return plain, nil
}

// MakeSignature returns the signature of msg without sealing it (GSS_GetMIC,
// MS-NLMP 3.4.4.2). It consumes an outbound sequence number and advances the
// RC4 stream exactly like Seal; SPNEGO's mechListMIC is made this way.
func (s *Session) MakeSignature(msg []byte) ([]byte, error) {
	if s.broken {
		return nil, ErrSessionBroken
	}
	sig := s.checksum(s.outSignKey, s.outSeal, s.outSeq, msg)
	s.outSeq++
	return sig, nil
}

// VerifySignature checks a GSS_GetMIC signature of msg from the peer
// (GSS_VerifyMIC); it consumes an inbound sequence number.
func (s *Session) VerifySignature(msg, sig []byte) error {
	if s.broken {
		return ErrSessionBroken
	}
	if len(sig) != SignatureSize || !hmac.Equal(sig, s.checksum(s.inSignKey, s.inSeal, s.inSeq, msg)) {
		s.broken = true
		return errors.New("ntlm: signature does not verify")
	}
	s.inSeq++
	return nil
}
