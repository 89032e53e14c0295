package transport

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"golang.org/x/net/http/httpproxy"
	"golang.org/x/net/proxy"
)

// Proxies (docs/authentication.md, "Proxies").
//
// A lane is one TCP connection carrying one authentication context, so the
// proxy must not mix connections:
//
//   - socks5:// and socks5h:// proxies relay a TCP stream; the target name is
//     always resolved by the proxy (Go's SOCKS5 dialer sends names as they
//     are), so both schemes behave like socks5h.
//   - http:// (and https://) proxies are asked for a CONNECT tunnel for
//     HTTPS and for NTLM/Negotiate over plain HTTP: NTLM authenticates the
//     connection, and a forward proxy may send the next request over another
//     server connection (squid pins connections only for NTLM it can see,
//     other proxies not at all). Only Basic over plain HTTP, which carries
//     its credentials in every request, uses absolute-URI forwarding.

// ProxyError is returned when the proxy refuses the connection: an HTTP
// proxy answering CONNECT with something else than 200, or a SOCKS5 proxy
// failing the handshake. Proxy is the proxy URL without credentials.
type ProxyError struct {
	Proxy  string
	Target string
	Status int // HTTP status of the CONNECT answer; 0 for SOCKS5
	Reason string
	Err    error
}

func (e *ProxyError) Error() string {
	msg := "transport: proxy " + e.Proxy + " refused the connection to " + e.Target
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *ProxyError) Unwrap() error { return e.Err }

// ProxyFromEnvironment returns the proxy function of the usual environment
// variables, upper or lower case: HTTPS_PROXY for https endpoints,
// HTTP_PROXY for http ones, ALL_PROXY for either when the specific one is
// unset, NO_PROXY for exceptions. As in Go's net/http, localhost and
// loopback addresses never use a proxy from the environment. getenv nil
// means os.Getenv.
func ProxyFromEnvironment(getenv func(string) string) func(*url.URL) (*url.URL, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	get := func(names ...string) string {
		for _, n := range names {
			if v := getenv(n); v != "" {
				return v
			}
		}
		return ""
	}
	all := get("ALL_PROXY", "all_proxy")
	cfg := httpproxy.Config{
		HTTPSProxy: get("HTTPS_PROXY", "https_proxy"),
		HTTPProxy:  get("HTTP_PROXY", "http_proxy"),
		NoProxy:    get("NO_PROXY", "no_proxy"),
	}
	if cfg.HTTPSProxy == "" {
		cfg.HTTPSProxy = all
	}
	if cfg.HTTPProxy == "" {
		cfg.HTTPProxy = all
	}
	return cfg.ProxyFunc()
}

// ParseProxy parses a proxy URL as given to --proxy: http://[user[:pw]@]host:port,
// https://..., socks5://... or socks5h://.... A missing scheme means http.
func ParseProxy(s string) (*url.URL, error) {
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		// *url.Error repeats the whole URL, password included: keep
		// only its reason.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("transport: proxy URL: %w", err)
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https", "socks5", "socks5h":
	default:
		return nil, fmt.Errorf("transport: proxy %s: unsupported scheme %q (want http, https, socks5 or socks5h)", u.Redacted(), u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("transport: proxy %s: no host", u.Redacted())
	}
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" {
		return nil, fmt.Errorf("transport: proxy %s: want scheme://[user@]host:port without a path", u.Redacted())
	}
	return u, nil
}

// proxyHostPort is the proxy's address with the scheme's default port.
func proxyHostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	switch strings.ToLower(u.Scheme) {
	case "socks5", "socks5h":
		return net.JoinHostPort(u.Hostname(), "1080")
	case "https":
		return net.JoinHostPort(u.Hostname(), "443")
	}
	return net.JoinHostPort(u.Hostname(), "8080")
}

