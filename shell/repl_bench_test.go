package shell

import (
	"context"
	"io"
	"slices"
	"testing"
	"time"
)

// timedLines answers the same statement n times and records the time from
// each answer to the next prompt request: Enter to the next prompt.
type timedLines struct {
	stmt  string
	n     int
	last  time.Time
	spans []time.Duration
}

func (l *timedLines) ReadLine(string) (string, error) {
	now := time.Now()
	if !l.last.IsZero() {
		l.spans = append(l.spans, now.Sub(l.last))
	}
	if l.n == 0 {
		return "", io.EOF
	}
	l.n--
	l.last = time.Now()
	return l.stmt, nil
}

// BenchmarkEnterToPrompt measures one interactive round on loopback (NTLM
// sealed HTTP, scripted engine): run a trivial statement with Out-String,
// render it, then run the remote prompt function. It reports the median
// as p50-ns.
func BenchmarkEnterToPrompt(b *testing.B) {
	sess := openLoopbackTB(b)
	r := &Renderer{Out: io.Discard, Err: io.Discard}
	src := &timedLines{stmt: "Write-Output 42", n: b.N}
	repl := &REPL{Session: sess, Computer: "WIN-TEST", Lines: src, Interactive: true, Renderer: r}
	b.ResetTimer()
	if _, err := repl.Run(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	slices.Sort(src.spans)
	if len(src.spans) > 0 {
		b.ReportMetric(float64(src.spans[len(src.spans)/2].Nanoseconds()), "p50-ns")
	}
}
