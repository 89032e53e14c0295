package endpoint

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// Sh is the demo engine: one persistent POSIX shell per runspace. Each
// pipeline's script runs in that shell (so cd and variables persist); its
// stdout lines become output objects and its stderr lines error records.
// "prompt" answers "PS <cwd>> ", and "exit N" asks the client to exit.
// Leading PowerShell preference assignments ($X = 'v';) are skipped.
// Stopping a pipeline (Ctrl+C) kills the shell's process group and starts
// a new shell in the same directory: variables set before are lost.
type Sh struct {
	// Path of the shell; default /bin/sh.
	Path string
}

// Open starts the runspace's shell.
func (e Sh) Open(ctx context.Context, opts RunspaceOptions) (Runspace, error) {
	path := e.Path
	if path == "" {
		path = "/bin/sh"
	}
	var tok [8]byte
	_, _ = rand.Read(tok[:])
	cwd := opts.WorkingDirectory
	if cwd == "" {
		cwd, _ = os.UserHomeDir()
	}
	r := &shRunspace{ctx: ctx, path: path, env: opts.Env, cwd: cwd, tag: "PSS" + hex.EncodeToString(tok[:])}
	if err := r.start(); err != nil {
		return nil, err
	}
	return r, nil
}

type shRunspace struct {
	ctx  context.Context
	path string
	env  []string
	tag  string

	mu       sync.Mutex // one pipeline at a time; guards the fields below
	cwd      string
	lastCode int // exit status of the last script ($LASTEXITCODE)
	proc     *exec.Cmd
	stdin    io.WriteCloser
	lines    chan shLine
	done     chan struct{} // closed when proc exited
}

// shLine is one line of the shell's output, or an end marker.
type shLine struct {
	stderr bool
	text   string
	marker bool
	code   int
	cwd    string
	eof    bool
}

func (r *shRunspace) start() error {
	p := exec.Command(r.path)
	p.Dir = r.cwd
	p.Env = append(os.Environ(), r.env...)
	ownProcessGroup(p)
	stdin, err := p.StdinPipe()
	if err != nil {
		return fmt.Errorf("endpoint: sh engine: %w", err)
	}
	stdout, err := p.StdoutPipe()
	if err != nil {
		return fmt.Errorf("endpoint: sh engine: %w", err)
	}
	stderr, err := p.StderrPipe()
	if err != nil {
		return fmt.Errorf("endpoint: sh engine: %w", err)
	}
	if err := p.Start(); err != nil {
		return fmt.Errorf("endpoint: sh engine: starting %s: %w", r.path, err)
	}
	lines := make(chan shLine, 256)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go r.read(stdout, false, lines, &wg)
	go r.read(stderr, true, lines, &wg)
	go func() {
		wg.Wait()
		_ = p.Wait()
		lines <- shLine{eof: true}
		close(done)
	}()
	r.proc, r.stdin, r.lines, r.done = p, stdin, lines, done
	return nil
}

// read splits a stream into lines and end markers.
func (r *shRunspace) read(rd io.Reader, stderr bool, out chan<- shLine, wg *sync.WaitGroup) {
	defer wg.Done()
	br := bufio.NewReaderSize(rd, 64<<10)
	marker := "\x1e" + r.tag
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			text := strings.TrimSuffix(line, "\n")
			if i := strings.Index(text, marker); i >= 0 {
				if i > 0 {
					out <- shLine{stderr: stderr, text: text[:i]}
				}
				l := shLine{stderr: stderr, marker: true}
				if f := strings.SplitN(text[i+len(marker):], ":", 3); len(f) == 3 {
					l.code, _ = strconv.Atoi(f[1])
					l.cwd = f[2]
				}
				out <- l
			} else if err == nil || text != "" {
				out <- shLine{stderr: stderr, text: text}
			}
		}
		if err != nil {
			return
		}
	}
}

// kill ends the shell and everything it started.
func (r *shRunspace) kill() {
	if r.proc == nil {
		return
	}
	_ = killGroup(r.proc.Process.Pid)
	_ = r.stdin.Close()
	for {
		select {
		case <-r.lines: // unblock the readers
		case <-r.done:
			r.proc = nil
			return
		}
	}
}

