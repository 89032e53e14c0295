package cmd

import (
	"crypto/sha1"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/pssession/pssession/internal/testcert"
	"github.com/pssession/pssession/internal/testproxy"
	"github.com/pssession/pssession/remote/endpoint"
	"github.com/pssession/pssession/remote/wsman/ntlm"
	"github.com/pssession/pssession/remote/wsman/transport"
)

// cleanProxyEnv keeps the machine's proxy settings out of a test run.
var cleanProxyEnv = []string{"HTTPS_PROXY=", "https_proxy=", "HTTP_PROXY=", "http_proxy=",
	"ALL_PROXY=", "all_proxy=", "NO_PROXY=", "no_proxy=", "PSSESSION_PASSWORD=", "PSSESSION_NT_HASH="}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// serveTLSEndpoint serves the scripted engine over HTTPS with a
// certificate for hosts, behind ServerAuth with cfg (LAB\alice / Passw0rd!
// unless cfg has users). It returns host:port and the CA file.
func serveTLSEndpoint(t *testing.T, cfg transport.ServerConfig, hosts ...string) (string, string) {
	t.Helper()
	cert, certPEM, err := transport.SelfSignedCert(hosts...)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Users == nil {
		cfg.Users = map[string]string{`LAB\alice`: "Passw0rd!"}
	}
	if cfg.ChannelBindingCert == nil {
		cfg.ChannelBindingCert = cert.Leaf
	}
	h := endpoint.New(endpoint.Config{Engine: endpoint.Scripted{}, Machine: "WIN-TEST"})
	sa, err := transport.NewServerAuth(h, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: sa, ConnContext: sa.ConnContext, TLSConfig: sa.TLSConfig(cert)}
	go srv.ServeTLS(ln, "", "")
	t.Cleanup(func() {
		srv.Close()
		h.Close()
	})
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return ln.Addr().String(), ca
}

