package cmd

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pssession/pssession/internal/krbtest"
)

// TestServePywinrmKerberos: a third-party client, pywinrm with
// transport='kerberos' and kinit's ticket, runs a WinRS command against
// `pssession serve --keytab`. Debian's pykerberos cannot seal, so serve
// allows unsealed bodies here (remote/endpoint tests HTTPS and the refusal).
func TestServePywinrmKerberos(t *testing.T) {
	if testing.Short() {
		t.Skip("runs python3 and a KDC")
	}
	if err := exec.Command("/usr/bin/python3", "-c", "import winrm, requests_kerberos").Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("python3-winrm and python3-requests-kerberos are required in CI: %v", err)
		}
		t.Skipf("/usr/bin/python3 lacks winrm or requests_kerberos: %v", err)
	}
	k := krbtest.Start(t)
	alice := k.AddPrincipal("alice", "Alice-Pw-1")
	spn := k.AddRandomKeyPrincipal("HTTP/localhost")
	raw, _, serveErr := startServe(t, "--keytab", k.Keytab(spn), "--allow-unencrypted", "--verbose")
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = "localhost:" + u.Port() // the SPN comes from the host name

	const script = `
import sys, winrm
s = winrm.Session(sys.argv[1], auth=(sys.argv[2], ''), transport='kerberos')
r = s.run_cmd('echo', ['served', 'by', 'kerberos'])
sys.stdout.write('%s|%s|%d' % (r.std_out.decode(), r.std_err.decode(), r.status_code))
`
	path := filepath.Join(t.TempDir(), "client.py")
	if err := os.WriteFile(path, []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/usr/bin/python3", path, u.String(), alice)
	cmd.Env = append(k.Env(), "KRB5CCNAME=FILE:"+k.Kinit(t, "alice", "Alice-Pw-1"))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pywinrm: %v\n%s", err, stderr.String())
	}
	if got, want := string(out), "served by kerberos\n||0"; got != want {
		t.Errorf("pywinrm printed %q, want %q", got, want)
	}
	// serve --verbose logs whom it served: the Command came from alice
	// (logged before its response, so before pywinrm went on).
	for _, want := range []string{`msg="Kerberos authenticated"`, "action=Command user=" + alice} {
		if !strings.Contains(serveErr.String(), want) {
			t.Errorf("serve stderr lacks %q:\n%s", want, serveErr)
		}
	}
}
