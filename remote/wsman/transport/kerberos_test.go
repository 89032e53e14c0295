package transport

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jcmturner/gokrb5/v8/iana/errorcode"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/pssession/pssession/internal/krbtest"
	"github.com/pssession/pssession/remote/wsman/kerberos"
	"github.com/pssession/pssession/remote/wsman/ntlm"
)

// authLog records, per request, how it authenticated and how its body
// travelled: "<scheme>:<token kind>" for the Authorization header
// ("Negotiate:spnego-krb5", "Kerberos:krb5", "Negotiate:ntlm", ...) or
// "-", then the multipart/encrypted protocol of the body or "plain", and
// the same for the response.
type authLog struct {
	mu    sync.Mutex
	lines []string
	inner atomic.Int32 // requests that reached the inner handler
}

func (l *authLog) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		// The line is logged before the response leaves, so that the
		// client's next request cannot overtake it.
		rec := &headerRecorder{ResponseWriter: w, log: func(status int, ct string) {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.lines = append(l.lines, authKind(r.Header.Get("Authorization"))+" "+bodyKind(r.Header.Get("Content-Type"), len(body))+
				" -> "+http.StatusText(status)+" "+bodyKind(ct, 1))
		}}
		h.ServeHTTP(rec, r)
		rec.WriteHeader(http.StatusOK) // no-op when the handler wrote one
	})
}

func (l *authLog) counting(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.inner.Add(1)
		h.ServeHTTP(w, r)
	})
}

func (l *authLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.lines
	l.lines = nil
	return out
}

type headerRecorder struct {
	http.ResponseWriter
	log   func(status int, contentType string)
	wrote bool
}

func (h *headerRecorder) WriteHeader(code int) {
	if h.wrote {
		return
	}
	h.wrote = true
	h.log(code, h.Header().Get("Content-Type"))
	h.ResponseWriter.WriteHeader(code)
}

func (h *headerRecorder) Write(p []byte) (int, error) {
	h.WriteHeader(http.StatusOK)
	return h.ResponseWriter.Write(p)
}

func authKind(authz string) string {
	if authz == "" {
		return "-"
	}
	scheme, cred, _ := strings.Cut(authz, " ")
	tok, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	switch {
	case err != nil || len(tok) == 0:
		return scheme + ":?"
	case ntlm.IsNTLMToken(tok):
		return scheme + ":ntlm"
	case isKerberosToken(tok):
		return scheme + ":krb5"
	}
	if m, err := parseSPNEGO(tok); err == nil && m.init {
		if isKerberosMech(m.mechTypes[0]) {
			return scheme + ":spnego-krb5"
		}
		return scheme + ":spnego-ntlm"
	}
	return scheme + ":other"
}

func bodyKind(ct string, length int) string {
	switch {
	case length == 0:
		return "empty"
	case strings.Contains(ct, ProtocolKerberos):
		return "kerberos-sealed"
	case strings.Contains(ct, ProtocolSPNEGO):
		return "spnego-sealed"
	}
	return "plain"
}

// krbEnv is a realm with user alice (password and keytab) and the service
// HTTP/localhost, whose keys the server's keytab holds.
type krbEnv struct {
	kdc        *krbtest.KDC
	realm      string
	password   string
	userKeytab string
	svcKeytab  string
	noCCache   string // a credential cache that does not exist
}

func newKrbEnv(t *testing.T, services ...string) *krbEnv {
	t.Helper()
	k := krbtest.Start(t)
	e := &krbEnv{kdc: k, realm: k.Realm(), password: "Alice-Pw-1"}
	k.AddPrincipal("alice", e.password)
	e.userKeytab = k.Keytab("alice")
	if len(services) == 0 {
		services = []string{"HTTP/localhost"}
	}
	for _, s := range services {
		k.AddRandomKeyPrincipal(s)
	}
	e.svcKeytab = k.Keytab(services...)
	e.noCCache = filepath.Join(t.TempDir(), "absent.ccache")
	return e
}

