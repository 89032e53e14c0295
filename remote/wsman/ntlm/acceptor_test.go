package ntlm

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/bodgit/ntlmssp"
	"github.com/google/go-cmp/cmp"
)

// users is the acceptor's account database in these tests.
func lookup(domain, user string) ([]byte, bool) {
	switch strings.ToLower(user) {
	case "alice":
		return NTHash("Secret123!"), true
	case "bob":
		return NTHash("hunter2"), true
	}
	return nil, false
}

func newTestAcceptor(t testing.TB, cb []byte) *Acceptor {
	t.Helper()
	a, err := NewAcceptor(AcceptorConfig{
		NbDomainName: "TESTDOM", NbComputerName: "SRV1",
		DNSDomainName: "test.example", DNSComputerName: "srv1.test.example",
		LookupNTHash: lookup, ChannelBindings: cb,
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// handshake runs NEGOTIATE → CHALLENGE → AUTHENTICATE between ours.
func handshake(t testing.TB, cfg InitiatorConfig, acc *Acceptor) (*Initiator, error) {
	t.Helper()
	ini, err := NewInitiator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	neg, err := ini.Negotiate()
	if err != nil {
		t.Fatal(err)
	}
	chal, err := acc.Challenge(neg)
	if err != nil {
		t.Fatal(err)
	}
	auth, err := ini.Authenticate(chal)
	if err != nil {
		t.Fatal(err)
	}
	return ini, acc.Authenticate(auth)
}

func TestInitiatorAcceptor(t *testing.T) {
	cbt := []byte("tls-server-end-point:0123456789abcdef0123456789abcdef")
	tests := []struct {
		name    string
		cfg     InitiatorConfig
		accCB   []byte
		require bool
		wantErr error
	}{
		{name: "password", cfg: InitiatorConfig{Credentials: Credentials{Domain: "TESTDOM", User: "alice", Password: "Secret123!"}}},
		{name: "NT hash", cfg: InitiatorConfig{Credentials: Credentials{User: "Bob", NTHash: NTHash("hunter2")}}},
		{name: "upn-style domain", cfg: InitiatorConfig{Credentials: Credentials{Domain: "test.example", User: "ALICE", Password: "Secret123!"}}},
		{name: "wrong password", cfg: InitiatorConfig{Credentials: Credentials{User: "alice", Password: "nope"}}, wantErr: ErrLogonFailure},
		{name: "unknown user", cfg: InitiatorConfig{Credentials: Credentials{User: "mallory", Password: "Secret123!"}}, wantErr: ErrLogonFailure},
		{name: "matching channel bindings", cfg: InitiatorConfig{Credentials: Credentials{User: "alice", Password: "Secret123!"}, ChannelBindings: cbt}, accCB: cbt},
		{name: "client sends no bindings", cfg: InitiatorConfig{Credentials: Credentials{User: "alice", Password: "Secret123!"}}, accCB: cbt},
		{name: "mismatched channel bindings", cfg: InitiatorConfig{Credentials: Credentials{User: "alice", Password: "Secret123!"}, ChannelBindings: []byte("tls-server-end-point:other")}, accCB: cbt, wantErr: ErrBindings},
		{name: "required bindings present", cfg: InitiatorConfig{Credentials: Credentials{User: "alice", Password: "Secret123!"}, ChannelBindings: cbt}, accCB: cbt, require: true},
		{name: "required bindings missing", cfg: InitiatorConfig{Credentials: Credentials{User: "alice", Password: "Secret123!"}}, accCB: cbt, require: true, wantErr: ErrNoBindings},
		{name: "required bindings mismatched", cfg: InitiatorConfig{Credentials: Credentials{User: "alice", Password: "Secret123!"}, ChannelBindings: []byte("tls-server-end-point:other")}, accCB: cbt, require: true, wantErr: ErrBindings},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			acc := newTestAcceptor(t, tt.accCB)
			acc.cfg.RequireChannelBindings = tt.require
			ini, err := handshake(t, tt.cfg, acc)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Authenticate: got %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				if acc.Session() != nil {
					t.Error("failed authentication left a session")
				}
				return
			}
			exchange(t, ini.Session(), acc.Session())
		})
	}
}

// exchange seals several messages each way, interleaved, so that the
// continuous RC4 state and sequence numbers of both directions are exercised.
func exchange(t *testing.T, client, server interface {
	Seal([]byte) ([]byte, []byte, error)
	Unseal([]byte, []byte) ([]byte, error)
}) {
	t.Helper()
	for i := range 4 {
		for _, dir := range []struct {
			name     string
			from, to interface {
				Seal([]byte) ([]byte, []byte, error)
				Unseal([]byte, []byte) ([]byte, error)
			}
		}{{"client→server", client, server}, {"server→client", server, client}} {
			msg := []byte(fmt.Sprintf("<s:Envelope>%s message %d %s</s:Envelope>", dir.name, i, strings.Repeat("x", i*100)))
			sig, sealed, err := dir.from.Seal(msg)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(sealed, []byte("Envelope")) {
				t.Fatalf("%s: sealed data contains plaintext", dir.name)
			}
			got, err := dir.to.Unseal(sig, sealed)
			if err != nil {
				t.Fatalf("%s message %d: %v", dir.name, i, err)
			}
			if diff := cmp.Diff(string(msg), string(got)); diff != "" {
				t.Fatalf("%s message %d (-want +got)\n%s", dir.name, i, diff)
			}
		}
	}
}

// bodgitSession adapts bodgit's Wrap/Unwrap (sealed, signature order) to ours.
type bodgitSession struct{ s *ntlmssp.SecuritySession }

