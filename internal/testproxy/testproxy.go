// Package testproxy runs small HTTP (CONNECT and forward) and SOCKS5
// proxies on 127.0.0.1 for tests. They count what they relay so that a
// test can prove its traffic went through them.
package testproxy

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
)

// Options configure a proxy.
type Options struct {
	// User and Password, when User is set, are required from clients
	// (Basic Proxy-Authorization, or SOCKS5 username/password).
	User, Password string
	// RefuseConnect makes the HTTP proxy answer CONNECT with 403.
	RefuseConnect bool
	// Resolve maps a requested host name to the host really dialled, so a
	// test can use a name that does not resolve without the proxy.
	Resolve map[string]string
	// TLS, when set, makes clients speak TLS to the proxy (an https://
	// proxy URL).
	TLS *tls.Config
}

// Proxy is a running proxy.
type Proxy struct {
	// Addr is host:port of the listener.
	Addr string
	// Conns counts accepted client connections; Relayed counts tunnels
	// and forwarded requests that reached the target.
	Conns, Relayed atomic.Int64
	opts           Options
	ln             net.Listener
	wg             sync.WaitGroup
	mu             sync.Mutex
	open           map[net.Conn]struct{}
}

// URL returns scheme://[user:password@]addr.
func (p *Proxy) URL(scheme string, withUser bool) string {
	u := url.URL{Scheme: scheme, Host: p.Addr}
	if withUser && p.opts.User != "" {
		u.User = url.UserPassword(p.opts.User, p.opts.Password)
	}
	return u.String()
}

// StartHTTP starts an HTTP proxy (CONNECT, and absolute-URI forwarding
// over one upstream connection per client connection); it stops in
// t.Cleanup.
func StartHTTP(t testing.TB, opts Options) *Proxy {
	return start(t, opts, (*Proxy).serveHTTP)
}

// StartSOCKS5 starts a SOCKS5 proxy (RFC 1928 CONNECT, RFC 1929
// username/password when opts.User is set); it stops in t.Cleanup.
func StartSOCKS5(t testing.TB, opts Options) *Proxy {
	return start(t, opts, (*Proxy).serveSOCKS)
}

func start(t testing.TB, opts Options, serve func(*Proxy, net.Conn)) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{Addr: ln.Addr().String(), opts: opts, ln: ln, open: map[net.Conn]struct{}{}}
	if opts.TLS != nil {
		p.ln = tls.NewListener(ln, opts.TLS)
		ln = p.ln
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.Conns.Add(1)
			p.track(c, true)
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				defer p.track(c, false)
				defer c.Close()
				serve(p, c)
			}()
		}
	}()
	t.Cleanup(p.close)
	return p
}

func (p *Proxy) track(c net.Conn, add bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if add {
		p.open[c] = struct{}{}
	} else {
		delete(p.open, c)
	}
}

func (p *Proxy) close() {
	p.ln.Close()
	p.mu.Lock()
	for c := range p.open {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *Proxy) target(hostport string) string {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return hostport
	}
	if h, ok := p.opts.Resolve[host]; ok {
		host = h
	}
	return net.JoinHostPort(host, port)
}

func (p *Proxy) dialTarget(hostport string) (net.Conn, error) {
	c, err := net.Dial("tcp", p.target(hostport))
	if err == nil {
		p.track(c, true)
	}
	return c, err
}

func (p *Proxy) closeTarget(c net.Conn) {
	p.track(c, false)
	c.Close()
}

// relay copies both ways until either side closes.
func relay(client net.Conn, clientR io.Reader, up net.Conn) {
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(up, clientR)
		if tc, ok := up.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		close(done)
	}()
	_, _ = io.Copy(client, up)
	client.Close()
	<-done
}

func (p *Proxy) authorized(h http.Header) bool {
	if p.opts.User == "" {
		return true
	}
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(p.opts.User+":"+p.opts.Password))
	return h.Get("Proxy-Authorization") == want
}

