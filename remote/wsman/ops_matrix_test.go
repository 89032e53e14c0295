package wsman_test

// Every client operation against the loopback endpoint, in both secure
// configurations a real Windows host offers: NTLM with message
// encryption over plain HTTP (5985) and Basic over HTTPS (5986). PSRP
// payloads are built and decoded by a psrp.ClientPool.

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pssession/pssession/remote/endpoint"
	"github.com/pssession/pssession/remote/psrp"
	"github.com/pssession/pssession/remote/psrp/clixml"
	"github.com/pssession/pssession/remote/wsman"
	"github.com/pssession/pssession/remote/wsman/transport"
)

// loopConfig is one way of reaching the endpoint.
type loopConfig struct {
	name string
	// start serves h and returns the URL and a factory of clients
	// (each with its own transport) for the given credentials.
	start func(tb testing.TB, h http.Handler) (url string, dial func(user, password string) (*wsman.Client, error))
}

var loopConfigs = []loopConfig{
	{name: "http-ntlm-sealed", start: startNTLMHTTP},
	{name: "https-basic", start: startBasicHTTPS},
}

func startNTLMHTTP(tb testing.TB, h http.Handler) (string, func(user, password string) (*wsman.Client, error)) {
	sa, err := transport.NewServerAuth(h, transport.ServerConfig{Users: map[string]string{loopUser: loopPassword}, Schemes: []string{"negotiate"}})
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(sa)
	srv.Config.ConnContext = sa.ConnContext
	srv.Start()
	tb.Cleanup(srv.Close)
	url := srv.URL + "/wsman"
	return url, func(user, password string) (*wsman.Client, error) {
		return dialLoop(tb, transport.Config{URL: url, Auth: "ntlm", Username: user, Password: password})
	}
}

// startTLS serves handler over HTTPS with a self-signed certificate for
// hosts and returns the URL (on 127.0.0.1) and the certificate's PEM.
func startTLS(tb testing.TB, handler http.Handler, connContext func(context.Context, net.Conn) context.Context, hosts ...string) (string, []byte) {
	tb.Helper()
	cert, certPEM, err := transport.SelfSignedCert(hosts...)
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(handler)
	if connContext != nil {
		srv.Config.ConnContext = connContext
	}
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	tb.Cleanup(srv.Close)
	return srv.URL + "/wsman", certPEM
}

func writeCA(tb testing.TB, pem []byte) string {
	tb.Helper()
	f := filepath.Join(tb.TempDir(), "ca.pem")
	if err := os.WriteFile(f, pem, 0o600); err != nil {
		tb.Fatal(err)
	}
	return f
}

func startBasicHTTPS(tb testing.TB, h http.Handler) (string, func(user, password string) (*wsman.Client, error)) {
	sa, err := transport.NewServerAuth(h, transport.ServerConfig{Users: map[string]string{loopUser: loopPassword}, Schemes: []string{"basic"}})
	if err != nil {
		tb.Fatal(err)
	}
	url, pem := startTLS(tb, sa, sa.ConnContext)
	ca := writeCA(tb, pem)
	return url, func(user, password string) (*wsman.Client, error) {
		return dialLoop(tb, transport.Config{URL: url, Auth: "basic", Username: user, Password: password, TLS: transport.TLSConfig{CAFile: ca}})
	}
}

func dialLoop(tb testing.TB, cfg transport.Config) (*wsman.Client, error) {
	tr, err := transport.New(cfg)
	if err != nil {
		return nil, err
	}
	tb.Cleanup(func() { tr.Close() })
	c := wsman.NewClient(tr, cfg.URL)
	c.OperationTimeout = 5 * time.Second
	return c, nil
}

// newEndpoint returns a scripted endpoint closed at cleanup.
func newEndpoint(tb testing.TB, cfg endpoint.Config) http.Handler {
	if cfg.Machine == "" {
		cfg.Machine = "loopback"
	}
	h := endpoint.New(cfg)
	tb.Cleanup(func() { h.Close() })
	return h
}