// server starts ServerAuth (Kerberos from the service keytab unless cfg
// says otherwise, NTLM for alice) on 127.0.0.1 and returns its
// http://localhost:PORT/wsman URL.
func (e *krbEnv) server(t *testing.T, cfg ServerConfig) (string, *authLog) {
	t.Helper()
	if cfg.Users == nil {
		cfg.Users = map[string]string{"alice": e.password}
	}
	log := &authLog{}
	sa, err := NewServerAuth(log.counting(echoHandler()), cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(log.wrap(sa))
	srv.Config.ConnContext = sa.ConnContext
	srv.Start()
	t.Cleanup(srv.Close)
	return localhostURL(t, srv.URL), log
}

func localhostURL(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = "localhost:" + u.Port()
	u.Path = "/wsman"
	return u.String()
}

func (e *krbEnv) config(url, auth string) Config {
	return Config{URL: url, Auth: auth, Username: "alice", Password: e.password, Krb5Conf: e.kdc.Krb5Conf(), CCache: e.noCCache}
}

func postErr(c *Client, msg string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, _, err := c.Post(ctx, []byte(msg))
	return err
}

// TestKerberosTransport runs the client against ServerAuth over loopback
// HTTP with a real MIT KDC: Negotiate and raw Kerberos with message
// encryption both ways, every source of credentials, and the fallbacks.
func TestKerberosTransport(t *testing.T) {
	e := newKrbEnv(t)
	krbURL, krbLog := e.server(t, ServerConfig{KeytabFile: e.svcKeytab})
	ntlmURL, ntlmLog := e.server(t, ServerConfig{})
	alice := "alice@" + e.realm

	sealedNegotiate := []string{
		"Negotiate:spnego-krb5 empty -> OK plain",
		"- spnego-sealed -> OK spnego-sealed",
		"- spnego-sealed -> OK spnego-sealed",
	}
	tests := []struct {
		name     string
		url      string
		log      *authLog
		cfg      func(Config) Config
		wantUser string
		wantLog  []string
	}{
		{name: "negotiate with password", url: krbURL, log: krbLog, cfg: func(c Config) Config { return c },
			wantUser: alice, wantLog: sealedNegotiate},
		{name: "negotiate with keytab", url: krbURL, log: krbLog,
			cfg:      func(c Config) Config { c.Password, c.Keytab = "", e.userKeytab; return c },
			wantUser: alice, wantLog: sealedNegotiate},
		{name: "negotiate with kinit's ccache", url: krbURL, log: krbLog,
			cfg: func(c Config) Config {
				c.Username, c.Password, c.CCache = "", "", e.kdc.Kinit(t, "alice", e.password)
				return c
			},
			wantUser: alice, wantLog: sealedNegotiate},
		{name: "raw kerberos", url: krbURL, log: krbLog, cfg: func(c Config) Config { c.Auth = "kerberos"; return c },
			wantUser: alice, wantLog: []string{
				"Kerberos:krb5 empty -> OK plain",
				"- kerberos-sealed -> OK kerberos-sealed",
				"- kerberos-sealed -> OK kerberos-sealed",
			}},
		{name: "REALM\\user with SPN override", url: krbURL, log: krbLog,
			cfg: func(c Config) Config {
				c.Username, c.SPN = e.realm+`\alice`, "HTTP/localhost@"+e.realm
				return c
			},
			wantUser: alice, wantLog: sealedNegotiate},
		{name: "negotiate falls back to NTLM without client credentials", url: krbURL, log: krbLog,
			cfg:      func(c Config) Config { c.Password, c.NTHash = "", ntlm.NTHash(e.password); return c },
			wantUser: "alice", wantLog: []string{
				"Negotiate:ntlm empty -> Unauthorized plain",
				"Negotiate:ntlm empty -> OK plain",
				"- spnego-sealed -> OK spnego-sealed",
				"- spnego-sealed -> OK spnego-sealed",
			}},
		{name: "negotiate falls back to NTLM when the server offers only NTLM", url: ntlmURL, log: ntlmLog,
			cfg: func(c Config) Config { return c }, wantUser: "alice", wantLog: []string{
				"Negotiate:spnego-krb5 empty -> Unauthorized plain",
				"Negotiate:ntlm empty -> Unauthorized plain",
				"Negotiate:ntlm empty -> OK plain",
				"- spnego-sealed -> OK spnego-sealed",
				"- spnego-sealed -> OK spnego-sealed",
			}},
		{name: "negotiate uses NTLM for an IP address", url: strings.Replace(krbURL, "localhost", "127.0.0.1", 1), log: krbLog,
			cfg: func(c Config) Config { return c }, wantUser: "alice", wantLog: []string{
				"Negotiate:ntlm empty -> Unauthorized plain",
				"Negotiate:ntlm empty -> OK plain",
				"- spnego-sealed -> OK spnego-sealed",
				"- spnego-sealed -> OK spnego-sealed",
			}},
		{name: "kerberos to an IP address with an SPN", url: strings.Replace(krbURL, "localhost", "127.0.0.1", 1), log: krbLog,
			cfg:      func(c Config) Config { c.Auth, c.SPN = "kerberos", "HTTP/localhost"; return c },
			wantUser: alice, wantLog: []string{
				"Kerberos:krb5 empty -> OK plain",
				"- kerberos-sealed -> OK kerberos-sealed",
				"- kerberos-sealed -> OK kerberos-sealed",
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.log.take()
			c := newClient(t, tt.cfg(e.config(tt.url, "negotiate")))
			var got []string
			for _, msg := range []string{"<a/>", strings.Repeat("<big/>", 5000)} {
				st, body := post(t, c, msg)
				got = append(got, http.StatusText(st)+" "+body[:min(len(body), 80)])
			}
			want := []string{
				"OK " + `<echo user="` + tt.wantUser + `"><a/></echo>`,
				"OK " + (`<echo user="` + tt.wantUser + `">` + strings.Repeat("<big/>", 5000))[:80],
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("replies (-want +got)\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantLog, tt.log.take()); diff != "" {
				t.Errorf("wire (-want +got)\n%s", diff)
			}
		})
	}

	t.Run("lanes share the tickets", func(t *testing.T) {
		c := newClient(t, e.config(krbURL, "negotiate"))
		post(t, c, "<first/>")
		before := strings.Count(e.kdc.Log(), "AS_REQ")
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for range 4 {
			wg.Go(func() { errs <- postErr(c, "<concurrent/>") })
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if after := strings.Count(e.kdc.Log(), "AS_REQ"); after != before {
			t.Errorf("new lanes logged in again: %d AS_REQ in the KDC log before, %d after", before, after)
		}
	})

	t.Run("server offering only NTLM: later lanes go straight to NTLM", func(t *testing.T) {
		c := newClient(t, e.config(ntlmURL, "negotiate"))
		post(t, c, "<a/>")
		ntlmLog.take()
		c.mu.Lock()
		for _, l := range c.idle {
			l.conn.Close()
		}
		c.idle = nil
		c.mu.Unlock()
		post(t, c, "<b/>")
		want := []string{"Negotiate:ntlm empty -> Unauthorized plain", "Negotiate:ntlm empty -> OK plain", "- spnego-sealed -> OK spnego-sealed"}
		if diff := cmp.Diff(want, ntlmLog.take()); diff != "" {
			t.Errorf("wire (-want +got)\n%s", diff)
		}
	})

	errTests := []struct {
		name      string
		url       string
		cfg       func(Config) Config
		wantKind  kerberos.ErrorKind // 0: no *kerberos.Error expected
		wantInErr string
	}{
		{name: "wrong password", url: krbURL, cfg: func(c Config) Config { c.Auth, c.Password = "kerberos", "wrong"; return c },
			wantKind: kerberos.KindPreauthFailed, wantInErr: "refused the password of alice@" + e.realm},
		{name: "negotiate does not hide a wrong password behind NTLM", url: krbURL, cfg: func(c Config) Config { c.Password = "wrong"; return c },
			wantKind: kerberos.KindPreauthFailed, wantInErr: "wrong password"},
		{name: "unknown user", url: krbURL, cfg: func(c Config) Config { c.Auth, c.Username = "kerberos", "mallory"; return c },
			wantKind: kerberos.KindPrincipalUnknown, wantInErr: "does not know the user mallory@" + e.realm},
		{name: "no ticket in the ccache", url: krbURL, cfg: func(c Config) Config { c.Auth, c.Username, c.Password = "kerberos", "", ""; return c },
			wantKind: kerberos.KindNoCredentials, wantInErr: "run kinit"},
		{name: "unknown service principal", url: krbURL, cfg: func(c Config) Config { c.Auth, c.SPN = "kerberos", "HTTP/nowhere.example"; return c },
			wantKind: kerberos.KindPrincipalUnknown, wantInErr: "does not know the service principal HTTP/nowhere.example"},
		{name: "raw kerberos to a server without Kerberos", url: ntlmURL, cfg: func(c Config) Config { c.Auth = "kerberos"; return c },
			wantInErr: "the server does not offer Kerberos"},
		{name: "server without the SPN's key", url: func() string {
			u, _ := e.server(t, ServerConfig{KeytabFile: e.userKeytab})
			return u
		}(), cfg: func(c Config) Config { c.Auth = "kerberos"; return c }, wantInErr: "the server refused the Kerberos ticket for HTTP/localhost"},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, tt.cfg(e.config(tt.url, "negotiate")))
			err := postErr(c, "<a/>")
			var ae *AuthError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v, want an *AuthError", err)
			}
			if !strings.Contains(err.Error(), tt.wantInErr) {
				t.Errorf("err = %q, want it to contain %q", err, tt.wantInErr)
			}
			var ke *kerberos.Error
			switch {
			case tt.wantKind == 0 && errors.As(err, &ke):
				t.Errorf("err wraps %v, want no *kerberos.Error", ke)
			case tt.wantKind != 0 && (!errors.As(err, &ke) || ke.Kind != tt.wantKind):
				t.Errorf("err = %v, want one wrapping a *kerberos.Error of kind %v", err, tt.wantKind)
			}
		})
	}

	t.Run("a wrong password is tried once, not once per lane", func(t *testing.T) {
		c := newClient(t, func(c Config) Config { c.Auth, c.Password = "kerberos", "wrong"; return c }(e.config(krbURL, "")))
		before := strings.Count(e.kdc.Log(), "PREAUTH_FAILED")
		for range 3 {
			if err := postErr(c, "<a/>"); err == nil {
				t.Fatal("wrong password accepted")
			}
		}
		if n := strings.Count(e.kdc.Log(), "PREAUTH_FAILED") - before; n != 1 {
			t.Errorf("%d failed logins at the KDC, want 1", n)
		}
	})

	t.Run("kerberos refuses an IP address without an SPN", func(t *testing.T) {
		_, err := New(e.config(strings.Replace(krbURL, "localhost", "127.0.0.1", 1), "kerberos"))
		want := "Kerberos needs the server's host name; 127.0.0.1 is an IP address: use the FQDN, or --auth ntlm / negotiate"
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want %q", err, want)
		}
	})

	t.Run("tampered AP-REP is refused before any body is sent", func(t *testing.T) {
		for _, auth := range []string{"kerberos", "negotiate"} {
			t.Run(auth, func(t *testing.T) {
				log := &authLog{}
				sa, err := NewServerAuth(log.counting(echoHandler()), ServerConfig{KeytabFile: e.svcKeytab})
				if err != nil {
					t.Fatal(err)
				}
				srv := httptest.NewUnstartedServer(tamperAPRep(sa))
				srv.Config.ConnContext = sa.ConnContext
				srv.Start()
				t.Cleanup(srv.Close)
				c := newClient(t, e.config(localhostURL(t, srv.URL), auth))
				err = postErr(c, "<secret/>")
				var ke *kerberos.Error
				if !errors.As(err, &ke) || ke.Kind != kerberos.KindMutualAuth {
					t.Fatalf("err = %v, want a mutual authentication failure", err)
				}
				if n := log.inner.Load(); n != 0 {
					t.Errorf("%d requests reached the handler after a failed mutual authentication", n)
				}
			})
		}
	})

	t.Run("Close forgets the tickets", func(t *testing.T) {
		c := newClient(t, e.config(krbURL, "kerberos"))
		post(t, c, "<a/>")
		c.Close()
		if c.krb.client != nil {
			t.Error("the Kerberos client outlives Close")
		}
		if err := postErr(c, "<b/>"); err == nil {
			t.Error("Post after Close succeeded")
		}
	})

	t.Run("KDC unreachable", func(t *testing.T) {
		e.kdc.Stop()
		c := newClient(t, e.config(krbURL, "kerberos"))
		err := postErr(c, "<a/>")
		var ke *kerberos.Error
		if !errors.As(err, &ke) || ke.Kind != kerberos.KindKDCUnreachable || !strings.Contains(err.Error(), "no KDC answered") {
			t.Errorf("err = %v, want KDC unreachable", err)
		}
		// Negotiate falls back to NTLM.
		c = newClient(t, e.config(krbURL, "negotiate"))
		if _, body := post(t, c, "<a/>"); !strings.Contains(body, `user="alice"`) {
			t.Errorf("negotiate without a KDC: %s, want NTLM user alice", body)
		}
	})
}

