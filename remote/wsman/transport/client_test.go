package transport

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// noProxy keeps tests independent of the environment's proxy settings.
func noProxy(*url.URL) (*url.URL, error) { return nil, nil }

func newClient(t testing.TB, cfg Config) *Client {
	t.Helper()
	if cfg.Proxy == nil {
		cfg.Proxy = noProxy
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func post(t *testing.T, c *Client, msg string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, body, err := c.Post(ctx, []byte(msg))
	if err != nil {
		t.Fatalf("Post(%q): %v", msg, err)
	}
	return st, string(body)
}

// tlsServer starts ServerAuth over TLS with a certificate for hosts and
// returns the server and a CA file trusting it.
func tlsServer(t *testing.T, inner http.Handler, cfg ServerConfig, hosts ...string) (*httptest.Server, string) {
	t.Helper()
	cert, certPEM, err := SelfSignedCert(hosts...)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Users == nil {
		cfg.Users = testUsers
	}
	if cfg.ChannelBindingCert == nil {
		cfg.ChannelBindingCert = cert.Leaf
	}
	sa, err := NewServerAuth(inner, cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(sa)
	srv.Config.ConnContext = sa.ConnContext
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // expected handshake failures
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return srv, ca
}

func TestClientNTLMEncryptedLane(t *testing.T) {
	srv, log := startServer(t, echoHandler(), ServerConfig{}, false)
	c := newClient(t, Config{URL: srv.URL + "/wsman", Auth: "ntlm", Username: `TESTDOM\alice`, Password: "Secret123!"})
	var got []string
	for _, msg := range []string{"<a/>", "<b>FAULT</b>", "<c/>", strings.Repeat("<big/>", 20000)} {
		st, body := post(t, c, msg)
		got = append(got, http.StatusText(st)+" "+body[:min(len(body), 60)])
	}
	want := []string{
		`OK <echo user="TESTDOM\alice"><a/></echo>`,
		`Internal Server Error <echo user="TESTDOM\alice"><b>FAULT</b></echo>`,
		`OK <echo user="TESTDOM\alice"><c/></echo>`,
		"OK " + (`<echo user="TESTDOM\alice">` + strings.Repeat("<big/>", 20000))[:60],
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	// The two empty handshake POSTs carry "Content-Length: 0", never a
	// chunked body.
	if diff := cmp.Diff([]int{1, 4, 0}, []int{log.handshakes(), log.encryptedCount(), log.chunkedCount()}); diff != "" {
		t.Errorf("[handshakes, encrypted requests, chunked requests] (-want +got)\n%s", diff)
	}
}

func TestClientNTHashAndUPN(t *testing.T) {
	srv, _ := startServer(t, echoHandler(), ServerConfig{}, false)
	c := newClient(t, Config{URL: srv.URL, Username: "bob@example", NTHash: ntlmHash("hunter2")})
	if _, body := post(t, c, "<x/>"); body != `<echo user="bob@example"><x/></echo>` {
		t.Errorf("body %q", body)
	}
}

// TestClientConcurrentLanes: a Post issued while another is in flight
// (a Signal during a long-poll Receive) takes its own lane and handshake.
func TestClientConcurrentLanes(t *testing.T) {
	blocked := make(chan struct{})
	release := make(chan struct{})
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch string(body) {
		case "<receive/>":
			close(blocked)
			<-release
		case "<signal/>":
			close(release)
		}
		w.Header().Set("Content-Type", SOAPContentType)
		w.Write(body)
	})
	srv, log := startServer(t, inner, ServerConfig{}, false)
	c := newClient(t, Config{URL: srv.URL, Username: "bob", Password: "hunter2"})
	var wg sync.WaitGroup
	var recvBody string
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, recvBody = post(t, c, "<receive/>")
	}()
	<-blocked
	if _, body := post(t, c, "<signal/>"); body != "<signal/>" {
		t.Errorf("signal reply %q", body)
	}
	wg.Wait()
	if recvBody != "<receive/>" {
		t.Errorf("receive reply %q", recvBody)
	}
	if got := log.handshakes(); got != 2 {
		t.Errorf("%d handshakes, want 2 (one per lane)", got)
	}
	// Both lanes are idle now and reused without new handshakes.
	post(t, c, "<a/>")
	post(t, c, "<b/>")
	if got := log.handshakes(); got != 2 {
		t.Errorf("%d handshakes after reuse, want 2", got)
	}
}

func TestClientRehandshakeAfterServerClose(t *testing.T) {
	t.Run("idle lane probed", func(t *testing.T) {
		srv, log := startServer(t, echoHandler(), ServerConfig{}, false)
		c := newClient(t, Config{URL: srv.URL, Username: "bob", Password: "hunter2"})
		c.livenessAfter = 0 // as if the lane had been idle a while
		post(t, c, "<one/>")
		srv.CloseClientConnections()
		if _, body := post(t, c, "<two/>"); body != `<echo user="bob"><two/></echo>` {
			t.Errorf("body %q", body)
		}
		if got := log.handshakes(); got != 2 {
			t.Errorf("%d handshakes, want 2", got)
		}
	})
	t.Run("busy lane broken", func(t *testing.T) {
		srv, log := startServer(t, echoHandler(), ServerConfig{}, false)
		c := newClient(t, Config{URL: srv.URL, Username: "bob", Password: "hunter2"})
		post(t, c, "<one/>")
		srv.CloseClientConnections()
		// Reused at once without a probe: this Post fails on the dead
		// connection (never silently continuing the context elsewhere) ...
		if _, _, err := c.Post(context.Background(), []byte("<two/>")); err == nil {
			t.Error("Post on a connection the server closed succeeded")
		}
		// ... and the next one re-handshakes on a new connection.
		if _, body := post(t, c, "<three/>"); body != `<echo user="bob"><three/></echo>` {
			t.Errorf("body %q", body)
		}
		if got := log.handshakes(); got != 2 {
			t.Errorf("%d handshakes, want 2", got)
		}
	})
}

func TestClientCancel(t *testing.T) {
	entered := make(chan struct{})
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-r.Context().Done() // ends when the client drops the connection
	})
	srv, _ := startServer(t, inner, ServerConfig{}, false)
	c := newClient(t, Config{URL: srv.URL, Username: "bob", Password: "hunter2"})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-entered
		cancel()
	}()
	_, _, err := c.Post(ctx, []byte("<receive/>"))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