// psClient drives a runspace pool over one wsman.Client.
type psClient struct {
	tb      testing.TB
	c       *wsman.Client
	pool    *psrp.ClientPool
	shellID string
}

// openPool creates a PowerShell shell with the pool's creationXml and
// receives until the pool is Opened.
func openPool(ctx context.Context, tb testing.TB, c *wsman.Client, req wsman.CreateRequest) *psClient {
	tb.Helper()
	pool, err := psrp.NewClientPool(psrp.ClientConfig{})
	if err != nil {
		tb.Fatal(err)
	}
	if err := pool.Open(); err != nil {
		tb.Fatal(err)
	}
	first := pool.DataToSend(c.MaxPayload())
	req.ShellID = strings.ToUpper(pool.ID().String())
	req.CreationXML = first.Data
	sh, err := c.Create(ctx, req)
	if err != nil {
		tb.Fatal(err)
	}
	if !sh.IsPowerShell() || !strings.EqualFold(sh.ShellID, req.ShellID) {
		tb.Fatalf("created %+v", sh)
	}
	p := &psClient{tb: tb, c: c, pool: pool, shellID: sh.ShellID}
	for pool.State() != psrp.PoolOpened {
		r, err := c.Receive(ctx, sh.ShellID, "")
		if err != nil {
			tb.Fatal(err)
		}
		p.feed(r)
	}
	c.SetMaxEnvelopeSize(wsman.MaxEnvelopeSize22)
	return p
}

// feed hands a Receive's streams to the pool and returns its events.
func (p *psClient) feed(r *wsman.Received) []psrp.Event {
	p.tb.Helper()
	var evs []psrp.Event
	for _, s := range r.Streams {
		if err := p.pool.ReceiveData(s.Data); err != nil {
			p.tb.Fatal(err)
		}
	}
	for {
		ev, ok := p.pool.NextEvent()
		if !ok {
			return evs
		}
		if st, ok := ev.(psrp.PoolStateChanged); ok && st.State == psrp.PoolBroken {
			p.tb.Fatalf("pool broken: %v", st.Error)
		}
		evs = append(evs, ev)
	}
}

// start sends CREATE_PIPELINE for script with Command and returns the
// pipeline and its command id.
func (p *psClient) start(ctx context.Context, script string, input bool) (*psrp.ClientPipeline, string) {
	p.tb.Helper()
	pl, err := p.pool.CreatePipeline(psrp.PipelineSpec{Commands: []psrp.Command{{Cmd: script, IsScript: true}}, NoInput: !input})
	if err != nil {
		p.tb.Fatal(err)
	}
	if err := pl.Start(); err != nil {
		p.tb.Fatal(err)
	}
	first := p.pool.DataToSendFor(pl.ID(), p.c.MaxPayload())
	want := strings.ToUpper(pl.ID().String())
	id, err := p.c.Command(ctx, p.shellID, want, "", first.Data)
	if err != nil {
		p.tb.Fatal(err)
	}
	if !strings.EqualFold(id, want) {
		p.tb.Fatalf("CommandId %q, want %q", id, want)
	}
	return pl, id
}

// flush sends what the pool queued for pipeline pid (stdin or pr).
func (p *psClient) flush(ctx context.Context, pid clixml.GUID, cmdID string) {
	p.tb.Helper()
	for {
		d := p.pool.DataToSendFor(pid, p.c.MaxPayload())
		if d == nil {
			return
		}
		stream := wsman.StreamStdin
		if d.Stream == psrp.StreamPromptResponse {
			stream = wsman.StreamPR
		}
		if err := p.c.Send(ctx, p.shellID, cmdID, stream, d.Data); err != nil {
			p.tb.Fatal(err)
		}
	}
}

// pipelineResult is what one command produced.
type pipelineResult struct {
	Output []string
	State  psrp.PipelineState
}

