package krbtest

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestKDCKinitAndKeytab(t *testing.T) {
	k := Start(t)
	if k.Realm() != DefaultRealm {
		t.Errorf("Realm() = %q, want %q", k.Realm(), DefaultRealm)
	}
	if host, _, err := net.SplitHostPort(k.KDCAddr()); err != nil || host != "127.0.0.1" {
		t.Errorf("KDCAddr() = %q, want 127.0.0.1:PORT", k.KDCAddr())
	}
	conf, err := os.ReadFile(k.Krb5Conf())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"default_realm = PSSESSION.TEST", "kdc = " + k.KDCAddr(), "rdns = false", "localhost = PSSESSION.TEST"} {
		if !strings.Contains(string(conf), want) {
			t.Errorf("krb5.conf lacks %q:\n%s", want, conf)
		}
	}

	alice := k.AddPrincipal("alice", "Secret-1 x")
	if alice != "alice@PSSESSION.TEST" {
		t.Errorf("AddPrincipal = %q", alice)
	}
	svc := k.AddRandomKeyPrincipal("HTTP/localhost")

	cc := k.Kinit(t, "alice", "Secret-1 x")
	out := k.Klist(t, "-c", "FILE:"+cc)
	for _, want := range []string{"Default principal: alice@PSSESSION.TEST", "krbtgt/PSSESSION.TEST@PSSESSION.TEST"} {
		if !strings.Contains(out, want) {
			t.Errorf("klist lacks %q:\n%s", want, out)
		}
	}

	// The keytab holds the service's AES keys and, thanks to -norandkey,
	// alice's password still works after her keys were exported.
	kt := k.Keytab(svc, "alice")
	out = k.Klist(t, "-k", "-e", kt)
	for _, want := range []string{
		"HTTP/localhost@PSSESSION.TEST (aes256-cts-hmac-sha1-96)",
		"HTTP/localhost@PSSESSION.TEST (aes128-cts-hmac-sha1-96)",
		"alice@PSSESSION.TEST (aes256-cts-hmac-sha1-96)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("klist -k lacks %q:\n%s", want, out)
		}
	}
	k.Kinit(t, "alice", "Secret-1 x")

	// kinit from the keytab, then a service ticket for HTTP/localhost with
	// kvno: the ticket decrypts with the keytab's key.
	cc2 := k.KinitKeytab(t, "alice", kt)
	kvno := exec.Command(lookup(t, "kvno"), "-k", kt, "HTTP/localhost")
	kvno.Env = append(k.Env(), "KRB5CCNAME=FILE:"+cc2)
	if b, err := kvno.CombinedOutput(); err != nil || !strings.Contains(string(b), "keytab entry valid") {
		t.Errorf("kvno -k: %v\n%s", err, b)
	}

	// The KDC logged the exchanges, pre-authentication first (principals
	// require it by default, as in Active Directory).
	for _, want := range []string{"NEEDED_PREAUTH", "ISSUE: authtime", "TGS_REQ"} {
		if l := k.Log(); !strings.Contains(l, want) {
			t.Errorf("KDC log lacks %q:\n%s", want, l)
		}
	}
}

func TestKDCWrongPasswordAndStop(t *testing.T) {
	k := Start(t, WithRealm("OTHER.TEST"))
	k.AddPrincipal("bob", "right")
	kinit := func() (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, lookup(t, "kinit"), "-c", "FILE:"+filepath.Join(t.TempDir(), "cc"), "bob")
		cmd.Env = k.Env()
		cmd.Stdin = strings.NewReader("wrong\n")
		b, err := cmd.CombinedOutput()
		return string(b), err
	}
	out, err := kinit()
	if err == nil || !strings.Contains(out, "Password incorrect") {
		t.Errorf("kinit with a wrong password: %v\n%s", err, out)
	}
	k.Stop()
	k.Stop()
	out, err = kinit()
	if err == nil || !strings.Contains(out, "Cannot contact any KDC") {
		t.Errorf("kinit after Stop: %v\n%s", err, out)
	}
}

// TestEnvIgnoresCallerKerberosVariables checks that a caller's KRB5
// variables (a developer's own ccache, say) do not leak into children.
func TestEnvIgnoresCallerKerberosVariables(t *testing.T) {
	t.Setenv("KRB5CCNAME", "FILE:/nonexistent/theirs")
	t.Setenv("KRB5_CONFIG", "/nonexistent/krb5.conf")
	k := Start(t)
	var got []string
	for _, kv := range k.Env() {
		if strings.HasPrefix(kv, "KRB5") {
			got = append(got, kv)
		}
	}
	want := []string{
		"KRB5_CONFIG=" + k.Krb5Conf(),
		"KRB5_KDC_PROFILE=" + filepath.Join(k.Dir(), "kdc.conf"),
		"KRB5CCNAME=FILE:" + filepath.Join(k.Dir(), "default.ccache"),
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Env KRB5 variables (-want +got):\n%s", d)
	}
}

func lookup(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestKDCOptions(t *testing.T) {
	tests := []struct {
		name        string
		opts        []Option
		wantKeytab  string // in klist -k -e
		wantSession string // session key type of an HTTP/localhost ticket in klist -e
		wantPreauth bool
	}{
		{"defaults", nil, "(aes256-cts-hmac-sha1-96)", "Etype (skey, tkt): aes256-cts-hmac-sha1-96, aes256-cts-hmac-sha1-96", true},
		// RC4 session keys need allow_rc4 on Debian's KDC (CVE-2025-3576
		// backport); a client that asks for RC4 only gets one.
		{"rc4 without preauth", []Option{WithEnctypes("arcfour-hmac"), WithoutPreauth()}, "(DEPRECATED:arcfour-hmac)",
			"Etype (skey, tkt): DEPRECATED:arcfour-hmac, DEPRECATED:arcfour-hmac", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := Start(t, tc.opts...)
			k.AddPrincipal("carol", "pw")
			cc := k.Kinit(t, "carol", "pw")
			if out := k.Klist(t, "-k", "-e", k.Keytab("carol")); !strings.Contains(out, tc.wantKeytab) {
				t.Errorf("klist -k lacks %q:\n%s", tc.wantKeytab, out)
			}
			k.AddRandomKeyPrincipal("HTTP/localhost")
			args := []string{"-c", "FILE:" + cc}
			if strings.Contains(tc.wantSession, "arcfour") {
				args = append(args, "-e", "arcfour-hmac")
			}
			kvno := exec.Command(lookup(t, "kvno"), append(args, "HTTP/localhost")...)
			kvno.Env = k.Env()
			if b, err := kvno.CombinedOutput(); err != nil {
				t.Fatalf("kvno: %v\n%s", err, b)
			}
			if out := k.Klist(t, "-e", "-c", "FILE:"+cc); !strings.Contains(out, tc.wantSession) {
				t.Errorf("klist -e lacks %q:\n%s", tc.wantSession, out)
			}
			if got := strings.Contains(k.Log(), "NEEDED_PREAUTH"); got != tc.wantPreauth {
				t.Errorf("pre-authentication asked for: %v, want %v\n%s", got, tc.wantPreauth, k.Log())
			}
		})
	}
}

// TestStartKDCPortTaken checks that a port taken between picking and
// binding is recognised, so that Start retries with another.
func TestStartKDCPortTaken(t *testing.T) {
	k, o := newRealm(t, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := k.writeKDCConf(o, ln.Addr().String()); err != nil {
		t.Fatal(err)
	}
	if err := k.startKDC(ln.Addr().String()); !errors.Is(err, errAddrInUse) {
		t.Fatalf("startKDC on a taken port: %v, want errAddrInUse", err)
	}
}