// dialProxied opens l's connection to addr through proxyURL: a SOCKS5
// stream, an HTTP CONNECT tunnel, or (Basic over plain HTTP only) a
// connection to an HTTP forward proxy with l.viaProxy set.
func (c *Client) dialProxied(ctx context.Context, l *lane, addr string, proxyURL *url.URL) error {
	// The proxy as errors and logs name it: never its user info.
	pname := (&url.URL{Scheme: proxyURL.Scheme, Host: proxyURL.Host}).String()
	var d net.Dialer
	switch strings.ToLower(proxyURL.Scheme) {
	case "socks5", "socks5h":
		var auth *proxy.Auth
		if u := proxyURL.User; u != nil {
			p, _ := u.Password()
			auth = &proxy.Auth{User: u.Username(), Password: p}
		}
		sd, err := proxy.SOCKS5("tcp", proxyHostPort(proxyURL), auth, &d)
		if err != nil {
			return fmt.Errorf("transport: SOCKS5 proxy %s: %w", pname, err)
		}
		cd, ok := sd.(proxy.ContextDialer)
		if !ok {
			return fmt.Errorf("transport: SOCKS5 proxy %s: dialer cannot take a context", pname)
		}
		conn, err := cd.DialContext(ctx, "tcp", addr)
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("transport: SOCKS5 proxy %s: %w", pname, ctx.Err())
			}
			if proxyUnreachable(err) {
				return fmt.Errorf("transport: connect to proxy %s: %w", pname, err)
			}
			return &ProxyError{Proxy: pname, Target: addr, Reason: "SOCKS5", Err: err}
		}
		l.conn = conn
		return nil
	case "http", "https":
	default:
		return fmt.Errorf("transport: proxy %s: unsupported scheme %q", pname, proxyURL.Scheme)
	}
	conn, err := d.DialContext(ctx, "tcp", proxyHostPort(proxyURL))
	if err != nil {
		return fmt.Errorf("transport: connect to proxy %s: %w", pname, err)
	}
	if strings.EqualFold(proxyURL.Scheme, "https") {
		tc := tls.Client(conn, &tls.Config{ServerName: proxyURL.Hostname(), MinVersion: tls.VersionTLS12})
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return fmt.Errorf("transport: TLS to proxy %s: %w", pname, err)
		}
		conn = tc
	}
	l.conn = conn
	if u := proxyURL.User; u != nil {
		p, _ := u.Password()
		l.proxyAuth = "Basic " + base64.StdEncoding.EncodeToString([]byte(u.Username()+":"+p))
	}
	if !c.https && c.scheme == "basic" {
		l.viaProxy = true
		return nil
	}
	if err := l.connect(ctx, addr, pname); err != nil {
		conn.Close()
		return err
	}
	return nil
}

// connect opens a CONNECT tunnel through an HTTP proxy.
func (l *lane) connect(ctx context.Context, addr, pname string) error {
	stop := context.AfterFunc(ctx, func() { _ = l.conn.SetDeadline(time.Now()) })
	defer stop()
	req := &http.Request{Method: http.MethodConnect, URL: &url.URL{Opaque: addr}, Host: addr, Header: http.Header{}}
	req.Header.Set("User-Agent", "pssession")
	if l.proxyAuth != "" {
		req.Header.Set("Proxy-Authorization", l.proxyAuth)
	}
	if err := req.Write(l.conn); err != nil {
		return fmt.Errorf("transport: proxy %s: CONNECT: %w", pname, err)
	}
	// The proxy's answer (status line, headers and any body the close
	// below reads) gets the same bound as a WinRM response's headers.
	br := bufio.NewReader(io.LimitReader(l.conn, maxResponseHeader))
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("transport: proxy %s: CONNECT: %w", pname, ctx.Err())
		}
		return fmt.Errorf("transport: proxy %s: CONNECT: %w", pname, err)
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK:
	case resp.StatusCode == http.StatusProxyAuthRequired && l.proxyAuth == "":
		return &ProxyError{Proxy: pname, Target: addr, Status: resp.StatusCode,
			Reason: resp.Status + ": the proxy needs credentials; give them as http://user:password@host:port"}
	case resp.StatusCode == http.StatusProxyAuthRequired:
		return &ProxyError{Proxy: pname, Target: addr, Status: resp.StatusCode,
			Reason: resp.Status + ": the proxy rejected the user name or password (only Basic proxy authentication is supported)"}
	default:
		return &ProxyError{Proxy: pname, Target: addr, Status: resp.StatusCode,
			Reason: "CONNECT answered " + resp.Status + " (the proxy must allow CONNECT to the WinRM port, e.g. squid's SSL_ports must list 5985/5986)"}
	}
	if br.Buffered() > 0 {
		return errors.New("transport: proxy sent data after CONNECT")
	}
	_ = l.conn.SetDeadline(time.Time{})
	return nil
}

// proxyUnreachable reports whether a SOCKS error is the failure to reach
// the proxy itself (a "dial" error inside x/net's "socks connect" error)
// rather than the proxy's answer.
func proxyUnreachable(err error) bool {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if oe, ok := e.(*net.OpError); ok && oe.Op == "dial" {
			return true
		}
	}
	return false
}
