package session_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pssession/pssession/remote/endpoint"
	"github.com/pssession/pssession/remote/psrp"
	"github.com/pssession/pssession/remote/psrp/clixml"
	"github.com/pssession/pssession/remote/session"
	"github.com/pssession/pssession/remote/wsman"
	"github.com/pssession/pssession/remote/wsman/transport"
)

// server is a loopback endpoint behind NTLM authentication with message
// encryption over plain HTTP, as Windows ships WinRM on 5985.
type server struct {
	url string
}

func startServer(t *testing.T) *server {
	t.Helper()
	return startServerWith(t, endpoint.Config{})
}

// startServerWith starts the endpoint with cfg (the scripted engine and a
// machine name are filled in).
func startServerWith(t testing.TB, cfg endpoint.Config) *server {
	t.Helper()
	if cfg.Engine == nil {
		cfg.Engine = endpoint.Scripted{}
	}
	cfg.Machine = "WIN-TEST"
	h := endpoint.New(cfg)
	t.Cleanup(func() { h.Close() })
	sa, err := transport.NewServerAuth(h, transport.ServerConfig{Users: map[string]string{`LAB\alice`: "Passw0rd!"}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(sa)
	srv.Config.ConnContext = sa.ConnContext
	srv.Start()
	t.Cleanup(srv.Close)
	return &server{url: srv.URL + "/wsman"}
}

func (s *server) client(t testing.TB) *wsman.Client {
	t.Helper()
	tc, err := transport.New(transport.Config{URL: s.url, Auth: "negotiate", Username: `LAB\alice`, Password: "Passw0rd!"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tc.Close() })
	c := wsman.NewClient(tc, s.url)
	c.OperationTimeout = 5 * time.Second
	return c
}

func (s *server) open(t testing.TB, cfg session.Config) *session.Session {
	t.Helper()
	cfg.Transport = session.WSMan{C: s.client(t)}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sess, err := session.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return sess
}

// collector gathers what a pipeline produced.
type collector struct {
	mu     sync.Mutex
	output []string
	errors []string
	other  []string
}

func (c *collector) event(ev psrp.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch e := ev.(type) {
	case psrp.PipelineOutput:
		c.output = append(c.output, clixml.ToDisplayString(e.Value))
	case psrp.PipelineErrorRecord:
		rec, _ := clixml.ParseErrorRecord(e.Record)
		c.errors = append(c.errors, rec.DisplayMessage())
	case psrp.PipelineWarningRecord:
		c.other = append(c.other, "warning:"+clixml.ToDisplayString(e.Record))
	case psrp.PipelineVerboseRecord:
		c.other = append(c.other, "verbose:"+clixml.ToDisplayString(e.Record))
	case psrp.PipelineInformationRecord:
		rec, _ := clixml.ParseInformationRecord(e.Record)
		c.other = append(c.other, "information:"+rec.Text())
	}
}

func run(t *testing.T, s *session.Session, script string) (*collector, *session.Result) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := &collector{}
	res, err := s.Run(ctx, session.RunRequest{
		Spec:    psrp.PipelineSpec{Commands: []psrp.Command{{Cmd: script, IsScript: true}}},
		OnEvent: c.event,
	})
	if err != nil {
		t.Fatalf("run %q: %v", script, err)
	}
	return c, res
}

func TestSessionRunsInOneRunspace(t *testing.T) {
	srv := startServer(t)
	s := srv.open(t, session.Config{})
	defer s.Close(context.Background())

	if got := s.State(); got != psrp.PoolOpened {
		t.Fatalf("state %s", got)
	}
	if v, ok := s.ServerProtocolVersion(); !ok || v.String() != "2.3" {
		t.Fatalf("server protocol %v %v", v, ok)
	}
	if s.PrivateData() == nil {
		t.Fatal("no application private data")
	}
	c, res := run(t, s, "Write-Output hello world")
	if res.State != psrp.PipelineCompleted {
		t.Fatalf("state %s", res.State)
	}
	if diff := cmp.Diff([]string{"hello", "world"}, c.output); diff != "" {
		t.Fatal(diff)
	}
	run(t, s, "$x = 42")
	c, _ = run(t, s, "$x")
	if diff := cmp.Diff([]string{"42"}, c.output); diff != "" {
		t.Fatalf("variable did not persist: %s", diff)
	}
	c, _ = run(t, s, "Write-Error boom; Write-Warning careful; Write-Host hi")
	if diff := cmp.Diff([]string{"boom"}, c.errors); diff != "" {
		t.Fatal(diff)
	}
	if diff := cmp.Diff([]string{"warning:careful", "information:hi"}, c.other); diff != "" {
		t.Fatal(diff)
	}
	_, res = run(t, s, "throw 'bad thing'")
	if res.State != psrp.PipelineFailed || res.Error == nil || !strings.Contains(res.Error.DisplayMessage(), "bad thing") {
		t.Fatalf("throw: %s %+v", res.State, res.Error)
	}
	_, res = run(t, s, "exit 3")
	if res.ShouldExit == nil || *res.ShouldExit != 3 {
		t.Fatalf("exit 3: ShouldExit %v", res.ShouldExit)
	}
	p, err := s.Prompt(context.Background())
	if err != nil || !strings.HasPrefix(p, "PS ") || !strings.HasSuffix(p, "> ") {
		t.Fatalf("prompt %q %v", p, err)
	}
}

// answeringHost answers Read-Host and credential prompts.
type answeringHost struct {
	calls []psrp.HostMethodID
}

func (h *answeringHost) HostCall(_ context.Context, call psrp.HostCall) (clixml.Value, error) {
	h.calls = append(h.calls, call.Method)
	switch call.Method {
	case psrp.HostReadLine:
		return "typed answer", nil
	case psrp.HostReadLineAsSecureString:
		return session.SecureText("s3cret"), nil
	case psrp.HostPromptForCredential1, psrp.HostPromptForCredential2:
		return session.Credential{UserName: "bob", Password: "pw"}, nil
	}
	return nil, nil
}

func TestSessionHostCalls(t *testing.T) {
	srv := startServer(t)
	h := &answeringHost{}
	s := srv.open(t, session.Config{Host: h})
	defer s.Close(context.Background())

	c, _ := run(t, s, "Read-Host 'Name'")
	if diff := cmp.Diff([]string{"typed answer"}, c.output); diff != "" {
		t.Fatal(diff)
	}
	// A SecureString answer forces the session key exchange first.
	c, _ = run(t, s, "Read-Host -AsSecureString 'Secret'")
	if diff := cmp.Diff([]string{"s3cret"}, c.output); diff != "" {
		t.Fatal(diff)
	}
	c, _ = run(t, s, "Get-Credential")
	if diff := cmp.Diff([]string{"bob"}, c.output); diff != "" {
		t.Fatal(diff)
	}
}

func TestSessionWithoutHostFailsPrompts(t *testing.T) {
	srv := startServer(t)
	s := srv.open(t, session.Config{})
	defer s.Close(context.Background())
	c, res := run(t, s, "Read-Host 'Name'")
	if len(c.output) != 0 || (len(c.errors) == 0 && res.State != psrp.PipelineFailed) {
		t.Fatalf("Read-Host without a host: output %v errors %v state %s", c.output, c.errors, res.State)
	}
}

func TestSessionStopKeepsSession(t *testing.T) {
	srv := startServer(t)
	s := srv.open(t, session.Config{})
	defer s.Close(context.Background())

	ctx, cancel := context.WithCancel(context.Background())
	c := &collector{}
	stopping := make(chan struct{})
	done := make(chan struct{})
	var res *session.Result
	var err error
	go func() {
		defer close(done)
		res, err = s.Run(ctx, session.RunRequest{
			Spec: psrp.PipelineSpec{Commands: []psrp.Command{{Cmd: "Write-Output started; Start-Sleep -Seconds 60", IsScript: true}}},
			OnEvent: func(ev psrp.Event) {
				c.event(ev)
				if _, ok := ev.(psrp.PipelineOutput); ok {
					cancel() // the command is running: stop it
				}
			},
			OnStopping: func() { close(stopping) },
		})
	}()
	<-done
	<-stopping
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if res.State != psrp.PipelineStopped {
		t.Fatalf("state %s, want Stopped", res.State)
	}
	c2, res2 := run(t, s, "Write-Output 'still here'")
	if res2.State != psrp.PipelineCompleted || len(c2.output) != 1 {
		t.Fatalf("session did not survive the stop: %s %v", res2.State, c2.output)
	}
}

func TestSessionDisconnectReconnectAndConnect(t *testing.T) {
	srv := startServer(t)
	s := srv.open(t, session.Config{Name: "keep"})
	run(t, s, "$v = 'kept'")
	ctx := context.Background()
	if err := s.Disconnect(ctx, time.Hour, "Block"); err != nil {
		t.Fatalf("disconnect: %v", err)
	}
	if got := s.State(); got != psrp.PoolDisconnected {
		t.Fatalf("state %s", got)
	}
	if err := s.Reconnect(ctx); err != nil {
		t.Fatalf("reconnect: %v", err)
	}
	c, _ := run(t, s, "$v")
	if diff := cmp.Diff([]string{"kept"}, c.output); diff != "" {
		t.Fatalf("after reconnect: %s", diff)
	}
	if err := s.Disconnect(ctx, time.Hour, "Block"); err != nil {
		t.Fatalf("disconnect: %v", err)
	}
	// A new client (as another process would) connects with connectXml.
	s2, err := session.Connect(ctx, session.Config{Transport: session.WSMan{C: srv.client(t)}}, s.ShellID())
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	c, _ = run(t, s2, "$v")
	if diff := cmp.Diff([]string{"kept"}, c.output); diff != "" {
		t.Fatalf("after connect: %s", diff)
	}
	if err := s2.Close(ctx); err != nil {
		t.Fatalf("close: %v", err)
	}
	// The shell is gone on the server.
	_, err = srv.client(t).Get(ctx, s.ShellID())
	var f *wsman.Fault
	if !errors.As(err, &f) || f.Code != wsman.CodeShellNotFound {
		t.Fatalf("get after close: %v", err)
	}
}

func TestSessionOneAtATime(t *testing.T) {
	srv := startServer(t)
	s := srv.open(t, session.Config{BusyTimeout: 50 * time.Millisecond})
	defer s.Close(context.Background())
	started := make(chan struct{})
	release := make(chan struct{})
	done := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		defer close(done)
		s.Run(ctx, session.RunRequest{
			Spec: psrp.PipelineSpec{Commands: []psrp.Command{{Cmd: "Write-Output go; Start-Sleep -Seconds 60", IsScript: true}}},
			OnEvent: func(ev psrp.Event) {
				if _, ok := ev.(psrp.PipelineOutput); ok {
					close(started)
					<-release
					cancel()
				}
			},
		})
	}()
	<-started
	_, err := s.Run(context.Background(), session.RunRequest{Spec: psrp.PipelineSpec{Commands: []psrp.Command{{Cmd: "Write-Output x", IsScript: true}}}})
	close(release)
	<-done
	if !errors.Is(err, session.ErrBusy) {
		t.Fatalf("second pipeline: %v, want ErrBusy", err)
	}
}

