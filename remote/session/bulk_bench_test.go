package session_test

import (
	"context"
	"testing"

	"github.com/pssession/pssession/remote/endpoint"
	"github.com/pssession/pssession/remote/psrp"
	"github.com/pssession/pssession/remote/session"
)

// BenchmarkBulkOutput receives 20 000 lines of 1000 characters (about
// 20 MB) from the sh engine in an open session over loopback (NTLM with
// message encryption over HTTP), decoding every output record.
func BenchmarkBulkOutput(b *testing.B) {
	srv := startServerWith(b, endpoint.Config{Engine: endpoint.Sh{}})
	sess := srv.open(b, session.Config{})
	b.Cleanup(func() { sess.Close(context.Background()) })
	const lines = 20000
	script := `yes "$(head -c 1000 /dev/zero | tr '\0' x)" | head -n 20000`
	b.SetBytes(lines * 1001)
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		res, err := sess.Run(context.Background(), session.RunRequest{
			Spec: psrp.PipelineSpec{Commands: []psrp.Command{{Cmd: script, IsScript: true}}},
			OnEvent: func(ev psrp.Event) {
				if _, ok := ev.(psrp.PipelineOutput); ok {
					n++
				}
			},
		})
		if err != nil {
			b.Fatal(err)
		}
		if res.State != psrp.PipelineCompleted || n != lines {
			b.Fatalf("state %v, %d lines", res.State, n)
		}
	}
}
