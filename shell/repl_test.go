package shell

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pssession/pssession/history"
	"github.com/pssession/pssession/remote/endpoint"
	"github.com/pssession/pssession/remote/session"
	"github.com/pssession/pssession/remote/wsman"
	"github.com/pssession/pssession/remote/wsman/transport"
)

// openLoopback opens a session on a loopback endpoint (scripted engine)
// behind NTLM with message encryption, and closes it at the end.
func openLoopback(t *testing.T, host session.Host) *session.Session {
	t.Helper()
	return openLoopbackHost(t, host)
}

func openLoopbackTB(tb testing.TB) *session.Session {
	tb.Helper()
	return openLoopbackHost(tb, nil)
}

func openLoopbackHost(t testing.TB, host session.Host) *session.Session {
	t.Helper()
	h := endpoint.New(endpoint.Config{Engine: endpoint.Scripted{}, Machine: "WIN-TEST"})
	t.Cleanup(func() { h.Close() })
	sa, err := transport.NewServerAuth(h, transport.ServerConfig{Users: map[string]string{`LAB\alice`: "Passw0rd!"}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(sa)
	srv.Config.ConnContext = sa.ConnContext
	srv.Start()
	t.Cleanup(srv.Close)
	url := srv.URL + "/wsman"
	tc, err := transport.New(transport.Config{URL: url, Auth: "negotiate", Username: `LAB\alice`, Password: "Passw0rd!"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tc.Close() })
	c := wsman.NewClient(tc, url)
	c.OperationTimeout = 5 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg := session.Config{Transport: session.WSMan{C: c}, Host: host, CancelTimeout: 5 * time.Second}
	sess, err := session.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		sess.Close(ctx)
	})
	return sess
}

// step is one answer of the scripted line source.
type step struct {
	line string
	err  error
}

// scriptedLines is a LineSource that answers from a list and records the
// prompts it was shown; after the list it returns io.EOF.
type scriptedLines struct {
	steps   []step
	prompts []string
}

func (s *scriptedLines) ReadLine(prompt string) (string, error) {
	s.prompts = append(s.prompts, prompt)
	if len(s.steps) == 0 {
		return "", io.EOF
	}
	st := s.steps[0]
	s.steps = s.steps[1:]
	return st.line, st.err
}

func lines(ls ...string) []step {
	out := make([]step, len(ls))
	for i, l := range ls {
		out[i] = step{line: l}
	}
	return out
}

const loopPrompt = `[WIN-TEST]: PS C:\Users\pssession> `

func TestREPL(t *testing.T) {
	tests := []struct {
		name        string
		steps       []step
		interactive bool
		wantCode    int
		wantOut     string
		wantErr     string // substring of stderr
		wantPrompts []string
		wantHistory []string
	}{
		{
			name:        "prompt and variable kept across lines",
			steps:       lines(`$x = 'abc'`, `$x`),
			interactive: true,
			wantOut:     "abc\n",
			wantPrompts: []string{loopPrompt, loopPrompt, loopPrompt},
			wantHistory: []string{`$x = 'abc'`, `$x`},
		},
		{
			name:        "location kept and shown in the prompt",
			steps:       lines(`Set-Location C:\Temp`, `Get-Location`),
			interactive: true,
			wantOut:     "C:\\Temp\n",
			wantPrompts: []string{loopPrompt, `[WIN-TEST]: PS C:\Temp> `, `[WIN-TEST]: PS C:\Temp> `},
		},
		{
			name:        "multi-line string continues with >>",
			steps:       lines(`Write-Output 'first`, `second'`),
			interactive: true,
			wantOut:     "first\nsecond\n",
			wantPrompts: []string{loopPrompt, ">> ", loopPrompt},
			wantHistory: []string{"Write-Output 'first\nsecond'"},
		},
		{
			// The scripted engine runs each line of a script as its own
			// statement, so the second line fails there; what matters is
			// that both lines went as one statement.
			name:        "trailing pipe continues",
			steps:       lines(`Write-Output piped |`, `Out-String`),
			interactive: true,
			wantOut:     "piped\n",
			wantErr:     "'Out-String' is not recognized",
			wantPrompts: []string{loopPrompt, ">> ", loopPrompt},
			wantHistory: []string{"Write-Output piped |\nOut-String"},
		},
		{
			name:        "empty line at >> submits",
			steps:       lines(`Write-Output 'open`, ``),
			interactive: true,
			wantOut:     "open\n\n",
			wantPrompts: []string{loopPrompt, ">> ", loopPrompt},
		},
		{
			name:        "error record rendered, session goes on",
			steps:       lines(`bogus`, `Write-Output after`),
			interactive: true,
			wantOut:     "after\n",
			wantErr:     "The term 'bogus' is not recognized",
			wantPrompts: []string{loopPrompt, loopPrompt, loopPrompt},
		},
		{
			name:        "exit N ends with N",
			steps:       lines(`Write-Output one`, `exit 3`, `Write-Output never`),
			interactive: true,
			wantCode:    3,
			wantOut:     "one\n",
			wantPrompts: []string{loopPrompt, loopPrompt},
		},
		{
			name:        "Exit-PSSession leaves with 0",
			steps:       lines(`  EXIT-PSSession `, `Write-Output never`),
			interactive: true,
			wantPrompts: []string{loopPrompt},
		},
		{
			name:        "Ctrl+C at the prompt clears the pending statement",
			steps:       []step{{line: `Write-Output 'dropped`}, {err: ErrInterrupt}, {line: `Write-Output kept`}},
			interactive: true,
			wantOut:     "kept\n",
			wantPrompts: []string{loopPrompt, ">> ", loopPrompt, loopPrompt},
		},
		{
			name:        "sensitive line kept out of the history file",
			steps:       lines(`$password = 'x'`, `Write-Output ok`),
			interactive: true,
			wantOut:     "ok\n",
			wantPrompts: []string{loopPrompt, loopPrompt, loopPrompt},
			wantHistory: []string{`Write-Output ok`},
		},
		{
			name:        "piped: no prompts, last failure gives 1",
			steps:       lines(`Write-Output a`, `bogus`),
			wantCode:    1,
			wantOut:     "a\n",
			wantErr:     "bogus",
			wantPrompts: []string{"", "", ""},
		},
		{
			name:        "piped: success after a failure gives 0",
			steps:       lines(`bogus`, `Write-Output a`),
			wantOut:     "a\n",
			wantErr:     "bogus",
			wantPrompts: []string{"", "", ""},
		},
		{
			name:        "piped: incomplete statement at the end still runs",
			steps:       lines(`Write-Output 'x`),
			wantOut:     "x\n\n",
			wantErr:     "",
			wantPrompts: []string{"", "", ""},
		},
		{
			name:        "piped: exit N",
			steps:       lines(`exit 4`),
			wantCode:    4,
			wantPrompts: []string{""},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			r := &Renderer{Out: &out, Err: &errOut}
			sess := openLoopback(t, &Host{Out: &out, Err: &errOut, Renderer: r})
			src := &scriptedLines{steps: tc.steps}
			store := &history.Store{Dir: t.TempDir()}
			var remembered []string
			repl := &REPL{Session: sess, Computer: "WIN-TEST", Lines: src, Interactive: tc.interactive, Renderer: r,
				History: store, HistoryKey: "k", Remember: func(l string) { remembered = append(remembered, l) }}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			code, err := repl.Run(ctx)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if code != tc.wantCode {
				t.Errorf("exit status %d, want %d", code, tc.wantCode)
			}
			if diff := cmp.Diff(tc.wantOut, out.String()); diff != "" {
				t.Errorf("stdout (-want +got):\n%s", diff)
			}
			if tc.wantErr == "" && errOut.Len() > 0 || !strings.Contains(errOut.String(), tc.wantErr) {
				t.Errorf("stderr %q, want it to contain %q", errOut.String(), tc.wantErr)
			}
			if diff := cmp.Diff(tc.wantPrompts, src.prompts); diff != "" {
				t.Errorf("prompts (-want +got):\n%s", diff)
			}
			if tc.wantHistory != nil {
				got, err := store.Lines("k")
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tc.wantHistory, got); diff != "" {
					t.Errorf("history file (-want +got):\n%s", diff)
				}
			}
			if !tc.interactive && len(remembered) > 0 {
				t.Errorf("piped input remembered %q", remembered)
			}
		})
	}
}