func TestClientErrors(t *testing.T) {
	notWinRM := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "<html>nope</html>")
	}))
	t.Cleanup(notWinRM.Close)
	plain, _ := startServer(t, echoHandler(), ServerConfig{}, false)
	goodTLS, ca := tlsServer(t, echoHandler(), ServerConfig{}, "localhost", "127.0.0.1")
	otherName, otherCA := tlsServer(t, echoHandler(), ServerConfig{}, "other.example")
	// A server expecting bindings of another certificate stands for a TLS
	// interception proxy: the client's tls-server-end-point does not match.
	elsewhere, _, err := SelfSignedCert("elsewhere.example")
	if err != nil {
		t.Fatal(err)
	}
	intercepted, interceptedCA := tlsServer(t, echoHandler(), ServerConfig{ChannelBindingCert: elsewhere.Leaf}, "127.0.0.1")
	basicOnly, basicCA := tlsServer(t, echoHandler(), ServerConfig{Schemes: []string{"basic"}}, "127.0.0.1")

	var authErr *AuthError
	var httpErr *HTTPError
	var tlsErr *TLSError
	tests := []struct {
		name  string
		cfg   Config
		check func(error) bool
		want  string // substring of the message
	}{
		{"NTLM wrong password", Config{URL: plain.URL, Username: "bob", Password: "nope"}, func(e error) bool { return errors.As(e, &authErr) }, "user name or password is incorrect"},
		{"NTLM unknown user", Config{URL: plain.URL, Username: "eve", Password: "hunter2"}, func(e error) bool { return errors.As(e, &authErr) }, "user eve"},
		{"Basic wrong password", Config{URL: goodTLS.URL, Auth: "basic", Username: "bob", Password: "nope", TLS: TLSConfig{CAFile: ca}}, func(e error) bool { return errors.As(e, &authErr) }, "server offers: Negotiate, Basic"},
		{"NTLM against a 404 server", Config{URL: notWinRM.URL, Username: "bob", Password: "x"}, func(e error) bool { return errors.As(e, &httpErr) && httpErr.Status == 404 }, "is this a WinRM endpoint"},
		{"Basic against a 404 server", Config{URL: notWinRM.URL, Auth: "basic", Username: "bob", Password: "x", AllowUnencrypted: true}, func(e error) bool { return errors.As(e, &httpErr) && httpErr.Status == 404 }, "HTTP 404 Not Found"},
		{"untrusted certificate", Config{URL: goodTLS.URL, Auth: "basic", Username: "bob", Password: "hunter2"}, func(e error) bool { return errors.As(e, &tlsErr) && tlsErr.Kind == TLSUnknownAuthority }, "--ca-file"},
		{"name mismatch", Config{URL: otherName.URL, Auth: "basic", Username: "bob", Password: "hunter2", TLS: TLSConfig{CAFile: otherCA}}, func(e error) bool { return errors.As(e, &tlsErr) && tlsErr.Kind == TLSNameMismatch }, "name mismatch"},
		{"channel bindings mismatch", Config{URL: intercepted.URL, Username: "bob", Password: "hunter2", TLS: TLSConfig{CAFile: interceptedCA}}, func(e error) bool { return errors.As(e, &authErr) }, "user bob"},
		{"server without Negotiate", Config{URL: basicOnly.URL, Username: "bob", Password: "hunter2", TLS: TLSConfig{CAFile: basicCA}}, func(e error) bool { return errors.As(e, &authErr) }, "does not accept NTLM (Negotiate) (server offers: Basic)"},
		{"connection refused", Config{URL: "http://127.0.0.1:1/wsman", Username: "bob", Password: "x"}, func(e error) bool { return e != nil }, "connect to 127.0.0.1:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, tt.cfg)
			_, _, err := c.Post(context.Background(), []byte("<x/>"))
			if err == nil || !tt.check(err) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %T %v, want an error containing %q", err, err, tt.want)
			}
		})
	}
}

