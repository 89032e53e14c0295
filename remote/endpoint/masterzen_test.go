package endpoint

import (
	"context"
	"encoding/pem"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/masterzen/winrm"
	"github.com/pssession/pssession/remote/wsman/transport"
)

// runMasterzen runs the same commands as the pywinrm test through
// masterzen/winrm's WinRS client.
func runMasterzen(t *testing.T, client *winrm.Client) [][]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out [][]any
	for _, run := range []func() (string, string, int, error){
		func() (string, string, int, error) { return client.RunCmdWithContext(ctx, "echo hello") },
		func() (string, string, int, error) { return client.RunCmdWithContext(ctx, "echo oops >&2; exit 3") },
		func() (string, string, int, error) {
			return client.RunPSWithContext(ctx, `Write-Output hi; Write-Output "two words"`)
		},
	} {
		stdout, stderr, code, err := run()
		if err != nil {
			t.Fatalf("masterzen/winrm: %v", err)
		}
		out = append(out, []any{stdout, stderr, float64(code)})
	}
	return out
}

func hostPort(t *testing.T, raw string) (string, int) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		t.Fatal(err)
	}
	return u.Hostname(), port
}

func TestMasterzenBasicOverHTTPS(t *testing.T) {
	srv := newAuthServer(t, transport.ServerConfig{Users: map[string]string{"vagrant": "Passw0rd!"}, Schemes: []string{"basic"}}, true)
	host, port := hostPort(t, srv.URL)
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	client, err := winrm.NewClient(winrm.NewEndpoint(host, port, true, false, ca, nil, nil, 30*time.Second), "vagrant", "Passw0rd!")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(pywinrmWant, runMasterzen(t, client)); d != "" {
		t.Fatalf("(-want +got):\n%s", d)
	}
}

func TestMasterzenNTLMEncryptedOverHTTP(t *testing.T) {
	srv := newAuthServer(t, transport.ServerConfig{Users: map[string]string{"vagrant": "Passw0rd!"}, Schemes: []string{"negotiate"}}, false)
	host, port := hostPort(t, srv.URL)
	params := *winrm.DefaultParameters
	params.TransportDecorator = func() winrm.Transporter {
		enc, err := winrm.NewEncryption("ntlm")
		if err != nil {
			t.Fatal(err)
		}
		return enc
	}
	client, err := winrm.NewClientWithParameters(winrm.NewEndpoint(host, port, false, false, nil, nil, nil, 30*time.Second), "vagrant", "Passw0rd!", &params)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(pywinrmWant, runMasterzen(t, client)); d != "" {
		t.Fatalf("(-want +got):\n%s", d)
	}
}
