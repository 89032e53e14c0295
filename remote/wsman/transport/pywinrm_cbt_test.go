package transport

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pssession/pssession/internal/testcert"
)

// pywinrmCBTScript posts one message over HTTPS with NTLM; argv[5] is
// send_cbt ("1" or "0").
const pywinrmCBTScript = `
import sys
from winrm.transport import Transport
t = Transport(endpoint=sys.argv[1], username=sys.argv[2], password=sys.argv[3],
              auth_method="ntlm", message_encryption="auto", ca_trust_path=sys.argv[4],
              server_cert_validation="validate", send_cbt=sys.argv[5] == "1")
print(t.send_message("<s:Envelope>cbt</s:Envelope>").decode())
`

// TestServerPywinrmRequireChannelBinding: Debian's python3-winrm (third
// party) with and without channel bindings against a server that requires
// them (CbtHardeningLevel=Strict) and one that does not.
func TestServerPywinrmRequireChannelBinding(t *testing.T) {
	if err := exec.Command("/usr/bin/python3", "-c", "import winrm, requests_ntlm").Run(); err != nil {
		t.Skip("python3-winrm / python3-requests-ntlm not installed")
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "openssl.cnf") // MD4 needs OpenSSL 3's legacy provider
	if err := os.WriteFile(conf, []byte("openssl_conf = init\n[init]\nproviders = prov\n[prov]\ndefault = def\nlegacy = leg\n[def]\nactivate = 1\n[leg]\nactivate = 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "cbt.py")
	if err := os.WriteFile(script, []byte(pywinrmCBTScript), 0o600); err != nil {
		t.Fatal(err)
	}
	strict, strictCA := certServer(t, ServerConfig{RequireChannelBinding: true})
	relaxed, relaxedCA := certServer(t, ServerConfig{})
	tests := []struct {
		name, url, ca, cbt string
		ok                 bool
	}{
		{"strict, with bindings", strict.URL, strictCA, "1", true},
		{"strict, without bindings", strict.URL, strictCA, "0", false},
		{"relaxed, without bindings", relaxed.URL, relaxedCA, "0", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, "/usr/bin/python3", script, tt.url+"/wsman", "bob", "hunter2", tt.ca, tt.cbt)
			cmd.Env = append(os.Environ(), "OPENSSL_CONF="+conf)
			out, err := cmd.CombinedOutput()
			if tt.ok {
				if err != nil || strings.TrimSpace(string(out)) != `<echo user="bob"><s:Envelope>cbt</s:Envelope></echo>` {
					t.Fatalf("pywinrm: %v\n%s", err, out)
				}
				return
			}
			if err == nil || !strings.Contains(string(out), "401") {
				t.Errorf("pywinrm: err %v, want a 401 failure\n%s", err, out)
			}
		})
	}
}

// pywinrmCertScript posts one message with certificate authentication.
const pywinrmCertScript = `
import sys
from winrm.transport import Transport
t = Transport(endpoint=sys.argv[1], username="", password="", auth_method="certificate",
              cert_pem=sys.argv[2], cert_key_pem=sys.argv[3], ca_trust_path=sys.argv[4],
              server_cert_validation="validate")
print(t.send_message("<s:Envelope>cert</s:Envelope>").decode())
`

// TestServerPywinrmCertificate: pywinrm's certificate authentication
// (third party) against ServerAuth's certificate mappings.
func TestServerPywinrmCertificate(t *testing.T) {
	if err := exec.Command("/usr/bin/python3", "-c", "import winrm").Run(); err != nil {
		t.Skip("python3-winrm not installed")
	}
	ca := testcert.NewCA(t, "pywinrm CA")
	alice := ca.Issue(t, "alice", "alice@lab.test")
	nobody := ca.Issue(t, "nobody", "")
	srv, srvCA := certServer(t, ServerConfig{ClientCAs: ca.Pool(),
		CertMappings: []CertMapping{{UPN: "alice@lab.test", User: `LAB\alice`}}})
	dir := t.TempDir()
	script := filepath.Join(dir, "cert.py")
	if err := os.WriteFile(script, []byte(pywinrmCertScript), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		cert *testcert.Client
		ok   bool
	}{{"mapped", alice, true}, {"unmapped", nobody, false}} {
		t.Run(tt.name, func(t *testing.T) {
			d := filepath.Join(dir, tt.name)
			if err := os.Mkdir(d, 0o700); err != nil {
				t.Fatal(err)
			}
			cf, kf := tt.cert.WriteFiles(t, d)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, "/usr/bin/python3", script, srv.URL+"/wsman", cf, kf, srvCA).CombinedOutput()
			if tt.ok {
				if err != nil || strings.TrimSpace(string(out)) != `<echo user="LAB\alice"><s:Envelope>cert</s:Envelope></echo>` {
					t.Fatalf("pywinrm: %v\n%s", err, out)
				}
				return
			}
			if err == nil || !strings.Contains(string(out), "401") {
				t.Errorf("pywinrm: err %v, want a 401 failure\n%s", err, out)
			}
		})
	}
}
