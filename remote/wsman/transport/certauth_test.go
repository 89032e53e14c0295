package transport

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bodgit/ntlmssp"
	ntlmhttp "github.com/bodgit/ntlmssp/http"
	"github.com/google/go-cmp/cmp"

	"github.com/pssession/pssession/internal/testcert"
)

// certServer starts ServerAuth over TLS with cfg, serving its TLSConfig,
// and returns it with a CA file for the server certificate.
func certServer(t *testing.T, cfg ServerConfig) (*httptest.Server, string) {
	t.Helper()
	cert, certPEM, err := SelfSignedCert("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Users == nil {
		cfg.Users = testUsers
	}
	if cfg.ChannelBindingCert == nil {
		cfg.ChannelBindingCert = cert.Leaf
	}
	sa, err := NewServerAuth(echoHandler(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(sa)
	srv.Config.ConnContext = sa.ConnContext
	srv.TLS = sa.TLSConfig(cert)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // expected handshake failures
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return srv, ca
}

func thumb(c *x509.Certificate, sha string) string {
	if sha == "sha1" {
		s := sha1.Sum(c.Raw)
		return strings.ToUpper(hex.EncodeToString(s[:]))
	}
	s := sha256.Sum256(c.Raw)
	return hex.EncodeToString(s[:])
}

func TestCertificateAuth(t *testing.T) {
	ca := testcert.NewCA(t, "Test Client CA")
	otherCA := testcert.NewCA(t, "Other CA")
	alice := ca.Issue(t, "alice", "alice@lab.test")
	carol := ca.Issue(t, "carol", "")
	dave := ca.Issue(t, "dave", "dave@lab.test") // trusted CA, no mapping
	mallory := otherCA.Issue(t, "alice", "alice@lab.test")
	byCN := ca.Issue(t, "svc-backup", "")

	srv, srvCA := certServer(t, ServerConfig{
		ClientCAs: ca.Pool(),
		CertMappings: []CertMapping{
			{UPN: "ALICE@lab.test", Issuer: strings.ToLower(thumb(ca.Cert, "sha1")), User: `LAB\alice`},
			{Thumbprint: thumb(carol.TLS.Leaf, "sha1"), User: "carol"},
			{Thumbprint: thumb(byCN.TLS.Leaf, "sha256"), User: "never-used-first-match-below"},
			{CommonName: "svc-backup", User: "backup"},
			{UPN: "dave@lab.test", Issuer: thumb(otherCA.Cert, "sha256"), User: "dave"}, // wrong issuer
		},
	})
	tests := []struct {
		name string
		cert *tls.Certificate
		want string // echoed user, or "" for an error
		err  func(error) bool
	}{
		{"UPN with issuer", &alice.TLS, `LAB\alice`, nil},
		{"SHA-1 thumbprint", &carol.TLS, "carol", nil},
		{"first match wins", &byCN.TLS, "never-used-first-match-below", nil},
		{"unmapped (issuer does not match)", &dave.TLS, "", func(err error) bool {
			var ae *AuthError
			return errors.As(err, &ae) && ae.Status == 401 && strings.Contains(err.Error(), "client certificate")
		}},
		{"untrusted CA", &mallory.TLS, "", func(err error) bool {
			// Refused in the TLS handshake, before any HTTP exchange.
			var ae *AuthError
			return !errors.As(err, &ae) && errors.Is(err, errCertRefused)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, Config{URL: srv.URL + "/wsman", Auth: "certificate", TLS: TLSConfig{CAFile: srvCA, ClientCert: tt.cert}})
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, body, err := c.Post(ctx, []byte("<x/>"))
			if tt.want == "" {
				if err == nil || !tt.err(err) {
					t.Fatalf("got %v, %q; want a refusal", err, body)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(`<echo user="`+tt.want+`"><x/></echo>`, string(body)); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}

	// NTLM still works on the same listener without a client certificate.
	c := newClient(t, Config{URL: srv.URL + "/wsman", Username: "bob", Password: "hunter2", TLS: TLSConfig{CAFile: srvCA}})
	if _, body := post(t, c, "<y/>"); body != `<echo user="bob"><y/></echo>` {
		t.Errorf("NTLM beside certificates: %q", body)
	}
	// The header without a certificate is refused.
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/wsman", strings.NewReader("<x/>"))
	req.Header.Set("Authorization", CertificateAuthHeader)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("certificate header without a certificate: status %d, want 401", resp.StatusCode)
	}
}

func TestCertificateAuthConfig(t *testing.T) {
	cert, _, _ := SelfSignedCert()
	clientCert := cert
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"over http", Config{URL: "http://h:5985/wsman", Auth: "certificate", TLS: TLSConfig{ClientCert: &clientCert}}, "needs HTTPS"},
		{"no certificate", Config{URL: "https://h:5986/wsman", Auth: "certificate"}, "needs a client certificate"},
	}
	for _, tt := range tests {
		if _, err := New(tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want %q", tt.name, err, tt.want)
		}
	}
	if _, err := NewServerAuth(echoHandler(), ServerConfig{CertMappings: []CertMapping{{CommonName: "x", User: "u"}}}); err == nil {
		t.Error("mappings without ClientCAs accepted")
	}
	if _, err := NewServerAuth(echoHandler(), ServerConfig{RequireChannelBinding: true}); err == nil {
		t.Error("RequireChannelBinding without ChannelBindingCert accepted")
	}
}

func TestParseCertMapping(t *testing.T) {
	sha1hex := strings.Repeat("ab", 20)
	sha256hex := strings.Repeat("cd", 32)
	tests := []struct {
		in   string
		want CertMapping
		err  string
	}{
		{in: "upn:alice@lab.test=LAB\\alice", want: CertMapping{UPN: "alice@lab.test", User: `LAB\alice`}},
		{in: "alice@lab.test=alice", want: CertMapping{UPN: "alice@lab.test", User: "alice"}},
		{in: "sha1:" + strings.ToUpper(sha1hex) + "=bob", want: CertMapping{Thumbprint: sha1hex, User: "bob"}},
		{in: sha256hex + "=bob", want: CertMapping{Thumbprint: sha256hex, User: "bob"}},
		{in: "cn:svc backup,issuer:" + sha1hex + "=svc", want: CertMapping{CommonName: "svc backup", Issuer: sha1hex, User: "svc"}},
		{in: "sha1:" + sha256hex + "=bob", err: "bad thumbprint"},
		{in: "cn:x,upn:y@z=u", err: "only issuer"},
		{in: "upn:alice@lab.test", err: "want MATCH=USER"},
		{in: "dn:x=u", err: "want sha1:"},
		{in: "cn:x,issuer:nothex=u", err: "issuer wants"},
	}
	for _, tt := range tests {
		got, err := ParseCertMapping(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseCertMapping(%q) = %+v, %v; want error %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseCertMapping(%q): %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseCertMapping(%q) (-want +got)\n%s", tt.in, diff)
		}
	}
}

// TestRequireChannelBinding: with RequireChannelBinding an NTLM client over
// HTTPS must send matching tls-server-end-point bindings. bodgit/ntlmssp's
// HTTP client (third party) can send them or not.
func TestRequireChannelBinding(t *testing.T) {
	elsewhere, _, err := SelfSignedCert("elsewhere.example")
	if err != nil {
		t.Fatal(err)
	}
	bodgit := func(t *testing.T, url string, cbt bool) int {
		nc, err := ntlmssp.NewClient(ntlmssp.SetUserInfo("alice", "Secret123!"), ntlmssp.SetDomain("TESTDOM"), ntlmssp.SetVersion(ntlmssp.DefaultVersion()))
		if err != nil {
			t.Fatal(err)
		}
		hc, err := ntlmhttp.NewClient(&http.Client{Transport: &http.Transport{MaxConnsPerHost: 1,
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}, nc, ntlmhttp.SendCBT(cbt))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := hc.Post(url+"/wsman", SOAPContentType, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	ours := func(t *testing.T, url, ca string) error {
		c := newClient(t, Config{URL: url + "/wsman", Username: "bob", Password: "hunter2", TLS: TLSConfig{CAFile: ca}})
		_, _, err := c.Post(context.Background(), []byte("<x/>"))
		return err
	}
	strict, strictCA := certServer(t, ServerConfig{RequireChannelBinding: true})
	relaxed, relaxedCA := certServer(t, ServerConfig{})
	mismatched, mismatchedCA := certServer(t, ServerConfig{RequireChannelBinding: true, ChannelBindingCert: elsewhere.Leaf})

	tests := []struct {
		name   string
		run    func(t *testing.T) (int, error)
		status int
	}{
		{"strict, our client (bindings)", func(t *testing.T) (int, error) { return 200, ours(t, strict.URL, strictCA) }, 200},
		{"strict, bodgit with CBT", func(t *testing.T) (int, error) { return bodgit(t, strict.URL, true), nil }, 200},
		{"strict, bodgit without CBT", func(t *testing.T) (int, error) { return bodgit(t, strict.URL, false), nil }, 401},
		{"relaxed, bodgit without CBT", func(t *testing.T) (int, error) { return bodgit(t, relaxed.URL, false), nil }, 200},
		{"relaxed, our client", func(t *testing.T) (int, error) { return 200, ours(t, relaxed.URL, relaxedCA) }, 200},
		{"strict, mismatched bindings (ours)", func(t *testing.T) (int, error) {
			err := ours(t, mismatched.URL, mismatchedCA)
			var ae *AuthError
			if errors.As(err, &ae) {
				return ae.Status, nil
			}
			return 0, err
		}, 401},
		{"strict, mismatched bindings (bodgit)", func(t *testing.T) (int, error) { return bodgit(t, mismatched.URL, true), nil }, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.run(t)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.status {
				t.Errorf("status %d, want %d", got, tt.status)
			}
		})
	}
}
