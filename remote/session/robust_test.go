package session_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pssession/pssession/internal/faultproxy"
	"github.com/pssession/pssession/remote/endpoint"
	"github.com/pssession/pssession/remote/psrp"
	"github.com/pssession/pssession/remote/session"
	"github.com/pssession/pssession/remote/wsman"
	"github.com/pssession/pssession/remote/wsman/transport"
)

// newDropProxy starts a fault-injecting proxy to backend for one test.
func newDropProxy(t *testing.T, backend string) *faultproxy.Proxy {
	t.Helper()
	p, err := faultproxy.New(backend)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

func TestSessionSurvivesNetworkDrop(t *testing.T) {
	srv := startServer(t)
	backend := strings.TrimSuffix(strings.TrimPrefix(srv.url, "http://"), "/wsman")
	proxy := newDropProxy(t, backend)
	url := "http://" + proxy.Addr() + "/wsman"
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
				proxy.Restore()
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
				proxy.Cut() // the network drops while the command runs
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
	url := "http://" + proxy.Addr() + "/wsman"
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
				proxy.Cut()
			}
		},
	})
	if err == nil {
		t.Fatal("run succeeded with the network down")
	}
}

// proxiedClient returns a wsman client that reaches srv through a new
// drop proxy.
func proxiedClient(t *testing.T, srv *server, responseTimeout time.Duration) (*faultproxy.Proxy, *wsman.Client) {
	t.Helper()
	backend := strings.TrimSuffix(strings.TrimPrefix(srv.url, "http://"), "/wsman")
	proxy := newDropProxy(t, backend)
	url := "http://" + proxy.Addr() + "/wsman"
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
					proxy.Blackhole()
					time.AfterFunc(1500*time.Millisecond, proxy.Unblackhole)
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
				proxy.Blackhole()
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