func (p *Proxy) serveHTTP(c net.Conn) {
	br := bufio.NewReader(c)
	var up net.Conn
	var upR *bufio.Reader
	defer func() {
		if up != nil {
			p.closeTarget(up)
		}
	}()
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		if !p.authorized(req.Header) {
			_, _ = io.WriteString(c, "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n\r\n")
			continue
		}
		if req.Method == http.MethodConnect {
			if p.opts.RefuseConnect {
				_, _ = io.WriteString(c, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
				continue
			}
			t, err := p.dialTarget(req.Host)
			if err != nil {
				_, _ = io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
				return
			}
			defer p.closeTarget(t)
			p.Relayed.Add(1)
			_, _ = io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
			relay(c, br, t)
			return
		}
		if !req.URL.IsAbs() {
			_, _ = io.WriteString(c, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
			return
		}
		if up == nil {
			hp := req.URL.Host
			if req.URL.Port() == "" {
				hp = net.JoinHostPort(req.URL.Hostname(), "80")
			}
			if up, err = p.dialTarget(hp); err != nil {
				up = nil
				_, _ = io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
				return
			}
			upR = bufio.NewReader(up)
		}
		req.Header.Del("Proxy-Authorization")
		if err := req.Write(up); err != nil {
			return
		}
		resp, err := http.ReadResponse(upR, req)
		if err != nil {
			return
		}
		p.Relayed.Add(1)
		err = resp.Write(c)
		resp.Body.Close()
		if err != nil {
			return
		}
	}
}

func (p *Proxy) serveSOCKS(c net.Conn) {
	br := bufio.NewReader(c)
	var hdr [2]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil || hdr[0] != 5 {
		return
	}
	methods := make([]byte, hdr[1])
	if _, err := io.ReadFull(br, methods); err != nil {
		return
	}
	want := byte(0)
	if p.opts.User != "" {
		want = 2
	}
	ok := false
	for _, m := range methods {
		ok = ok || m == want
	}
	if !ok {
		_, _ = c.Write([]byte{5, 0xff})
		return
	}
	_, _ = c.Write([]byte{5, want})
	if want == 2 {
		user, pass, good := readUserPass(br)
		if !good || user != p.opts.User || pass != p.opts.Password {
			_, _ = c.Write([]byte{1, 1})
			return
		}
		_, _ = c.Write([]byte{1, 0})
	}
	var req [4]byte
	if _, err := io.ReadFull(br, req[:]); err != nil || req[0] != 5 || req[1] != 1 {
		_, _ = c.Write([]byte{5, 7, 0, 1, 0, 0, 0, 0, 0, 0})
		return
	}
	var host string
	switch req[3] {
	case 1, 4:
		n := 4
		if req[3] == 4 {
			n = 16
		}
		ip := make([]byte, n)
		if _, err := io.ReadFull(br, ip); err != nil {
			return
		}
		host = net.IP(ip).String()
	case 3:
		l, err := br.ReadByte()
		if err != nil {
			return
		}
		name := make([]byte, l)
		if _, err := io.ReadFull(br, name); err != nil {
			return
		}
		host = string(name)
	default:
		_, _ = c.Write([]byte{5, 8, 0, 1, 0, 0, 0, 0, 0, 0})
		return
	}
	var port [2]byte
	if _, err := io.ReadFull(br, port[:]); err != nil {
		return
	}
	t, err := p.dialTarget(net.JoinHostPort(host, strconv.Itoa(int(binary.BigEndian.Uint16(port[:])))))
	if err != nil {
		_, _ = c.Write([]byte{5, 5, 0, 1, 0, 0, 0, 0, 0, 0})
		return
	}
	defer p.closeTarget(t)
	p.Relayed.Add(1)
	_, _ = c.Write([]byte{5, 0, 0, 1, 0, 0, 0, 0, 0, 0})
	relay(c, br, t)
}

func readUserPass(br *bufio.Reader) (user, pass string, ok bool) {
	v, err := br.ReadByte()
	if err != nil || v != 1 {
		return "", "", false
	}
	read := func() (string, bool) {
		n, err := br.ReadByte()
		if err != nil {
			return "", false
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(br, b); err != nil {
			return "", false
		}
		return string(b), true
	}
	u, ok1 := read()
	p, ok2 := read()
	return u, p, ok1 && ok2
}