// tamperAPRep flips a byte of the AP-REP the server sends on a 200.
func tamperAPRep(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(&tamperWriter{ResponseWriter: w}, r)
	})
}

type tamperWriter struct{ http.ResponseWriter }

func (t *tamperWriter) WriteHeader(code int) {
	if v := t.Header().Get("WWW-Authenticate"); code == http.StatusOK && v != "" {
		scheme, b64, _ := strings.Cut(v, " ")
		if tok, err := base64.StdEncoding.DecodeString(b64); err == nil && len(tok) > 0 {
			tok[len(tok)-1] ^= 0x55 // inside the encrypted part (or its checksum)
			t.Header().Set("WWW-Authenticate", scheme+" "+base64.StdEncoding.EncodeToString(tok))
		}
	}
	t.ResponseWriter.WriteHeader(code)
}

// TestKerberosWSMANRetry: a KDC that knows only WSMAN/<host> (as some
// domains register it) still lets the client in, after the HTTP/ principal
// turned out unknown.
func TestKerberosWSMANRetry(t *testing.T) {
	e := newKrbEnv(t, "WSMAN/localhost")
	u, log := e.server(t, ServerConfig{KeytabFile: e.svcKeytab, Users: map[string]string{}})
	for _, auth := range []string{"negotiate", "kerberos"} {
		t.Run(auth, func(t *testing.T) {
			c := newClient(t, e.config(u, auth))
			if _, body := post(t, c, "<a/>"); !strings.Contains(body, `user="alice@`+e.realm+`"`) {
				t.Errorf("reply %s, want Kerberos user alice@%s", body, e.realm)
			}
			if got := log.take(); len(got) != 2 || !strings.Contains(got[0], "krb5 empty -> OK") {
				t.Errorf("wire %q, want one Kerberos handshake and one request", got)
			}
			if got := c.spns(); !cmp.Equal(got, []string{"WSMAN/localhost"}) {
				t.Errorf("SPNs for the next lane %q, want the one that worked", got)
			}
		})
	}
}

