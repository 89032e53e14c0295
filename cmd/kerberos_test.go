package cmd

import (
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/pflag"

	"github.com/pssession/pssession/internal/krbtest"
	"github.com/pssession/pssession/internal/store"
	"github.com/pssession/pssession/shell"
)

// TestKerberosCLI: `pssession serve --keytab` and `pssession invoke` with
// Kerberos against a real MIT KDC, in process: credentials from the
// password and from kinit's cache, and the exit statuses of failures.
func TestKerberosCLI(t *testing.T) {
	k := krbtest.Start(t)
	const password = "Alice-Pw-1"
	alice := k.AddPrincipal("alice", password)
	k.AddRandomKeyPrincipal("HTTP/localhost")
	raw, _, _ := startServe(t, "--keytab", k.Keytab("HTTP/localhost"), "--spn", "HTTP/localhost@"+k.Realm())
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	target := "localhost:" + u.Port()
	ip := "127.0.0.1:" + u.Port()
	cc := k.Kinit(t, "alice", password)
	t.Setenv("KRB5CCNAME", "FILE:"+cc)
	t.Setenv("KRB5_CONFIG", k.Krb5Conf())

	tests := []struct {
		name     string
		password string
		args     []string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{name: "kerberos with password", password: password,
			args: []string{"invoke", target, "-u", alice, "--auth", "kerberos", "--krb5-conf", k.Krb5Conf(), "-c", "Write-Output hi"}, wantOut: "hi\n"},
		{name: "negotiate with kinit's ticket", args: []string{"invoke", target, "-c", "Write-Output from-ccache"}, wantOut: "from-ccache\n"},
		{name: "kerberos with an SPN to an IP address", args: []string{"invoke", ip, "--auth", "kerberos", "--spn", "HTTP/localhost", "-c", "Write-Output by-ip"},
			wantOut: "by-ip\n"},
		{name: "wrong password", password: "wrong", args: []string{"invoke", target, "-u", alice, "--auth", "kerberos", "-c", "Write-Output never"},
			wantCode: ExitConnection, wantErr: "refused the password of " + alice},
		{name: "unknown service principal", args: []string{"invoke", target, "--auth", "kerberos", "--spn", "HTTP/elsewhere", "-c", "Write-Output never"},
			wantCode: ExitConnection, wantErr: "does not know the service principal HTTP/elsewhere"},
		{name: "kerberos to an IP address", args: []string{"invoke", ip, "--auth", "kerberos", "-c", "Write-Output never"},
			wantCode: ExitConnection, wantErr: "Kerberos needs the server's host name; 127.0.0.1 is an IP address: use the FQDN, or --auth ntlm / negotiate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			io, _, out, errOut := shell.Test()
			env := map[string]string{"PSSESSION_PASSWORD": tt.password, "XDG_STATE_HOME": t.TempDir(), "XDG_CONFIG_HOME": t.TempDir()}
			f := &Factory{IO: io, Getenv: func(k string) string { return env[k] }}
			code := Execute(f, tt.args)
			if code != tt.wantCode || out.String() != tt.wantOut || !strings.Contains(errOut.String(), tt.wantErr) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d, stdout %q, stderr containing %q",
					code, out, errOut, tt.wantCode, tt.wantOut, tt.wantErr)
			}
		})
	}
}

