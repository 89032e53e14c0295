package ntlm

import "testing"

func BenchmarkSealUnseal64KiB(b *testing.B) {
	acc := newTestAcceptor(b, nil)
	ini, err := handshake(b, InitiatorConfig{Credentials: Credentials{User: "alice", Password: "Secret123!"}}, acc)
	if err != nil {
		b.Fatal(err)
	}
	msg := make([]byte, 64<<10)
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		sig, sealed, _ := ini.Session().Seal(msg)
		if _, err := acc.Session().Unseal(sig, sealed); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHandshake(b *testing.B) {
	for b.Loop() {
		if _, err := handshake(b, InitiatorConfig{Credentials: Credentials{User: "alice", Password: "Secret123!"}}, newTestAcceptor(b, nil)); err != nil {
			b.Fatal(err)
		}
	}
}