// receiveDone receives on a command until Done, answering Read-Host
// calls with answer, and returns the decoded output and final state.
func (p *psClient) receiveDone(ctx context.Context, pl *psrp.ClientPipeline, cmdID, answer string) pipelineResult {
	p.tb.Helper()
	var res pipelineResult
	for done := false; !done; {
		r, err := p.c.Receive(ctx, p.shellID, cmdID)
		if err != nil {
			p.tb.Fatal(err)
		}
		for _, ev := range p.feed(r) {
			switch e := ev.(type) {
			case psrp.PipelineOutput:
				s, ok := e.Value.(string)
				if !ok {
					s = fmt.Sprint(e.Value)
				}
				res.Output = append(res.Output, s)
			case psrp.PipelineStateChanged:
				res.State = e.State
			case psrp.PipelineHostCall:
				if e.Call.CallID == psrp.VoidCallID {
					continue
				}
				if err := pl.HostResponse(e.Call.CallID, answer, nil); err != nil {
					p.tb.Fatal(err)
				}
				p.flush(ctx, pl.ID(), cmdID)
			}
		}
		done = r.Done()
	}
	return res
}

func TestLoopbackOperationsMatrix(t *testing.T) {
	for _, lc := range loopConfigs {
		t.Run(lc.name, func(t *testing.T) {
			ctx := testCtx(t)
			_, dial := lc.start(t, newEndpoint(t, endpoint.Config{}))
			c, err := dial(loopUser, loopPassword)
			if err != nil {
				t.Fatal(err)
			}
			max, err := c.GetMaxEnvelopeSize(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if max < 150 {
				t.Errorf("MaxEnvelopeSizekb %d", max)
			}
			p := openPool(ctx, t, c, wsman.CreateRequest{Name: "matrix", IdleTimeout: 10 * time.Minute})

			t.Run("command with stdin", func(t *testing.T) {
				pl, id := p.start(ctx, "$input", true)
				for _, v := range []string{"one", "two"} {
					if err := pl.Send(v); err != nil {
						t.Fatal(err)
					}
				}
				if err := pl.EndInput(); err != nil {
					t.Fatal(err)
				}
				p.flush(ctx, pl.ID(), id)
				got := p.receiveDone(ctx, pl, id, "")
				if d := cmp.Diff(pipelineResult{Output: []string{"one", "two"}, State: psrp.PipelineCompleted}, got); d != "" {
					t.Error(d)
				}
				if err := c.Signal(ctx, p.shellID, id, wsman.SignalTerminate); err != nil {
					t.Fatal(err)
				}
			})
			t.Run("host call answered on pr", func(t *testing.T) {
				pl, id := p.start(ctx, "Read-Host -Prompt name", false)
				got := p.receiveDone(ctx, pl, id, "bob")
				if d := cmp.Diff(pipelineResult{Output: []string{"bob"}, State: psrp.PipelineCompleted}, got); d != "" {
					t.Error(d)
				}
				if err := c.Signal(ctx, p.shellID, id, wsman.SignalTerminate); err != nil {
					t.Fatal(err)
				}
			})
			t.Run("ctrl_c stops a running command", func(t *testing.T) {
				pl, id := p.start(ctx, "Write-Output started; Start-Sleep -Seconds 60", false)
				r, err := c.Receive(ctx, p.shellID, id)
				if err != nil {
					t.Fatal(err)
				}
				p.feed(r)
				cmds, err := c.EnumerateCommands(ctx, p.shellID)
				if err != nil {
					t.Fatal(err)
				}
				if len(cmds) != 1 || !strings.EqualFold(cmds[0].CommandID, id) {
					t.Errorf("commands while running: %+v", cmds)
				}
				if err := c.Signal(ctx, p.shellID, id, wsman.SignalPSCtrlC); err != nil {
					t.Fatal(err)
				}
				got := p.receiveDone(ctx, pl, id, "")
				if got.State != psrp.PipelineStopped {
					t.Errorf("state after crtl_c %v", got.State)
				}
				if err := c.Signal(ctx, p.shellID, id, wsman.SignalTerminate); err != nil {
					t.Fatal(err)
				}
			})
			t.Run("enumerate optimized and with pull", func(t *testing.T) {
				other := openPool(ctx, t, c, wsman.CreateRequest{Name: "second"})
				want := []string{p.shellID + " matrix", other.shellID + " second"}
				for _, maxElements := range []int{0, 1} {
					c2, err := dial(loopUser, loopPassword)
					if err != nil {
						t.Fatal(err)
					}
					c2.MaxElements = maxElements
					shells, err := c2.EnumerateShells(ctx)
					if err != nil {
						t.Fatal(err)
					}
					var got []string
					for _, s := range shells {
						got = append(got, s.ShellID+" "+s.Name)
					}
					if d := cmp.Diff(want, got, cmpSorted); d != "" {
						t.Errorf("MaxElements %d: %s", maxElements, d)
					}
				}
				if err := c.Delete(ctx, other.shellID); err != nil {
					t.Fatal(err)
				}
			})
			t.Run("disconnect, reconnect, connect", func(t *testing.T) {
				if st := getState(t, ctx, c, p.shellID); st != wsman.ShellStateConnected {
					t.Errorf("state %q", st)
				}
				if err := c.Disconnect(ctx, p.shellID, 5*time.Minute, wsman.BufferModeBlock); err != nil {
					t.Fatal(err)
				}
				d, err := c.Get(ctx, p.shellID)
				if err != nil {
					t.Fatal(err)
				}
				if got := []any{d.State, d.BufferMode, d.IdleTimeout}; !cmp.Equal(got, []any{wsman.ShellStateDisconnected, wsman.BufferModeBlock, 5 * time.Minute}) {
					t.Errorf("disconnected shell: state, buffer mode, idle timeout = %v", got)
				}
				if err := c.Reconnect(ctx, p.shellID); err != nil {
					t.Fatal(err)
				}
				if st := getState(t, ctx, c, p.shellID); st != wsman.ShellStateConnected {
					t.Errorf("state after Reconnect %q", st)
				}

				// A running command survives a disconnect; a second
				// client attaches with connectXml and ConnectCommand.
				_, id := p.start(ctx, "Start-Sleep -Seconds 60", false)
				if err := c.Disconnect(ctx, p.shellID, 0, ""); err != nil {
					t.Fatal(err)
				}
				c2, err := dial(loopUser, loopPassword)
				if err != nil {
					t.Fatal(err)
				}
				pool2, err := psrp.NewClientPool(psrp.ClientConfig{RunspacePoolID: p.pool.ID()})
				if err != nil {
					t.Fatal(err)
				}
				if err := pool2.Connect(); err != nil {
					t.Fatal(err)
				}
				resp, err := c2.Connect(ctx, p.shellID, pool2.DataToSend(c2.MaxPayload()).Data)
				if err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff([]uint32{msgSessionCapability, msgRunspacePoolInit}, messageTypes(t, resp)); d != "" {
					t.Errorf("connectResponseXml messages: %s", d)
				}
				if err := c2.ConnectCommand(ctx, p.shellID, id); err != nil {
					t.Fatal(err)
				}
				if st := getState(t, ctx, c2, p.shellID); st != wsman.ShellStateConnected {
					t.Errorf("state after Connect %q", st)
				}
				if err := c2.Signal(ctx, p.shellID, id, wsman.SignalTerminate); err != nil {
					t.Fatal(err)
				}
			})
			t.Run("delete", func(t *testing.T) {
				if err := c.Delete(ctx, p.shellID); err != nil {
					t.Fatal(err)
				}
				if _, err := c.Get(ctx, p.shellID); !wsman.IsShellNotFound(err) {
					t.Errorf("Get after Delete: %v", err)
				}
			})
			t.Run("winrs cmd shell", func(t *testing.T) {
				c, err := dial(loopUser, loopPassword)
				if err != nil {
					t.Fatal(err)
				}
				c.ResourceURI = wsman.ResourceCmd
				sh, err := c.CreateCmd(ctx, wsman.CreateCmdRequest{})
				if err != nil {
					t.Fatal(err)
				}
				id, err := c.RunCommand(ctx, wsman.CommandRequest{ShellID: sh.ShellID, Command: `cat; echo err >&2; exit 4`})
				if err != nil {
					t.Fatal(err)
				}
				end := true
				if err := c.SendStreams(ctx, wsman.SendRequest{ShellID: sh.ShellID, Streams: []wsman.SendStream{{Name: wsman.StreamStdin, CommandID: id, Data: []byte("piped\n"), End: &end}}}); err != nil {
					t.Fatal(err)
				}
				got := receiveWinRS(t, ctx, c, sh.ShellID, id)
				if d := cmp.Diff([]any{"piped\n", "err\n", 4}, got); d != "" {
					t.Error(d)
				}
				if err := c.Signal(ctx, sh.ShellID, id, wsman.SignalTerminate); err != nil {
					t.Fatal(err)
				}
				// ctrl_c ends a running command.
				id, err = c.RunCommand(ctx, wsman.CommandRequest{ShellID: sh.ShellID, Command: `sleep 60`})
				if err != nil {
					t.Fatal(err)
				}
				if err := c.Signal(ctx, sh.ShellID, id, wsman.SignalCtrlC); err != nil {
					t.Fatal(err)
				}
				receiveWinRS(t, ctx, c, sh.ShellID, id)
				if err := c.Delete(ctx, sh.ShellID); err != nil {
					t.Fatal(err)
				}
			})
		})
	}
}

// receiveWinRS reads a WinRS command to its end: stdout, stderr, exit code.
func receiveWinRS(t *testing.T, ctx context.Context, c *wsman.Client, shellID, id string) []any {
	t.Helper()
	var stdout, stderr strings.Builder
	for {
		r, err := c.ReceiveStreams(ctx, wsman.ReceiveRequest{ShellID: shellID, CommandID: id, Streams: "stdout stderr"})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range r.Streams {
			if s.Name == wsman.StreamStderr {
				stderr.Write(s.Data)
			} else {
				stdout.Write(s.Data)
			}
		}
		if r.Done() {
			if r.State.ExitCode == nil {
				t.Fatal("Done without an exit code")
			}
			return []any{stdout.String(), stderr.String(), *r.State.ExitCode}
		}
	}
}

// fakeClock is an endpoint.Clock that moves only when told.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []fakeTimer
}

