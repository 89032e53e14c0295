package session_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pssession/pssession/remote/endpoint"
	"github.com/pssession/pssession/remote/psrp"
	"github.com/pssession/pssession/remote/session"
	"github.com/pssession/pssession/remote/wsman"
	"github.com/pssession/pssession/remote/wsman/transport"
)

// dropProxy forwards TCP to a backend and can cut the network: close every
// connection and refuse new ones until restored.
type dropProxy struct {
	ln      net.Listener
	backend string

	mu     sync.Mutex
	down   bool
	paused bool
	resume *sync.Cond
	conns  map[net.Conn]bool
}

// pipe copies src to dst, holding data while the proxy is blackholed (as
// TCP does while packets are lost: they arrive once the network is back).
func (p *dropProxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32*1024)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			for p.paused {
				p.resume.Wait()
			}
			p.mu.Unlock()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// blackhole holds all traffic until unblackhole.
func (p *dropProxy) blackhole() {
	p.mu.Lock()
	p.paused = true
	p.mu.Unlock()
}

func (p *dropProxy) unblackhole() {
	p.mu.Lock()
	p.paused = false
	p.resume.Broadcast()
	p.mu.Unlock()
}

func newDropProxy(t *testing.T, backend string) *dropProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &dropProxy{ln: ln, backend: backend, conns: map[net.Conn]bool{}}
	p.resume = sync.NewCond(&p.mu)
	t.Cleanup(func() { ln.Close(); p.unblackhole(); p.cut() })
	go p.serve()
	return p
}

func (p *dropProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			c.Close()
			continue
		}
		b, err := net.Dial("tcp", p.backend)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns[c], p.conns[b] = true, true
		p.mu.Unlock()
		go func() { p.pipe(b, c); b.Close(); c.Close() }()
		go func() { p.pipe(c, b); c.Close(); b.Close() }()
	}
}

func (p *dropProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		c.Close()
	}
	p.conns = map[net.Conn]bool{}
}

func (p *dropProxy) restore() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}

