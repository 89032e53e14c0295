//go:build !windows

package cmd

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/pssession/pssession/remote/endpoint"
	"github.com/pssession/pssession/remote/psrp/clixml"
	"github.com/pssession/pssession/remote/wsman/transport"
)

// These tests drive the real command tree (the "pssession" program that
// TestMain puts on PATH) in a pseudo-terminal, as a user at a terminal
// would, against a loopback endpoint.

// expectTimeout bounds every wait for output.
const expectTimeout = 20 * time.Second

// console is a pssession process on a pseudo-terminal with an
// expect-style reader.
type console struct {
	t    *testing.T
	pty  *os.File
	cmd  *exec.Cmd
	done chan struct{} // closed when the process exited
	err  error         // Wait's error, after done

	mu     sync.Mutex
	buf    []byte
	pos    int           // output before pos was consumed by expect
	notify chan struct{} // signalled on new output
	eof    bool
}

// startPTYEndpoint serves engine behind NTLM (LAB\alice / Passw0rd!) on
// 127.0.0.1:0 for the test.
func startPTYEndpoint(t *testing.T, engine endpoint.Engine) string {
	t.Helper()
	h := endpoint.New(endpoint.Config{Engine: engine, Machine: "WIN-TEST"})
	sa, err := transport.NewServerAuth(h, transport.ServerConfig{Users: map[string]string{`LAB\alice`: "Passw0rd!"}})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: sa, ConnContext: sa.ConnContext}
	go srv.Serve(ln)
	t.Cleanup(func() {
		h.Close()
		srv.Close()
	})
	return ln.Addr().String()
}

// startConsole runs pssession args on a new 120x40 pseudo-terminal.
func startConsole(t *testing.T, env []string, args ...string) *console {
	t.Helper()
	// The real binary, built from ./cmd/pssession.
	cmd := exec.Command(pssessionBinary(t), args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "TERM=xterm",
		"PSSESSION_PASSWORD=Passw0rd!", "XDG_STATE_HOME=" + t.TempDir()}, env...)
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: 120, Rows: 40})
	if err != nil {
		t.Fatal(err)
	}
	c := &console{t: t, pty: f, cmd: cmd, done: make(chan struct{}), notify: make(chan struct{}, 1)}
	go func() {
		b := make([]byte, 4096)
		for {
			n, err := f.Read(b)
			c.mu.Lock()
			c.buf = append(c.buf, b[:n]...)
			if err != nil {
				c.eof = true
			}
			c.mu.Unlock()
			select {
			case c.notify <- struct{}{}:
			default:
			}
			if err != nil {
				return
			}
		}
	}()
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		select {
		case <-c.done:
		default:
			cmd.Process.Kill()
			<-c.done
		}
		f.Close()
		if t.Failed() {
			t.Logf("terminal output:\n%q", c.output())
		}
	})
	return c
}

func (c *console) output() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return string(c.buf)
}

// expect waits until the output not consumed yet matches re, consumes it
// up to the end of the match and returns the submatches.
func (c *console) expect(re string) []string {
	c.t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.NewTimer(expectTimeout)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		rest := c.buf[c.pos:]
		if loc := rx.FindSubmatchIndex(rest); loc != nil {
			var subs []string
			for i := 0; i+1 < len(loc); i += 2 {
				if loc[i] >= 0 {
					subs = append(subs, string(rest[loc[i]:loc[i+1]]))
				} else {
					subs = append(subs, "")
				}
			}
			c.pos += loc[1]
			c.mu.Unlock()
			return subs
		}
		eof := c.eof
		seen := string(rest)
		c.mu.Unlock()
		if eof {
			c.t.Fatalf("output ended before %q matched; unmatched output: %q", re, seen)
		}
		select {
		case <-c.notify:
		case <-deadline.C:
			c.t.Fatalf("timed out waiting for %q; unmatched output: %q", re, seen)
		}
	}
}

// rest returns the output not consumed yet.
func (c *console) rest() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return string(c.buf[c.pos:])
}

// line types s and Enter, and consumes the echo of the line.
func (c *console) line(s string) {
	c.t.Helper()
	c.send(s + "\r")
	c.expect(regexp.QuoteMeta(s) + `\r\n`)
}

func (c *console) send(s string) {
	c.t.Helper()
	if _, err := c.pty.WriteString(s); err != nil {
		c.t.Fatalf("writing to the terminal: %v", err)
	}
}

// wait waits for the process to exit and returns its status.
func (c *console) wait() int {
	c.t.Helper()
	select {
	case <-c.done:
	case <-time.After(expectTimeout):
		c.t.Fatalf("pssession did not exit; output: %q", c.rest())
	}
	var ee *exec.ExitError
	if errors.As(c.err, &ee) {
		return ee.ExitCode()
	}
	if c.err != nil {
		c.t.Fatalf("wait: %v", c.err)
	}
	return 0
}