func TestClientTLS(t *testing.T) {
	srv, ca := tlsServer(t, echoHandler(), ServerConfig{}, "localhost", "127.0.0.1")
	otherName, otherCA := tlsServer(t, echoHandler(), ServerConfig{}, "other.example")
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"Basic with CA file", Config{URL: srv.URL, Auth: "basic", Username: `TESTDOM\alice`, Password: "Secret123!", TLS: TLSConfig{CAFile: ca}}, `<echo user="TESTDOM\alice"><x/></echo>`},
		{"NTLM over HTTPS (no sealing, channel bindings)", Config{URL: srv.URL, Username: "bob", Password: "hunter2", TLS: TLSConfig{CAFile: ca}}, `<echo user="bob"><x/></echo>`},
		{"NTLM over HTTPS, insecure skip verify", Config{URL: srv.URL, Username: "bob", Password: "hunter2", TLS: TLSConfig{InsecureSkipVerify: true}}, `<echo user="bob"><x/></echo>`},
		{"insecure skip verify", Config{URL: srv.URL, Auth: "basic", Username: "bob", Password: "hunter2", TLS: TLSConfig{InsecureSkipVerify: true}}, `<echo user="bob"><x/></echo>`},
		{"server name override", Config{URL: otherName.URL, Auth: "basic", Username: "bob", Password: "hunter2", TLS: TLSConfig{CAFile: otherCA, ServerName: "other.example"}}, `<echo user="bob"><x/></echo>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, tt.cfg)
			for range 2 {
				if _, body := post(t, c, "<x/>"); body != tt.want {
					t.Errorf("body %q, want %q", body, tt.want)
				}
			}
		})
	}
}

func TestClientBasicOverHTTP(t *testing.T) {
	if _, err := New(Config{URL: "http://127.0.0.1:5985/wsman", Auth: "basic", Username: "bob", Password: "x"}); err == nil {
		t.Fatal("Basic over HTTP accepted without AllowUnencrypted")
	}
	srv, _ := startServer(t, echoHandler(), ServerConfig{AllowUnencrypted: true}, false)
	c := newClient(t, Config{URL: srv.URL, Auth: "basic", Username: "bob", Password: "hunter2", AllowUnencrypted: true})
	if _, body := post(t, c, "<x/>"); body != `<echo user="bob"><x/></echo>` {
		t.Errorf("body %q", body)
	}
}

// TestClientConnectProxy: HTTPS through an HTTP CONNECT proxy keeps one
// tunnel per lane, so NTLM works.
func TestClientConnectProxy(t *testing.T) {
	srv, ca := tlsServer(t, echoHandler(), ServerConfig{}, "localhost", "127.0.0.1")
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect || r.Header.Get("Proxy-Authorization") != "Basic cHU6cHA=" {
			http.Error(w, "no", http.StatusProxyAuthRequired)
			return
		}
		up, err := net.Dial("tcp", r.Host)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			up.Close()
			return
		}
		io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n")
		done := make(chan struct{})
		go func() { io.Copy(up, conn); up.Close(); close(done) }()
		io.Copy(conn, up)
		conn.Close()
		<-done
	}))
	t.Cleanup(proxy.Close)
	pu, _ := url.Parse(proxy.URL)
	pu.User = url.UserPassword("pu", "pp")
	c := newClient(t, Config{URL: srv.URL, Username: "bob", Password: "hunter2", TLS: TLSConfig{CAFile: ca},
		Proxy: func(*url.URL) (*url.URL, error) { return pu, nil }})
	for range 2 {
		if _, body := post(t, c, "<x/>"); body != `<echo user="bob"><x/></echo>` {
			t.Errorf("body %q", body)
		}
	}
	c.Close()
}

func TestClientLogRedaction(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, _ := startServer(t, echoHandler(), ServerConfig{}, false)
	c := newClient(t, Config{URL: srv.URL, Username: "bob", Password: "hunter2", Logger: logger})
	post(t, c, "<secret-envelope/>")
	c2 := newClient(t, Config{URL: srv.URL, Username: "bob", Password: "wrong-pw", Logger: logger})
	c2.Post(context.Background(), []byte("<x/>"))
	out := buf.String()
	for _, secret := range []string{"hunter2", "wrong-pw", "TlRMTVNT", "Authorization", "secret-envelope"} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains %q:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, "lane authenticated") {
		t.Errorf("log lacks the lane lifecycle:\n%s", out)
	}
}

// TestClientRequestHead reads what writePost puts on the wire with a raw
// listener: one POST per request with the path, Host, Content-Type,
// Authorization and an exact Content-Length (0 for an empty body, never
// chunked), which net/http's server parser accepts.
func TestClientRequestHead(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	type seen struct {
		Method, URI, Host, CT, Authz, UA string
		Length                           int64
		Chunked                          bool
		Body                             string
	}
	got := make(chan []seen, 1)
	go func() {
		var out []seen
		defer func() { got <- out }()
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		br := bufio.NewReader(conn)
		for range 3 {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			body, _ := io.ReadAll(req.Body)
			out = append(out, seen{req.Method, req.RequestURI, req.Host, req.Header.Get("Content-Type"),
				req.Header.Get("Authorization"), req.Header.Get("User-Agent"), req.ContentLength, len(req.TransferEncoding) > 0, string(body)})
			io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml;charset=UTF-8\r\nContent-Length: 4\r\n\r\n<ok>")
		}
	}()
	u := "http://" + ln.Addr().String() + "/wsman?PSVersion=5.1"
	c := newClient(t, Config{URL: u, Auth: "basic", Username: "bob", Password: "hunter2", AllowUnencrypted: true})
	for _, msg := range []string{"<a/>", "", strings.Repeat("x", 70000)} {
		if st, body := post(t, c, msg); st != http.StatusOK || body != "<ok>" {
			t.Fatalf("Post(%d bytes) = %d %q", len(msg), st, body)
		}
	}
	c.Close()
	want := []seen{
		{"POST", "/wsman?PSVersion=5.1", ln.Addr().String(), SOAPContentType, "Basic Ym9iOmh1bnRlcjI=", "pssession", 4, false, "<a/>"},
		{"POST", "/wsman?PSVersion=5.1", ln.Addr().String(), SOAPContentType, "Basic Ym9iOmh1bnRlcjI=", "pssession", 0, false, ""},
		{"POST", "/wsman?PSVersion=5.1", ln.Addr().String(), SOAPContentType, "Basic Ym9iOmh1bnRlcjI=", "pssession", 70000, false, strings.Repeat("x", 70000)},
	}
	if diff := cmp.Diff(want, <-got); diff != "" {
		t.Errorf("requests as the server read them (-want +got)\n%s", diff)
	}
}