func (b bodgitSession) Seal(p []byte) ([]byte, []byte, error) {
	sealed, sig, err := b.s.Wrap(p)
	return sig, sealed, err
}
func (b bodgitSession) Unseal(sig, sealed []byte) ([]byte, error) { return b.s.Unwrap(sealed, sig) }

// TestBodgitClient drives our acceptor with github.com/bodgit/ntlmssp, the
// NTLM client masterzen/winrm uses, including sealing in both directions.
func TestBodgitClient(t *testing.T) {
	cbt := []byte("tls-server-end-point:0123456789abcdef")
	tests := []struct {
		name     string
		opts     []func(*ntlmssp.Client) error
		bindings *ntlmssp.ChannelBindings
		accCB    []byte
		wantErr  error
	}{
		{name: "NTLMv2", opts: []func(*ntlmssp.Client) error{ntlmssp.SetUserInfo("alice", "Secret123!"), ntlmssp.SetDomain("TESTDOM"), ntlmssp.SetVersion(ntlmssp.DefaultVersion())}},
		{name: "no domain, no version", opts: []func(*ntlmssp.Client) error{ntlmssp.SetUserInfo("bob", "hunter2")}},
		{name: "channel bindings", opts: []func(*ntlmssp.Client) error{ntlmssp.SetUserInfo("alice", "Secret123!")}, bindings: &ntlmssp.ChannelBindings{ApplicationData: cbt}, accCB: cbt},
		{name: "wrong channel bindings", opts: []func(*ntlmssp.Client) error{ntlmssp.SetUserInfo("alice", "Secret123!")}, bindings: &ntlmssp.ChannelBindings{ApplicationData: []byte("tls-server-end-point:zz")}, accCB: cbt, wantErr: ErrBindings},
		{name: "wrong password", opts: []func(*ntlmssp.Client) error{ntlmssp.SetUserInfo("alice", "secret123!")}, wantErr: ErrLogonFailure},
		{name: "NTLMv1 refused", opts: []func(*ntlmssp.Client) error{ntlmssp.SetUserInfo("alice", "Secret123!"), ntlmssp.SetCompatibilityLevel(1)}, wantErr: ErrNotNTLMv2},
		{name: "anonymous refused", opts: []func(*ntlmssp.Client) error{ntlmssp.SetUserInfo("", "")}, wantErr: ErrAnonymous},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ntlmssp.NewClient(tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			acc := newTestAcceptor(t, tt.accCB)
			neg, err := c.Authenticate(nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			chal, err := acc.Challenge(neg)
			if err != nil {
				t.Fatal(err)
			}
			auth, err := c.Authenticate(chal, tt.bindings)
			if err != nil {
				t.Fatal(err)
			}
			err = acc.Authenticate(auth)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Authenticate: got %v, want %v", err, tt.wantErr)
			}
			if err == nil {
				exchange(t, bodgitSession{c.SecuritySession()}, acc.Session())
			}
		})
	}
}

func TestAcceptorRejectsTamperedMIC(t *testing.T) {
	acc := newTestAcceptor(t, nil)
	ini := mustInitiator(t, Credentials{User: "alice", Password: "Secret123!"})
	neg, _ := ini.Negotiate()
	chal, err := acc.Challenge(neg)
	if err != nil {
		t.Fatal(err)
	}
	auth, err := ini.Authenticate(chal)
	if err != nil {
		t.Fatal(err)
	}
	auth[micOffset] ^= 1
	if err := acc.Authenticate(auth); !errors.Is(err, ErrMIC) {
		t.Fatalf("got %v, want ErrMIC", err)
	}
}

func TestAcceptorStateGuards(t *testing.T) {
	acc := newTestAcceptor(t, nil)
	if err := acc.Authenticate(unhex(t, katAuthenticate)); err == nil {
		t.Error("Authenticate before Challenge succeeded")
	}
	if _, err := acc.Challenge(unhex(t, katChallenge)); err == nil {
		t.Error("Challenge accepted a CHALLENGE_MESSAGE as NEGOTIATE")
	}
	if _, err := acc.Challenge(bytes.Repeat([]byte("NTLMSSP\x00\x01\x00\x00\x00"), MaxTokenSize)); err == nil {
		t.Error("Challenge accepted a message above MaxTokenSize")
	}
}

func TestSessionRejectsTampering(t *testing.T) {
	tests := []struct {
		name   string
		modify func(sig, sealed []byte) ([]byte, []byte)
	}{
		{"flipped data bit", func(sig, sealed []byte) ([]byte, []byte) { sealed[0] ^= 1; return sig, sealed }},
		{"flipped checksum bit", func(sig, sealed []byte) ([]byte, []byte) { sig[5] ^= 1; return sig, sealed }},
		{"wrong sequence number", func(sig, sealed []byte) ([]byte, []byte) { sig[12] = 7; return sig, sealed }},
		{"short signature", func(sig, sealed []byte) ([]byte, []byte) { return sig[:15], sealed }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			acc := newTestAcceptor(t, nil)
			ini, err := handshake(t, InitiatorConfig{Credentials: Credentials{User: "alice", Password: "Secret123!"}}, acc)
			if err != nil {
				t.Fatal(err)
			}
			sig, sealed, _ := ini.Session().Seal([]byte("hello"))
			if _, err := acc.Session().Unseal(tt.modify(sig, sealed)); err == nil {
				t.Fatal("tampered message verified")
			}
			sig, sealed, _ = ini.Session().Seal([]byte("again"))
			if _, err := acc.Session().Unseal(sig, sealed); !errors.Is(err, ErrSessionBroken) {
				t.Fatalf("after a failure got %v, want ErrSessionBroken", err)
			}
		})
	}
}