func TestSessionSurvivesNetworkDrop(t *testing.T) {
	srv := startServer(t)
	backend := strings.TrimSuffix(strings.TrimPrefix(srv.url, "http://"), "/wsman")
	proxy := newDropProxy(t, backend)
	url := "http://" + proxy.ln.Addr().String() + "/wsman"
	tc, err := transport.New(transport.Config{URL: url, Auth: "negotiate", Username: `LAB\alice`, Password: "Passw0rd!"})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	wc := wsman.NewClient(tc, url)
	wc.OperationTimeout = 5 * time.Second

	var mu sync.Mutex
	var notices []string
	ctx := context.Background()
	s, err := session.Open(ctx, session.Config{
		Transport:    session.WSMan{C: wc},
		RetryTimeout: time.Minute,
		OnNotice: func(msg string) {
			mu.Lock()
			notices = append(notices, msg)
			mu.Unlock()
			if strings.Contains(msg, "interrupted") {
				proxy.restore()
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)

	c := &collector{}
	res, err := s.Run(ctx, session.RunRequest{
		Spec: psrp.PipelineSpec{Commands: []psrp.Command{{Cmd: "Write-Output a; Start-Sleep -Milliseconds 800; Write-Output b", IsScript: true}}},
		OnEvent: func(ev psrp.Event) {
			c.event(ev)
			if o, ok := ev.(psrp.PipelineOutput); ok && o.Value == "a" {
				proxy.cut() // the network drops while the command runs
			}
		},
	})
	if err != nil {
		t.Fatalf("run across the drop: %v", err)
	}
	if res.State != psrp.PipelineCompleted {
		t.Fatalf("state %s", res.State)
	}
	if diff := cmp.Diff([]string{"a", "b"}, c.output); diff != "" {
		t.Fatalf("output lost or duplicated: %s", diff)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(notices) < 2 || !strings.Contains(notices[0], "interrupted") || !strings.Contains(notices[len(notices)-1], "restored") {
		t.Fatalf("notices %q", notices)
	}
}

func TestSessionGivesUpAfterRetryTimeout(t *testing.T) {
	srv := startServer(t)
	backend := strings.TrimSuffix(strings.TrimPrefix(srv.url, "http://"), "/wsman")
	proxy := newDropProxy(t, backend)
	url := "http://" + proxy.ln.Addr().String() + "/wsman"
	tc, err := transport.New(transport.Config{URL: url, Auth: "negotiate", Username: `LAB\alice`, Password: "Passw0rd!"})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	ctx := context.Background()
	s, err := session.Open(ctx, session.Config{Transport: session.WSMan{C: wsman.NewClient(tc, url)}, RetryTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Run(ctx, session.RunRequest{
		Spec: psrp.PipelineSpec{Commands: []psrp.Command{{Cmd: "Write-Output a; Start-Sleep -Seconds 30", IsScript: true}}},
		OnEvent: func(ev psrp.Event) {
			if _, ok := ev.(psrp.PipelineOutput); ok {
				proxy.cut()
			}
		},
	})
	if err == nil {
		t.Fatal("run succeeded with the network down")
	}
}

// proxiedClient returns a wsman client that reaches srv through a new
// drop proxy.
func proxiedClient(t *testing.T, srv *server, responseTimeout time.Duration) (*dropProxy, *wsman.Client) {
	t.Helper()
	backend := strings.TrimSuffix(strings.TrimPrefix(srv.url, "http://"), "/wsman")
	proxy := newDropProxy(t, backend)
	url := "http://" + proxy.ln.Addr().String() + "/wsman"
	tc, err := transport.New(transport.Config{URL: url, Auth: "negotiate", Username: `LAB\alice`, Password: "Passw0rd!",
		ResponseTimeout: responseTimeout, DialTimeout: responseTimeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tc.Close() })
	wc := wsman.NewClient(tc, url)
	wc.OperationTimeout = time.Second
	return proxy, wc
}

// TestSessionRidesOutBlackhole: traffic is held (not refused) for a while,
// shorter than the retry window: the command completes with all output.
func TestSessionRidesOutBlackhole(t *testing.T) {
	srv := startServer(t)
	proxy, wc := proxiedClient(t, srv, 5*time.Second)
	ctx := context.Background()
	s, err := session.Open(ctx, session.Config{Transport: session.WSMan{C: wc}, RetryTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	c := &collector{}
	var once sync.Once
	res, err := s.Run(ctx, session.RunRequest{
		Spec: psrp.PipelineSpec{Commands: []psrp.Command{{Cmd: "Write-Output a; Start-Sleep -Milliseconds 300; Write-Output b; Start-Sleep -Milliseconds 300; Write-Output c", IsScript: true}}},
		OnEvent: func(ev psrp.Event) {
			c.event(ev)
			if o, ok := ev.(psrp.PipelineOutput); ok && o.Value == "a" {
				once.Do(func() {
					proxy.blackhole()
					time.AfterFunc(1500*time.Millisecond, proxy.unblackhole)
				})
			}
		},
	})
	if err != nil {
		t.Fatalf("run through the blackhole: %v", err)
	}
	if res.State != psrp.PipelineCompleted {
		t.Fatalf("state %s", res.State)
	}
	if diff := cmp.Diff([]string{"a", "b", "c"}, c.output); diff != "" {
		t.Fatal(diff)
	}
}

// TestSessionLostThenRecovered: the blackhole outlasts the retry window.
// The client gives up with a ConnectionLostError naming the running
// command; the server, seeing its client gone, keeps the session
// disconnected; a new client connects, reattaches, and gets the rest of
// the output — nothing lost or duplicated.
func TestSessionLostThenRecovered(t *testing.T) {
	srv := startServerWith(t, endpoint.Config{ClientTimeout: 500 * time.Millisecond})
	proxy, wc := proxiedClient(t, srv, 1500*time.Millisecond)
	ctx := context.Background()
	s, err := session.Open(ctx, session.Config{Transport: session.WSMan{C: wc}, RetryTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	first := &collector{}
	_, err = s.Run(ctx, session.RunRequest{
		Spec: psrp.PipelineSpec{Commands: []psrp.Command{{Cmd: "Write-Output a; Start-Sleep -Seconds 6; Write-Output b", IsScript: true}}},
		OnEvent: func(ev psrp.Event) {
			first.event(ev)
			if o, ok := ev.(psrp.PipelineOutput); ok && o.Value == "a" {
				proxy.blackhole()
			}
		},
	})
	var lost *session.ConnectionLostError
	if !errors.As(err, &lost) || lost.CommandID == "" {
		t.Fatalf("run: %v, want ConnectionLostError with the command id", err)
	}
	// Wait (bounded) for the server to mark the shell disconnected.
	direct := srv.client(t)
	deadline := time.Now().Add(20 * time.Second)
	for {
		sh, err := direct.Get(ctx, s.ShellID())
		if err != nil {
			t.Fatalf("get: %v", err)
		}
		if sh.State == wsman.ShellStateDisconnected {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server never disconnected the abandoned shell (state %s)", sh.State)
		}
		time.Sleep(100 * time.Millisecond) // polling the server's state, not synchronising goroutines
	}
	s2, err := session.Connect(ctx, session.Config{Transport: session.WSMan{C: direct}}, s.ShellID())
	if err != nil {
		t.Fatalf("connect after the loss: %v", err)
	}
	defer s2.Close(ctx)
	second := &collector{}
	res, err := s2.Attach(ctx, lost.CommandID, true, session.RunRequest{OnEvent: second.event})
	if err != nil {
		t.Fatalf("attach: %v", err)
	}
	if res.State != psrp.PipelineCompleted {
		t.Fatalf("state %s", res.State)
	}
	all := append(append([]string{}, first.output...), second.output...)
	if diff := cmp.Diff([]string{"a", "b"}, all); diff != "" {
		t.Fatalf("output across the loss: %s", diff)
	}
}