// Commands names what a PowerShell client may look for: the formatters are
// accepted (and dropped), prompt is answered.
func (r *shRunspace) Commands() []string { return []string{"Out-String", "Out-Default", "prompt"} }

func (r *shRunspace) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.kill()
	return nil
}

// psPreamble matches leading PowerShell preference assignments such as
// "$ProgressPreference = 'SilentlyContinue';" that WinRS clients prepend
// to scripts (masterzen/winrm's Powershell); the shell skips them.
var psPreamble = regexp.MustCompile(`^(\s*\$[A-Za-z_]\w*\s*=\s*('[^']*'|"[^"]*"|\S+)\s*;)+`)

// shLastExitCode matches a query of $LASTEXITCODE, which the shell
// answers with the last script's exit status.
var shLastExitCode = regexp.MustCompile(`(?i)^\s*\$(global:)?LASTEXITCODE\s*;?\s*$`)

var shExit = regexp.MustCompile(`^\s*exit(\s+(-?\d+))?\s*;?\s*$`)

// shScript turns a pipeline into shell text.
func shScript(p Pipeline) string {
	var parts []string
	for _, c := range p.Commands {
		switch {
		case c.IsScript:
			parts = append(parts, c.Text)
		case strings.EqualFold(c.Text, "prompt"):
			parts = append(parts, `printf 'PS %s> \n' "$PWD"`)
		case isFormatter(c.Text):
		default:
			words := []string{c.Text}
			for _, a := range c.Args {
				if a.Name != "" {
					words = append(words, "-"+a.Name)
				}
				if a.Value != nil {
					words = append(words, shQuote(fmt.Sprint(a.Value)))
				}
			}
			parts = append(parts, strings.Join(words, " "))
		}
	}
	script := psPreamble.ReplaceAllString(strings.Join(parts, "\n"), "")
	if strings.TrimSpace(script) == "prompt" {
		script = `printf 'PS %s> \n' "$PWD"`
	}
	return script
}

func shQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// Run runs the pipeline's script in the shell.
func (r *shRunspace) Run(ctx context.Context, p Pipeline, w Writer) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	script := shScript(p)
	if shLastExitCode.MatchString(script) {
		return w.Output(int32(r.lastCode))
	}
	if m := shExit.FindStringSubmatch(script); m != nil {
		code, _ := strconv.Atoi(m[2])
		return w.SetShouldExit(code)
	}
	// A syntax error would end the persistent shell: check first.
	chk := exec.CommandContext(ctx, r.path, "-n")
	chk.Stdin = strings.NewReader(script)
	var chkErr bytes.Buffer
	chk.Stderr = &chkErr
	if err := chk.Run(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &ScriptError{Message: strings.TrimSpace(chkErr.String())}
	}
	if r.proc == nil {
		if err := r.start(); err != nil {
			return err
		}
	}
	eof := r.tag + "EOF"
	input := "eval \"$(cat <<'" + eof + "'\n" + script + "\n" + eof + "\n)\" </dev/null\n" +
		`printf '\036` + r.tag + `:%d:%s\n' $? "$PWD"; printf '\036` + r.tag + `:0:\n' >&2` + "\n"
	if _, err := io.WriteString(r.stdin, input); err != nil {
		r.kill()
		return fmt.Errorf("endpoint: sh engine: writing the script: %w", err)
	}
	gotOut, gotErr := false, false
	for !gotOut || !gotErr {
		select {
		case <-ctx.Done():
			r.kill()
			return ctx.Err()
		case <-r.ctx.Done():
			r.kill()
			return r.ctx.Err()
		case l := <-r.lines:
			var err error
			switch {
			case l.eof:
				// The script ended the shell (exit N): the client should
				// exit; the next pipeline gets a new shell.
				code := r.proc.ProcessState.ExitCode()
				r.proc = nil
				return w.SetShouldExit(code)
			case l.marker && l.stderr:
				gotErr = true
			case l.marker:
				gotOut = true
				r.lastCode = l.code
				if l.cwd != "" {
					r.cwd = l.cwd
				}
			case l.stderr:
				err = w.Error(l.text)
			default:
				err = w.Output(l.text)
			}
			if err != nil {
				r.kill()
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return err
			}
		}
	}
	return nil
}
