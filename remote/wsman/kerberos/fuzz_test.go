package kerberos

import (
	"testing"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/asn1tools"
	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/iana/asnAppTag"
	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/messages"
)

// FuzzUnseal feeds arbitrary tokens, split anywhere, to an acceptor
// session. Seeds are real tokens from Seal and from other senders' layouts.
func FuzzUnseal(f *testing.F) {
	key := fixedKey(f, etypeID.AES256_CTS_HMAC_SHA1_96)
	ini := newSession(key, false, true, 0, 0)
	for _, p := range []string{"", "x", "<s:Envelope/>", string(make([]byte, 100))} {
		sig, sealed, err := ini.Seal([]byte(p))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(append(sig, sealed...), uint16(len(sig)))
		ini.outSeq = 0 // every seed is sequence number 0
	}
	rc4Key := fixedKey(f, etypeID.RC4_HMAC)
	rc4Ini := newSession(rc4Key, false, false, 0, 0)
	for _, p := range []string{"", "<s:Envelope/>"} {
		sig, sealed, err := rc4Ini.Seal([]byte(p))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(append(sig, sealed...), uint16(len(sig)))
		rc4Ini.outSeq = 0
	}
	f.Add([]byte{0x05, 0x04, 0x06, 0xff, 0, 16, 0, 28, 0, 0, 0, 0, 0, 0, 0, 0}, uint16(16))
	f.Fuzz(func(t *testing.T, tok []byte, split uint16) {
		for _, s := range []*Session{newSession(key, true, true, 0, 0), newSession(rc4Key, true, false, 0, 0)} {
			n := min(int(split), len(tok))
			plain, err := s.Unseal(tok[:n], tok[n:])
			if err == nil && len(plain) > len(tok) {
				t.Fatalf("unsealed %d bytes out of a %d-byte token", len(plain), len(tok))
			}
			if err != nil && s.inSeq != 0 {
				t.Fatal("failed unseal advanced the sequence number")
			}
		}
	})
}

// FuzzAccept feeds arbitrary AP-REQ tokens to an acceptor. Seeds are real
// AP-REQs (with and without channel bindings) and an AP-REP.
func FuzzAccept(f *testing.F) {
	kt := testKeytab(f, "service secret")
	now := time.Now()
	a, err := newAcceptor(kt, AcceptorConfig{})
	if err != nil {
		f.Fatal(err)
	}
	for _, et := range []int32{etypeID.AES128_CTS_HMAC_SHA1_96, etypeID.AES256_CTS_HMAC_SHA1_96} {
		tk := testTicket(f, kt, et, now, now.Add(24*time.Hour))
		f.Add(testInitiator(f, tk, nil).Token())
		ic := testInitiator(f, tk, []byte("tls-server-end-point:0123456789abcdef0123456789abcdef"))
		f.Add(ic.Token())
		rep, _, _, err := a.Accept(testInitiator(f, tk, nil).Token(), nil, false)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(rep)
		// Empty ap-options: once crashed gokrb5's flag test.
		_, msg, _ := unwrapMechToken(testInitiator(f, tk, nil).Token())
		var req messages.APReq
		if err := req.Unmarshal(msg); err != nil {
			f.Fatal(err)
		}
		req.APOptions = asn1.BitString{}
		b, err := req.Marshal()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(wrapMechToken(tokIDAPReq, b))
	}
	f.Fuzz(func(t *testing.T, tok []byte) {
		rep, s, client, err := a.Accept(tok, []byte("tls-server-end-point:0123456789abcdef0123456789abcdef"), false)
		if err != nil && (rep != nil || s != nil || client != "") {
			t.Fatal("results returned with an error")
		}
	})
}

