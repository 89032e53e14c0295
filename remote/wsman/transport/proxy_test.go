package transport

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pssession/pssession/internal/testproxy"
)

func fixedProxy(t *testing.T, raw string) func(*url.URL) (*url.URL, error) {
	t.Helper()
	u, err := ParseProxy(raw)
	if err != nil {
		t.Fatal(err)
	}
	return func(*url.URL) (*url.URL, error) { return u, nil }
}

// TestClientThroughProxies runs NTLM sessions (sealed over HTTP, channel
// bindings over HTTPS) and Basic through HTTP and SOCKS5 proxies that
// count what they relay. The endpoint is addressed by a name only the
// proxy resolves, so a direct connection cannot succeed.
func TestClientThroughProxies(t *testing.T) {
	httpSrv, _ := startServer(t, echoHandler(), ServerConfig{AllowUnencrypted: true}, false)
	tlsSrv, ca := tlsServer(t, echoHandler(), ServerConfig{}, "winrm.test")
	resolve := map[string]string{"winrm.test": "127.0.0.1"}
	viaName := func(raw string) string {
		u, _ := url.Parse(raw)
		return u.Scheme + "://winrm.test:" + u.Port() + "/wsman"
	}
	tests := []struct {
		name    string
		socks   bool
		user    string
		cfg     Config
		scheme  string // proxy URL scheme
		forward bool   // the HTTP proxy forwards absolute-URI requests
	}{
		{name: "HTTP proxy, NTLM over HTTP (CONNECT tunnel)", scheme: "http", user: "pu",
			cfg: Config{URL: viaName(httpSrv.URL), Username: "bob", Password: "hunter2"}},
		{name: "HTTP proxy, NTLM over HTTPS", scheme: "http",
			cfg: Config{URL: viaName(tlsSrv.URL), Username: `TESTDOM\alice`, Password: "Secret123!", TLS: TLSConfig{CAFile: ca}}},
		{name: "HTTP proxy, Basic over HTTP (absolute URI)", scheme: "http", user: "pu", forward: true,
			cfg: Config{URL: viaName(httpSrv.URL), Auth: "basic", Username: "bob", Password: "hunter2", AllowUnencrypted: true}},
		{name: "SOCKS5, NTLM over HTTP", socks: true, scheme: "socks5", user: "su",
			cfg: Config{URL: viaName(httpSrv.URL), Username: "bob", Password: "hunter2"}},
		{name: "SOCKS5h, NTLM over HTTPS", socks: true, scheme: "socks5h",
			cfg: Config{URL: viaName(tlsSrv.URL), Username: "bob", Password: "hunter2", TLS: TLSConfig{CAFile: ca}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := testproxy.Options{Resolve: resolve}
			if tt.user != "" {
				opts.User, opts.Password = tt.user, "proxy-secret"
			}
			var p *testproxy.Proxy
			if tt.socks {
				p = testproxy.StartSOCKS5(t, opts)
			} else {
				p = testproxy.StartHTTP(t, opts)
			}
			cfg := tt.cfg
			cfg.Proxy = fixedProxy(t, p.URL(tt.scheme, true))
			c := newClient(t, cfg)
			want := `<echo user="` + cfg.Username + `"><x/></echo>`
			for i := range 3 {
				if _, body := post(t, c, "<x/>"); body != want {
					t.Fatalf("post %d: body %q, want %q", i, body, want)
				}
			}
			c.Close()
			if p.Conns.Load() != 1 {
				t.Errorf("proxy accepted %d connections, want 1 (one lane)", p.Conns.Load())
			}
			wantRelayed := int64(1)
			if tt.forward {
				wantRelayed = 3
			}
			if got := p.Relayed.Load(); got != wantRelayed {
				t.Errorf("proxy relayed %d tunnels/requests, want %d", got, wantRelayed)
			}
		})
	}
}

func TestClientProxyFailures(t *testing.T) {
	srv, _ := startServer(t, echoHandler(), ServerConfig{}, false)
	refusing := testproxy.StartHTTP(t, testproxy.Options{RefuseConnect: true})
	authHTTP := testproxy.StartHTTP(t, testproxy.Options{User: "pu", Password: "right"})
	authSOCKS := testproxy.StartSOCKS5(t, testproxy.Options{User: "su", Password: "right"})
	withPW := func(p *testproxy.Proxy, scheme, pw string) string {
		return scheme + "://" + url.UserPassword("pu", pw).String() + "@" + p.Addr
	}
	tests := []struct {
		name   string
		proxy  string
		status int
		want   string
	}{
		{"CONNECT refused", refusing.URL("http", false), 403, "403 Forbidden"},
		{"no proxy credentials", authHTTP.URL("http", false), 407, "the proxy needs credentials"},
		{"wrong proxy password", withPW(authHTTP, "http", "wrong-pw"), 407, "rejected the user name or password"},
		{"SOCKS5 wrong password", withPW(authSOCKS, "socks5", "wrong-pw"), 0, "SOCKS5"},
		{"SOCKS5 no credentials", authSOCKS.URL("socks5", false), 0, "SOCKS5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, Config{URL: srv.URL, Username: "bob", Password: "hunter2", Proxy: fixedProxy(t, tt.proxy)})
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, _, err := c.Post(ctx, []byte("<x/>"))
			var pe *ProxyError
			if !errors.As(err, &pe) {
				t.Fatalf("got %v, want *ProxyError", err)
			}
			if pe.Status != tt.status || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got status %d, %q; want %d and %q", pe.Status, err, tt.status, tt.want)
			}
			if strings.Contains(err.Error(), "wrong-pw") {
				t.Errorf("error reveals the proxy password: %v", err)
			}
		})
	}
}