func TestServeAuthSchemes(t *testing.T) {
	tests := []struct {
		list          []string
		users, keytab bool
		want          []string
		wantErr       bool
	}{
		{want: nil},
		{users: true, want: []string{"basic", "negotiate"}},
		{keytab: true, want: []string{"kerberos"}},
		{users: true, keytab: true, want: []string{"basic", "negotiate", "kerberos"}},
		{list: []string{"NTLM", "Kerberos"}, users: true, keytab: true, want: []string{"negotiate", "kerberos"}},
		{list: []string{"digest"}, wantErr: true},
		// Certificate alone must not widen to the defaults (nor, without
		// users, to an anonymous endpoint).
		{list: []string{"certificate"}, users: true, keytab: true, want: []string{"certificate"}},
		{list: []string{"certificate"}, want: []string{"certificate"}},
	}
	for _, tt := range tests {
		got, err := authSchemes(tt.list, tt.users, tt.keytab)
		if (err != nil) != tt.wantErr {
			t.Errorf("authSchemes(%q, %v, %v) error %v", tt.list, tt.users, tt.keytab, err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("authSchemes(%q, %v, %v) (-want +got)\n%s", tt.list, tt.users, tt.keytab, diff)
		}
	}
}

func TestServeKerberosUsageErrors(t *testing.T) {
	for name, args := range map[string][]string{
		"spn without keytab":            {"serve", "--spn", "HTTP/localhost"},
		"kerberos without keytab":       {"serve", "--auth", "kerberos"},
		"basic with a keytab, no users": {"serve", "--auth", "basic", "--keytab", "x.keytab"},
		"missing keytab":                {"serve", "--keytab", "/nonexistent/x.keytab"},
	} {
		t.Run(name, func(t *testing.T) {
			io, _, _, errOut := shell.Test()
			if code := Execute(&Factory{IO: io, Getenv: func(string) string { return "" }}, args); code != ExitUsage {
				t.Fatalf("exit %d, stderr %s", code, errOut)
			}
		})
	}
}

func TestKerberosWithoutPasswordPrompt(t *testing.T) {
	tests := []struct {
		o    ConnOptions
		want bool
	}{
		{o: ConnOptions{Auth: "negotiate"}, want: true},
		{o: ConnOptions{Auth: "kerberos"}, want: true},
		{o: ConnOptions{Auth: "kerberos", User: "alice@R", Keytab: "k"}, want: true},
		{o: ConnOptions{Auth: "kerberos", User: "alice@R"}, want: false},
		{o: ConnOptions{Auth: "ntlm"}, want: false},
		{o: ConnOptions{Auth: "basic", Keytab: "k"}, want: false},
	}
	for _, tt := range tests {
		if got := tt.o.kerberosWithoutPassword(); got != tt.want {
			t.Errorf("%+v: %v, want %v", tt.o, got, tt.want)
		}
	}
}

// TestSavedKerberosOptions: a saved session brings back its SPN, keytab
// and krb5.conf paths (never key material), so reconnecting needs no flags.
func TestSavedKerberosOptions(t *testing.T) {
	rec := store.Session{URL: "http://web01.corp.example:5985/wsman", Auth: "kerberos", User: "alice@CORP.EXAMPLE",
		SPN: "HTTP/web01.corp.example", Keytab: "/home/alice/alice.keytab", Krb5Conf: "/etc/krb5-corp.conf"}
	got := savedConn(rec, ConnOptions{Auth: "negotiate"})
	want := [4]string{"kerberos", "HTTP/web01.corp.example", "/home/alice/alice.keytab", "/etc/krb5-corp.conf"}
	if diff := cmp.Diff(want, [4]string{got.Auth, got.SPN, got.Keytab, got.Krb5Conf}); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	if !got.kerberosWithoutPassword() {
		t.Error("a saved session with a keytab would prompt for a password")
	}
}

func TestAbsPath(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]string{"": "", "/etc/krb5.conf": "/etc/krb5.conf", "alice.keytab": filepath.Join(wd, "alice.keytab")} {
		if got := absPath(in); got != want {
			t.Errorf("absPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestKerberosCLIChannelBinding: `serve --tls --keytab
// --require-channel-binding` accepts pssession's Kerberos client, which
// binds its authenticator to the served certificate.
func TestKerberosCLIChannelBinding(t *testing.T) {
	k := krbtest.Start(t)
	const password = "Alice-Pw-1"
	alice := k.AddPrincipal("alice", password)
	k.AddRandomKeyPrincipal("HTTP/localhost")
	raw, pre, _ := startServe(t, "--tls", "--keytab", k.Keytab("HTTP/localhost"), "--require-channel-binding")
	m := regexp.MustCompile(`--ca-file (\S+)`).FindStringSubmatch(strings.Join(pre, "\n"))
	if m == nil {
		t.Fatalf("no certificate path in %q", pre)
	}
	t.Cleanup(func() { os.Remove(m[1]) })
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = "localhost:" + u.Port()
	for _, auth := range []string{"kerberos", "negotiate"} {
		t.Run(auth, func(t *testing.T) {
			io, _, out, errOut := shell.Test()
			env := map[string]string{"PSSESSION_PASSWORD": password, "XDG_STATE_HOME": t.TempDir(), "XDG_CONFIG_HOME": t.TempDir()}
			f := &Factory{IO: io, Getenv: func(k string) string { return env[k] }}
			code := Execute(f, []string{"invoke", u.String(), "-u", alice, "--auth", auth, "--krb5-conf", k.Krb5Conf(), "--ca-file", m[1], "-c", "Write-Output bound"})
			if code != ExitOK || out.String() != "bound\n" {
				t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
			}
		})
	}
}

// TestConfigKerberosKeys: spn, keytab and krb5-conf in the configuration
// file, per host, with ~ expanded in the paths.
func TestConfigKerberosKeys(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "config")
	conf := "Host web1.corp.example\n  auth kerberos\n  spn WSMAN/web1.corp.example\n  keytab ~/alice.keytab\n  krb5-conf ~/krb5.conf\n"
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"PSSESSION_CONFIG": cfg, "HOME": "/home/u"}
	io, _, _, _ := shell.Test()
	f := &Factory{IO: io, Getenv: func(k string) string { return env[k] }}
	var got ConnOptions
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	got.AddFlags(fs)
	if err := ApplyConfig(f, fs, &got, "web1.corp.example"); err != nil {
		t.Fatal(err)
	}
	want := [4]string{"kerberos", "WSMAN/web1.corp.example", "/home/u/alice.keytab", "/home/u/krb5.conf"}
	if diff := cmp.Diff(want, [4]string{got.Auth, got.SPN, got.Keytab, got.Krb5Conf}); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
}
