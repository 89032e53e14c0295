package kerberos

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pssession/pssession/internal/krbtest"
)

// TestKDCEndToEnd runs the client against a real MIT KDC: logins from a
// password, a keytab and a kinit credential cache, a service ticket for
// HTTP/localhost, and a context with the acceptor on the service's keytab
// (exported by kadmin), sealing both ways.
func TestKDCEndToEnd(t *testing.T) {
	kdc := krbtest.Start(t)
	realm := kdc.Realm()
	kdc.AddPrincipal("alice", "alice password")
	kdc.AddRandomKeyPrincipal("HTTP/localhost")
	svcKeytab := kdc.Keytab("HTTP/localhost")
	aliceKeytab := kdc.Keytab("alice")
	ccache := kdc.Kinit(t, "alice", "alice password")
	conf := kdc.Krb5Conf()
	acc, err := NewAcceptor(AcceptorConfig{KeytabFile: svcKeytab, ServicePrincipal: "HTTP/localhost@" + realm})
	if err != nil {
		t.Fatal(err)
	}
	cb := []byte("tls-server-end-point:" + strings.Repeat("\x42", 32))
	for _, tc := range []struct {
		name string
		cfg  ClientConfig
		spn  string
		env  string // KRB5CCNAME
	}{
		{"password user@REALM", ClientConfig{Username: "alice@" + realm, Password: "alice password"}, "HTTP/localhost", ""},
		{`password REALM\user`, ClientConfig{Username: realm + `\alice`, Password: "alice password"}, "HTTP/localhost@" + realm, ""},
		{"password default realm", ClientConfig{Username: "alice", Password: "alice password"}, "HTTP/localhost", ""},
		{`password NETBIOS\user`, ClientConfig{Username: strings.Split(realm, ".")[0] + `\alice`, Password: "alice password"}, "HTTP/localhost", ""},
		{"keytab", ClientConfig{Username: "alice", KeytabFile: aliceKeytab}, "HTTP/localhost", ""},
		{"ccache file", ClientConfig{CCacheFile: ccache}, "HTTP/localhost", ""},
		{"ccache FILE: with matching user", ClientConfig{Username: "alice", CCacheFile: "FILE:" + ccache}, "HTTP/localhost", ""},
		{"ccache from KRB5CCNAME", ClientConfig{}, "HTTP/localhost", "FILE:" + ccache},
		{"ccache with user@REALM", ClientConfig{Username: "alice@" + realm, CCacheFile: ccache}, "HTTP/localhost", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env != "" {
				t.Setenv("KRB5CCNAME", tc.env)
			}
			tc.cfg.Krb5Conf = conf
			c, err := NewClient(tc.cfg)
			if err != nil {
				t.Fatalf("NewClient: %v", err)
			}
			t.Cleanup(c.Close)
			if got, want := c.Principal(), "alice@"+realm; got != want {
				t.Errorf("Principal() = %q, want %q", got, want)
			}
			ic, err := c.InitSecContext(context.Background(), tc.spn, cb)
			if err != nil {
				t.Fatalf("InitSecContext: %v", err)
			}
			rep, accSess, client, err := acc.Accept(ic.Token(), cb, true)
			if err != nil {
				t.Fatalf("Accept: %v", err)
			}
			if client != "alice@"+realm {
				t.Errorf("client %q", client)
			}
			iniSess, err := ic.Complete(rep)
			if err != nil {
				t.Fatalf("Complete: %v", err)
			}
			exchange(t, iniSess, accSess)
		})
	}

	t.Run("concurrent contexts", func(t *testing.T) {
		c, err := NewClient(ClientConfig{Username: "alice", Password: "alice password", Krb5Conf: conf})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for range 8 {
			wg.Go(func() {
				ic, err := c.InitSecContext(context.Background(), "HTTP/localhost", nil)
				if err != nil {
					errs <- err
					return
				}
				rep, _, _, err := acc.Accept(ic.Token(), nil, false)
				if err != nil {
					errs <- err
					return
				}
				if _, err := ic.Complete(rep); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
}

func TestKDCErrors(t *testing.T) {
	kdc := krbtest.Start(t)
	realm := kdc.Realm()
	kdc.AddPrincipal("alice", "alice password")
	conf := kdc.Krb5Conf()
	ccache := kdc.Kinit(t, "alice", "alice password")
	for _, tc := range []struct {
		name        string
		cfg         ClientConfig
		spn         string // "" : NewClient must fail
		want        ErrorKind
		unavailable bool
		principal   string
	}{
		{"wrong password", ClientConfig{Username: "alice", Password: "wrong"}, "", KindPreauthFailed, false, "alice@" + realm},
		{"unknown user", ClientConfig{Username: "mallory", Password: "x"}, "", KindPrincipalUnknown, true, "mallory@" + realm},
		{"unknown service", ClientConfig{Username: "alice", Password: "alice password"}, "HTTP/nowhere.invalid", KindPrincipalUnknown, true, "HTTP/nowhere.invalid"},
		{"unknown realm", ClientConfig{Username: "alice@NO.SUCH.REALM.INVALID", Password: "x"}, "", KindConfig, true, ""},
		{"no ccache", ClientConfig{CCacheFile: t.TempDir() + "/none"}, "", KindNoCredentials, true, ""},
		{"keyring ccache", ClientConfig{CCacheFile: "KEYRING:persistent:0"}, "", KindNoCredentials, true, ""},
		{"ccache of another user", ClientConfig{Username: "bob", CCacheFile: ccache}, "", KindNoCredentials, true, "bob"},
		{"ccache of another realm", ClientConfig{Username: "alice@OTHER.TEST", CCacheFile: ccache}, "", KindNoCredentials, true, "alice@OTHER.TEST"},
		{"bad spn", ClientConfig{Username: "alice", Password: "alice password"}, "localhost", KindConfig, true, "localhost"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Krb5Conf = conf
			c, err := NewClient(tc.cfg)
			if tc.spn != "" {
				if err != nil {
					t.Fatal(err)
				}
				_, err = c.InitSecContext(context.Background(), tc.spn, nil)
			}
			wantKind(t, err, tc.want)
			t.Log(err)
			if got := IsKerberosUnavailable(err); got != tc.unavailable {
				t.Errorf("IsKerberosUnavailable = %v for %v", got, err)
			}
			var ke *Error
			if errors.As(err, &ke) && ke.Principal != tc.principal {
				t.Errorf("Principal %q, want %q", ke.Principal, tc.principal)
			}
			if strings.Contains(err.Error(), "alice password") {
				t.Errorf("error %q shows the password", err)
			}
		})
	}

	t.Run("kdc down", func(t *testing.T) {
		c, err := NewClient(ClientConfig{Username: "alice", Password: "alice password", Krb5Conf: conf})
		if err != nil {
			t.Fatal(err)
		}
		kdc.Stop()
		_, err = c.InitSecContext(context.Background(), "HTTP/localhost", nil)
		wantKind(t, err, KindKDCUnreachable)
		if !IsKerberosUnavailable(err) {
			t.Errorf("IsKerberosUnavailable false for %v", err)
		}
		_, err = NewClient(ClientConfig{Username: "alice", Password: "alice password", Krb5Conf: conf})
		wantKind(t, err, KindKDCUnreachable)
	})
}

// TestInitSecContextCancel: a KDC that accepts the connection and never
// answers does not hold InitSecContext past its context.
func TestInitSecContextCancel(t *testing.T) {
	kdc := krbtest.Start(t)
	kdc.AddPrincipal("alice", "alice password")
	ccache := kdc.Kinit(t, "alice", "alice password")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			accepted <- c
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		select {
		case c := <-accepted:
			c.Close()
		default:
		}
	})
	conf := filepath.Join(t.TempDir(), "krb5.conf")
	body := "[libdefaults]\n default_realm = " + kdc.Realm() + "\n dns_lookup_kdc = false\n udp_preference_limit = 1\n[realms]\n " +
		kdc.Realm() + " = {\n  kdc = " + ln.Addr().String() + "\n }\n"
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := NewClient(ClientConfig{CCacheFile: ccache, Krb5Conf: conf})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.InitSecContext(ctx, "HTTP/localhost", nil)
		done <- err
	}()
	conn := <-accepted // the TGS-REQ is on its way to a KDC that will not answer
	accepted <- conn   // for Cleanup
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("InitSecContext after cancel: %v", err)
	}
}