func TestProxyFromEnvironment(t *testing.T) {
	target := func(raw string) *url.URL { u, _ := url.Parse(raw); return u }
	tests := []struct {
		name string
		env  map[string]string
		url  string
		want string
	}{
		{"https proxy", map[string]string{"HTTPS_PROXY": "http://p:3128"}, "https://win1:5986/wsman", "http://p:3128"},
		{"lower case", map[string]string{"https_proxy": "http://p:3128"}, "https://win1:5986/wsman", "http://p:3128"},
		{"http proxy for http", map[string]string{"HTTP_PROXY": "http://h:8080", "HTTPS_PROXY": "http://p:3128"}, "http://win1:5985/wsman", "http://h:8080"},
		{"all_proxy fallback", map[string]string{"ALL_PROXY": "socks5h://s:1080"}, "http://win1:5985/wsman", "socks5h://s:1080"},
		{"all_proxy lower case", map[string]string{"all_proxy": "socks5://s:1080"}, "https://win1:5986/wsman", "socks5://s:1080"},
		{"specific wins over all", map[string]string{"ALL_PROXY": "socks5://s:1080", "HTTPS_PROXY": "http://p:3128"}, "https://win1:5986/wsman", "http://p:3128"},
		{"no_proxy", map[string]string{"ALL_PROXY": "socks5://s:1080", "NO_PROXY": ".corp.example"}, "https://win1.corp.example:5986/wsman", ""},
		{"loopback never", map[string]string{"ALL_PROXY": "socks5://s:1080"}, "https://127.0.0.1:5986/wsman", ""},
		{"nothing", nil, "https://win1:5986/wsman", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := ProxyFromEnvironment(func(k string) string { return tt.env[k] })
			u, err := f(target(tt.url))
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if u != nil {
				got = u.String()
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("proxy (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseProxy(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{in: "http://proxy:3128", want: "http://proxy:3128"},
		{in: "proxy:3128", want: "http://proxy:3128"},
		{in: "socks5h://u:p@s:1080", want: "socks5h://u:xxxxx@s:1080"},
		{in: "ftp://p:21", err: "unsupported scheme"},
		{in: "http://p:3128/path", err: "without a path"},
		{in: "http://:3128", err: "no host"},
		{in: "http://u:secret-pw@pro xy:3128", err: "invalid character"},
		{in: "http://u:secret-pw@proxy:31x8", err: "invalid port"},
	}
	for _, tt := range tests {
		u, err := ParseProxy(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) || strings.Contains(err.Error(), "secret-pw") {
				t.Errorf("ParseProxy(%q) = %v, want error %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || u.Redacted() != tt.want {
			t.Errorf("ParseProxy(%q) = %v, %v; want %s", tt.in, u, err, tt.want)
		}
	}
}

// TestClientProxyUnreachable: a proxy that does not answer is reported as
// such, not as a refusal.
func TestClientProxyUnreachable(t *testing.T) {
	srv, _ := startServer(t, echoHandler(), ServerConfig{}, false)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	for _, scheme := range []string{"http", "socks5"} {
		c := newClient(t, Config{URL: srv.URL, Username: "bob", Password: "hunter2", Proxy: fixedProxy(t, scheme+"://u:secret-pw@"+dead)})
		_, _, err := c.Post(context.Background(), []byte("<x/>"))
		var pe *ProxyError
		if err == nil || errors.As(err, &pe) || !strings.Contains(err.Error(), "connect to proxy "+scheme+"://"+dead) || strings.Contains(err.Error(), "secret-pw") {
			t.Errorf("%s: got %v, want a connect-to-proxy error without the password", scheme, err)
		}
	}
}

// TestClientProxyEndlessConnectAnswer: an HTTP proxy whose CONNECT answer
// never ends is read only up to the response-header bound, not until the
// dial timeout (nor into memory without limit).
func TestClientProxyEndlessConnectAnswer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		line := []byte("X-Filler: " + strings.Repeat("a", 1000) + "\r\n")
		if _, err := conn.Write([]byte("HTTP/1.1 200 Connection established\r\n")); err != nil {
			return
		}
		for {
			if _, err := conn.Write(line); err != nil {
				return
			}
		}
	}()
	c := newClient(t, Config{URL: "http://winrm.test:5985/wsman", Username: "bob", Password: "hunter2",
		Proxy: fixedProxy(t, "http://"+ln.Addr().String()), DialTimeout: 20 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, _, err = c.Post(ctx, []byte("<x/>"))
	if err == nil || !strings.Contains(err.Error(), "CONNECT") || ctx.Err() != nil {
		t.Fatalf("got %v (ctx %v), want a CONNECT error before any timeout", err, ctx.Err())
	}
}
