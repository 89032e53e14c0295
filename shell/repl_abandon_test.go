package shell

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pssession/pssession/remote/endpoint"
	"github.com/pssession/pssession/remote/session"
	"github.com/pssession/pssession/remote/wsman"
	"github.com/pssession/pssession/remote/wsman/transport"
)

// stubbornEngine is the scripted engine, except that the statement
// "Ignore-Stop" writes "stuck" and then ignores the stop signal until the
// test ends, as a remote command stuck in a native call does.
type stubbornEngine struct {
	endpoint.Scripted
	release chan struct{}
}

func (e stubbornEngine) Open(ctx context.Context, opts endpoint.RunspaceOptions) (endpoint.Runspace, error) {
	rs, err := e.Scripted.Open(ctx, opts)
	if err != nil {
		return nil, err
	}
	return stubbornRunspace{rs, e.release}, nil
}

type stubbornRunspace struct {
	endpoint.Runspace
	release chan struct{}
}

func (r stubbornRunspace) Commands() []string {
	if c, ok := r.Runspace.(interface{ Commands() []string }); ok {
		return c.Commands()
	}
	return nil
}

func (r stubbornRunspace) Run(ctx context.Context, p endpoint.Pipeline, w endpoint.Writer) error {
	if len(p.Commands) > 0 && strings.TrimSpace(p.Commands[0].Text) == "Ignore-Stop" {
		if err := w.Output("stuck"); err != nil {
			return err
		}
		<-r.release
		return ctx.Err()
	}
	return r.Runspace.Run(ctx, p, w)
}

func TestREPLCtrlCAbandonsStuckCommand(t *testing.T) {
	release := make(chan struct{})
	h := endpoint.New(endpoint.Config{Engine: stubbornEngine{release: release}, Machine: "WIN-TEST"})
	t.Cleanup(func() { h.Close() })
	t.Cleanup(func() { close(release) })
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	tc, err := transport.New(transport.Config{URL: srv.URL + "/wsman", Auth: "basic", Username: "u", Password: "p", AllowUnencrypted: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tc.Close() })
	c := wsman.NewClient(tc, srv.URL+"/wsman")
	c.OperationTimeout = 2 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sess, err := session.Open(ctx, session.Config{Transport: session.WSMan{C: c}, CancelTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sess.Close(context.Background()) })

	interrupts := make(chan struct{}, 2)
	out := &signalWriter{mark: "stuck", fn: func() { interrupts <- struct{}{} }}
	var errOut bytes.Buffer
	r := &Renderer{Out: out, Err: &errOut}
	src := &scriptedLines{steps: lines(`Ignore-Stop`, `Write-Output alive`)}
	repl := &REPL{Session: sess, Lines: src, Interactive: true, Renderer: r, Interrupts: interrupts,
		Notice: func(s string) { errOut.WriteString(s + "\n") }}
	code, err := repl.Run(ctx)
	if err != nil || code != 0 {
		t.Fatalf("Run = %d, %v", code, err)
	}
	if !strings.Contains(errOut.String(), "abandoned") {
		t.Errorf("stderr %q, want the abandon notice", errOut.String())
	}
	if diff := cmp.Diff("stuck\nalive\n", out.String()); diff != "" {
		t.Errorf("stdout (-want +got):\n%s", diff)
	}
}
