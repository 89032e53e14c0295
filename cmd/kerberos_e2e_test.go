package cmd

import (
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/pssession/pssession/internal/krbtest"
	"github.com/pssession/pssession/remote/endpoint"
	"github.com/pssession/pssession/remote/wsman/transport"
)

// kerberosRealm is what TestKerberosScripts sets up once for all its
// scripts: a KDC with alice and HTTP/localhost.
type kerberosRealm struct {
	kdc           *krbtest.KDC
	serviceKeytab string // HTTP/localhost, for the endpoint
	aliceKeytab   string // alice, for --keytab
	aliceCCache   string // from kinit
}

// usersKey finds a script's userLog in testscript's Values.
type usersKey struct{}

// userLog records the users the endpoint served, in order of first sight,
// and how many request bodies came sealed or plain.
type userLog struct {
	mu            sync.Mutex
	users         []string
	sealed, plain int
}

// countBodies wraps the endpoint's ServerAuth to count non-empty request
// bodies by their Content-Type (empty POSTs are handshakes).
func (l *userLog) countBodies(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cr := &countingReader{r: r.Body}
		r.Body = cr
		next.ServeHTTP(w, r)
		if cr.n == 0 {
			return
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		if transport.IsEncrypted(r.Header.Get("Content-Type")) {
			l.sealed++
		} else {
			l.plain++
		}
	})
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.ReadCloser
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *countingReader) Close() error { return c.r.Close() }

// takeBodies returns and resets the counts.
func (l *userLog) takeBodies() (sealed, plain int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	sealed, plain = l.sealed, l.plain
	l.sealed, l.plain = 0, 0
	return sealed, plain
}

func (l *userLog) add(u string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !slices.Contains(l.users, u) {
		l.users = append(l.users, u)
	}
}

func (l *userLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	us := l.users
	l.users = nil
	return us
}

// serveKerberosEndpoint serves the scripted engine on 127.0.0.1:0 behind
// Negotiate accepting Kerberos for HTTP/localhost (and NTLM for LAB\alice),
// with message encryption required over plain HTTP.
func serveKerberosEndpoint(env *testscript.Env, keytab string) (port string, users *userLog, err error) {
	users = &userLog{}
	h := endpoint.New(endpoint.Config{Engine: endpoint.Scripted{}, Machine: "WIN-TEST",
		User: func(r *http.Request) string {
			u := transport.UserFrom(r.Context())
			users.add(u)
			return u
		}})
	sa, err := transport.NewServerAuth(h, transport.ServerConfig{
		Users:      map[string]string{`LAB\alice`: "Passw0rd!"},
		Schemes:    []string{"negotiate"},
		KeytabFile: keytab,
	})
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: users.countBodies(sa), ConnContext: sa.ConnContext}
	go srv.Serve(ln)
	env.Defer(func() {
		srv.Close()
		h.Close()
	})
	_, port, _ = net.SplitHostPort(ln.Addr().String())
	return port, users, nil
}

// TestKerberosScripts runs testdata/kerberos: the real command tree with
// Kerberos against a real MIT KDC (krbtest) and the loopback endpoint.
func TestKerberosScripts(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a KDC")
	}
	kdc := krbtest.Start(t)
	kdc.AddPrincipal("alice", "Alice-Pw-1")
	realm := kerberosRealm{
		kdc:           kdc,
		serviceKeytab: kdc.Keytab(kdc.AddRandomKeyPrincipal("HTTP/localhost")),
		aliceKeytab:   kdc.Keytab("alice"),
		aliceCCache:   kdc.Kinit(t, "alice", "Alice-Pw-1"),
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/kerberos",
		Setup: func(env *testscript.Env) error {
			port, users, err := serveKerberosEndpoint(env, realm.serviceKeytab)
			if err != nil {
				return err
			}
			env.Values[usersKey{}] = users
			// A copy of the ccache per script, so that scripts do not share
			// what the client may write into it.
			cc, err := os.ReadFile(realm.aliceCCache)
			if err != nil {
				return err
			}
			ccPath := filepath.Join(env.WorkDir, "alice.ccache")
			if err := os.WriteFile(ccPath, cc, 0o600); err != nil {
				return err
			}
			env.Setenv("PORT", port)
			env.Setenv("REALM", kdc.Realm())
			env.Setenv("KRB5_CONFIG", kdc.Krb5Conf())
			// No ticket unless a script says so.
			env.Setenv("KRB5CCNAME", "FILE:"+filepath.Join(env.WorkDir, "empty.ccache"))
			env.Setenv("ALICE_CCACHE", ccPath)
			env.Setenv("ALICE_KEYTAB", realm.aliceKeytab)
			env.Setenv("XDG_STATE_HOME", env.WorkDir+"/state")
			env.Setenv("NO_COLOR", "1")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode": scriptExitcode,
			// users: print the users the endpoint served since the last
			// call, one per line.
			"users": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 0 {
					ts.Fatalf("usage: users")
				}
				for _, u := range ts.Value(usersKey{}).(*userLog).take() {
					ts.Stdout().Write([]byte(u + "\n"))
				}
			},
			// sealed: require that every request body since the last call
			// was sealed (message encryption), and that there was one.
			"sealed": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 0 {
					ts.Fatalf("usage: sealed")
				}
				sealed, plain := ts.Value(usersKey{}).(*userLog).takeBodies()
				if sealed == 0 || plain != 0 {
					ts.Fatalf("%d sealed and %d plain request bodies, want only sealed ones", sealed, plain)
				}
			},
		},
	})
}
