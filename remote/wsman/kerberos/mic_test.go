package kerberos

import (
	"testing"

	"github.com/jcmturner/gokrb5/v8/gssapi"
	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
)

func TestMICRoundTrip(t *testing.T) {
	for _, et := range []int32{etypeID.AES128_CTS_HMAC_SHA1_96, etypeID.AES256_CTS_HMAC_SHA1_96} {
		ini, acc := sessionPair(t, et)
		msg := []byte("0\x1a\x06\t*\x86H\x82\xf7\x12\x01\x02\x02") // a DER MechTypeList, say
		for _, d := range []struct{ from, to *Session }{{ini, acc}, {acc, ini}} {
			mic, err := d.from.GetMIC(msg)
			if err != nil {
				t.Fatal(err)
			}
			if len(mic) != 28 || mic[0] != 4 || mic[1] != 4 {
				t.Fatalf("MIC % x", mic)
			}
			if err := d.to.VerifyMIC(msg, mic); err != nil {
				t.Fatalf("VerifyMIC: %v", err)
			}
			wantKind(t, d.to.VerifyMIC(msg, mic), KindIntegrity) // replay
			for i := range mic {
				bad := append([]byte{}, mic...)
				bad[i] ^= 1
				if err := d.to.VerifyMIC(msg, bad); err == nil {
					t.Fatalf("MIC with byte %d flipped verified", i)
				}
			}
			wantKind(t, d.to.VerifyMIC(append(msg, 0), mic), KindIntegrity)
			wantKind(t, d.from.VerifyMIC(msg, mic), KindIntegrity) // own token reflected
		}
	}
}

// TestMICAgainstGokrb5 checks our MIC tokens against gokrb5's independent
// RFC 4121 MIC implementation (initiator, no acceptor subkey, seq 0).
func TestMICAgainstGokrb5(t *testing.T) {
	key := fixedKey(t, etypeID.AES256_CTS_HMAC_SHA1_96)
	msg := []byte("mechListMIC input")
	ini := newSession(key, false, false, 0, 0)
	mic, err := ini.GetMIC(msg)
	if err != nil {
		t.Fatal(err)
	}
	var mt gssapi.MICToken
	if err := mt.Unmarshal(mic, false); err != nil {
		t.Fatal(err)
	}
	mt.Payload = msg
	if ok, err := mt.Verify(key, usageInitiatorSign); !ok {
		t.Fatalf("gokrb5 rejects our MIC: %v", err)
	}
	theirs, err := gssapi.NewInitiatorMICToken(msg, key)
	if err != nil {
		t.Fatal(err)
	}
	b, err := theirs.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	acc := newSession(key, true, false, 0, 0)
	if err := acc.VerifyMIC(msg, b); err != nil {
		t.Fatalf("we reject gokrb5's MIC: %v", err)
	}
}

// TestSequenceGap: a MIC the peer never verified leaves a gap in the
// sequence numbers, which is accepted; going back is not.
func TestSequenceGap(t *testing.T) {
	ini, acc := sessionPair(t, etypeID.AES256_CTS_HMAC_SHA1_96)
	if _, err := ini.GetMIC([]byte("mechListMIC")); err != nil {
		t.Fatal(err)
	}
	sig1, sealed1, err := ini.Seal([]byte("one"))
	if err != nil {
		t.Fatal(err)
	}
	sig2, sealed2, err := ini.Seal([]byte("two"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := acc.Unseal(sig2, sealed2); err != nil || string(got) != "two" {
		t.Fatalf("after a gap: %q %v", got, err)
	}
	_, err = acc.Unseal(sig1, sealed1)
	wantKind(t, err, KindIntegrity)
}

func TestMICUnsupportedEtype(t *testing.T) {
	s := newSession(fixedKey(t, etypeID.RC4_HMAC), false, false, 0, 0)
	_, err := s.GetMIC(nil)
	wantKind(t, err, KindProtocol)
	wantKind(t, s.VerifyMIC(nil, make([]byte, 28)), KindProtocol)
}
