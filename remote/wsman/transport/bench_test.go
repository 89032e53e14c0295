package transport

import (
	"context"
	"strings"
	"testing"
)

// BenchmarkClientPostSealed: one NTLM-sealed 16 KiB request/response over
// loopback on an established lane.
func BenchmarkClientPostSealed(b *testing.B) {
	srv, _ := startServer(b, echoHandler(), ServerConfig{}, false)
	c := newClient(b, Config{URL: srv.URL, Username: "bob", Password: "hunter2"})
	msg := []byte(strings.Repeat("x", 16<<10))
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, _, err := c.Post(context.Background(), msg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWrapUnwrap64KiB(b *testing.B) {
	client, server := ntlmPair(b)
	msg := []byte(strings.Repeat("x", 64<<10))
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		body, ct, err := WrapEncrypted(client, ProtocolSPNEGO, msg)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := UnwrapEncrypted(server, ProtocolSPNEGO, ct, body); err != nil {
			b.Fatal(err)
		}
	}
}