// TestKerberosChannelBinding: over HTTPS nothing is sealed and the AP-REQ
// carries the tls-server-end-point binding; RequireChannelBinding refuses
// a client without it and a binding to another certificate.
func TestKerberosChannelBinding(t *testing.T) {
	e := newKrbEnv(t)
	cert, certPEM, err := SelfSignedCert("localhost")
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := SelfSignedCert("localhost")
	if err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	log := &authLog{}
	sa, err := NewServerAuth(log.counting(echoHandler()), ServerConfig{KeytabFile: e.svcKeytab,
		ChannelBindingCert: cert.Leaf, RequireChannelBinding: true})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(log.wrap(sa))
	srv.Config.ConnContext = sa.ConnContext
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	u := localhostURL(t, srv.URL)

	for _, auth := range []string{"negotiate", "kerberos"} {
		t.Run("client "+auth, func(t *testing.T) {
			cfg := e.config(u, auth)
			cfg.TLS.CAFile = ca
			c := newClient(t, cfg)
			if _, body := post(t, c, "<a/>"); !strings.Contains(body, `user="alice@`+e.realm+`"`) {
				t.Errorf("reply %s, want Kerberos user", body)
			}
			scheme := map[string]string{"negotiate": "Negotiate:spnego-krb5", "kerberos": "Kerberos:krb5"}[auth]
			want := []string{scheme + " empty -> OK plain", "- plain -> OK plain"}
			if diff := cmp.Diff(want, log.take()); diff != "" {
				t.Errorf("wire (-want +got)\n%s", diff)
			}
		})
	}

	// Hand-made AP-REQs with chosen bindings.
	kc, err := kerberos.NewClient(kerberos.ClientConfig{Username: "alice", Password: e.password, Krb5Conf: e.kdc.Krb5Conf()})
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	tests := []struct {
		name     string
		bindings []byte
		want     int
	}{
		{name: "matching binding", bindings: ntlm.TLSServerEndPoint(cert.Leaf), want: http.StatusOK},
		{name: "no binding", bindings: nil, want: http.StatusUnauthorized},
		{name: "binding to another certificate", bindings: ntlm.TLSServerEndPoint(other.Leaf), want: http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ic, err := kc.InitSecContext(context.Background(), "HTTP/localhost", tt.bindings)
			if err != nil {
				t.Fatal(err)
			}
			hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
			t.Cleanup(hc.CloseIdleConnections)
			req, err := http.NewRequest(http.MethodPost, u, strings.NewReader("<a/>"))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Kerberos "+base64.StdEncoding.EncodeToString(ic.Token()))
			req.Header.Set("Content-Type", SOAPContentType)
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
}

// TestNegotiateKerberosChoice: when Negotiate tries Kerberos at all
// (decided before any network traffic).
func TestNegotiateKerberosChoice(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want bool
	}{
		{name: "UPN", cfg: Config{URL: "http://server1.corp.example/wsman", Username: "alice@CORP.EXAMPLE", Password: "pw"}, want: true},
		{name: "DOMAIN\\user", cfg: Config{URL: "http://server1/wsman", Username: `CORP\alice`, Password: "pw"}, want: true},
		{name: "credential cache", cfg: Config{URL: "http://server1/wsman"}, want: true},
		{name: "bare user with password: local account", cfg: Config{URL: "http://server1/wsman", Username: "alice", Password: "pw"}, want: false},
		{name: "bare user without password: credential cache", cfg: Config{URL: "http://server1/wsman", Username: "alice"}, want: true},
		{name: "bare user with NT hash: local account", cfg: Config{URL: "http://server1/wsman", Username: "alice", NTHash: make([]byte, 16)}, want: false},
		{name: "bare user with keytab", cfg: Config{URL: "http://server1/wsman", Username: "alice", Keytab: "k"}, want: true},
		{name: "bare user with krb5.conf", cfg: Config{URL: "http://server1/wsman", Username: "alice", Password: "pw", Krb5Conf: "c"}, want: true},
		{name: "IPv4 address", cfg: Config{URL: "http://192.0.2.1:5985/wsman", Username: "alice@CORP.EXAMPLE", Password: "pw"}, want: false},
		{name: "IPv6 address", cfg: Config{URL: "http://[2001:db8::1]:5985/wsman", Username: "alice@CORP.EXAMPLE", Password: "pw"}, want: false},
		{name: "IP address with SPN", cfg: Config{URL: "http://192.0.2.1/wsman", Username: "alice@CORP.EXAMPLE", Password: "pw", SPN: "HTTP/server1"}, want: true},
		{name: "ntlm", cfg: Config{URL: "http://server1/wsman", Auth: "ntlm", Username: "alice@CORP.EXAMPLE", Password: "pw"}, want: false},
	}
	t.Setenv("KRB5_CONFIG", "")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if c.tryKerberos != tt.want {
				t.Errorf("tryKerberos = %v, want %v", c.tryKerberos, tt.want)
			}
		})
	}
	t.Run("bare user with $KRB5_CONFIG", func(t *testing.T) {
		t.Setenv("KRB5_CONFIG", "/etc/krb5-corp.conf")
		c, err := New(Config{URL: "http://server1/wsman", Username: "alice", Password: "pw"})
		if err != nil {
			t.Fatal(err)
		}
		if !c.tryKerberos {
			t.Error("tryKerberos = false, want true")
		}
	})
}

