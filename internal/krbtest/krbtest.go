// Package krbtest is test support: it runs a real MIT Kerberos KDC (Debian's
// krb5-kdc, krb5-admin-server and krb5-user) on loopback in a throwaway
// realm, so that Kerberos code is tested against the real thing
// (shared/PROTOCOL.md §6.8).
//
// Everything lives in t.TempDir(): the database, kdc.conf, krb5.conf,
// keytabs and credential caches. Child processes get KRB5_CONFIG,
// KRB5_KDC_PROFILE and KRB5CCNAME pointing there, so /etc/krb5.conf and the
// user's own ccache are neither read nor changed. The KDC is killed in
// t.Cleanup.
//
// When the binaries are missing, Start skips the test, except when CI is
// set: CI installs the packages (.ci/run) and must not skip.
package krbtest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// DefaultRealm is the realm Start creates unless WithRealm says otherwise.
const DefaultRealm = "PSSESSION.TEST"

// DefaultEnctypes are the key types the KDC gives principals unless
// WithEnctypes says otherwise: the AES types Windows domains use.
var DefaultEnctypes = []string{"aes256-cts-hmac-sha1-96", "aes128-cts-hmac-sha1-96"}

// startTimeout bounds each wait for an external program.
const startTimeout = 30 * time.Second

// Option configures Start.
type Option func(*options)

type options struct {
	realm    string
	enctypes []string
	preauth  bool
}

// WithRealm names the realm (upper case by convention).
func WithRealm(realm string) Option { return func(o *options) { o.realm = realm } }

// WithEnctypes sets the key types of new principals, as MIT names them
// ("aes256-cts-hmac-sha1-96", "arcfour-hmac", ...), strongest first.
func WithEnctypes(enctypes ...string) Option {
	return func(o *options) { o.enctypes = append([]string(nil), enctypes...) }
}

// WithoutPreauth lets new principals get tickets without
// pre-authentication. By default principals require it, as in Active
// Directory, so clients must handle KDC_ERR_PREAUTH_REQUIRED.
func WithoutPreauth() Option { return func(o *options) { o.preauth = false } }

// KDC is a running MIT KDC on 127.0.0.1 with its own realm.
type KDC struct {
	t        testing.TB // Start's; AddPrincipal, Keytab, ... fail it
	realm    string
	dir      string
	kdcConf  string
	krb5Conf string
	addr     string
	bins     binaries

	cmd     *exec.Cmd
	done    chan struct{} // closed when the KDC process has exited
	stopped sync.Once

	logMu sync.Mutex
	log   bytes.Buffer // the KDC's own log (stderr); no secrets
}

type binaries struct {
	krb5kdc, kdb5Util, kadminLocal, kinit, klist string
}

// Start creates a realm, starts krb5kdc on a free loopback port, and
// returns once the KDC is serving.
func Start(t testing.TB, opts ...Option) *KDC {
	t.Helper()
	k, o := newRealm(t, opts)
	const attempts = 5
	for i := 1; ; i++ {
		addr, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		if err := k.writeKDCConf(o, addr); err != nil {
			t.Fatal(err)
		}
		if err := k.writeKrb5Conf(o, addr); err != nil {
			t.Fatal(err)
		}
		err = k.startKDC(addr)
		if err == nil {
			break
		}
		// Someone took the port between freePort and krb5kdc's bind.
		if !errors.Is(err, errAddrInUse) || i == attempts {
			t.Fatalf("krbtest: %v", err)
		}
	}
	return k
}

// newRealm finds the programs and creates the realm's database; the
// database does not depend on the KDC's port.
func newRealm(t testing.TB, opts []Option) (*KDC, options) {
	t.Helper()
	o := options{realm: DefaultRealm, enctypes: DefaultEnctypes, preauth: true}
	for _, opt := range opts {
		opt(&o)
	}
	bins, err := findBinaries()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("krbtest: %v (CI must install krb5-kdc krb5-admin-server krb5-user)", err)
		}
		t.Skipf("krbtest: %v; install Debian packages krb5-kdc krb5-admin-server krb5-user", err)
	}
	dir := t.TempDir()
	k := &KDC{
		t:        t,
		realm:    o.realm,
		dir:      dir,
		kdcConf:  filepath.Join(dir, "kdc.conf"),
		krb5Conf: filepath.Join(dir, "krb5.conf"),
		bins:     bins,
	}
	t.Cleanup(func() {
		k.Stop()
		if t.Failed() {
			t.Logf("krbtest: KDC log:\n%s", k.Log())
		}
	})
	// kdb5_util and kadmin.local read both files; the KDC's port comes
	// later.
	if err := k.writeKDCConf(o, "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	if err := k.writeKrb5Conf(o, "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	if _, err := k.run(nil, k.bins.kdb5Util, "-r", k.realm, "create", "-s", "-P", randomPassword()); err != nil {
		t.Fatalf("krbtest: create realm database: %v", err)
	}
	return k, o
}