// signalWriter calls fn once when something containing mark is written.
type signalWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	mark string
	fn   func()
	done bool
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if !w.done && strings.Contains(w.buf.String(), w.mark) {
		w.done = true
		go w.fn()
	}
	return len(p), nil
}

func (w *signalWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func TestREPLCtrlCStopsCommand(t *testing.T) {
	interrupts := make(chan struct{}, 1)
	out := &signalWriter{mark: "started", fn: func() { interrupts <- struct{}{} }}
	var errOut bytes.Buffer
	r := &Renderer{Out: out, Err: &errOut}
	sess := openLoopback(t, &Host{Out: out, Err: &errOut, Renderer: r})
	src := &scriptedLines{steps: lines(`Write-Output started; Start-Sleep -Seconds 30`, `Write-Output alive`)}
	repl := &REPL{Session: sess, Computer: "WIN-TEST", Lines: src, Interactive: true, Renderer: r, Interrupts: interrupts}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	code, err := repl.Run(ctx)
	if err != nil || code != 0 {
		t.Fatalf("Run = %d, %v", code, err)
	}
	if diff := cmp.Diff("started\nalive\n", out.String()); diff != "" {
		t.Errorf("stdout (-want +got):\n%s", diff)
	}
	if errOut.Len() != 0 {
		t.Errorf("stderr after Ctrl+C: %q, want nothing", errOut.String())
	}
}

func TestREPLClearScreen(t *testing.T) {
	var out bytes.Buffer
	r := &Renderer{Out: &out, Err: &out}
	sess := openLoopback(t, nil)
	cleared := 0
	src := &scriptedLines{steps: lines(`cls`, ` Clear-Host`, `clear`)}
	repl := &REPL{Session: sess, Lines: src, Interactive: true, Renderer: r, ClearScreen: func() { cleared++ }}
	if _, err := repl.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if cleared != 3 {
		t.Errorf("cleared %d times, want 3", cleared)
	}
	if diff := cmp.Diff([]string{"PS C:\\Users\\pssession> ", "PS C:\\Users\\pssession> ", "PS C:\\Users\\pssession> ", "PS C:\\Users\\pssession> "}, src.prompts); diff != "" {
		t.Errorf("prompts (-want +got):\n%s", diff)
	}
}

func TestREPLReadError(t *testing.T) {
	sess := openLoopback(t, nil)
	boom := errors.New("boom")
	repl := &REPL{Session: sess, Lines: &scriptedLines{steps: []step{{err: boom}}}, Renderer: &Renderer{Out: io.Discard, Err: io.Discard}}
	if _, err := repl.Run(context.Background()); !errors.Is(err, boom) {
		t.Errorf("Run error %v, want %v", err, boom)
	}
}
