package endpoint

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// pywinrmScript runs a few commands through pywinrm's Session and prints
// [stdout, stderr, status] for each as JSON.
const pywinrmScript = `
import json, sys, winrm
url, transport, user, password, ca = sys.argv[1:6]
kw = {}
if ca:
    kw['ca_trust_path'] = ca
if transport == 'ntlm':
    kw['message_encryption'] = 'always'
s = winrm.Session(url, auth=(user, password), transport=transport, **kw)
out = []
for r in (s.run_cmd('echo', ['hello']),
          s.run_cmd('echo oops >&2; exit 3'),
          s.run_ps('Write-Output hi; Write-Output "two words"')):
    out.append([r.std_out.decode(), r.std_err.decode() if isinstance(r.std_err, bytes) else r.std_err, r.status_code])
print(json.dumps(out))
`

var pywinrmWant = [][]any{
	{"hello\n", "", float64(0)},
	{"", "oops\n", float64(3)},
	{"hi\ntwo words\n", "", float64(0)},
}

// needPywinrm skips when Debian's python3-winrm is absent, except in CI
// where it must be installed (.ci/run).
func needPywinrm(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs python3")
	}
	err := exec.Command("/usr/bin/python3", "-c", "import winrm").Run()
	if err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("python3-winrm is required in CI: %v", err)
	}
	t.Skipf("/usr/bin/python3 lacks winrm: %v", err)
}

func runPywinrm(t *testing.T, url, transport, user, password, caFile string, env ...string) [][]any {
	t.Helper()
	script := filepath.Join(t.TempDir(), "client.py")
	if err := os.WriteFile(script, []byte(pywinrmScript), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/usr/bin/python3", script, url, transport, user, password, caFile)
	cmd.Env = append(os.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pywinrm %s: %v\n%s", transport, err, stderr.String())
	}
	var got [][]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("pywinrm output %q: %v\n%s", out, err, stderr.String())
	}
	return got
}

// basicOnly is a test-side Basic check standing in for the transport
// layer's ServerAuth, naming the user for the handler.
func basicOnly(user, password string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, p, ok := r.BasicAuth()
			if !ok || u != user || p != password {
				w.Header().Set("WWW-Authenticate", `Basic realm="WSMAN"`)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			r.Header.Set(testUserHeader, u)
			next.ServeHTTP(w, r)
		})
	}
}

func TestPywinrmBasicOverHTTPS(t *testing.T) {
	needPywinrm(t)
	h := New(Config{User: func(r *http.Request) string { return r.Header.Get(testUserHeader) }})
	srv := httptest.NewTLSServer(basicOnly("vagrant", "Passw0rd!")(h))
	t.Cleanup(func() {
		srv.Close()
		h.Close()
	})
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	got := runPywinrm(t, srv.URL+"/wsman", "basic", "vagrant", "Passw0rd!", ca)
	if d := cmp.Diff(pywinrmWant, got); d != "" {
		t.Fatalf("pywinrm results (-want +got):\n%s", d)
	}
	// pywinrm deletes its shells.
	h.mu.Lock()
	n := len(h.shells)
	h.mu.Unlock()
	if n != 0 {
		t.Errorf("%d shells left", n)
	}
}
