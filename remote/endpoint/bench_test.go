package endpoint

import (
	"testing"
)

// BenchmarkParseRequest parses a Receive request envelope.
func BenchmarkParseRequest(b *testing.B) {
	env := []byte(buildEnvelope(reqOpts{action: actionReceive, resource: resourceMSPowerShell, shellID: newGUID(),
		options: map[string]string{"WSMAN_CMDSHELL_OPTION_KEEPALIVE": "True"},
		body:    `<rsp:Receive><rsp:DesiredStream CommandId="` + newGUID() + `">stdout</rsp:DesiredStream></rsp:Receive>`}))
	b.SetBytes(int64(len(env)))
	b.ReportAllocs()
	for b.Loop() {
		if _, f := parseRequest(env); f != nil {
			b.Fatal(f)
		}
	}
}

// BenchmarkPipelineRoundTrip runs one scripted pipeline end to end over
// loopback HTTP: Command, Receive until Done, Signal Terminate.
func BenchmarkPipelineRoundTrip(b *testing.B) {
	_, srv := newTestServer(b, Config{})
	c := openPS(b, srv, "")
	b.ReportAllocs()
	for b.Loop() {
		pl := c.start("Write-Output a b c")
		if got := c.collect(pl); len(got.Output) != 3 {
			b.Fatalf("%+v", got)
		}
		c.signal(pl, signalTerminate)
	}
}
