package wsman

import (
	"testing"
)

// BenchmarkParseReceive decodes a recorded pipeline Receive (output
// records, PIPELINE_STATE and CommandState Done).
func BenchmarkParseReceive(b *testing.B) {
	body := []byte(loadVector(b, "test_psrp_merge_commands.yml").Messages[4].Response)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		r, err := ParseResponse(body)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := r.Receive(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSendEnvelope renders a full-size Send at 512000 bytes.
func BenchmarkSendEnvelope(b *testing.B) {
	c := NewClient(nil, "https://host:5986/wsman")
	c.SetMaxEnvelopeSize(MaxEnvelopeSize22)
	id := NewGUID()
	req := SendRequest{ShellID: id, Streams: []SendStream{{Name: StreamStdin, CommandID: id, Data: make([]byte, c.MaxPayload())}}}
	h := c.header()
	b.SetBytes(int64(c.MaxPayload()))
	b.ReportAllocs()
	for b.Loop() {
		if env := req.Envelope(h); len(env) > MaxEnvelopeSize22 {
			b.Fatal("envelope too large")
		}
	}
}

// BenchmarkMaxPayload is the per-pipeline cost of sizing the first
// fragment (session.begin asks for it on every Run).
func BenchmarkMaxPayload(b *testing.B) {
	c := NewClient(nil, "http://127.0.0.1:5985/wsman")
	c.SetMaxEnvelopeSize(MaxEnvelopeSize22)
	b.ReportAllocs()
	for b.Loop() {
		c.MaxPayload()
	}
}
