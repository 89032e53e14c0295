package kerberos

import (
	"crypto/hmac"
	"encoding/binary"
	"fmt"
)

// Key usages of MIC tokens (RFC 4121 §2).
const (
	usageAcceptorSign  = 23
	usageInitiatorSign = 25
)

// GetMIC makes an RFC 4121 §4.2.6.1 MIC token over msg (GSS_GetMIC), e.g.
// for SPNEGO's mechListMIC. It spends one outgoing sequence number, as wrap
// tokens do. Only AES contexts can sign; RC4-HMAC MICs are not implemented.
func (s *Session) GetMIC(msg []byte) ([]byte, error) {
	if s.et == nil {
		return nil, newError(KindProtocol, "", "MIC tokens with etype %d (%s) are not supported", s.key.KeyType, etypeName(s.key.KeyType))
	}
	h := s.micHeader(s.outSeq)
	sum, err := s.et.GetChecksumHash(s.key.KeyValue, append(append([]byte{}, msg...), h...), s.signUsage(false))
	if err != nil {
		return nil, fmt.Errorf("kerberos: MIC: %w", err)
	}
	s.outSeq++
	return append(h, sum...), nil
}

// VerifyMIC checks a MIC token from the peer over msg (GSS_VerifyMIC),
// with the sequence rules of Unseal.
func (s *Session) VerifyMIC(msg, mic []byte) error {
	if s.et == nil {
		return newError(KindProtocol, "", "MIC tokens with etype %d (%s) are not supported", s.key.KeyType, etypeName(s.key.KeyType))
	}
	if len(mic) != wrapHeaderLen+s.et.GetHMACBitLength()/8 {
		return newError(KindIntegrity, "", "MIC token of %d bytes", len(mic))
	}
	seq := binary.BigEndian.Uint64(mic[8:16])
	want := s.peerMICHeader(seq)
	if !hmac.Equal(mic[:wrapHeaderLen], want) {
		return newError(KindIntegrity, "", "not a MIC token from the peer (header % x)", mic[:8])
	}
	sum, err := s.et.GetChecksumHash(s.key.KeyValue, append(append([]byte{}, msg...), want...), s.signUsage(true))
	if err != nil {
		return fmt.Errorf("kerberos: MIC: %w", err)
	}
	if !hmac.Equal(sum, mic[wrapHeaderLen:]) {
		return newError(KindIntegrity, "", "MIC does not verify")
	}
	if err := s.checkSeq(seq); err != nil {
		return err
	}
	s.inSeq = seq + 1
	return nil
}

// micHeader is TOK_ID 04 04, flags, five filler bytes FF and SND_SEQ.
func (s *Session) micHeader(seq uint64) []byte {
	return micHeader(s.acceptor, s.acceptorSubkey, seq)
}

func (s *Session) peerMICHeader(seq uint64) []byte {
	return micHeader(!s.acceptor, s.acceptorSubkey, seq)
}

func micHeader(fromAcceptor, acceptorSubkey bool, seq uint64) []byte {
	h := []byte{0x04, 0x04, 0, 0xff, 0xff, 0xff, 0xff, 0xff}
	if fromAcceptor {
		h[2] |= flagSentByAcceptor
	}
	if acceptorSubkey {
		h[2] |= flagAcceptorSubkey
	}
	return binary.BigEndian.AppendUint64(h, seq)
}

// signUsage is the key usage of MIC tokens we send (incoming=false) or
// receive.
func (s *Session) signUsage(incoming bool) uint32 {
	if s.acceptor != incoming {
		return usageAcceptorSign
	}
	return usageInitiatorSign
}