// TestKerberosServerTokens: what other clients send. pywinrm with
// requests-kerberos authenticates preemptively, putting a raw KRB5 token
// under Negotiate on a request that already carries a (plain) body, wants
// the raw AP-REP back on that 200, and then sends no Authorization on the
// same connection. Other SPNEGO initiators list KRB5 before MS-KRB5.
func TestKerberosServerTokens(t *testing.T) {
	e := newKrbEnv(t)
	u, log := e.server(t, ServerConfig{KeytabFile: e.svcKeytab, AllowUnencrypted: true})
	kc, err := kerberos.NewClient(kerberos.ClientConfig{Username: "alice", Password: e.password, Krb5Conf: e.kdc.Krb5Conf()})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		authz    func(tok []byte) string
		wantMech string // supportedMech of the NegTokenResp; "" for a raw answer
	}{
		{name: "raw KRB5 under Negotiate (pywinrm)", authz: func(tok []byte) string {
			return "Negotiate " + base64.StdEncoding.EncodeToString(tok)
		}},
		{name: "SPNEGO with KRB5 first", authz: func(tok []byte) string {
			return "Negotiate " + base64.StdEncoding.EncodeToString(spnegoInit([]asn1.ObjectIdentifier{kerberos.OIDKerberos5, kerberos.OIDMSKerberos}, tok))
		}, wantMech: kerberos.OIDKerberos5.String()},
		{name: "SPNEGO with MS-KRB5 first", authz: func(tok []byte) string {
			return "Negotiate " + base64.StdEncoding.EncodeToString(spnegoInit([]asn1.ObjectIdentifier{kerberos.OIDMSKerberos, kerberos.OIDKerberos5, oidNTLM}, tok))
		}, wantMech: kerberos.OIDMSKerberos.String()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log.take()
			ic, err := kc.InitSecContext(context.Background(), "HTTP/localhost", nil)
			if err != nil {
				t.Fatal(err)
			}
			hc := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}}
			t.Cleanup(hc.CloseIdleConnections)
			send := func(authz, body string) (*http.Response, string) {
				t.Helper()
				req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Content-Type", SOAPContentType)
				if authz != "" {
					req.Header.Set("Authorization", authz)
				}
				resp, err := hc.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, err := io.ReadAll(resp.Body)
				if err != nil {
					t.Fatal(err)
				}
				return resp, string(b)
			}
			resp, body := send(tt.authz(ic.Token()), "<first/>")
			if want := `<echo user="alice@` + e.realm + `"><first/></echo>`; resp.StatusCode != http.StatusOK || body != want {
				t.Fatalf("first reply %d %q, want 200 %q", resp.StatusCode, body, want)
			}
			tok := schemeToken(resp.Header, "Negotiate")
			gotMech := ""
			if !isKerberosToken(tok) {
				m, err := parseSPNEGO(tok)
				if err != nil || m.init || m.negState != negAcceptCompleted {
					t.Fatalf("answer token %x: %v, want a NegTokenResp accept-completed", tok, err)
				}
				gotMech, tok = m.supportedMech.String(), m.responseToken
			}
			if gotMech != tt.wantMech {
				t.Errorf("supportedMech %q, want %q", gotMech, tt.wantMech)
			}
			if _, err := ic.Complete(tok); err != nil {
				t.Errorf("AP-REP does not verify: %v", err)
			}
			if resp, body := send("", "<second/>"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "<second/>") {
				t.Errorf("second request on the connection: %d %q", resp.StatusCode, body)
			}
			want := []string{"Negotiate:" + map[bool]string{true: "krb5", false: "spnego-krb5"}[tt.wantMech == ""] + " plain -> OK plain", "- plain -> OK plain"}
			if diff := cmp.Diff(want, log.take()); diff != "" {
				t.Errorf("wire (-want +got)\n%s", diff)
			}
		})
	}

	t.Run("unsealed body refused without AllowUnencrypted", func(t *testing.T) {
		strict, _ := e.server(t, ServerConfig{KeytabFile: e.svcKeytab})
		ic, err := kc.InitSecContext(context.Background(), "HTTP/localhost", nil)
		if err != nil {
			t.Fatal(err)
		}
		req, err := http.NewRequest(http.MethodPost, strict, strings.NewReader("<a/>"))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Negotiate "+base64.StdEncoding.EncodeToString(ic.Token()))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("status %d, want 400", resp.StatusCode)
		}
	})

	t.Run("replayed AP-REQ refused", func(t *testing.T) {
		ic, err := kc.InitSecContext(context.Background(), "HTTP/localhost", nil)
		if err != nil {
			t.Fatal(err)
		}
		authz := "Kerberos " + base64.StdEncoding.EncodeToString(ic.Token())
		var got []int
		for range 2 {
			req, err := http.NewRequest(http.MethodPost, u, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", authz)
			req.Close = true // a new connection each time
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			got = append(got, resp.StatusCode)
		}
		if diff := cmp.Diff([]int{http.StatusOK, http.StatusUnauthorized}, got); diff != "" {
			t.Errorf("statuses (-want +got)\n%s", diff)
		}
	})
}

