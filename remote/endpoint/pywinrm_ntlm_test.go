package endpoint

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pssession/pssession/remote/wsman/transport"
)

// opensslLegacyConf activates OpenSSL 3's legacy provider next to the
// default one so that pywinrm's NTLM can compute MD4 (shared/DESIGN.md §6).
const opensslLegacyConf = `openssl_conf = openssl_init
[openssl_init]
providers = provider_sect
[provider_sect]
default = default_sect
legacy = legacy_sect
[default_sect]
activate = 1
[legacy_sect]
activate = 1
`

func TestPywinrmNTLMEncryptedOverHTTP(t *testing.T) {
	needPywinrm(t)
	srv := newAuthServer(t, transport.ServerConfig{
		Users: map[string]string{`WORKGROUP\vagrant`: "Passw0rd!"}, Schemes: []string{"negotiate"}}, false)
	conf := filepath.Join(t.TempDir(), "openssl.cnf")
	if err := os.WriteFile(conf, []byte(opensslLegacyConf), 0o600); err != nil {
		t.Fatal(err)
	}
	got := runPywinrm(t, srv.URL+"/wsman", "ntlm", `WORKGROUP\vagrant`, "Passw0rd!", "", "OPENSSL_CONF="+conf)
	if d := cmp.Diff(pywinrmWant, got); d != "" {
		t.Fatalf("pywinrm results (-want +got):\n%s", d)
	}
}