type fakeTimer struct {
	at time.Time
	ch chan time.Time
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) After(d time.Duration) (<-chan time.Time, func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := make(chan time.Time, 1)
	f.waiters = append(f.waiters, fakeTimer{at: f.now.Add(d), ch: ch})
	return ch, func() {}
}

func (f *fakeClock) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
	kept := f.waiters[:0]
	for _, w := range f.waiters {
		if !w.at.After(f.now) {
			w.ch <- f.now
		} else {
			kept = append(kept, w)
		}
	}
	f.waiters = kept
}

func TestLoopbackErrors(t *testing.T) {
	for _, lc := range loopConfigs {
		t.Run(lc.name, func(t *testing.T) {
			clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
			_, dial := lc.start(t, newEndpoint(t, endpoint.Config{Clock: clock, ClientTimeout: -1}))
			tests := []struct {
				name  string
				run   func(ctx context.Context) error
				check func(t *testing.T, err error)
			}{
				{"wrong password", func(ctx context.Context) error {
					c, err := dial(loopUser, "wrong")
					if err != nil {
						return err
					}
					_, err = c.EnumerateShells(ctx)
					return err
				}, wantAuthError},
				{"unknown user", func(ctx context.Context) error {
					c, err := dial(`WORKGROUP\mallory`, loopPassword)
					if err != nil {
						return err
					}
					_, err = c.EnumerateShells(ctx)
					return err
				}, wantAuthError},
				{"unknown shell", func(ctx context.Context) error {
					c, err := dial(loopUser, loopPassword)
					if err != nil {
						return err
					}
					_, err = c.Get(ctx, "0D6E9BDA-0000-4000-8000-000000000001")
					return err
				}, wantShellNotFound},
				{"expired shell", func(ctx context.Context) error {
					c, err := dial(loopUser, loopPassword)
					if err != nil {
						return err
					}
					p := openPool(ctx, t, c, wsman.CreateRequest{IdleTimeout: time.Minute})
					if err := c.Disconnect(ctx, p.shellID, time.Minute, ""); err != nil {
						return err
					}
					if _, err := c.Get(ctx, p.shellID); err != nil {
						return fmt.Errorf("before the idle timeout: %w", err)
					}
					clock.Advance(2 * time.Minute)
					_, err = c.Get(ctx, p.shellID)
					return err
				}, wantShellNotFound},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					err := tt.run(testCtx(t))
					if err == nil {
						t.Fatal("no error")
					}
					t.Logf("error: %v", err)
					tt.check(t, err)
				})
			}
		})
	}
}