// completingEngine is the scripted engine plus a TabExpansion2 that
// completes command names from the scripted language's commands, answering
// with a CommandCompletion object as PowerShell does.
type completingEngine struct{ endpoint.Scripted }

func (e completingEngine) Open(ctx context.Context, opts endpoint.RunspaceOptions) (endpoint.Runspace, error) {
	rs, err := e.Scripted.Open(ctx, opts)
	if err != nil {
		return nil, err
	}
	return completingRunspace{rs}, nil
}

type completingRunspace struct{ endpoint.Runspace }

func (r completingRunspace) commands() []string {
	if c, ok := r.Runspace.(interface{ Commands() []string }); ok {
		return c.Commands()
	}
	return nil
}

func (r completingRunspace) Commands() []string { return append(r.commands(), "TabExpansion2") }

func (r completingRunspace) Run(ctx context.Context, p endpoint.Pipeline, w endpoint.Writer) error {
	if len(p.Commands) == 0 || p.Commands[0].IsScript || p.Commands[0].Text != "TabExpansion2" {
		return r.Runspace.Run(ctx, p, w)
	}
	var input string
	cursor := -1
	for _, a := range p.Commands[0].Args {
		switch v := a.Value.(type) {
		case string:
			input = v
		case int32:
			cursor = int(v)
		}
	}
	if cursor < 0 || cursor > len(input) {
		cursor = len(input)
	}
	start := strings.LastIndexAny(input[:cursor], " ;|") + 1
	word := input[start:cursor]
	var items []clixml.Value
	for _, c := range r.commands() {
		if word != "" && strings.HasPrefix(strings.ToLower(c), strings.ToLower(word)) {
			items = append(items, &clixml.Object{
				TypeNames: []string{"System.Management.Automation.CompletionResult", "System.Object"},
				Props:     []clixml.Property{{Name: "CompletionText", Value: c}, {Name: "ResultType", Value: "Command"}},
			})
		}
	}
	return w.Output(&clixml.Object{
		TypeNames: []string{"System.Management.Automation.CommandCompletion", "System.Object"},
		Props: []clixml.Property{
			{Name: "CurrentMatchIndex", Value: int32(-1)},
			{Name: "ReplacementIndex", Value: int32(start)},
			{Name: "ReplacementLength", Value: int32(len(word))},
			{Name: "CompletionMatches", Value: &clixml.Object{Content: clixml.ContentList, Items: items}},
		},
	})
}

func TestEnterPTYTabCompletion(t *testing.T) {
	if testing.Short() {
		t.Skip("pseudo-terminal tests")
	}
	addr := startPTYEndpoint(t, completingEngine{})
	c := enterConsole(t, addr)
	c.send("write-pro\t")
	c.expect(`> Write-Progress`) // the typed part takes the match's spelling
	c.send(" -Activity Tabbed -PercentComplete 10\r")
	c.expect(`Tabbed: Processing \[#{2} {18}\] 10%`)
	c.expect(promptRE)
	c.line("exit")
	if code := c.wait(); code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
}

// promptRE matches the interactive prompt for the scripted engine.
const promptRE = `\[127\.0\.0\.1\]: PS ([^\r\n>]*)> `

func enterConsole(t *testing.T, addr string, env ...string) *console {
	c := startConsole(t, env, "enter", addr, "-u", `LAB\alice`)
	c.expect(promptRE)
	return c
}

