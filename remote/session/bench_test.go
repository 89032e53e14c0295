package session_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/pssession/pssession/remote/endpoint"
	"github.com/pssession/pssession/remote/psrp"
	"github.com/pssession/pssession/remote/session"
)

// BenchmarkTrivialPipeline runs `Write-Output hi` in an already-open
// session over loopback (NTLM with message encryption over HTTP) and
// reports the median and 99th percentile of the per-run durations
// besides ns/op.
func BenchmarkTrivialPipeline(b *testing.B) {
	srv := startServerWith(b, endpoint.Config{})
	sess := srv.open(b, session.Config{})
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		sess.Close(ctx)
	})
	ctx := context.Background()
	req := session.RunRequest{
		Spec:        psrp.PipelineSpec{Commands: []psrp.Command{{Cmd: "Write-Output hi", IsScript: true}}},
		CommandLine: "Write-Output hi",
	}
	var durations []time.Duration
	b.ReportAllocs()
	for b.Loop() {
		var got int
		req.OnEvent = func(ev psrp.Event) {
			if o, ok := ev.(psrp.PipelineOutput); ok && o.Value == "hi" {
				got++
			}
		}
		start := time.Now()
		res, err := sess.Run(ctx, req)
		durations = append(durations, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		if res.State != psrp.PipelineCompleted || got != 1 {
			b.Fatalf("state %v, %d outputs", res.State, got)
		}
	}
	slices.Sort(durations)
	pct := func(p float64) float64 {
		return float64(durations[int(p*float64(len(durations)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}
