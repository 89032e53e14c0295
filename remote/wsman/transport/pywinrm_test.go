package transport

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// pywinrmScript posts two messages through pywinrm's Transport (NTLM via
// requests-ntlm, message encryption "auto" = on over HTTP) and prints the
// decrypted replies.
const pywinrmScript = `
import sys
from winrm.transport import Transport
ca = sys.argv[4] if len(sys.argv) > 4 else None
t = Transport(endpoint=sys.argv[1], username=sys.argv[2], password=sys.argv[3],
              auth_method="ntlm", message_encryption="auto", ca_trust_path=ca,
              server_cert_validation="validate" if ca else "ignore")
for m in ("<s:Envelope>one</s:Envelope>", "<s:Envelope>two</s:Envelope>"):
    print(t.send_message(m).decode())
`

// TestServerPywinrmNTLM: Debian's python3-winrm (third party) with NTLM
// message encryption against ServerAuth.
func TestServerPywinrmNTLM(t *testing.T) {
	if err := exec.Command("/usr/bin/python3", "-c", "import winrm, requests_ntlm").Run(); err != nil {
		t.Skip("python3-winrm / python3-requests-ntlm not installed")
	}
	srv, log := startServer(t, echoHandler(), ServerConfig{}, false)
	dir := t.TempDir()
	// OpenSSL 3 provides MD4 only through the legacy provider.
	conf := filepath.Join(dir, "openssl.cnf")
	if err := os.WriteFile(conf, []byte("openssl_conf = init\n[init]\nproviders = prov\n[prov]\ndefault = def\nlegacy = leg\n[def]\nactivate = 1\n[leg]\nactivate = 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "post.py")
	if err := os.WriteFile(script, []byte(pywinrmScript), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/usr/bin/python3", script, srv.URL+"/wsman", `TESTDOM\alice`, "Secret123!")
	cmd.Env = append(os.Environ(), "OPENSSL_CONF="+conf)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("pywinrm: %v\n%s", err, out)
	}
	want := `<echo user="TESTDOM\alice"><s:Envelope>one</s:Envelope></echo>` + "\n" + `<echo user="TESTDOM\alice"><s:Envelope>two</s:Envelope></echo>`
	if diff := cmp.Diff(want, strings.TrimSpace(string(out))); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	if got := log.encryptedCount(); got != 2 {
		t.Errorf("%d encrypted requests on the wire, want 2", got)
	}

	// Over HTTPS pywinrm sends no sealed bodies but channel bindings
	// (send_cbt), which ServerAuth checks against its certificate.
	tlsSrv, ca := tlsServer(t, echoHandler(), ServerConfig{})
	cmd = exec.CommandContext(ctx, "/usr/bin/python3", script, tlsSrv.URL+"/wsman", "bob", "hunter2", ca)
	cmd.Env = append(os.Environ(), "OPENSSL_CONF="+conf)
	out, err = cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("pywinrm over HTTPS: %v\n%s", err, out)
	}
	want = `<echo user="bob"><s:Envelope>one</s:Envelope></echo>` + "\n" + `<echo user="bob"><s:Envelope>two</s:Envelope></echo>`
	if diff := cmp.Diff(want, strings.TrimSpace(string(out))); diff != "" {
		t.Errorf("HTTPS (-want +got)\n%s", diff)
	}

	// Bindings of a different certificate (TLS interception) are refused.
	elsewhere, _, err := SelfSignedCert("elsewhere.example")
	if err != nil {
		t.Fatal(err)
	}
	mitm, mitmCA := tlsServer(t, echoHandler(), ServerConfig{ChannelBindingCert: elsewhere.Leaf})
	cmd = exec.CommandContext(ctx, "/usr/bin/python3", script, mitm.URL+"/wsman", "bob", "hunter2", mitmCA)
	cmd.Env = append(os.Environ(), "OPENSSL_CONF="+conf)
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "401") {
		t.Errorf("pywinrm with mismatched channel bindings: err %v, want a 401 failure\n%s", err, out)
	}
}