func findBinaries() (binaries, error) {
	var b binaries
	var missing []string
	for _, f := range []struct {
		name string
		dst  *string
	}{
		{"krb5kdc", &b.krb5kdc},
		{"kdb5_util", &b.kdb5Util},
		{"kadmin.local", &b.kadminLocal},
		{"kinit", &b.kinit},
		{"klist", &b.klist},
	} {
		p, err := exec.LookPath(f.name)
		if err != nil {
			for _, d := range []string{"/usr/sbin", "/usr/bin", "/sbin"} {
				if st, serr := os.Stat(filepath.Join(d, f.name)); serr == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
					p, err = filepath.Join(d, f.name), nil
					break
				}
			}
		}
		if err != nil {
			missing = append(missing, f.name)
			continue
		}
		*f.dst = p
	}
	if len(missing) > 0 {
		return b, fmt.Errorf("MIT Kerberos programs not found: %s", strings.Join(missing, ", "))
	}
	return b, nil
}

// freePort asks the kernel for a loopback port that is free for TCP and UDP
// right now. The KDC binds it a moment later; Start retries on the race.
func freePort() (string, error) {
	for range 10 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", fmt.Errorf("krbtest: pick a port: %w", err)
		}
		addr := ln.Addr().String()
		pc, err := net.ListenPacket("udp", addr)
		ln.Close()
		if err != nil {
			continue // UDP side taken; try another
		}
		pc.Close()
		return addr, nil
	}
	return "", errors.New("krbtest: pick a port: no port free for both TCP and UDP")
}

func randomPassword() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

func (k *KDC) writeKDCConf(o options, addr string) error {
	var keysalts []string
	for _, e := range o.enctypes {
		keysalts = append(keysalts, e+":normal")
	}
	flags := ""
	if o.preauth {
		flags = "  default_principal_flags = +preauth\n"
	}
	conf := fmt.Sprintf(`[kdcdefaults]
 kdc_listen = %[1]s
 kdc_tcp_listen = %[1]s

[realms]
 %[2]s = {
  database_name = %[3]s
  key_stash_file = %[4]s
  acl_file = %[5]s
  max_life = 10h
  max_renewable_life = 7d
  supported_enctypes = %[6]s
%[7]s }

[plugins]
 kdcpreauth = {
  disable = spake
 }

[logging]
 kdc = STDERR
 admin_server = FILE:%[8]s
 default = STDERR
`, addr, k.realm, filepath.Join(k.dir, "principal"), filepath.Join(k.dir, "stash"),
		filepath.Join(k.dir, "kadm5.acl"), strings.Join(keysalts, " "), flags,
		filepath.Join(k.dir, "kadmin.log"))
	if err := os.WriteFile(k.kdcConf, []byte(conf), 0o600); err != nil {
		return fmt.Errorf("krbtest: write kdc.conf: %w", err)
	}
	return nil
}

// writeKrb5Conf writes the krb5.conf that clients and the KDC itself read
// (the KDC at startup: allow_rc4 and allow_des3 are KDC settings too).
func (k *KDC) writeKrb5Conf(o options, addr string) error {
	var allow string
	for _, e := range o.enctypes {
		switch {
		case strings.HasPrefix(e, "arcfour") || strings.HasPrefix(e, "rc4"):
			// Debian's backport of "Don't issue session keys with
			// deprecated enctypes" (CVE-2025-3576) needs this for RC4.
			allow += " allow_rc4 = true\n"
		case strings.HasPrefix(e, "des3"):
			allow += " allow_des3 = true\n"
		}
	}
	conf := fmt.Sprintf(`[libdefaults]
 default_realm = %[1]s
 dns_lookup_kdc = false
 dns_lookup_realm = false
 dns_canonicalize_hostname = false
 rdns = false
 udp_preference_limit = 1
 default_ccache_name = FILE:%[3]s
 forwardable = true
%[4]s
[realms]
 %[1]s = {
  kdc = %[2]s
 }

[domain_realm]
 localhost = %[1]s
 localhost.localdomain = %[1]s
 .localdomain = %[1]s
 .localhost = %[1]s
`, k.realm, addr, filepath.Join(k.dir, "default.ccache"), allow)
	if err := os.WriteFile(k.krb5Conf, []byte(conf), 0o600); err != nil {
		return fmt.Errorf("krbtest: write krb5.conf: %w", err)
	}
	return nil
}

var errAddrInUse = errors.New("address already in use")

