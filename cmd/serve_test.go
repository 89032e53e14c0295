package cmd

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net/http"
	neturl "net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/masterzen/winrm"
	"github.com/pssession/pssession/shell"
)

// lockedBuffer is a goroutine-safe stderr sink.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startServe runs `pssession serve args…` until the test ends and returns
// the stdout lines printed before "Listening on", the URL and stderr.
func startServe(t *testing.T, args ...string) (url string, pre []string, stderr *lockedBuffer) {
	t.Helper()
	pr, pw := io.Pipe()
	stderr = &lockedBuffer{}
	f := &Factory{IO: &shell.IOStreams{In: strings.NewReader(""), Out: pw, ErrOut: stderr}, Getenv: func(string) string { return "" }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		root := NewRootCmd(f)
		root.SetArgs(append([]string{"serve", "--listen", "127.0.0.1:0"}, args...))
		done <- root.ExecuteContext(ctx)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve returned %v", err)
		}
	})
	sc := bufio.NewScanner(pr)
	re := regexp.MustCompile(`^Listening on (\S+) `)
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			go func() { _, _ = io.Copy(io.Discard, pr) }()
			return m[1], pre, stderr
		}
		pre = append(pre, sc.Text())
	}
	t.Fatalf("serve printed no URL; stderr: %s", stderr)
	return "", nil, nil
}

const configGet = `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:wsman="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"><s:Header><wsa:Action>http://schemas.xmlsoap.org/ws/2004/09/transfer/Get</wsa:Action><wsa:MessageID>uuid:0A6D3D2B-0D2B-4C5B-9B0C-3D0F5E1C7A11</wsa:MessageID><wsman:ResourceURI>http://schemas.microsoft.com/wbem/wsman/1/config</wsman:ResourceURI></s:Header><s:Body/></s:Envelope>`

func TestServeBasicOverTLS(t *testing.T) {
	users := filepath.Join(t.TempDir(), "users")
	if err := os.WriteFile(users, []byte("# test users\nalice:s3cret\nCORP\\bob:pw:with:colons\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	url, pre, stderr := startServe(t, "--tls", "--auth", "basic", "--users", users, "--verbose")
	if !strings.HasPrefix(url, "https://127.0.0.1:") || !strings.HasSuffix(url, "/wsman") {
		t.Fatalf("url %q", url)
	}
	// The self-signed certificate's PEM path is printed; trust exactly it.
	m := regexp.MustCompile(`--ca-file (\S+)`).FindStringSubmatch(strings.Join(pre, "\n"))
	if m == nil {
		t.Fatalf("no certificate path in %q", pre)
	}
	pemData, err := os.ReadFile(m[1])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(m[1]) })
	pool := x509.NewCertPool()
	if blk, _ := pem.Decode(pemData); blk == nil || !pool.AppendCertsFromPEM(pemData) {
		t.Fatal("bad PEM")
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	for _, tc := range []struct {
		name, user, pass string
		status           int
	}{
		{"no credentials", "", "", http.StatusUnauthorized},
		{"wrong password", "alice", "nope", http.StatusUnauthorized},
		{"alice", "alice", "s3cret", http.StatusOK},
		{"domain user", `CORP\bob`, "pw:with:colons", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(configGet))
			req.Header.Set("Content-Type", "application/soap+xml;charset=UTF-8")
			if tc.user != "" {
				req.SetBasicAuth(tc.user, tc.pass)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			if tc.status == http.StatusOK && !strings.Contains(string(body), "<cfg:MaxEnvelopeSizekb>500<") {
				t.Fatalf("body %s", body)
			}
		})
	}
	if log := stderr.String(); !strings.Contains(log, "action=Get") || !strings.Contains(log, `user=CORP\bob`) || !strings.Contains(log, "status=200") {
		t.Errorf("verbose log lacks the request line:\n%s", log)
	}
}

func TestParseUsers(t *testing.T) {
	got, err := parseUsers(strings.NewReader("# c\n\nalice:a\nDOM\\bob:b:c\n"), "f")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[string]string{"alice": "a", `DOM\bob`: "b:c"}, got); d != "" {
		t.Fatal(d)
	}
	for name, in := range map[string]string{"no colon": "alice\n", "empty": "# only\n", "empty user": ":pw\n"} {
		t.Run(name, func(t *testing.T) {
			if _, err := parseUsers(strings.NewReader(in), "f"); err == nil {
				t.Fatal("no error")
			}
		})
	}
}

func TestServeUsageErrors(t *testing.T) {
	for name, args := range map[string][]string{
		"unknown engine":             {"serve", "--engine", "bogus"},
		"cert without key":           {"serve", "--tls", "--cert", "x.pem"},
		"auth no users":              {"serve", "--auth", "basic"},
		"unknown auth":               {"serve", "--auth", "digest"},
		"cert-map without client-ca": {"serve", "--tls", "--cert-map", "cn:x=u"},
		"client-ca without tls":      {"serve", "--client-ca", "ca.pem", "--cert-map", "cn:x=u"},
		"bad cert-map":               {"serve", "--tls", "--client-ca", "ca.pem", "--cert-map", "dn:x=u"},
		"channel binding over http":  {"serve", "--require-channel-binding"},
		"channel binding no ntlm":    {"serve", "--tls", "--require-channel-binding"},
		"certificate without maps":   {"serve", "--listen", "127.0.0.1:0", "--tls", "--auth", "certificate"},
	} {
		t.Run(name, func(t *testing.T) {
			io, _, _, errOut := shell.Test()
			if code := Execute(&Factory{IO: io}, args); code != ExitUsage {
				t.Fatalf("exit %d, stderr %s", code, errOut)
			}
		})
	}
}

// TestServeNTLMWithShEngine runs masterzen/winrm's WinRS client with NTLM
// message encryption against `pssession serve --engine sh` on plain HTTP.
func TestServeNTLMWithShEngine(t *testing.T) {
	users := filepath.Join(t.TempDir(), "users")
	if err := os.WriteFile(users, []byte(`WORKGROUP\vagrant:Passw0rd!`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	raw, _, _ := startServe(t, "--auth", "negotiate", "--users", users, "--engine", "sh")
	u, err := neturl.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(u.Port())
	params := *winrm.DefaultParameters
	params.TransportDecorator = func() winrm.Transporter {
		enc, err := winrm.NewEncryption("ntlm")
		if err != nil {
			t.Fatal(err)
		}
		return enc
	}
	client, err := winrm.NewClientWithParameters(winrm.NewEndpoint(u.Hostname(), port, false, false, nil, nil, nil, 30*time.Second),
		`WORKGROUP\vagrant`, "Passw0rd!", &params)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	stdout, stderr, code, err := client.RunPSWithContext(ctx, "echo from-sh; echo warn >&2; exit 3")
	if err != nil {
		t.Fatal(err)
	}
	if stdout != "from-sh\n" || stderr != "warn\n" || code != 3 {
		t.Fatalf("stdout %q stderr %q code %d", stdout, stderr, code)
	}
}
