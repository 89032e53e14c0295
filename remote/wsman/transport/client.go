package transport

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pssession/pssession/remote/wsman/ntlm"
)

// TLSConfig configures HTTPS.
type TLSConfig struct {
	// CAFile is a PEM file of CA certificates to trust instead of the system pool.
	CAFile string
	// InsecureSkipVerify disables certificate verification.
	InsecureSkipVerify bool
	// ServerName overrides the name verified (default: the URL's host).
	ServerName string
	// ClientCert is presented when the server asks for one.
	ClientCert *tls.Certificate
}

// Config configures a Client. The zero values of the optional fields are usable.
type Config struct {
	// URL of the WinRM endpoint, e.g. http://host:5985/wsman.
	URL string
	// Auth is "negotiate" (HTTP Negotiate: Kerberos when it can, else
	// NTLM, as Windows chooses), "kerberos" (the raw Kerberos scheme, never
	// NTLM), "ntlm" (NTLM inside HTTP Negotiate), "basic" or "certificate"
	// (HTTPS with TLS.ClientCert). Empty means "negotiate".
	Auth string
	// Username is "DOMAIN\user", "user@domain" or "user". For Kerberos
	// "user@REALM" or "REALM\user"; empty uses the credential cache's
	// principal.
	Username string
	// Password, when set, gets Kerberos tickets from the KDC (AS exchange)
	// and serves NTLM.
	Password string
	// NTHash (16 bytes) replaces Password for NTLM.
	NTHash []byte
	// SPN overrides the Kerberos service principal. The default is
	// "HTTP/<host>" (the URL's host, lower-case), then "WSMAN/<host>" when
	// the KDC does not know the first.
	SPN string
	// Keytab is a keytab file holding the user's keys; Kerberos uses it
	// when no Password is given.
	Keytab string
	// CCache is the Kerberos credential cache used when neither Password
	// nor Keytab is given; "" means $KRB5CCNAME, else the default cache.
	CCache string
	// Krb5Conf is the krb5.conf to read; "" means $KRB5_CONFIG, else
	// /etc/krb5.conf.
	Krb5Conf string
	TLS      TLSConfig
	// AllowUnencrypted permits Basic over plain HTTP. NTLM over HTTP always
	// seals messages.
	AllowUnencrypted bool
	// Proxy chooses the proxy for a request URL (http, https, socks5 or
	// socks5h; nil URL: direct); nil means ProxyFromEnvironment(nil).
	Proxy func(*url.URL) (*url.URL, error)
	// DialTimeout bounds connecting (TCP, proxy CONNECT, TLS); 0 means 30 s.
	DialTimeout time.Duration
	// ResponseTimeout bounds one request/response exchange; the wsman layer
	// sets it above its OperationTimeout. 0 means 5 minutes.
	ResponseTimeout time.Duration
	// MaxLanes bounds concurrent connections; 0 means 4.
	MaxLanes int
	// MaxBodySize bounds a response body; 0 means DefaultMaxBodySize.
	MaxBodySize int64
	// Logger gets connection and request metadata at Debug level, never
	// credentials, Authorization headers or bodies.
	Logger *slog.Logger
}

// Client posts SOAP envelopes to one WinRM endpoint. It is safe for
// concurrent use: each concurrent Post takes its own lane (one TCP/TLS
// connection with its own authentication context).
type Client struct {
	cfg    Config
	url    *url.URL
	https  bool
	scheme string // "basic", "ntlm", "negotiate" or "kerberos"
	seal   bool   // NTLM or Kerberos over HTTP: every body is sealed
	domain string
	user   string
	// ntlmErr is why NTLM cannot be used (no user name): negotiate reports
	// it only when Kerberos is not possible either.
	ntlmErr error
	// tryKerberos: negotiate attempts Kerberos first (not for IP targets).
	tryKerberos bool
	krb         kerberosState
	tlsConf     *tls.Config
	proxy       func(*url.URL) (*url.URL, error)
	log         *slog.Logger
	sem         chan struct{}
	mu          sync.Mutex
	idle        []*lane
	closed      bool
	laneSeq     int
	// livenessAfter: see the constant; tests set 0 to probe every reuse.
	livenessAfter time.Duration
	basicTok      string
}