// startKDC runs krb5kdc in the foreground and waits for its "commencing
// operation" log line, or for it to exit.
func (k *KDC) startKDC(addr string) error {
	cmd := exec.Command(k.bins.krb5kdc, "-n", "-r", k.realm)
	cmd.Env = k.Env()
	cmd.Dir = k.dir
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return fmt.Errorf("start krb5kdc: %w", err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start krb5kdc: %w", err)
	}
	ready := make(chan struct{})
	done := make(chan struct{})
	var startLog bytes.Buffer // lines before readiness, for errors
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stderr)
		isReady := false
		for sc.Scan() {
			line := sc.Text()
			k.logMu.Lock()
			k.log.WriteString(line + "\n")
			if !isReady {
				startLog.WriteString(line + "\n")
			}
			k.logMu.Unlock()
			if !isReady && strings.Contains(line, "commencing operation") {
				isReady = true
				close(ready)
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
		_ = cmd.Wait()
	}()
	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case <-ready:
	case <-done:
		k.logMu.Lock()
		out := startLog.String()
		k.logMu.Unlock()
		if strings.Contains(out, "Address already in use") {
			return fmt.Errorf("krb5kdc on %s: %w", addr, errAddrInUse)
		}
		return fmt.Errorf("krb5kdc exited before serving (%v):\n%s", cmd.ProcessState, out)
	case <-timer.C:
		_ = cmd.Process.Kill()
		<-done
		k.logMu.Lock()
		out := startLog.String()
		k.logMu.Unlock()
		return fmt.Errorf("krb5kdc did not start within %v:\n%s", startTimeout, out)
	}
	// The log line follows the binds; a TCP connect confirms the port.
	c, err := net.DialTimeout("tcp", addr, startTimeout)
	if err != nil {
		_ = cmd.Process.Kill()
		<-done
		return fmt.Errorf("krb5kdc on %s: %w", addr, err)
	}
	c.Close()
	k.cmd, k.done, k.addr = cmd, done, addr
	return nil
}

// Stop kills the KDC and waits for it to exit; later requests to KDCAddr
// fail (for tests of an unreachable KDC). Start registers it with
// t.Cleanup; calling it again is harmless.
func (k *KDC) Stop() {
	k.stopped.Do(func() {
		if k.cmd == nil {
			return
		}
		_ = k.cmd.Process.Kill()
		<-k.done
	})
}

// Log returns what the KDC has logged so far (requests and their outcome,
// never keys).
func (k *KDC) Log() string {
	k.logMu.Lock()
	defer k.logMu.Unlock()
	return k.log.String()
}

// Realm is the realm name, e.g. "PSSESSION.TEST".
func (k *KDC) Realm() string { return k.realm }

// KDCAddr is the KDC's host:port on 127.0.0.1 (TCP and UDP).
func (k *KDC) KDCAddr() string { return k.addr }

// Krb5Conf is the path of a krb5.conf for this realm: default_realm, the
// KDC's address, no DNS, no reverse lookups, TCP first, and localhost in
// the realm (so the SPN of http://localhost:PORT is HTTP/localhost).
func (k *KDC) Krb5Conf() string { return k.krb5Conf }

// Dir is the KDC's private directory (inside t.TempDir()), for files a test
// wants to keep beside it.
func (k *KDC) Dir() string { return k.dir }

// Principal qualifies name with the realm unless it already has one:
// "alice" gives "alice@PSSESSION.TEST".
func (k *KDC) Principal(name string) string {
	if strings.Contains(name, "@") {
		return name
	}
	return name + "@" + k.realm
}

// Env is the environment for child processes that use this realm: os.Environ
// with KRB5_CONFIG and KRB5_KDC_PROFILE set to this KDC's files and
// KRB5CCNAME set to an empty ccache in its directory. Append to override
// (exec.Cmd uses the last value of a key), e.g. KRB5CCNAME=FILE:<Kinit's>.
func (k *KDC) Env() []string {
	env := make([]string, 0, len(os.Environ())+3)
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "KRB5") {
			continue // KRB5_CONFIG, KRB5CCNAME, KRB5_KTNAME, KRB5_TRACE, ... of the caller
		}
		env = append(env, kv)
	}
	return append(env,
		"KRB5_CONFIG="+k.krb5Conf,
		"KRB5_KDC_PROFILE="+k.kdcConf,
		"KRB5CCNAME=FILE:"+filepath.Join(k.dir, "default.ccache"),
	)
}

// run runs one of the MIT programs with Env, stdin from in, and returns its
// combined output. Errors carry the output but not the arguments, which
// may hold passwords.
func (k *KDC) run(in []byte, prog string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Env = k.Env()
	cmd.Dir = k.dir
	if in != nil {
		cmd.Stdin = bytes.NewReader(in)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s: %w: %s", filepath.Base(prog), err, bytes.TrimSpace(out))
	}
	return string(out), nil
}

