package kerberos

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/types"
)

// fixedKey is a deterministic key of etype et (the sealing code does not
// care where keys come from).
func fixedKey(t testing.TB, et int32) types.EncryptionKey {
	t.Helper()
	e, err := crypto.GetEtype(et)
	if err != nil {
		t.Fatal(err)
	}
	k := make([]byte, e.GetKeyByteSize())
	for i := range k {
		k[i] = byte(i*7 + int(et))
	}
	return types.EncryptionKey{KeyType: et, KeyValue: k}
}

// sessionPair returns an initiator and an acceptor session sharing key,
// with initial sequence numbers 100 (initiator) and 7000 (acceptor).
func sessionPair(t testing.TB, et int32) (ini, acc *Session) {
	key := fixedKey(t, et)
	return newSession(key, false, true, 100, 7000), newSession(key, true, true, 7000, 100)
}

func wantKind(t *testing.T, err error, kind ErrorKind) {
	t.Helper()
	var ke *Error
	if !errors.As(err, &ke) {
		t.Fatalf("error %v (%T), want *Error of kind %v", err, err, kind)
	}
	if ke.Kind != kind {
		t.Fatalf("error kind %v (%v), want %v", ke.Kind, err, kind)
	}
	if !strings.HasPrefix(err.Error(), "kerberos: ") {
		t.Errorf("error %q lacks the package prefix", err)
	}
}

func TestSealUnsealRoundTrip(t *testing.T) {
	for _, et := range []int32{etypeID.AES128_CTS_HMAC_SHA1_96, etypeID.AES256_CTS_HMAC_SHA1_96} {
		t.Run(etypeName(et), func(t *testing.T) {
			ini, acc := sessionPair(t, et)
			msgs := [][]byte{[]byte("<s:Envelope/>"), {}, bytes.Repeat([]byte("x"), 16), bytes.Repeat([]byte("abc"), 5000), {0x01}}
			for i, plain := range msgs {
				for _, dir := range []struct {
					name     string
					from, to *Session
					flags    byte
					seq      uint64
				}{
					{"initiator to acceptor", ini, acc, flagSealed | flagAcceptorSubkey, 100 + uint64(i)},
					{"acceptor to initiator", acc, ini, flagSentByAcceptor | flagSealed | flagAcceptorSubkey, 7000 + uint64(i)},
				} {
					sig, sealed, err := dir.from.Seal(plain)
					if err != nil {
						t.Fatalf("%s: seal: %v", dir.name, err)
					}
					if len(sig) != 60 || len(sealed) != len(plain) || dir.from.SealedLength(len(plain)) != len(sealed) {
						t.Fatalf("%s: sig %d bytes, sealed %d bytes for %d plaintext bytes; want 60 and %d", dir.name, len(sig), len(sealed), len(plain), len(plain))
					}
					wantHdr := make([]byte, 16)
					copy(wantHdr, []byte{0x05, 0x04, dir.flags, 0xff, 0, 0, 0, 28})
					binary.BigEndian.PutUint64(wantHdr[8:], dir.seq)
					if diff := cmp.Diff(wantHdr, sig[:16]); diff != "" {
						t.Fatalf("%s: header (-want +got):\n%s", dir.name, diff)
					}
					if len(plain) > 16 && bytes.Contains(sealed, plain[:16]) {
						t.Fatalf("%s: plaintext visible in sealed data", dir.name)
					}
					got, err := dir.to.Unseal(sig, sealed)
					if err != nil {
						t.Fatalf("%s: unseal message %d: %v", dir.name, i, err)
					}
					if diff := cmp.Diff(plain, got, cmp.Comparer(bytes.Equal)); diff != "" {
						t.Fatalf("%s: plaintext (-want +got):\n%s", dir.name, diff)
					}
				}
			}
		})
	}
}

// TestUnsealSplitPoint: where the WinRM "signature" ends does not matter,
// MIT's HEADER|DATA buffers and a whole token both unseal.
func TestUnsealSplitPoint(t *testing.T) {
	plain := []byte("split anywhere")
	for _, split := range []int{16, 30, 60, 60 + len(plain)} {
		ini, acc := sessionPair(t, etypeID.AES256_CTS_HMAC_SHA1_96)
		sig, sealed, err := ini.Seal(plain)
		if err != nil {
			t.Fatal(err)
		}
		whole := append(append([]byte{}, sig...), sealed...)
		got, err := acc.Unseal(whole[:split], whole[split:])
		if err != nil {
			t.Fatalf("split at %d: %v", split, err)
		}
		if !bytes.Equal(got, plain) {
			t.Fatalf("split at %d: got %q", split, got)
		}
	}
}