func TestEnterPTY(t *testing.T) {
	if testing.Short() {
		t.Skip("pseudo-terminal tests")
	}
	addr := startPTYEndpoint(t, endpoint.Scripted{})

	t.Run("prompt, variables and location persist, exit 0", func(t *testing.T) {
		c := startConsole(t, nil, "enter", addr, "-u", `LAB\alice`)
		if got := c.expect(promptRE)[1]; got != `C:\Users\pssession` {
			t.Errorf("prompt location %q, want C:\\Users\\pssession", got)
		}
		c.line("$v = 'persisted'")
		c.expect(promptRE)
		c.line("$v")
		c.expect(`^persisted\r\n`)
		c.expect(promptRE)
		c.line("Set-Location C:\\Temp")
		if got := c.expect(promptRE)[1]; got != `C:\Temp` {
			t.Errorf("prompt after Set-Location: %q, want C:\\Temp", got)
		}
		c.line("exit")
		if code := c.wait(); code != 0 {
			t.Errorf("exit status %d, want 0", code)
		}
	})

	t.Run("multi-line input with >> continuation", func(t *testing.T) {
		c := enterConsole(t, addr)
		c.line("Write-Output 'first")
		c.expect(`>> `)
		c.line("second'")
		c.expect(`^first\r\nsecond\r\n`)
		c.expect(promptRE)
		c.line("exit")
		c.wait()
	})

	t.Run("Read-Host answered at the terminal", func(t *testing.T) {
		c := enterConsole(t, addr)
		c.line("Read-Host 'Your name'")
		c.expect(`\rYour name: `) // drawn by the line editor: it reads now
		c.line("Ada")
		c.expect(`^Ada\r\n`)
		c.expect(promptRE)
		c.line("exit")
		c.wait()
	})

	t.Run("Read-Host -AsSecureString does not echo", func(t *testing.T) {
		c := enterConsole(t, addr)
		c.line("Read-Host -AsSecureString 'Secret'")
		c.expect(`\rSecret: `)
		c.send("hunter2\r")
		c.expect(`\*{7}\r\n`)
		// The scripted engine outputs what arrived, decrypted with the
		// session key.
		c.expect(`^hunter2\r\n`)
		c.expect(promptRE)
		if n := strings.Count(c.output(), "hunter2"); n != 1 {
			t.Errorf("the secret appears %d times, want once (the output)", n)
		}
		c.line("exit")
		c.wait()
	})

	t.Run("Ctrl+C stops a long command and the session goes on", func(t *testing.T) {
		c := enterConsole(t, addr)
		c.line("$kept = 'still here'")
		c.expect(promptRE)
		c.line("Write-Output sleeping; Start-Sleep -Seconds 30")
		c.expect(`^sleeping\r\n`)
		c.send("\x03")
		c.expect(promptRE)
		c.line("$kept")
		c.expect(`^still here\r\n`)
		c.expect(promptRE)
		c.line("exit")
		if code := c.wait(); code != 0 {
			t.Errorf("exit status %d, want 0", code)
		}
	})

	t.Run("Ctrl+C at the prompt clears the line", func(t *testing.T) {
		c := enterConsole(t, addr)
		c.send("Write-Output dropped")
		c.expect(`dropped`)
		c.send("\x03")
		c.expect(promptRE)
		c.line("Write-Output kept")
		c.expect(`^kept\r\n`)
		c.expect(promptRE)
		if strings.Contains(c.rest(), "dropped") {
			t.Errorf("the cleared line ran")
		}
		c.line("exit")
		c.wait()
	})

	t.Run("exit 3 leaves with status 3", func(t *testing.T) {
		c := enterConsole(t, addr)
		c.line("exit 3")
		if code := c.wait(); code != 3 {
			t.Errorf("exit status %d, want 3", code)
		}
	})

	t.Run("Ctrl+D leaves", func(t *testing.T) {
		c := enterConsole(t, addr)
		c.send("\x04")
		if code := c.wait(); code != 0 {
			t.Errorf("exit status %d, want 0", code)
		}
	})

	t.Run("errors in red on a terminal, plain with NO_COLOR", func(t *testing.T) {
		c := enterConsole(t, addr)
		c.line("Write-Error broken")
		c.expect(`\x1b\[31mbroken`)
		c.expect(promptRE)
		c.line("exit")
		c.wait()

		c = enterConsole(t, addr, "NO_COLOR=1")
		c.line("Write-Error broken")
		c.expect(`^broken\r\n`)
		c.expect(promptRE)
		c.line("exit")
		c.wait()

		c = startConsole(t, nil, "enter", addr, "-u", `LAB\alice`, "--no-color")
		c.expect(promptRE)
		c.line("Write-Error broken")
		c.expect(`^broken\r\n`)
		c.expect(promptRE)
		c.line("exit")
		c.wait()
		if strings.Contains(c.output(), "\x1b[31m") {
			t.Errorf("--no-color output has colour codes")
		}
	})

	t.Run("Get-Credential asks for the password without echo", func(t *testing.T) {
		c := enterConsole(t, addr)
		c.line("Get-Credential bob")
		c.expect(`\rPassword for user bob: `)
		c.send("s3cret\r")
		c.expect(`\*{6}\r\n`)
		c.expect(`^bob\r\n`)
		c.expect(promptRE)
		if strings.Contains(c.output(), "s3cret") {
			t.Errorf("the password was echoed")
		}
		c.line("exit")
		c.wait()
	})

	t.Run("PromptForChoice answered by hotkey", func(t *testing.T) {
		c := enterConsole(t, addr)
		c.line("Read-Choice Confirm 'Really do it?' '&Yes' '&No'")
		c.expect(`Confirm\r\n`)
		c.expect(`Really do it\?\r\n`)
		c.expect(`\r\[Y\] Yes  \[N\] No  \[\?\] Help \(default is "Y"\): `)
		c.line("n")
		c.expect(`^1\r\n`)
		c.expect(promptRE)
		c.line("exit")
		c.wait()
	})

	t.Run("progress bar shown on stderr and cleared", func(t *testing.T) {
		c := enterConsole(t, addr)
		c.line("Write-Progress -Activity Copying -Status files -PercentComplete 50; Start-Sleep -Milliseconds 100; Write-Output copied")
		c.expect(`\r\x1b\[KCopying: files \[#{10} {10}\] 50%`)
		c.expect(`\r\x1b\[Kcopied\r\n`) // the bar is wiped before the output
		c.expect(promptRE)
		c.line("exit")
		c.wait()
	})

	t.Run("Write-Host colours on a terminal", func(t *testing.T) {
		c := enterConsole(t, addr)
		c.line("Write-Host -ForegroundColor Green go")
		c.expect(`\x1b\[92mgo\x1b\[0m\r\n`)
		c.expect(promptRE)
		c.line("exit")
		c.wait()
	})

	t.Run("Ctrl+D leaves and the temporary session is gone from the endpoint", func(t *testing.T) {
		addr := startPTYEndpoint(t, endpoint.Scripted{}) // its own, to count sessions
		list := func() string {
			cmd := exec.Command(pssessionBinary(t), "list", "--computer", addr, "-u", `LAB\alice`)
			cmd.Env = append(os.Environ(), "PSSESSION_PASSWORD=Passw0rd!", "XDG_STATE_HOME="+t.TempDir())
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("list --computer: %v\n%s", err, out)
			}
			return string(out)
		}
		c := enterConsole(t, addr)
		if got := list(); !strings.Contains(got, "Opened") {
			t.Fatalf("while entered, the endpoint lists:\n%s\nwant an Opened session", got)
		}
		c.send("\x04")
		if code := c.wait(); code != 0 {
			t.Errorf("exit status %d, want 0", code)
		}
		if got := list(); strings.Contains(got, "Opened") || strings.Contains(got, "Disconnected") {
			t.Errorf("after Ctrl+D the endpoint still lists:\n%s", got)
		}
	})

	t.Run("SIGTERM closes the temporary session too", func(t *testing.T) {
		addr := startPTYEndpoint(t, endpoint.Scripted{})
		c := enterConsole(t, addr)
		if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if code := c.wait(); code != 128+int(syscall.SIGTERM) {
			t.Errorf("exit status %d, want %d", code, 128+int(syscall.SIGTERM))
		}
		cmd := exec.Command(pssessionBinary(t), "list", "--computer", addr, "-u", `LAB\alice`)
		cmd.Env = append(os.Environ(), "PSSESSION_PASSWORD=Passw0rd!", "XDG_STATE_HOME="+t.TempDir())
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("list --computer: %v\n%s", err, out)
		}
		if strings.Contains(string(out), "Opened") {
			t.Errorf("after SIGTERM the endpoint still lists:\n%s", out)
		}
	})

	t.Run("history recalled in a second run, no sensitive line on disk", func(t *testing.T) {
		state := t.TempDir()
		c := enterConsole(t, addr, "XDG_STATE_HOME="+state)
		c.line("$password = 'x'")
		c.expect(promptRE)
		c.line("Write-Output remembered")
		c.expect(promptRE)
		c.line("exit")
		c.wait()
		b, err := os.ReadFile(filepath.Join(state, "pssession", "history", "host-127.0.0.1.history"))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "password") || !strings.Contains(string(b), "Write-Output remembered") {
			t.Errorf("history file:\n%s", b)
		}
		c = enterConsole(t, addr, "XDG_STATE_HOME="+state)
		c.send("\x1b[A\x1b[A") // Up twice: the line before "exit" in the previous run
		c.expect(`Write-Output remembered`)
		c.line("")
		c.expect(`^remembered\r\n`)
		c.expect(promptRE)
		c.send("\x12memb") // Ctrl+R: search the history
		// readline shows the found line with the match underlined.
		c.expect("> Write-Output remembered\b+\x1b\\[4mmemb\x1b\\[0m\r\n\x1b\\[Jbck-i-search: memb")
		c.send("\r")
		c.expect(`remembered\r\n`)
		c.expect(promptRE)
		c.line("exit")
		c.wait()
	})
}

func TestDemoPTY(t *testing.T) {
	if testing.Short() {
		t.Skip("pseudo-terminal tests")
	}
	c := startConsole(t, nil, "demo")
	c.expect(`local demo endpoint`)
	c.expect(`\[127\.0\.0\.1\]: PS /[^\r\n]*> `)
	c.line("echo hi")
	c.expect(`^hi\r\n`)
	c.expect(`PS /[^\r\n]*> `)
	c.line("{")
	c.expect(`>> `)
	c.line("echo in-block")
	c.expect(`>> `)
	c.line("}")
	c.expect(`^in-block\r\n`)
	c.expect(`PS /[^\r\n]*> `)
	c.line("exit")
	if code := c.wait(); code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
	if bytes.Contains([]byte(c.output()), []byte("panic")) {
		t.Errorf("panic in output")
	}
}