// TestKerberosServerKRBError: a server that answers the AP-REQ with a
// KRB-ERROR (as Windows does for clock skew) gets its reason reported.
func TestKerberosServerKRBError(t *testing.T) {
	e := newKrbEnv(t)
	krbErr := messages.NewKRBError(types.NewPrincipalName(nametype.KRB_NT_SRV_INST, "HTTP/localhost"), e.realm, errorcode.KRB_AP_ERR_SKEW, "")
	der, err := krbErr.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	// RFC 4121 4.1 framing: [APPLICATION 0] { KRB5 OID, TOK_ID 03 00, KRB-ERROR }.
	inner := append(append(mustMarshal(kerberos.OIDKerberos5), 0x03, 0x00), der...)
	tok := mustMarshal(asn1.RawValue{Class: asn1.ClassApplication, Tag: 0, IsCompound: true, Bytes: inner})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, _, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		out := tok
		if scheme == "Negotiate" {
			out = spnegoResp(negReject, kerberos.OIDMSKerberos, tok, nil)
		}
		w.Header().Add("WWW-Authenticate", scheme+" "+base64.StdEncoding.EncodeToString(out))
		w.Header().Add("WWW-Authenticate", "Kerberos")
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(srv.Close)
	for _, auth := range []string{"kerberos", "negotiate"} {
		t.Run(auth, func(t *testing.T) {
			c := newClient(t, e.config(localhostURL(t, srv.URL), auth))
			err := postErr(c, "<a/>")
			var ke *kerberos.Error
			if !errors.As(err, &ke) || ke.Kind != kerberos.KindClockSkew || !strings.Contains(err.Error(), "the server refused the Kerberos ticket: the clocks") {
				t.Errorf("err = %v, want the server's clock skew reason", err)
			}
		})
	}
}

// TestKerberosOnlyServer: Schemes ["kerberos"] offers Negotiate and
// Kerberos but refuses NTLM; "kerberos" without a keytab is a config error.
func TestKerberosOnlyServer(t *testing.T) {
	e := newKrbEnv(t)
	u, log := e.server(t, ServerConfig{KeytabFile: e.svcKeytab, Schemes: []string{"kerberos"}})
	c := newClient(t, e.config(u, "ntlm"))
	err := postErr(c, "<a/>")
	var ae *AuthError
	if !errors.As(err, &ae) || !cmp.Equal(ae.Schemes, []string{"Negotiate", "Kerberos"}) {
		t.Errorf("NTLM client: err = %v, want an AuthError listing Negotiate and Kerberos", err)
	}
	log.take()
	c = newClient(t, e.config(u, "negotiate"))
	if _, body := post(t, c, "<a/>"); !strings.Contains(body, `user="alice@`+e.realm+`"`) {
		t.Errorf("negotiate client: %s", body)
	}
	if _, err := NewServerAuth(echoHandler(), ServerConfig{Schemes: []string{"kerberos"}}); err == nil {
		t.Error("kerberos scheme without a keytab accepted")
	}
	if _, err := NewServerAuth(echoHandler(), ServerConfig{KeytabFile: e.svcKeytab, RequireChannelBinding: true}); err == nil {
		t.Error("RequireChannelBinding without ChannelBindingCert accepted")
	}
}