// kadmin runs one kadmin.local query. kadmin.local reports many failures
// on stderr with exit status 0, so any output line other than its own
// banner counts as an error.
func (k *KDC) kadmin(query string) error {
	out, err := k.run(nil, k.bins.kadminLocal, "-r", k.realm, "-q", query)
	if err != nil {
		return err
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "",
			strings.HasPrefix(line, "Authenticating as principal"),
			strings.HasPrefix(line, "Principal \"") && strings.HasSuffix(line, "\" created."),
			strings.HasPrefix(line, "Entry for principal "),
			strings.HasPrefix(line, "No policy specified for "):
		default:
			return fmt.Errorf("kadmin.local: %s", line)
		}
	}
	return nil
}

// AddPrincipal, AddRandomKeyPrincipal and Keytab fail the test given to
// Start on error; call them from that test's goroutine.

// AddPrincipal creates name (realm added when missing) with password and
// returns the full principal name. The password goes to kadmin.local on its
// command line (visible to ps): use throwaway test passwords only.
func (k *KDC) AddPrincipal(name, password string) string {
	t := k.t
	t.Helper()
	p := k.Principal(name)
	if strings.ContainsAny(password, "\"\n") {
		t.Fatalf("krbtest: password for %s holds a quote or newline, which kadmin.local -q cannot pass", p)
	}
	if err := k.kadmin(fmt.Sprintf("addprinc -pw \"%s\" %s", password, p)); err != nil {
		t.Fatalf("krbtest: add principal %s: %v", p, err)
	}
	return p
}

// AddRandomKeyPrincipal creates name (realm added when missing) with random
// keys, as for a service such as "HTTP/localhost", and returns the full
// principal name. Get its keys with Keytab.
func (k *KDC) AddRandomKeyPrincipal(name string) string {
	t := k.t
	t.Helper()
	p := k.Principal(name)
	if err := k.kadmin("addprinc -randkey " + p); err != nil {
		t.Fatalf("krbtest: add principal %s: %v", p, err)
	}
	return p
}

// Keytab writes the current keys of principals (realm added when missing)
// to a new keytab file and returns its path. The keys are not changed
// (-norandkey), so passwords keep working.
func (k *KDC) Keytab(principals ...string) string {
	t := k.t
	t.Helper()
	// kadmin.local appends to an existing keytab and wants a real one or none.
	path := k.freshPath(t, "*.keytab")
	for _, name := range principals {
		p := k.Principal(name)
		if err := k.kadmin(fmt.Sprintf("ktadd -k %s -norandkey %s", path, p)); err != nil {
			t.Fatalf("krbtest: keytab for %s: %v", p, err)
		}
	}
	return path
}

// Kinit gets a TGT for principal with password into a new ccache and
// returns the ccache's path (use it as KRB5CCNAME, with or without
// "FILE:").
func (k *KDC) Kinit(t testing.TB, principal, password string) string {
	t.Helper()
	cc := k.freshPath(t, "*.ccache")
	if _, err := k.run([]byte(password+"\n"), k.bins.kinit, "-c", "FILE:"+cc, k.Principal(principal)); err != nil {
		t.Fatalf("krbtest: kinit %s: %v", k.Principal(principal), err)
	}
	return cc
}

// KinitKeytab gets a TGT for principal from keytab into a new ccache and
// returns the ccache's path.
func (k *KDC) KinitKeytab(t testing.TB, principal, keytab string) string {
	t.Helper()
	cc := k.freshPath(t, "*.ccache")
	if _, err := k.run(nil, k.bins.kinit, "-k", "-t", keytab, "-c", "FILE:"+cc, k.Principal(principal)); err != nil {
		t.Fatalf("krbtest: kinit -k %s: %v", k.Principal(principal), err)
	}
	return cc
}

// freshPath returns a new, unused file name in the realm's directory
// matching pattern (os.CreateTemp's), with no file there yet.
func (k *KDC) freshPath(t testing.TB, pattern string) string {
	t.Helper()
	f, err := os.CreateTemp(k.dir, pattern)
	if err != nil {
		t.Fatal(err)
	}
	path := f.Name()
	f.Close()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// Klist runs klist with args (e.g. "-c", ccache or "-k", "-e", keytab) and
// returns its output.
func (k *KDC) Klist(t testing.TB, args ...string) string {
	t.Helper()
	out, err := k.run(nil, k.bins.klist, args...)
	if err != nil {
		t.Fatalf("krbtest: klist: %v", err)
	}
	return out
}