// sealWith builds a sealed wrap token the way other senders do: ec filler
// bytes, header field rrc, and the ciphertext rotated right by rotate.
func sealWith(t *testing.T, key types.EncryptionKey, usage uint32, flags byte, seq uint64, plain []byte, ec, rrc, rotate int) (sig, sealed []byte) {
	t.Helper()
	e, err := crypto.GetEtype(key.KeyType)
	if err != nil {
		t.Fatal(err)
	}
	hdr := []byte{0x05, 0x04, flags, 0xff, byte(ec >> 8), byte(ec), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint64(hdr[8:], seq)
	msg := append(append(append([]byte{}, plain...), bytes.Repeat([]byte{0xff}, ec)...), hdr...)
	_, ct, err := e.EncryptMessage(key.KeyValue, msg, usage)
	if err != nil {
		t.Fatal(err)
	}
	rot := rotateRight(ct, rotate)
	binary.BigEndian.PutUint16(hdr[6:], uint16(rrc))
	tail := len(rot) - len(plain)
	return append(hdr, rot[:tail]...), rot[tail:]
}

// TestUnsealOtherSenders: EC=0 (MIT gss_wrap_iov, go-psrp), EC=16 rotated
// by RRC+EC (Windows, MIT DCE style), EC=16 rotated by RRC (RFC 4121) and
// RRC=0 (RFC 4121 gss_wrap) all unseal.
func TestUnsealOtherSenders(t *testing.T) {
	plain := []byte("<s:Envelope>from elsewhere</s:Envelope>")
	for _, tc := range []struct {
		name            string
		ec, rrc, rotate int
	}{
		{"mit iov ec0 rrc28", 0, 28, 28},
		{"windows ec16 rrc28 rotated 44", 16, 28, 44},
		{"rfc ec16 rrc28", 16, 28, 28},
		{"rfc ec16 rrc44", 16, 44, 44},
		{"rfc no rotation", 0, 0, 0},
		{"rfc ec16 no rotation", 16, 0, 0},
	} {
		for _, et := range []int32{etypeID.AES128_CTS_HMAC_SHA1_96, etypeID.AES256_CTS_HMAC_SHA1_96} {
			t.Run(fmt.Sprintf("%s/%d", tc.name, et), func(t *testing.T) {
				key := fixedKey(t, et)
				acc := newSession(key, true, true, 1, 5)
				ini := newSession(key, false, true, 5, 1)
				sig, sealed := sealWith(t, key, usageInitiatorSeal, flagSealed|flagAcceptorSubkey, 5, plain, tc.ec, tc.rrc, tc.rotate)
				got, err := acc.Unseal(sig, sealed)
				if err != nil {
					t.Fatalf("acceptor unseal: %v", err)
				}
				if !bytes.Equal(got, plain) {
					t.Fatalf("acceptor got %q", got)
				}
				sig, sealed = sealWith(t, key, usageAcceptorSeal, flagSentByAcceptor|flagSealed|flagAcceptorSubkey, 1, plain, tc.ec, tc.rrc, tc.rotate)
				got, err = ini.Unseal(sig, sealed)
				if err != nil {
					t.Fatalf("initiator unseal: %v", err)
				}
				if !bytes.Equal(got, plain) {
					t.Fatalf("initiator got %q", got)
				}
			})
		}
	}
}

func TestUnsealTampered(t *testing.T) {
	plain := []byte("<s:Envelope>do not touch</s:Envelope>")
	for _, tc := range []struct {
		name   string
		mangle func(t *testing.T, ini, acc *Session, sig, sealed []byte) (s *Session, sig2, sealed2 []byte)
	}{
		{"flip token id", func(_ *testing.T, _, acc *Session, sig, sealed []byte) (*Session, []byte, []byte) {
			sig[1] ^= 1
			return acc, sig, sealed
		}},
		{"flip flags sealed", func(_ *testing.T, _, acc *Session, sig, sealed []byte) (*Session, []byte, []byte) {
			sig[2] &^= flagSealed
			return acc, sig, sealed
		}},
		{"flip acceptor subkey flag", func(_ *testing.T, _, acc *Session, sig, sealed []byte) (*Session, []byte, []byte) {
			sig[2] ^= flagAcceptorSubkey
			return acc, sig, sealed
		}},
		{"wrong direction flag", func(_ *testing.T, _, acc *Session, sig, sealed []byte) (*Session, []byte, []byte) {
			sig[2] |= flagSentByAcceptor
			return acc, sig, sealed
		}},
		{"own token reflected", func(_ *testing.T, ini, _ *Session, sig, sealed []byte) (*Session, []byte, []byte) {
			ini.inSeq = 100
			return ini, sig, sealed
		}},
		{"flip filler", func(_ *testing.T, _, acc *Session, sig, sealed []byte) (*Session, []byte, []byte) {
			sig[3] = 0
			return acc, sig, sealed
		}},
		{"ec changed", func(_ *testing.T, _, acc *Session, sig, sealed []byte) (*Session, []byte, []byte) {
			sig[5] = 16
			return acc, sig, sealed
		}},
		{"rrc changed", func(_ *testing.T, _, acc *Session, sig, sealed []byte) (*Session, []byte, []byte) {
			sig[7] = 27
			return acc, sig, sealed
		}},
		{"sequence number changed", func(_ *testing.T, _, acc *Session, sig, sealed []byte) (*Session, []byte, []byte) {
			sig[15]++
			acc.inSeq++
			return acc, sig, sealed
		}},
		{"sequence number skipped", func(_ *testing.T, _, acc *Session, sig, sealed []byte) (*Session, []byte, []byte) {
			acc.inSeq++
			return acc, sig, sealed
		}},
		{"flip signature tail", func(_ *testing.T, _, acc *Session, sig, sealed []byte) (*Session, []byte, []byte) {
			sig[40] ^= 0x80
			return acc, sig, sealed
		}},
		{"flip sealed data", func(_ *testing.T, _, acc *Session, sig, sealed []byte) (*Session, []byte, []byte) {
			sealed[3] ^= 1
			return acc, sig, sealed
		}},
		{"truncated sealed data", func(_ *testing.T, _, acc *Session, sig, sealed []byte) (*Session, []byte, []byte) {
			return acc, sig, sealed[:len(sealed)-1]
		}},
		{"truncated signature", func(_ *testing.T, _, acc *Session, sig, _ []byte) (*Session, []byte, []byte) {
			return acc, sig[:10], nil
		}},
		{"header only", func(_ *testing.T, _, acc *Session, sig, _ []byte) (*Session, []byte, []byte) {
			return acc, sig[:16], nil
		}},
		{"other key", func(t *testing.T, _, _ *Session, sig, sealed []byte) (*Session, []byte, []byte) {
			k := fixedKey(t, etypeID.AES256_CTS_HMAC_SHA1_96)
			k.KeyValue[0] ^= 1
			return newSession(k, true, true, 0, 100), sig, sealed
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ini, acc := sessionPair(t, etypeID.AES256_CTS_HMAC_SHA1_96)
			sig, sealed, err := ini.Seal(plain)
			if err != nil {
				t.Fatal(err)
			}
			s, sig, sealed := tc.mangle(t, ini, acc, sig, sealed)
			before := s.inSeq
			_, err = s.Unseal(sig, sealed)
			wantKind(t, err, KindIntegrity)
			if s.inSeq != before {
				t.Errorf("failed unseal advanced the sequence number")
			}
		})
	}
}

// TestUnsealAfterFailure: a rejected token does not break the session.
func TestUnsealAfterFailure(t *testing.T) {
	ini, acc := sessionPair(t, etypeID.AES128_CTS_HMAC_SHA1_96)
	sig, sealed, err := ini.Seal([]byte("one"))
	if err != nil {
		t.Fatal(err)
	}
	bad := append([]byte{}, sealed...)
	bad[0] ^= 1
	if _, err := acc.Unseal(sig, bad); err == nil {
		t.Fatal("tampered token unsealed")
	}
	if got, err := acc.Unseal(sig, sealed); err != nil || string(got) != "one" {
		t.Fatalf("unseal after failure: %q, %v", got, err)
	}
	// A replay of the same token is refused (sequence number).
	_, err = acc.Unseal(sig, sealed)
	wantKind(t, err, KindIntegrity)
}

// TestSealAESSHA2: RFC 8009 aes128-cts-hmac-sha256-128 seals with a
// 16-byte MAC, so RRC is 32 and the signature 64 bytes (MIT does the same,
// see TestMITInterop).
func TestSealAESSHA2(t *testing.T) {
	ini, acc := sessionPair(t, etypeID.AES128_CTS_HMAC_SHA256_128)
	sig, sealed, err := ini.Seal([]byte("sha2"))
	if err != nil {
		t.Fatal(err)
	}
	if len(sig) != 64 || sig[7] != 32 || len(sealed) != 4 {
		t.Fatalf("sig %d bytes, RRC %d, sealed %d", len(sig), sig[7], len(sealed))
	}
	if got, err := acc.Unseal(sig, sealed); err != nil || string(got) != "sha2" {
		t.Fatalf("unseal: %q %v", got, err)
	}
}

func TestEtype20Refused(t *testing.T) {
	tk := ticket{key: types.EncryptionKey{KeyType: etypeID.AES256_CTS_HMAC_SHA384_192, KeyValue: make([]byte, 32)}}
	_, err := newInitiatorContext(tk, testRealm, types.PrincipalName{NameString: []string{"alice"}}, nil, time.Now())
	wantKind(t, err, KindProtocol)
	if !strings.Contains(err.Error(), "aes256-cts-hmac-sha384-192") {
		t.Errorf("error %q does not name the etype", err)
	}
	s := newSession(tk.key, false, true, 0, 0)
	_, _, err = s.Seal(nil)
	wantKind(t, err, KindProtocol)
}

func TestSealUnsupportedEtype(t *testing.T) {
	s := newSession(fixedKey(t, etypeID.DES3_CBC_SHA1_KD), false, true, 0, 0)
	_, _, err := s.Seal([]byte("x"))
	wantKind(t, err, KindProtocol)
	if !strings.Contains(err.Error(), "16") || !strings.Contains(err.Error(), "des3") {
		t.Errorf("error %q does not name the etype", err)
	}
	_, err = s.Unseal(make([]byte, 60), nil)
	wantKind(t, err, KindProtocol)
}

func TestRC4RoundTrip(t *testing.T) {
	key := fixedKey(t, etypeID.RC4_HMAC)
	ini, acc := newSession(key, false, true, 100, 7000), newSession(key, true, true, 7000, 100)
	for i, plain := range [][]byte{[]byte("<s:Envelope/>"), {}, bytes.Repeat([]byte{8}, 8), bytes.Repeat([]byte("abc"), 3000)} {
		for _, d := range []struct {
			from, to *Session
			dir      byte
		}{{ini, acc, 0x00}, {acc, ini, 0xff}} {
			sig, sealed, err := d.from.Seal(plain)
			if err != nil {
				t.Fatal(err)
			}
			if len(sealed) != d.from.SealedLength(len(plain)) || len(sealed) != len(plain)+1 {
				t.Fatalf("sealed %d bytes for %d", len(sealed), len(plain))
			}
			// 0x60, DER length of OID+token+data, OID, token header.
			n, rest, err := readDERLength(sig[1:])
			if sig[0] != 0x60 || err != nil || n != 11+32+len(sealed) || len(rest) != 11+32 || !bytes.Equal(rest[11:19], rc4Header) {
				t.Fatalf("framing % x (length %d, %v)", sig, n, err)
			}
			got, err := d.to.Unseal(sig, sealed)
			if err != nil {
				t.Fatalf("message %d: %v", i, err)
			}
			if !bytes.Equal(got, plain) {
				t.Fatalf("message %d: got %q", i, got)
			}
		}
	}
	// Tampering anywhere, reflection and replay fail.
	sig, sealed, err := ini.Seal([]byte("tamper with me"))
	if err != nil {
		t.Fatal(err)
	}
	whole := append(append([]byte{}, sig...), sealed...)
	for i := range whole {
		if i == 1 { // the DER length is not checked (senders disagree)
			continue
		}
		bad := bytes.Clone(whole)
		bad[i] ^= 0x10
		_, err := acc.Unseal(bad[:len(sig)], bad[len(sig):])
		if err == nil {
			t.Fatalf("flipped byte %d accepted", i)
		}
		wantKind(t, err, KindIntegrity)
	}
	_, err = ini.Unseal(sig, sealed)
	wantKind(t, err, KindIntegrity)
	if _, err := acc.Unseal(sig, sealed); err != nil {
		t.Fatal(err)
	}
	_, err = acc.Unseal(sig, sealed)
	wantKind(t, err, KindIntegrity)
}

func TestRotate(t *testing.T) {
	b := []byte("0123456789")
	for _, n := range []int{0, 1, 3, 10, 13, 28} {
		r := rotateRight(b, n)
		if got := rotateLeft(r, n); !bytes.Equal(got, b) {
			t.Errorf("rotate %d: %q", n, got)
		}
	}
	if got := string(rotateRight(b, 3)); got != "7890123456" {
		t.Errorf("rotateRight 3 = %q", got)
	}
}