// TestKerberosRC4: a realm with only RC4-HMAC keys (older domains): the
// sealed bodies carry RFC 4757 wrap tokens whose padding counts in
// OriginalContent's Length.
func TestKerberosRC4(t *testing.T) {
	k := krbtest.Start(t, krbtest.WithEnctypes("arcfour-hmac"))
	e := &krbEnv{kdc: k, realm: k.Realm(), password: "Alice-Pw-1", noCCache: filepath.Join(t.TempDir(), "absent.ccache")}
	k.AddPrincipal("alice", e.password)
	k.AddRandomKeyPrincipal("HTTP/localhost")
	u, log := e.server(t, ServerConfig{KeytabFile: k.Keytab("HTTP/localhost")})
	// The KDC would pick an AES session key for an RC4 ticket; a client
	// asking for RC4 only gets an RC4 session key, as from an old DC.
	conf, err := os.ReadFile(k.Krb5Conf())
	if err != nil {
		t.Fatal(err)
	}
	rc4Conf := filepath.Join(t.TempDir(), "krb5.conf")
	conf = bytes.Replace(conf, []byte("[libdefaults]\n"), []byte("[libdefaults]\n default_tgs_enctypes = arcfour-hmac\n default_tkt_enctypes = arcfour-hmac\n permitted_enctypes = arcfour-hmac\n allow_weak_crypto = true\n"), 1)
	if err := os.WriteFile(rc4Conf, conf, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, auth := range []string{"negotiate", "kerberos"} {
		t.Run(auth, func(t *testing.T) {
			cfg := e.config(u, auth)
			cfg.Krb5Conf = rc4Conf
			c := newClient(t, cfg)
			for _, msg := range []string{"<a/>", strings.Repeat("<odd-length/>", 777)} {
				if _, body := post(t, c, msg); body != `<echo user="alice@`+e.realm+`">`+msg+`</echo>` {
					t.Errorf("reply %.80q", body)
				}
			}
			if got := log.take(); len(got) != 3 || !strings.Contains(got[1], "-sealed -> OK") {
				t.Errorf("wire %q, want a handshake and two sealed exchanges", got)
			}
		})
	}
	if !strings.Contains(k.Log(), "for HTTP/localhost@"+e.realm) || strings.Contains(k.Log(), "ses=aes") {
		t.Errorf("the service tickets were not RC4 only:\n%s", k.Log())
	}
}

func TestNegotiateIPWithoutUser(t *testing.T) {
	_, err := New(Config{URL: "http://192.0.2.1:5985/wsman"})
	want := "192.0.2.1 is an IP address, so Negotiate uses NTLM (Kerberos needs the host name), and NTLM needs a user name and password"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v, want %q", err, want)
	}
}

// TestKerberosMechListMIC: a server whose final NegTokenResp carries a
// mechListMIC (RFC 4178 §5) over the client's mechanism list: the client
// verifies it, and refuses a wrong one before sending any body.
func TestKerberosMechListMIC(t *testing.T) {
	e := newKrbEnv(t)
	acc, err := kerberos.NewAcceptor(kerberos.AcceptorConfig{KeytabFile: e.svcKeytab})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		tamper  bool
		wantErr string
	}{
		{name: "valid MIC"},
		{name: "wrong MIC", tamper: true, wantErr: "mechListMIC does not verify"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var bodies atomic.Int32
			var mu sync.Mutex
			var sess *kerberos.Session
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				defer mu.Unlock()
				if authz := r.Header.Get("Authorization"); authz != "" {
					tok, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(authz, "Negotiate "))
					m, err := parseSPNEGO(tok)
					if err != nil || !m.init {
						http.Error(w, "want a NegTokenInit", http.StatusBadRequest)
						return
					}
					apRep, s, _, err := acc.Accept(m.mechToken, nil, false)
					if err != nil {
						http.Error(w, err.Error(), http.StatusUnauthorized)
						return
					}
					mic, err := s.GetMIC(m.mechTypesDER)
					if err != nil {
						http.Error(w, err.Error(), http.StatusInternalServerError)
						return
					}
					if tt.tamper {
						mic[len(mic)-1] ^= 1
					}
					sess = s
					w.Header().Set("WWW-Authenticate", "Negotiate "+base64.StdEncoding.EncodeToString(spnegoResp(negAcceptCompleted, m.mechTypes[0], apRep, mic)))
					return
				}
				bodies.Add(1)
				body, _ := io.ReadAll(r.Body)
				plain, err := UnwrapEncrypted(sess, ProtocolSPNEGO, r.Header.Get("Content-Type"), body)
				if err != nil {
					http.Error(w, err.Error(), http.StatusBadRequest)
					return
				}
				out, ct, err := WrapEncrypted(sess, ProtocolSPNEGO, append([]byte("echo:"), plain...))
				if err != nil {
					http.Error(w, err.Error(), http.StatusInternalServerError)
					return
				}
				w.Header().Set("Content-Type", ct)
				w.Write(out)
			}))
			t.Cleanup(srv.Close)
			c := newClient(t, e.config(localhostURL(t, srv.URL), "negotiate"))
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_, body, err := c.Post(ctx, []byte("<a/>"))
			if tt.wantErr == "" {
				if err != nil || string(body) != "echo:<a/>" {
					t.Errorf("Post: %q, %v", body, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
			if n := bodies.Load(); n != 0 {
				t.Errorf("%d bodies sent after a bad mechListMIC", n)
			}
		})
	}
}