func wantAuthError(t *testing.T, err error) {
	t.Helper()
	var ae *transport.AuthError
	if !errors.As(err, &ae) {
		t.Fatalf("%T %v, want *transport.AuthError", err, err)
	}
	if ae.Status != http.StatusUnauthorized {
		t.Errorf("status %d", ae.Status)
	}
}

func wantShellNotFound(t *testing.T, err error) {
	t.Helper()
	var f *wsman.Fault
	if !errors.As(err, &f) {
		t.Fatalf("%T %v, want *wsman.Fault", err, err)
	}
	if f.Code != wsman.CodeShellNotFound || f.Friendly() == "" {
		t.Errorf("fault code %d, friendly %q", f.Code, f.Friendly())
	}
}

// TestTransportErrors covers failures below WS-Management: certificates
// and servers that are not WinRM.
func TestTransportErrors(t *testing.T) {
	ep := newEndpoint(t, endpoint.Config{})
	sa, err := transport.NewServerAuth(ep, transport.ServerConfig{Users: map[string]string{loopUser: loopPassword}, Schemes: []string{"basic"}})
	if err != nil {
		t.Fatal(err)
	}
	elsewhereURL, elsewherePEM := startTLS(t, sa, sa.ConnContext, "elsewhere.example")
	selfURL, _ := startTLS(t, sa, sa.ConnContext)
	notWinRM := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, "<html><body>Not Found</body></html>")
	}))
	t.Cleanup(notWinRM.Close)

	tests := []struct {
		name  string
		cfg   transport.Config
		check func(t *testing.T, err error)
	}{
		{"tls name mismatch", transport.Config{URL: elsewhereURL, Auth: "basic", TLS: transport.TLSConfig{CAFile: writeCA(t, elsewherePEM)}}, wantTLS(transport.TLSNameMismatch)},
		{"untrusted certificate", transport.Config{URL: selfURL, Auth: "basic"}, wantTLS(transport.TLSUnknownAuthority)},
		{"not a winrm server", transport.Config{URL: notWinRM.URL + "/wsman", Auth: "basic", AllowUnencrypted: true}, func(t *testing.T, err error) {
			var he *transport.HTTPError
			var whe *wsman.HTTPError
			switch {
			case errors.As(err, &he):
				if he.Status != http.StatusNotFound {
					t.Errorf("status %d", he.Status)
				}
			case errors.As(err, &whe):
				if whe.Status != http.StatusNotFound {
					t.Errorf("status %d", whe.Status)
				}
			default:
				t.Fatalf("%T %v, want an HTTP error", err, err)
			}
			if !strings.Contains(err.Error(), notWinRM.URL) {
				t.Errorf("error %q does not name the URL", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Username, tt.cfg.Password = loopUser, loopPassword
			c, err := dialLoop(t, tt.cfg)
			if err == nil {
				_, err = c.EnumerateShells(testCtx(t))
			}
			if err == nil {
				t.Fatal("no error")
			}
			t.Logf("error: %v", err)
			tt.check(t, err)
		})
	}
}

func wantTLS(kind transport.TLSErrorKind) func(t *testing.T, err error) {
	return func(t *testing.T, err error) {
		t.Helper()
		var te *transport.TLSError
		if !errors.As(err, &te) {
			t.Fatalf("%T %v, want *transport.TLSError", err, err)
		}
		if te.Kind != kind {
			t.Errorf("kind %v, want %v", te.Kind, kind)
		}
	}
}