// lane is one connection with its authentication context; used by one
// request at a time.
type lane struct {
	id        int
	conn      net.Conn
	lr        *budgetReader // bounds what one response may make us read
	br        *bufio.Reader
	sealer    Sealer // nil when bodies travel in plain (HTTPS, Basic)
	protocol  string // multipart/encrypted protocol of the sealed bodies
	frame     []byte // reused for sealed request bodies
	head      []byte // reused for request heads (writePost)
	viaProxy  bool   // plain-HTTP proxy: requests use the absolute URI
	proxyAuth string
	lastUsed  time.Time
	tainted   bool // a context cancellation touched the connection
}

// livenessAfter is how long a lane may sit idle before it is probed for a
// server-side close when taken again; busier lanes are reused at once.
const livenessAfter = time.Second

// New validates cfg and returns a Client; it does not connect yet.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("transport: endpoint URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("transport: endpoint URL %q: want http(s)://host[:port]/path", cfg.URL)
	}
	c := &Client{cfg: cfg, url: u, https: u.Scheme == "https", log: cfg.Logger}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	isIP := net.ParseIP(u.Hostname()) != nil
	switch strings.ToLower(cfg.Auth) {
	case "", "negotiate", "ntlm":
		c.scheme = strings.ToLower(cfg.Auth)
		if c.scheme == "" {
			c.scheme = "negotiate"
		}
		c.seal = !c.https
		c.domain, c.user = ntlmUser(cfg.Username)
		if _, err := ntlm.NewInitiator(ntlm.InitiatorConfig{Credentials: c.creds()}); err != nil {
			c.ntlmErr = fmt.Errorf("transport: %w", err)
		}
		// Windows never uses Kerberos for an IP address target (there is
		// no service principal for it) unless one is named explicitly.
		c.tryKerberos = c.scheme == "negotiate" && (!isIP || cfg.SPN != "") && kerberosHinted(cfg)
		if c.ntlmErr != nil && !c.tryKerberos {
			if c.scheme == "negotiate" && isIP && cfg.SPN == "" {
				return nil, fmt.Errorf("transport: %s is an IP address, so Negotiate uses NTLM (Kerberos needs the host name), and NTLM needs a user name and password: %w",
					u.Hostname(), c.ntlmErr)
			}
			return nil, c.ntlmErr
		}
	case "kerberos":
		c.scheme = "kerberos"
		c.seal = !c.https
		if isIP && cfg.SPN == "" {
			return nil, fmt.Errorf("transport: Kerberos needs the server's host name; %s is an IP address: use the FQDN, or --auth ntlm / negotiate", u.Hostname())
		}
	case "basic":
		c.scheme = "basic"
		if !c.https && !cfg.AllowUnencrypted {
			return nil, errors.New("transport: Basic authentication over plain HTTP would send the password in clear; use HTTPS or allow unencrypted explicitly")
		}
		if cfg.Username == "" {
			return nil, errors.New("transport: Basic authentication needs a user name")
		}
		c.basicTok = "Basic " + base64.StdEncoding.EncodeToString([]byte(cfg.Username+":"+cfg.Password))
	case "certificate":
		if err := c.initCertificate(); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("transport: unsupported auth %q (want negotiate, kerberos, ntlm, basic or certificate)", cfg.Auth)
	}
	if c.https {
		if c.tlsConf, err = buildTLS(cfg.TLS, u.Hostname()); err != nil {
			return nil, err
		}
	}
	c.proxy = cfg.Proxy
	if c.proxy == nil {
		c.proxy = ProxyFromEnvironment(nil)
	}
	if c.cfg.DialTimeout <= 0 {
		c.cfg.DialTimeout = 30 * time.Second
	}
	if c.cfg.ResponseTimeout <= 0 {
		c.cfg.ResponseTimeout = 5 * time.Minute
	}
	if c.cfg.MaxLanes <= 0 {
		c.cfg.MaxLanes = 4
	}
	if c.cfg.MaxBodySize <= 0 {
		c.cfg.MaxBodySize = DefaultMaxBodySize
	}
	c.sem = make(chan struct{}, c.cfg.MaxLanes)
	c.livenessAfter = livenessAfter
	return c, nil
}