// TestKerberosCurlSPNEGO: curl's --negotiate (MIT GSS-API SPNEGO, a third
// party initiator) against ServerAuth: MIT's NegTokenInit (KRB5 first) is
// accepted. (curl does not check the final token, so this says nothing
// about the AP-REP; pywinrm's requests-kerberos does, in remote/endpoint.)
func TestKerberosCurlSPNEGO(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not installed")
	}
	if v, err := exec.Command(curl, "-V").Output(); err != nil || !strings.Contains(string(v), "SPNEGO") {
		t.Skip("curl without SPNEGO (GSS-API)")
	}
	e := newKrbEnv(t)
	u, log := e.server(t, ServerConfig{KeytabFile: e.svcKeytab, AllowUnencrypted: true})
	cc := e.kdc.Kinit(t, "alice", e.password)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, curl, "--silent", "--show-error", "--fail", "--negotiate", "-u", ":",
		"-H", "Content-Type: "+SOAPContentType, "--data-binary", "<curl/>", u)
	cmd.Env = append(e.kdc.Env(), "KRB5CCNAME=FILE:"+cc)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("curl: %v\n%s", err, out)
	}
	if want := `<echo user="alice@` + e.realm + `"><curl/></echo>`; string(out) != want {
		t.Errorf("curl printed %q, want %q", out, want)
	}
	// curl may or may not ask anonymously first.
	if got := log.take(); len(got) == 0 || got[len(got)-1] != "Negotiate:spnego-krb5 plain -> OK plain" {
		t.Errorf("wire %q, want it to end with curl's SPNEGO Kerberos request", got)
	}
}

// TestNegotiateFallbackAfterClose: a server without Kerberos that closes
// the connection after refusing the Kerberos token; Negotiate falls back
// to NTLM on a new connection.
func TestNegotiateFallbackAfterClose(t *testing.T) {
	e := newKrbEnv(t)
	log := &authLog{}
	sa, err := NewServerAuth(echoHandler(), ServerConfig{Users: map[string]string{"alice": e.password}})
	if err != nil {
		t.Fatal(err)
	}
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(log.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(authKind(r.Header.Get("Authorization")), "spnego-krb5") {
			w.Header().Set("Connection", "close")
		}
		sa.ServeHTTP(w, r)
	})))
	srv.Config.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		conns.Add(1)
		return sa.ConnContext(ctx, c)
	}
	srv.Start()
	t.Cleanup(srv.Close)
	c := newClient(t, e.config(localhostURL(t, srv.URL), "negotiate"))
	if _, body := post(t, c, "<a/>"); body != `<echo user="alice"><a/></echo>` {
		t.Errorf("reply %q", body)
	}
	want := []string{
		"Negotiate:spnego-krb5 empty -> Unauthorized plain",
		"Negotiate:ntlm empty -> Unauthorized plain",
		"Negotiate:ntlm empty -> OK plain",
		"- spnego-sealed -> OK spnego-sealed",
	}
	if diff := cmp.Diff(want, log.take()); diff != "" {
		t.Errorf("wire (-want +got)\n%s", diff)
	}
	if n := conns.Load(); n != 2 {
		t.Errorf("%d connections, want 2", n)
	}
}

func TestKerberosReason(t *testing.T) {
	cause := errors.New("cause")
	tests := []struct {
		err  error
		spn  string
		want string
	}{
		{&kerberos.Error{Kind: kerberos.KindPreauthFailed, Principal: "alice@R"}, "", "the KDC refused the password of alice@R"},
		{&kerberos.Error{Kind: kerberos.KindPrincipalUnknown, Principal: "HTTP/web@R"}, "HTTP/web", "the KDC does not know the service principal HTTP/web@R"},
		{&kerberos.Error{Kind: kerberos.KindPrincipalUnknown, Principal: "bob@R"}, "HTTP/web", "the KDC does not know the user bob@R"},
		{&kerberos.Error{Kind: kerberos.KindKDCUnreachable, Err: cause}, "", "no KDC answered"},
		{&kerberos.Error{Kind: kerberos.KindNoCredentials}, "", "run kinit user@REALM"},
		{&kerberos.Error{Kind: kerberos.KindClockSkew}, "", "clocks"},
		{&kerberos.Error{Kind: kerberos.KindMutualAuth}, "", "did not prove its identity"},
		{&kerberos.Error{Kind: kerberos.KindChannelBinding}, "", "channel binding"},
		{&kerberos.Error{Kind: kerberos.KindConfig, Err: cause}, "", "Kerberos configuration: "},
		{fmt.Errorf("wrapped: %w", &kerberos.Error{Kind: kerberos.KindClockSkew}), "", "clocks"},
		{cause, "", "Kerberos: cause"},
	}
	for _, tt := range tests {
		if got := kerberosReason(tt.spn, tt.err); !strings.Contains(got, tt.want) {
			t.Errorf("kerberosReason(%q, %v) = %q, want it to contain %q", tt.spn, tt.err, got, tt.want)
		}
	}
}

func TestOffersScheme(t *testing.T) {
	tests := []struct {
		values []string
		want   bool
	}{
		{values: []string{"Negotiate", "Kerberos", `Basic realm="WSMAN"`}, want: true},
		{values: []string{`Negotiate, Kerberos, Basic realm="WSMAN"`}, want: true},
		{values: []string{"Negotiate abc=", "kerberos"}, want: true},
		{values: []string{"Negotiate", `Basic realm="Kerberos"`}, want: false},
		{values: []string{`Basic realm="x", charset="UTF-8"`}, want: false},
		{values: nil, want: false},
	}
	for _, tt := range tests {
		h := http.Header{}
		for _, v := range tt.values {
			h.Add("WWW-Authenticate", v)
		}
		if got := offersScheme(h, "Kerberos"); got != tt.want {
			t.Errorf("offersScheme(%q) = %v, want %v", tt.values, got, tt.want)
		}
	}
}
