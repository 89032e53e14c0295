package cmd

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/pssession/pssession/remote/endpoint"
	"github.com/pssession/pssession/remote/wsman/transport"
	"github.com/pssession/pssession/shell"
)

// TestMain lets testscript run the real command tree as the "pssession"
// program in its scripts.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"pssession": func() {
			io := shell.System()
			f := &Factory{
				IO:     io,
				Build:  BuildInfo{Version: "test", Commit: "testcommit"},
				Logger: slog.New(slog.NewTextHandler(io.ErrOut, &slog.HandlerOptions{Level: slog.LevelWarn})),
				Getenv: os.Getenv,
			}
			os.Exit(Execute(f, os.Args[1:]))
		},
	})
}

// serveEndpoint serves the scripted engine behind NTLM (sealed HTTP) and
// Basic, with user LAB\alice / Passw0rd!, on 127.0.0.1:0.
func serveEndpoint() (addr string, stop func(), err error) {
	return serveEngine(endpoint.Scripted{})
}

// restrictedEngine is the scripted engine without Out-String, as on a
// restricted (JEA) endpoint: pipelines naming it fail before they run.
type restrictedEngine struct{ endpoint.Scripted }

func (e restrictedEngine) Open(ctx context.Context, opts endpoint.RunspaceOptions) (endpoint.Runspace, error) {
	rs, err := e.Scripted.Open(ctx, opts)
	if err != nil {
		return nil, err
	}
	return restrictedRunspace{rs}, nil
}

type restrictedRunspace struct{ endpoint.Runspace }

func (r restrictedRunspace) Commands() []string {
	var out []string
	if cl, ok := r.Runspace.(endpoint.CommandLister); ok {
		for _, c := range cl.Commands() {
			if c != "Out-String" {
				out = append(out, c)
			}
		}
	}
	return out
}

// serveEngine serves engine behind NTLM (sealed HTTP) and Basic, with
// user LAB\alice / Passw0rd!, on 127.0.0.1:0.
func serveEngine(engine endpoint.Engine) (addr string, stop func(), err error) {
	// A short client timeout lets tests see a killed client's session
	// disconnected quickly.
	h := endpoint.New(endpoint.Config{Engine: engine, Machine: "WIN-TEST", ClientTimeout: 2 * time.Second,
		BufferLimit: 32 << 10})
	sa, err := transport.NewServerAuth(h, transport.ServerConfig{Users: map[string]string{`LAB\alice`: "Passw0rd!"}})
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: sa, ConnContext: sa.ConnContext}
	go srv.Serve(ln)
	return ln.Addr().String(), func() {
		srv.Close()
		h.Close()
	}, nil
}

// e2eEndpoint starts the loopback endpoint of serveEndpoint for a test
// that runs the built binary (skipped with -short) and stops it at the
// end of the test.
func e2eEndpoint(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	addr, stop, err := serveEndpoint()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return addr
}

func startTestEndpoint(env *testscript.Env) (string, error) {
	addr, stop, err := serveEndpoint()
	if err != nil {
		return "", err
	}
	env.Defer(stop)
	return addr, nil
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			addr, err := startTestEndpoint(env)
			if err != nil {
				return err
			}
			raddr, rstop, err := serveEngine(restrictedEngine{})
			if err != nil {
				return err
			}
			env.Defer(rstop)
			env.Setenv("RHOST", raddr)
			_, port, _ := net.SplitHostPort(addr)
			env.Setenv("HOST", addr)
			env.Setenv("PORT", port)
			env.Setenv("PSSESSION_PASSWORD", "Passw0rd!")
			env.Setenv("XDG_STATE_HOME", env.WorkDir+"/state")
			env.Setenv("NO_COLOR", "1")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode": scriptExitcode,
		},
	})
}

// scriptExitcode is the testscript command "exitcode N prog args...": run
// prog and require exit status N.
func scriptExitcode(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: exitcode N prog args...")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exitcode: %v", err)
	}
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		got = ee.ExitCode()
	} else if err != nil {
		ts.Fatalf("exitcode: %v", err)
	}
	if (got == want) == neg {
		ts.Fatalf("exit status %d, want %d", got, want)
	}
}