// FuzzComplete feeds arbitrary AP-REP tokens to an initiator context.
func FuzzComplete(f *testing.F) {
	kt := testKeytab(f, "service secret")
	now := time.Now()
	a, err := newAcceptor(kt, AcceptorConfig{})
	if err != nil {
		f.Fatal(err)
	}
	tk := testTicket(f, kt, etypeID.AES256_CTS_HMAC_SHA1_96, now, now.Add(24*time.Hour))
	ic := testInitiator(f, tk, nil)
	rep, _, _, err := a.Accept(ic.Token(), nil, false)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(rep)
	f.Add(ic.Token())
	f.Fuzz(func(t *testing.T, tok []byte) {
		c := *ic
		if s, err := c.Complete(tok); (s == nil) == (err == nil) {
			t.Fatalf("session %v with error %v", s != nil, err)
		}
	})
}

// FuzzAcceptAuthenticator reaches past the ticket: arbitrary authenticator
// bytes, encrypted with the session key of a valid ticket, as a client
// holding a real ticket could send them.
func FuzzAcceptAuthenticator(f *testing.F) {
	kt := testKeytab(f, "service secret")
	now := time.Now()
	tk := testTicket(f, kt, etypeID.AES256_CTS_HMAC_SHA1_96, now, now.Add(24*time.Hour))
	a, err := newAcceptor(kt, AcceptorConfig{})
	if err != nil {
		f.Fatal(err)
	}
	ic := testInitiator(f, tk, []byte("tls-server-end-point:x"))
	_, msg, err := unwrapMechToken(ic.Token())
	if err != nil {
		f.Fatal(err)
	}
	var req messages.APReq
	if err := req.Unmarshal(msg); err != nil {
		f.Fatal(err)
	}
	if err := req.DecryptAuthenticator(tk.key); err != nil {
		f.Fatal(err)
	}
	good, err := req.Authenticator.Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Fuzz(func(t *testing.T, auth []byte) {
		ed, err := crypto.GetEncryptedData(auth, tk.key, keyusage.AP_REQ_AUTHENTICATOR, 0)
		if err != nil {
			t.Skip()
		}
		r := req
		r.EncryptedAuthenticator = ed
		b, err := r.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		rep, s, client, err := a.Accept(wrapMechToken(tokIDAPReq, b), []byte("tls-server-end-point:x"), false)
		if err != nil && (rep != nil || s != nil || client != "") {
			t.Fatal("results returned with an error")
		}
		if err == nil {
			if _, _, err := s.Seal([]byte("x")); err != nil && s.et != nil {
				t.Fatalf("accepted session cannot seal: %v", err)
			}
		}
	})
}

// FuzzCompleteEncPart: arbitrary EncAPRepPart bytes, correctly encrypted
// with the session key, as a server holding the service key could send.
func FuzzCompleteEncPart(f *testing.F) {
	kt := testKeytab(f, "service secret")
	now := time.Now()
	tk := testTicket(f, kt, etypeID.AES128_CTS_HMAC_SHA1_96, now, now.Add(24*time.Hour))
	ic := testInitiator(f, tk, nil)
	part := messages.EncAPRepPart{CTime: ic.ctime, Cusec: ic.cusec, Subkey: fixedKey(f, etypeID.AES128_CTS_HMAC_SHA1_96), SequenceNumber: 5}
	good, err := asn1.Marshal(part)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(asn1tools.AddASNAppTag(good, asnAppTag.EncAPRepPart))
	f.Fuzz(func(t *testing.T, enc []byte) {
		ed, err := crypto.GetEncryptedData(enc, tk.key, keyusage.AP_REP_ENCPART, 0)
		if err != nil {
			t.Skip()
		}
		b, err := asn1.Marshal(messages.APRep{PVNO: 5, MsgType: 15, EncPart: ed})
		if err != nil {
			t.Fatal(err)
		}
		c := *ic
		s, err := c.Complete(wrapMechToken(tokIDAPRep, asn1tools.AddASNAppTag(b, asnAppTag.APREP)))
		if (s == nil) == (err == nil) {
			t.Fatalf("session %v with error %v", s != nil, err)
		}
	})
}
