package kerberos

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/rc4"
	"encoding/binary"
	"fmt"
)

// RC4-HMAC (etype 23) wrap tokens, RFC 4757 §7.3: the RFC 1964 token
// layout with HMAC-MD5 and RC4. In WinRM the "signature" is the GSS-API
// framing plus the 32-byte token (45 to 47 bytes), the sealed data is the
// encrypted plaintext and its one padding byte; this is what MIT's
// gss_wrap_iov (HEADER|DATA|PADDING) produces.

// rc4TokenLen is TOK_ID..Confounder (RFC 4757 §7.3).
const rc4TokenLen = 32

// rc4Header is TOK_ID 02 01, SGN_ALG HMAC-MD5 11 00, SEAL_ALG RC4 10 00,
// filler ff ff.
var rc4Header = []byte{0x02, 0x01, 0x11, 0x00, 0x10, 0x00, 0xff, 0xff}

func hmacMD5(key []byte, data ...[]byte) []byte {
	h := hmac.New(md5.New, key)
	for _, d := range data {
		h.Write(d)
	}
	return h.Sum(nil)
}

func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

// rc4Keys are the keys RFC 4757 §7.3 derives from the session key alone:
// Ksign, and the first HMAC step of Kcrypt and of Kseq (the second mixes
// in the sequence number or the checksum, per token).
type rc4Keys struct {
	ksign, kcrypt0, kseq0 []byte
}

func deriveRC4Keys(key []byte) rc4Keys {
	klocal := make([]byte, len(key))
	for i, b := range key {
		klocal[i] = b ^ 0xf0
	}
	return rc4Keys{
		ksign:   hmacMD5(key, []byte("signaturekey\x00")),
		kcrypt0: hmacMD5(klocal, le32(0)),
		kseq0:   hmacMD5(key, le32(0)),
	}
}

// rc4Checksum is SGN_CKSUM over the header, confounder and padded data
// (RFC 4757 §7.3).
func (s *Session) rc4Checksum(confounder, data []byte) []byte {
	sum := md5.New()
	sum.Write(le32(13)) // key usage of wrap tokens, RFC 4757 §7.3
	sum.Write(rc4Header)
	sum.Write(confounder)
	sum.Write(data)
	return hmacMD5(s.ksign, sum.Sum(nil))[:8]
}

// rc4Crypt is the RC4 cipher (Kcrypt) for confounder and data of the token
// with sequence number seq.
func (s *Session) rc4Crypt(seq uint32) *rc4.Cipher {
	kcrypt := hmacMD5(s.kcrypt0, binary.BigEndian.AppendUint32(nil, seq))
	c, _ := rc4.NewCipher(kcrypt) // 16-byte key: cannot fail
	return c
}

// rc4SeqCipher encrypts SND_SEQ (Kseq, keyed by the checksum).
func (s *Session) rc4SeqCipher(cksum []byte) *rc4.Cipher {
	c, _ := rc4.NewCipher(hmacMD5(s.kseq0, cksum))
	return c
}

// direction is the SND_SEQ direction filler: 00s from the initiator, ffs
// from the acceptor (RFC 4757 §7.3, RFC 1964 §1.2.1.2).
func direction(acceptor bool) []byte {
	if acceptor {
		return []byte{0xff, 0xff, 0xff, 0xff}
	}
	return []byte{0, 0, 0, 0}
}

func (s *Session) sealRC4(plain []byte) (sig, sealed []byte, err error) {
	seq := uint32(s.outSeq)
	confounder := make([]byte, 8)
	if _, err := rand.Read(confounder); err != nil {
		return nil, nil, fmt.Errorf("kerberos: seal: %w", err)
	}
	data := make([]byte, len(plain)+1)
	copy(data, plain)
	data[len(plain)] = 1 // one byte of padding, value 1 (RFC 4757 §7.3)
	cksum := s.rc4Checksum(confounder, data)
	c := s.rc4Crypt(seq)
	c.XORKeyStream(confounder, confounder)
	c.XORKeyStream(data, data)
	sndSeq := append(binary.BigEndian.AppendUint32(nil, seq), direction(s.acceptor)...)
	s.rc4SeqCipher(cksum).XORKeyStream(sndSeq, sndSeq)
	// The DER length covers OID, token and data (RFC 2743 §3.1), as MIT
	// outside DCE style sends and requires; DCE style (RPC) would cover
	// the token only.
	sig = make([]byte, 0, 6+len(krb5OIDDER)+rc4TokenLen)
	sig = append(sig, 0x60)
	sig = appendDERLength(sig, len(krb5OIDDER)+rc4TokenLen+len(data))
	sig = append(sig, krb5OIDDER...)
	sig = append(sig, rc4Header...)
	sig = append(sig, sndSeq...)
	sig = append(sig, cksum...)
	sig = append(sig, confounder...)
	s.outSeq++
	return sig, data, nil
}

func (s *Session) unsealRC4(sig, sealed []byte) ([]byte, error) {
	tok := make([]byte, 0, len(sig)+len(sealed))
	tok = append(tok, sig...)
	tok = append(tok, sealed...)
	// 0x60 DER-length OID: the length is not checked, DCE-style senders
	// count the token only, others the data too.
	if len(tok) < 2 || tok[0] != 0x60 {
		return nil, newError(KindIntegrity, "", "RC4 wrap token lacks its GSS-API framing")
	}
	_, rest, err := readDERLength(tok[1:])
	if err != nil || !bytes.HasPrefix(rest, krb5OIDDER) {
		return nil, newError(KindIntegrity, "", "RC4 wrap token lacks its GSS-API framing")
	}
	rest = rest[len(krb5OIDDER):]
	if len(rest) < rc4TokenLen+1 {
		return nil, newError(KindIntegrity, "", "RC4 wrap token of %d bytes is too short", len(rest))
	}
	if !bytes.Equal(rest[:8], rc4Header) {
		return nil, newError(KindIntegrity, "", "not a sealed RC4-HMAC wrap token (header % x)", rest[:8])
	}
	sndSeq := bytes.Clone(rest[8:16])
	cksum := rest[16:24]
	confounder := bytes.Clone(rest[24:32])
	data := bytes.Clone(rest[32:])
	s.rc4SeqCipher(cksum).XORKeyStream(sndSeq, sndSeq)
	seq := binary.BigEndian.Uint32(sndSeq)
	c := s.rc4Crypt(seq)
	c.XORKeyStream(confounder, confounder)
	c.XORKeyStream(data, data)
	if !hmac.Equal(s.rc4Checksum(confounder, data), cksum) {
		return nil, newError(KindIntegrity, "", "RC4 wrap token checksum does not verify")
	}
	if !bytes.Equal(sndSeq[4:], direction(!s.acceptor)) {
		return nil, newError(KindIntegrity, "", "RC4 wrap token has the wrong direction")
	}
	if err := s.checkSeq(uint64(seq)); err != nil {
		return nil, err
	}
	// Padding: RFC 4757 senders add 1..8 bytes each holding the pad length;
	// a sender that did not pad (last byte not such a value) keeps its data.
	if p := int(data[len(data)-1]); p >= 1 && p <= 8 && p <= len(data) && bytes.Count(data[len(data)-p:], data[len(data)-1:]) == p {
		data = data[:len(data)-p]
	}
	s.inSeq = uint64(seq) + 1
	return data, nil
}