func TestNTHashE2E(t *testing.T) {
	addr := e2eEndpoint(t)
	hash := hex.EncodeToString(ntlm.NTHash("Passw0rd!"))
	wrong := hex.EncodeToString(ntlm.NTHash("not-the-password"))
	state := t.TempDir()
	base := append(append([]string{}, cleanProxyEnv...), "XDG_STATE_HOME="+state)
	env := func(extra ...string) []string { return append(append([]string{}, base...), extra...) }
	secretIn := func(s string) bool {
		return strings.Contains(strings.ToLower(s), hash)
	}

	tests := []struct {
		name   string
		env    []string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{name: "env hash, --debug", env: env("PSSESSION_NT_HASH=" + strings.ToUpper(hash)),
			args: []string{"invoke", addr, "-u", `LAB\alice`, "--debug", "-c", "Write-Output ok"}, stdout: "ok\n", stderr: "lane authenticated"},
		{name: "flag hash warns", env: env(),
			args: []string{"invoke", addr, "-u", `LAB\alice`, "--auth", "ntlm", "--nt-hash", hash, "-c", "Write-Output ok"}, stdout: "ok\n", stderr: "visible to other local users"},
		{name: "LM:NT pair", env: env("PSSESSION_NT_HASH=aad3b435b51404eeaad3b435b51404ee:" + hash),
			args: []string{"invoke", addr, "-u", `LAB\alice`, "-c", "Write-Output ok"}, stdout: "ok\n"},
		{name: "hash wins over a wrong password", env: env("PSSESSION_NT_HASH="+hash, "PSSESSION_PASSWORD=wrong"),
			args: []string{"invoke", addr, "-u", `LAB\alice`, "-c", "Write-Output ok"}, stdout: "ok\n"},
		{name: "wrong hash", env: env("PSSESSION_NT_HASH=" + wrong),
			args: []string{"invoke", addr, "-u", `LAB\alice`, "-c", "Write-Output ok"}, code: 255, stderr: "LAB\\alice"},
		{name: "malformed flag", env: env(),
			args: []string{"invoke", addr, "-u", `LAB\alice`, "--nt-hash", "abc", "-c", "1"}, code: 2, stderr: "32 hex digits"},
		{name: "malformed env", env: env("PSSESSION_NT_HASH=zz"),
			args: []string{"invoke", addr, "-u", `LAB\alice`, "-c", "1"}, code: 2, stderr: "PSSESSION_NT_HASH: want the NT hash"},
		{name: "basic refused", env: env(),
			args: []string{"invoke", addr, "-u", `LAB\alice`, "--auth", "basic", "--nt-hash", hash, "-c", "1"}, code: 2, stderr: "not basic"},
		{name: "kerberos refused (env)", env: env("PSSESSION_NT_HASH=" + hash),
			args: []string{"invoke", addr, "-u", `LAB\alice`, "--auth", "kerberos", "-c", "1"}, code: 2, stderr: "not kerberos"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, err := runBin(t, tt.env, tt.args...)
			if got := exitCode(err); got != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", got, tt.code, out, errOut)
			}
			if tt.stdout != "" && out != tt.stdout {
				t.Errorf("stdout %q, want %q", out, tt.stdout)
			}
			if !strings.Contains(errOut, tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, errOut)
			}
			if secretIn(out) || secretIn(errOut) {
				t.Errorf("the NT hash appears in the output:\n%s\n%s", out, errOut)
			}
		})
	}

	// A saved session made with the hash, then reconnected with it: the
	// store never holds the hash.
	if out, errOut, err := runBin(t, env("PSSESSION_NT_HASH="+hash), "new", addr, "-u", `LAB\alice`, "--name", "viahash"); err != nil {
		t.Fatalf("new: %v\n%s%s", err, out, errOut)
	}
	if out, errOut, err := runBin(t, env("PSSESSION_NT_HASH="+hash), "remove", "viahash"); err != nil {
		t.Fatalf("remove: %v\n%s%s", err, out, errOut)
	}
	files := 0
	err := filepath.WalkDir(state, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		if secretIn(string(b)) || strings.Contains(string(b), string(ntlm.NTHash("Passw0rd!"))) {
			t.Errorf("%s holds the NT hash", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files == 0 {
		t.Error("no state files written; the store check proved nothing")
	}
}

// TestProxyE2E runs `pssession invoke` through counting HTTP and SOCKS5
// proxies, chosen by --proxy or by the environment. The endpoint is named
// winrm.test, which only the proxies resolve.
func TestProxyE2E(t *testing.T) {
	addr := e2eEndpoint(t)
	tlsAddr, ca := serveTLSEndpoint(t, transport.ServerConfig{}, "winrm.test")
	_, port, _ := net.SplitHostPort(addr)
	_, tlsPort, _ := net.SplitHostPort(tlsAddr)
	resolve := map[string]string{"winrm.test": "127.0.0.1"}
	httpP := testproxy.StartHTTP(t, testproxy.Options{User: "pu", Password: "proxy-pw", Resolve: resolve})
	socksP := testproxy.StartSOCKS5(t, testproxy.Options{User: "su", Password: "socks-pw", Resolve: resolve})
	openSOCKS := testproxy.StartSOCKS5(t, testproxy.Options{Resolve: resolve})
	refusing := testproxy.StartHTTP(t, testproxy.Options{RefuseConnect: true, Resolve: resolve})
	// An https:// proxy; the child process trusts its certificate through
	// SSL_CERT_FILE (Go's system roots on Unix).
	proxyCert, proxyPEM, err := transport.SelfSignedCert("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	proxyCA := filepath.Join(t.TempDir(), "proxy-ca.pem")
	if err := os.WriteFile(proxyCA, proxyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	tlsP := testproxy.StartHTTP(t, testproxy.Options{Resolve: resolve, TLS: &tls.Config{Certificates: []tls.Certificate{proxyCert}}})
	base := append(append([]string{}, cleanProxyEnv...), "XDG_STATE_HOME="+t.TempDir(), "PSSESSION_PASSWORD=Passw0rd!")
	env := func(extra ...string) []string { return append(append([]string{}, base...), extra...) }
	plain := "winrm.test:" + port
	secure := []string{"https://winrm.test:" + tlsPort + "/wsman", "--ca-file", ca}

	tests := []struct {
		name   string
		proxy  *testproxy.Proxy
		env    []string
		args   []string
		code   int
		stderr string
	}{
		{name: "--proxy http, NTLM sealed over HTTP", proxy: httpP, env: env(),
			args: []string{plain, "--proxy", httpP.URL("http", true)}},
		{name: "--proxy socks5, NTLM sealed over HTTP", proxy: socksP, env: env(),
			args: []string{plain, "--proxy", socksP.URL("socks5", true)}},
		{name: "--proxy socks5h over HTTPS", proxy: socksP, env: env(),
			args: append(append([]string{}, secure...), "--proxy", socksP.URL("socks5h", true))},
		{name: "--proxy https (TLS to the proxy)", proxy: tlsP, env: env("SSL_CERT_FILE=" + proxyCA),
			args: []string{plain, "--proxy", tlsP.URL("https", false)}},
		{name: "https proxy not trusted", proxy: tlsP, env: env(),
			args: []string{plain, "--proxy", tlsP.URL("https", false)}, code: 255, stderr: "TLS to proxy"},
		{name: "HTTPS_PROXY over HTTPS", proxy: httpP, env: env("HTTPS_PROXY=" + httpP.URL("http", true)),
			args: secure},
		{name: "https_proxy lower case", proxy: httpP, env: env("https_proxy=" + httpP.URL("http", true)),
			args: secure},
		{name: "HTTP_PROXY over HTTP", proxy: httpP, env: env("HTTP_PROXY=" + httpP.URL("http", true)),
			args: []string{plain}},
		{name: "ALL_PROXY socks5h", proxy: openSOCKS, env: env("ALL_PROXY=" + openSOCKS.URL("socks5h", false)),
			args: []string{plain}},
		{name: "--proxy none ignores the environment", proxy: openSOCKS, env: env("ALL_PROXY=" + openSOCKS.URL("socks5h", false)),
			args: []string{plain, "--proxy", "none"}, code: 255, stderr: "winrm.test"},
		{name: "NO_PROXY", proxy: openSOCKS, env: env("ALL_PROXY="+openSOCKS.URL("socks5h", false), "NO_PROXY=winrm.test"),
			args: []string{plain}, code: 255, stderr: "winrm.test"},
		{name: "CONNECT refused", proxy: refusing, env: env(),
			args: []string{plain, "--proxy", refusing.URL("http", false)}, code: 255, stderr: "CONNECT answered 403 Forbidden"},
		{name: "wrong proxy password", proxy: httpP, env: env(),
			args: []string{plain, "--proxy", "http://pu:bad-proxy-pw@" + httpP.Addr}, code: 255, stderr: "rejected the user name or password"},
		{name: "wrong SOCKS password", proxy: socksP, env: env(),
			args: []string{plain, "--proxy", "socks5://su:bad-proxy-pw@" + socksP.Addr}, code: 255, stderr: "authentication failed"},
		{name: "bad --proxy", env: env(),
			args: []string{plain, "--proxy", "ftp://x:21"}, code: 2, stderr: "unsupported scheme"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before int64
			if tt.proxy != nil {
				before = tt.proxy.Relayed.Load()
			}
			args := append([]string{"invoke", "-u", `LAB\alice`, "--open-timeout", "20s", "--retry-timeout", "0", "-c", "Write-Output ok"}, tt.args...)
			if tt.code == 0 {
				args = append(args, "--debug")
			}
			out, errOut, err := runBin(t, tt.env, args...)
			if got := exitCode(err); got != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", got, tt.code, out, errOut)
			}
			if tt.code == 0 && out != "ok\n" {
				t.Errorf("stdout %q, want ok", out)
			}
			if !strings.Contains(errOut, tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, errOut)
			}
			for _, pw := range []string{"proxy-pw", "socks-pw", "bad-proxy-pw"} {
				if strings.Contains(out+errOut, pw) {
					t.Errorf("output reveals proxy password %q:\n%s", pw, errOut)
				}
			}
			if tt.proxy != nil {
				relayed := tt.proxy.Relayed.Load() > before
				if relayed != (tt.code == 0) {
					t.Errorf("proxy relayed: %v, want %v", relayed, tt.code == 0)
				}
			}
		})
	}
}

// TestCertificateAuthE2E runs `pssession serve` with client certificate
// mappings and NTLM with required channel bindings, and `pssession invoke`
// against it with certificates and with NTLM.
func TestCertificateAuthE2E(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	ca := testcert.NewCA(t, "Lab Client CA")
	other := testcert.NewCA(t, "Elsewhere CA")
	caFile := filepath.Join(dir, "client-ca.pem")
	if err := os.WriteFile(caFile, ca.PEM, 0o600); err != nil {
		t.Fatal(err)
	}
	users := filepath.Join(dir, "users")
	if err := os.WriteFile(users, []byte("LAB\\alice:Passw0rd!\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	certFiles := func(name string, c *testcert.Client) []string {
		d := filepath.Join(dir, name)
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		cf, kf := c.WriteFiles(t, d)
		return []string{"--cert-file", cf, "--key-file", kf}
	}
	alice := certFiles("alice", ca.Issue(t, "alice", "alice@lab.test"))
	backup := ca.Issue(t, "svc-backup", "")
	backupFiles := certFiles("backup", backup)
	sum := sha1.Sum(backup.TLS.Leaf.Raw)
	unmapped := certFiles("unmapped", ca.Issue(t, "nobody", "nobody@lab.test"))
	untrusted := certFiles("untrusted", other.Issue(t, "alice", "alice@lab.test"))

	url, pre, serveErr := startServe(t, "--tls", "--users", users, "--auth", "negotiate", "--verbose",
		"--client-ca", caFile, "--cert-map", `upn:alice@lab.test=LAB\alice`,
		"--cert-map", "sha1:"+hex.EncodeToString(sum[:])+"=backup", "--require-channel-binding")
	m := regexp.MustCompile(`--ca-file (\S+)`).FindStringSubmatch(strings.Join(pre, "\n"))
	if m == nil {
		t.Fatalf("no certificate path in %q", pre)
	}
	t.Cleanup(func() { os.Remove(m[1]) })
	serverCA := m[1]
	env := append(append([]string{}, cleanProxyEnv...), "XDG_STATE_HOME="+t.TempDir())
	httpURL := strings.Replace(url, "https://", "http://", 1)

	tests := []struct {
		name   string
		args   []string
		env    []string
		code   int
		stderr string
		user   string // the server log names this user as authenticated
	}{
		{name: "mapped by UPN", args: append([]string{url, "--auth", "certificate", "--ca-file", serverCA}, alice...), user: `LAB\alice`},
		{name: "mapped by thumbprint", args: append([]string{url, "--auth", "certificate", "--ca-file", serverCA}, backupFiles...), user: "backup"},
		{name: "unmapped", args: append([]string{url, "--auth", "certificate", "--ca-file", serverCA}, unmapped...),
			code: 255, stderr: "did not accept the client certificate"},
		{name: "untrusted CA", args: append([]string{url, "--auth", "certificate", "--ca-file", serverCA}, untrusted...),
			code: 255, stderr: "probably refused the client certificate"},
		{name: "over http", args: append([]string{httpURL, "--auth", "certificate"}, alice...), code: 2, stderr: "needs HTTPS"},
		{name: "no certificate", args: []string{url, "--auth", "certificate", "--ca-file", serverCA}, code: 2, stderr: "needs --cert-file"},
		{name: "NTLM with channel bindings", args: []string{url, "-u", `LAB\alice`, "--ca-file", serverCA},
			env: []string{"PSSESSION_PASSWORD=Passw0rd!"}, user: `LAB\alice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := serveErr.String()
			args := append([]string{"invoke", "--retry-timeout", "0", "-c", "Write-Output ok"}, tt.args...)
			out, errOut, err := runBin(t, append(append([]string{}, env...), tt.env...), args...)
			if got := exitCode(err); got != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", got, tt.code, out, errOut)
			}
			if !strings.Contains(errOut, tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, errOut)
			}
			if tt.user != "" {
				if out != "ok\n" {
					t.Errorf("stdout %q, want ok", out)
				}
				log := strings.TrimPrefix(serveErr.String(), before)
				if !strings.Contains(log, "authenticated") || !strings.Contains(log, "user="+strconv.Quote(tt.user)) && !strings.Contains(log, "user="+tt.user) {
					t.Errorf("server log does not show %s authenticated:\n%s", tt.user, log)
				}
			}
		})
	}

	// A saved session remembers the certificate files (not their
	// contents), so removing it needs no certificate flags.
	if out, errOut, err := runBin(t, env, append([]string{"new", url, "--auth", "certificate", "--ca-file", serverCA, "--name", "bycert"}, alice...)...); err != nil {
		t.Fatalf("new: %v\n%s%s", err, out, errOut)
	}
	if out, errOut, err := runBin(t, env, "remove", "bycert"); err != nil {
		t.Fatalf("remove without certificate flags: %v\n%s%s", err, out, errOut)
	}
}
