package session_test

import (
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

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

	mu    sync.Mutex
	down  bool
	conns map[net.Conn]bool
}

func newDropProxy(t *testing.T, backend string) *dropProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &dropProxy{ln: ln, backend: backend, conns: map[net.Conn]bool{}}
	t.Cleanup(func() { ln.Close(); p.cut() })
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
		go func() { io.Copy(b, c); b.Close() }()
		go func() { io.Copy(c, b); c.Close() }()
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
