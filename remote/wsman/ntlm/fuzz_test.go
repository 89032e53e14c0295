package ntlm

import (
	"bytes"
	"testing"
)

// FuzzNTLMAuthenticate feeds arbitrary AUTHENTICATE messages to an acceptor
// that has issued a fixed challenge: it must never panic and must never
// accept a message not produced with the right key.
func FuzzNTLMAuthenticate(f *testing.F) {
	f.Add(unhex(f, katAuthenticate))
	ini := mustInitiator(f, Credentials{User: "alice", Password: "Secret123!"})
	neg, _ := ini.Negotiate()
	acc := newFuzzAcceptor(f)
	chal, err := acc.Challenge(neg)
	if err != nil {
		f.Fatal(err)
	}
	auth, err := ini.Authenticate(chal)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(auth)
	f.Add([]byte("NTLMSSP\x00\x03\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		acc := newFuzzAcceptor(t)
		if _, err := acc.Challenge(neg); err != nil {
			t.Fatal(err)
		}
		if err := acc.Authenticate(msg); err == nil {
			// Only the genuine message (or one differing in bytes not
			// covered by proof and MIC) may pass; it must yield a session.
			if acc.Session() == nil {
				t.Fatal("accepted without a session")
			}
		}
	})
}

func newFuzzAcceptor(t testing.TB) *Acceptor {
	a, err := NewAcceptor(AcceptorConfig{
		LookupNTHash: lookup,
		Rand:         bytes.NewReader(unhex(t, "0123456789abcdef")),
		Now:          katEpoch,
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// FuzzNTLMChallenge feeds arbitrary CHALLENGE messages to an initiator.
func FuzzNTLMChallenge(f *testing.F) {
	f.Add(unhex(f, katChallenge))
	acc := newTestAcceptor(f, nil)
	ini := mustInitiator(f, Credentials{User: "alice", Password: "x"})
	neg, _ := ini.Negotiate()
	chal, err := acc.Challenge(neg)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(chal)
	f.Fuzz(func(t *testing.T, msg []byte) {
		ini := mustInitiator(t, Credentials{User: "alice", Password: "x"})
		if _, err := ini.Negotiate(); err != nil {
			t.Fatal(err)
		}
		auth, err := ini.Authenticate(msg)
		if err == nil {
			if _, err := parseAuthenticate(auth); err != nil {
				t.Fatalf("initiator produced an unparsable AUTHENTICATE: %v", err)
			}
		}
	})
}