// kerberosHinted reports whether Negotiate should try Kerberos: the user
// name carries a realm or domain (user@REALM, DOMAIN\user), or there is no
// user name or no password (the credential cache), or Kerberos is
// configured explicitly (keytab, SPN, krb5.conf, $KRB5_CONFIG). A bare user
// name with a password is a local account of the server, for NTLM; trying
// Kerberos would send the name to the default realm's KDC, whatever the
// distribution's /etc/krb5.conf says that is.
func kerberosHinted(cfg Config) bool {
	return cfg.Username == "" || strings.ContainsAny(cfg.Username, `@\`) ||
		(cfg.Password == "" && len(cfg.NTHash) == 0) ||
		cfg.Keytab != "" || cfg.SPN != "" || cfg.Krb5Conf != "" || os.Getenv("KRB5_CONFIG") != ""
}

func (c *Client) creds() ntlm.Credentials {
	return ntlm.Credentials{Domain: c.domain, User: c.user, Password: c.cfg.Password, NTHash: c.cfg.NTHash}
}

// ntlmUser splits DOMAIN\user; a UPN (user@domain) is sent whole with an
// empty domain (MS-NLMP 2.2.1.3).
func ntlmUser(s string) (domain, user string) {
	if d, u, ok := strings.Cut(s, `\`); ok {
		return d, u
	}
	return "", s
}

func buildTLS(tc TLSConfig, host string) (*tls.Config, error) {
	conf := &tls.Config{ServerName: host, InsecureSkipVerify: tc.InsecureSkipVerify, MinVersion: tls.VersionTLS12}
	if tc.ServerName != "" {
		conf.ServerName = tc.ServerName
	}
	if tc.CAFile != "" {
		pem, err := os.ReadFile(tc.CAFile)
		if err != nil {
			return nil, fmt.Errorf("transport: CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("transport: CA file %s holds no PEM certificate", tc.CAFile)
		}
		conf.RootCAs = pool
	}
	if tc.ClientCert != nil {
		// Presented whenever asked, even if the server's list of acceptable
		// CAs does not name its issuer (crypto/tls would then send none): an
		// untrusted certificate then fails visibly in the handshake instead
		// of turning into an anonymous 401.
		cert := tc.ClientCert
		conf.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
	}
	return conf, nil
}

// Close closes every idle lane; lanes in use close when their Post returns.
func (c *Client) Close() error {
	c.mu.Lock()
	idle := c.idle
	c.idle, c.closed = nil, true
	c.mu.Unlock()
	for _, l := range idle {
		l.conn.Close()
	}
	c.krb.close()
	return nil
}

// Post sends one SOAP envelope and returns the HTTP status and the
// (decrypted) body. Status 200 and 500 (SOAP fault) come back with a nil
// error; anything else is an error (*AuthError, *HTTPError, *TLSError, or
// a network error).
func (c *Client) Post(ctx context.Context, envelope []byte) (int, []byte, error) {
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return 0, nil, fmt.Errorf("transport: waiting for a connection: %w", ctx.Err())
	}
	defer func() { <-c.sem }()

	l, err := c.takeLane(ctx)
	if err != nil {
		return 0, nil, err
	}
	status, body, keep, err := c.exchange(ctx, l, envelope)
	if err != nil || !keep || l.tainted {
		l.conn.Close()
		c.log.Debug("lane closed", "lane", l.id, "err", err)
	} else {
		c.putLane(l)
	}
	return status, body, err
}

// takeLane returns a live idle lane or opens and authenticates a new one.
func (c *Client) takeLane(ctx context.Context) (*lane, error) {
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return nil, errors.New("transport: client closed")
		}
		var l *lane
		if n := len(c.idle); n > 0 {
			l, c.idle = c.idle[n-1], c.idle[:n-1]
		}
		c.laneSeq++
		id := c.laneSeq
		c.mu.Unlock()
		if l == nil {
			return c.openLane(ctx, id)
		}
		if time.Since(l.lastUsed) < c.livenessAfter || l.alive() {
			return l, nil
		}
		// The server closed it while idle: a new connection needs a new
		// handshake and a new security context.
		c.log.Debug("idle lane closed by server", "lane", l.id)
		l.conn.Close()
	}
}

func (c *Client) putLane(l *lane) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		l.conn.Close()
		return
	}
	l.lastUsed = time.Now()
	c.idle = append(c.idle, l)
}

// alive reports whether an idle connection is still open and silent.
func (l *lane) alive() bool {
	if l.br.Buffered() > 0 {
		return false
	}
	l.lr.budget = 1
	_ = l.conn.SetReadDeadline(time.Now().Add(time.Millisecond))
	_, err := l.br.Peek(1)
	_ = l.conn.SetReadDeadline(time.Time{})
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// dial connects (through a proxy if configured) and sets up TLS.
func (c *Client) dial(ctx context.Context, id int) (*lane, error) {
	dctx, cancel := context.WithTimeout(ctx, c.cfg.DialTimeout)
	defer cancel()
	addr := hostPort(c.url)
	proxyURL, err := c.proxy(c.url)
	if err != nil {
		return nil, fmt.Errorf("transport: proxy: %w", err)
	}
	l := &lane{id: id}
	if proxyURL != nil {
		if err := c.dialProxied(dctx, l, addr, proxyURL); err != nil {
			return nil, err
		}
	} else {
		var d net.Dialer
		conn, err := d.DialContext(dctx, "tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("transport: connect to %s: %w", addr, err)
		}
		l.conn = conn
	}
	if c.https {
		tc := tls.Client(l.conn, c.tlsConf)
		if err := tc.HandshakeContext(dctx); err != nil {
			l.conn.Close()
			return nil, classifyTLS(addr, err)
		}
		l.conn = tc
	}
	l.lr = &budgetReader{r: l.conn}
	l.br = bufio.NewReader(l.lr)
	c.log.Debug("lane opened", "lane", id, "addr", addr, "proxy", proxyURL != nil)
	return l, nil
}

// openLane dials and authenticates a new lane.
func (c *Client) openLane(ctx context.Context, id int) (*lane, error) {
	l, err := c.dial(ctx, id)
	if err != nil {
		return nil, err
	}
	err = c.authenticate(ctx, l)
	var fb *ntlmFallback
	if errors.As(err, &fb) && fb.redial {
		// The server closed the connection after refusing Kerberos.
		l.conn.Close()
		if l, err = c.dial(ctx, id); err != nil {
			return nil, err
		}
		err = c.ntlmAfterKerberos(ctx, l, fb)
	}
	if err != nil {
		l.conn.Close()
		return nil, err
	}
	return l, nil
}

// channelBindings is the tls-server-end-point binding of an HTTPS lane
// (the hash of the server's certificate); nil over plain HTTP.
func (l *lane) channelBindings() []byte {
	if tc, ok := l.conn.(*tls.Conn); ok {
		if certs := tc.ConnectionState().PeerCertificates; len(certs) > 0 {
			return ntlm.TLSServerEndPoint(certs[0])
		}
	}
	return nil
}

func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	if u.Scheme == "https" {
		return net.JoinHostPort(u.Hostname(), "443")
	}
	return net.JoinHostPort(u.Hostname(), "80")
}

// handshake runs NEGOTIATE/CHALLENGE/AUTHENTICATE on empty POSTs
// (PROTOCOL.md §6.1) and installs the lane's security context.
func (c *Client) handshake(ctx context.Context, l *lane) error {
	icfg := ntlm.InitiatorConfig{Credentials: c.creds(), ChannelBindings: l.channelBindings()}
	ini, err := ntlm.NewInitiator(icfg)
	if err != nil {
		return fmt.Errorf("transport: %w", err)
	}
	neg, err := ini.Negotiate()
	if err != nil {
		return err
	}
	resp, body, err := c.roundTrip(ctx, l, "Negotiate "+base64.StdEncoding.EncodeToString(neg), nil, "")
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusUnauthorized {
		return c.unexpected(resp, body, "expected an NTLM challenge (401) to the NEGOTIATE message")
	}
	chal := schemeToken(resp.Header, "Negotiate", "NTLM")
	if chal == nil {
		return &AuthError{User: c.cfg.Username, Status: resp.StatusCode, Schemes: authSchemes(resp.Header),
			Reason: "the server does not accept NTLM (Negotiate)"}
	}
	if !ntlm.IsNTLMToken(chal) {
		sp, err := spnegoInner(chal)
		if err != nil {
			return err
		}
		chal = sp.mech
	}
	auth, err := ini.Authenticate(chal)
	if err != nil {
		return fmt.Errorf("transport: NTLM challenge from %s: %w", c.url.Host, err)
	}
	resp, body, err = c.roundTrip(ctx, l, "Negotiate "+base64.StdEncoding.EncodeToString(auth), nil, "")
	if err != nil {
		return err
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusUnauthorized:
		return &AuthError{User: c.cfg.Username, Status: resp.StatusCode, Schemes: authSchemes(resp.Header),
			Reason: "the user name or password is incorrect"}
	default:
		return c.unexpected(resp, body, "NTLM handshake")
	}
	if c.seal {
		if !ini.Session().Confidential() {
			return errors.New("transport: the server did not agree to NTLM message encryption, which plain HTTP requires")
		}
		l.sealer, l.protocol = ini.Session(), ProtocolSPNEGO
	}
	c.log.Debug("lane authenticated", "lane", l.id, "user", c.cfg.Username, "sealed", c.seal)
	return nil
}

func authSchemes(h http.Header) []string {
	var out []string
	for _, v := range h.Values("WWW-Authenticate") {
		scheme, _, _ := strings.Cut(strings.TrimSpace(v), " ")
		if scheme != "" {
			out = append(out, scheme)
		}
	}
	return out
}

func (c *Client) unexpected(resp *http.Response, body []byte, what string) error {
	reason := what
	if resp.StatusCode == http.StatusNotFound || !isSOAPorEncrypted(resp.Header.Get("Content-Type")) {
		reason += "; is this a WinRM endpoint?"
	}
	return newHTTPError(c.url.Redacted(), resp, body, reason)
}

func isSOAPorEncrypted(ct string) bool {
	return strings.HasPrefix(strings.ToLower(ct), "application/soap+xml") || IsEncrypted(ct)
}

// exchange sends envelope on l and interprets the reply. keep reports
// whether the lane can be reused.
func (c *Client) exchange(ctx context.Context, l *lane, envelope []byte) (status int, out []byte, keep bool, err error) {
	authz := c.staticAuthorization()
	body, ct := envelope, SOAPContentType
	if l.sealer != nil {
		// The lane's frame buffer is free again once roundTrip wrote it.
		if body, ct, err = AppendEncrypted(l.frame[:0], l.sealer, l.protocol, envelope); err != nil {
			return 0, nil, false, err
		}
		l.frame = body
	}
	resp, rbody, err := c.roundTrip(ctx, l, authz, body, ct)
	if err != nil {
		return 0, nil, false, c.explainCertFailure(ctx, l, err)
	}
	keep = !resp.Close
	rct := resp.Header.Get("Content-Type")
	switch resp.StatusCode {
	case http.StatusOK, http.StatusInternalServerError:
	case http.StatusUnauthorized:
		return resp.StatusCode, nil, false, &AuthError{User: c.cfg.Username, Status: resp.StatusCode, Schemes: authSchemes(resp.Header),
			Reason: c.rejectedReason()}
	default:
		return resp.StatusCode, nil, keep, c.unexpected(resp, rbody, "")
	}
	if l.sealer != nil {
		if !IsEncrypted(rct) {
			return resp.StatusCode, nil, false, newHTTPError(c.url.Redacted(), resp, rbody, "unencrypted reply on an encrypted connection")
		}
		plain, err := UnwrapEncrypted(l.sealer, l.protocol, rct, rbody)
		if err != nil {
			return resp.StatusCode, nil, false, err
		}
		return resp.StatusCode, plain, keep, nil
	}
	if !isSOAPorEncrypted(rct) && !(resp.StatusCode == http.StatusOK && len(rbody) == 0) {
		return resp.StatusCode, nil, keep, newHTTPError(c.url.Redacted(), resp, rbody, "reply is not SOAP; is this a WinRM endpoint?")
	}
	return resp.StatusCode, rbody, keep, nil
}

// roundTrip writes one POST on the lane and reads the whole response.
func (c *Client) roundTrip(ctx context.Context, l *lane, authz string, body []byte, ct string) (*http.Response, []byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	stop := context.AfterFunc(ctx, func() { _ = l.conn.SetDeadline(time.Now()) })
	defer func() {
		if !stop() {
			// Cancellation raced with completion: the deadline may be
			// poisoned at any moment, so the connection is not reused.
			l.tainted = true
		}
	}()
	_ = l.conn.SetDeadline(time.Now().Add(c.cfg.ResponseTimeout))

	if ct == "" {
		ct = SOAPContentType
	}
	var werr error
	if l.viaProxy {
		werr = c.writeProxied(l, authz, body, ct)
	} else {
		werr = l.writePost(c.url, authz, body, ct)
	}
	start := time.Now()
	if werr != nil {
		return nil, nil, c.netErr(ctx, "send request", werr)
	}
	// Status line, headers and body of one response together may not
	// exceed MaxBodySize plus maxResponseHeader (net/http's ReadResponse
	// itself does not bound headers).
	l.lr.budget = c.cfg.MaxBodySize + maxResponseHeader
	resp, err := http.ReadResponse(l.br, postRequest)
	if err != nil {
		return nil, nil, c.netErr(ctx, "read response", err)
	}
	defer resp.Body.Close()
	rbody, err := readBody(resp, c.cfg.MaxBodySize)
	if err != nil {
		return nil, nil, c.netErr(ctx, "read response body", err)
	}
	if int64(len(rbody)) > c.cfg.MaxBodySize {
		return nil, nil, fmt.Errorf("transport: response body exceeds %d bytes", c.cfg.MaxBodySize)
	}
	_ = l.conn.SetDeadline(time.Time{})
	c.log.Debug("http", "lane", l.id, "status", resp.StatusCode, "sent", len(body), "received", len(rbody),
		"content_type", resp.Header.Get("Content-Type"), "elapsed", time.Since(start))
	return resp, rbody, nil
}

// postRequest is what http.ReadResponse is told the request was (it looks
// only at the method); it is never written or changed.
var postRequest = &http.Request{Method: http.MethodPost}

// writePost sends one POST on the lane in a single write: the head is
// built in the lane's reused buffer and goes out with the body as one
// vectored write. net/http's Request.Write would allocate a bufio.Writer
// per request and flush in 4 KiB pieces; requests are a third of the
// client's CPU in a fan-out. An empty body is "Content-Length: 0", never
// chunked (PROTOCOL.md §6.1). Header values are ours: a parsed URL's host
// and path, base64 tokens and constant content types, none with CR or LF.
func (l *lane) writePost(u *url.URL, authz string, body []byte, ct string) error {
	h := l.head[:0]
	h = append(h, "POST "...)
	h = append(h, u.RequestURI()...)
	h = append(h, " HTTP/1.1\r\nHost: "...)
	h = append(h, u.Host...)
	h = append(h, "\r\nUser-Agent: pssession\r\nContent-Type: "...)
	h = append(h, ct...)
	if authz != "" {
		h = append(h, "\r\nAuthorization: "...)
		h = append(h, authz...)
	}
	h = append(h, "\r\nContent-Length: "...)
	h = strconv.AppendInt(h, int64(len(body)), 10)
	h = append(h, "\r\n\r\n"...)
	l.head = h
	if _, ok := l.conn.(*net.TCPConn); !ok && len(body) <= maxInlineBody {
		// TLS would make a record of each buffer: one record instead.
		h = append(h, body...)
		l.head = h
		_, err := l.conn.Write(h)
		return err
	}
	bufs := net.Buffers{h, body}
	_, err := bufs.WriteTo(l.conn)
	return err
}

// maxInlineBody is the largest body writePost copies behind the head
// rather than writing separately on a connection without writev (TLS).
const maxInlineBody = 64 << 10

// writeProxied sends one POST through a plain-HTTP forward proxy
// (absolute URI, Proxy-Authorization): the rare path, left to net/http.
func (c *Client) writeProxied(l *lane, authz string, body []byte, ct string) error {
	req := &http.Request{
		Method:        http.MethodPost,
		URL:           c.url,
		Host:          c.url.Host,
		Header:        http.Header{},
		ContentLength: int64(len(body)),
		Body:          io.NopCloser(bytes.NewReader(body)),
	}
	if len(body) == 0 {
		req.Body = http.NoBody // "Content-Length: 0", not chunked
	}
	req.Header.Set("User-Agent", "pssession")
	req.Header.Set("Content-Type", ct)
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	if l.proxyAuth != "" {
		req.Header.Set("Proxy-Authorization", l.proxyAuth)
	}
	return req.WriteProxy(l.conn)
}

func (c *Client) netErr(ctx context.Context, op string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("transport: %s: %w", op, ctxErr)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("transport: %s: no answer within %s: %w", op, c.cfg.ResponseTimeout, err)
	}
	return fmt.Errorf("transport: %s from %s: %w", op, c.url.Host, err)
}

// String describes the client for logs, without credentials.
func (c *Client) String() string {
	return c.scheme + " " + c.url.Redacted() + " as " + strconv.Quote(c.cfg.Username)
}

// maxResponseHeader bounds the status line and headers of a response.
const maxResponseHeader = 1 << 20

// errResponseTooLarge is returned when a response exceeds its read budget.
var errResponseTooLarge = errors.New("transport: response exceeds the size limit")

// budgetReader reads at most budget bytes until the budget is reset.
type budgetReader struct {
	r      io.Reader
	budget int64
}

func (b *budgetReader) Read(p []byte) (int, error) {
	if b.budget <= 0 {
		return 0, errResponseTooLarge
	}
	if int64(len(p)) > b.budget {
		p = p[:b.budget]
	}
	n, err := b.r.Read(p)
	b.budget -= int64(n)
	return n, err
}

// readBody reads at most limit+1 bytes of resp's body, into one buffer
// sized from Content-Length when the server sent one (a Receive is up to
// the envelope size: io.ReadAll would grow it by doubling).
func readBody(resp *http.Response, limit int64) ([]byte, error) {
	r := io.LimitReader(resp.Body, limit+1)
	if n := resp.ContentLength; n > 0 && n <= limit {
		buf := make([]byte, n+1) // +1: a body longer than announced shows as EOF not reached
		m, err := io.ReadFull(r, buf)
		if err == io.ErrUnexpectedEOF || err == io.EOF {
			return buf[:m], nil
		}
		if err != nil {
			return nil, err
		}
		rest, err := io.ReadAll(r)
		return append(buf, rest...), err
	}
	return io.ReadAll(r)
}