func TestSessionCommandMetadata(t *testing.T) {
	srv := startServer(t)
	s := srv.open(t, session.Config{})
	defer s.Close(context.Background())
	if !s.CommandExists(context.Background(), "Write-Output") {
		t.Fatal("Write-Output not found through GET_COMMAND_METADATA")
	}
	if s.CommandExists(context.Background(), "No-SuchCommand") {
		t.Fatal("a missing command was reported")
	}
}

// TestSessionReceiveAfterDisconnect is the Receive-PSSession flow: a
// command is started and the session disconnected at once; a new client
// connects, reattaches to the command and gets all of its output.
func TestSessionReceiveAfterDisconnect(t *testing.T) {
	srv := startServer(t)
	s := srv.open(t, session.Config{Name: "job"})
	ctx := context.Background()
	cmdID, err := s.StartDetached(ctx, session.RunRequest{
		Spec:        psrp.PipelineSpec{Commands: []psrp.Command{{Cmd: "Write-Output a; Start-Sleep -Milliseconds 200; Write-Output b", IsScript: true}}},
		CommandLine: "Write-Output a",
	})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	if err := s.Disconnect(ctx, time.Hour, "Block"); err != nil {
		t.Fatalf("disconnect: %v", err)
	}
	cmds, err := srv.client(t).EnumerateCommands(ctx, s.ShellID())
	if err != nil {
		t.Fatalf("enumerate commands: %v", err)
	}
	if len(cmds) != 1 || !strings.EqualFold(cmds[0].CommandID, cmdID) {
		t.Fatalf("server commands %+v, want %s", cmds, cmdID)
	}
	s2, err := session.Connect(ctx, session.Config{Transport: session.WSMan{C: srv.client(t)}}, s.ShellID())
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer s2.Close(ctx)
	c := &collector{}
	res, err := s2.Attach(ctx, cmdID, true, session.RunRequest{OnEvent: c.event})
	if err != nil {
		t.Fatalf("attach: %v", err)
	}
	if res.State != psrp.PipelineCompleted {
		t.Fatalf("state %s", res.State)
	}
	if diff := cmp.Diff([]string{"a", "b"}, c.output); diff != "" {
		t.Fatal(diff)
	}
	c2, _ := run(t, s2, "Write-Output after")
	if diff := cmp.Diff([]string{"after"}, c2.output); diff != "" {
		t.Fatal(diff)
	}
}
