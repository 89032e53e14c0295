package shell

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/chzyer/readline"

	"github.com/pssession/pssession/history"
	"github.com/pssession/pssession/remote/psrp"
	"github.com/pssession/pssession/remote/session"
)

// Remote is what the REPL needs of a live session; *session.Session has
// it.
type Remote interface {
	Run(ctx context.Context, req session.RunRequest) (*session.Result, error)
	Prompt(ctx context.Context) (string, error)
	CommandExists(ctx context.Context, name string) bool
	HasOutString(ctx context.Context) bool
}

// LineSource is where the REPL reads what the user types.
type LineSource interface {
	// ReadLine shows prompt and reads one line. It returns ErrInterrupt
	// when the user pressed Ctrl+C (the line is dropped) and io.EOF at the
	// end of input (Ctrl+D on an empty line).
	ReadLine(prompt string) (string, error)
}

// ErrInterrupt is what a LineSource returns for Ctrl+C at the prompt.
var ErrInterrupt = readline.ErrInterrupt

// ContinuationPrompt is shown while a statement is incomplete.
const ContinuationPrompt = ">> "

// REPL is the interactive loop of `pssession enter`: read a statement
// (joining lines while it is incomplete), run it in the session's one
// runspace, render its streams, refresh the remote prompt.
type REPL struct {
	Session Remote
	// Computer is shown as "[Computer]: " before the remote prompt.
	Computer string
	Lines    LineSource
	// Interactive shows prompts and keeps history; false reads lines from
	// a pipe with no prompt noise.
	Interactive bool
	Renderer    *Renderer
	// Width returns the terminal's columns for Out-String -Width; nil or
	// a non-positive answer means 120.
	Width func() int
	// History keeps statements across runs under HistoryKey; nil keeps
	// none. Sensitive statements are never written (history.IsSensitive).
	History    *history.Store
	HistoryKey string
	// Remember adds a statement to the line editor's in-memory history.
	Remember func(line string)
	// ClearScreen clears the local screen (clear, cls, Clear-Host).
	ClearScreen func()
	// Interrupts delivers Ctrl+C presses made while a command runs (the
	// terminal sends SIGINT then); nil means none.
	Interrupts <-chan struct{}
	// Notice writes a short message for the user (stderr).
	Notice func(string)

	mu     sync.Mutex
	cancel context.CancelFunc // of the running command
}

// Interrupt stops the running command, if any, as Ctrl+C does.
func (r *REPL) Interrupt() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cancel != nil {
		r.cancel()
	}
}

func (r *REPL) notice(msg string) {
	if r.Notice != nil {
		r.Notice(msg)
	}
}

func (r *REPL) width() int {
	if r.Width != nil {
		if w := r.Width(); w > 0 {
			return w
		}
	}
	return 120
}

// Prompt returns the prompt shown before a statement: "[Computer]: "
// and the remote prompt function's text (shared/PROTOCOL.md §2.10).
func (r *REPL) Prompt(ctx context.Context) string {
	// Ctrl+C while a slow prompt function runs gives the fallback "PS>".
	pctx, stop, _ := r.interruptible(ctx)
	defer stop()
	p, err := r.Session.Prompt(pctx)
	if err != nil || p == "" {
		p = "PS>"
	}
	if r.Computer == "" {
		return p
	}
	return "[" + r.Computer + "]: " + p
}

// isLeave reports whether a statement leaves the session as exit and
// Exit-PSSession do in Enter-PSSession.
func isLeave(stmt string) bool {
	s := strings.ToLower(strings.TrimSpace(stmt))
	return s == "exit" || s == "exit-pssession"
}

func isClear(stmt string) bool {
	s := strings.ToLower(strings.TrimSpace(stmt))
	return s == "clear" || s == "cls" || s == "clear-host"
}

// Run reads and runs statements until the input ends, the user leaves, or
// a script calls exit. It returns the exit status: N after `exit N`;
// otherwise 0 interactively, and for piped input 1 when the last statement
// failed, else 0. An error means the session itself failed.
func (r *REPL) Run(ctx context.Context) (int, error) {
	outString := r.Session.HasOutString(ctx)
	prompt := ""
	if r.Interactive {
		prompt = r.Prompt(ctx)
	}
	var buf []string
	lastFailed := false
	status := func() int {
		if !r.Interactive && lastFailed {
			return 1
		}
		return 0
	}
	for {
		if err := ctx.Err(); err != nil {
			return status(), err
		}
		p := ""
		if r.Interactive {
			p = prompt
			if len(buf) > 0 {
				p = ContinuationPrompt
			}
		}
		line, err := r.Lines.ReadLine(p)
		if err != nil && ctx.Err() != nil {
			// Ended from outside (SIGTERM closed the line editor).
			return status(), ctx.Err()
		}
		switch {
		case errors.Is(err, ErrInterrupt):
			buf = nil
			continue
		case errors.Is(err, io.EOF):
			if len(buf) == 0 || r.Interactive {
				return status(), nil
			}
			line, err = "", nil
		case err != nil:
			if ctx.Err() != nil {
				return status(), ctx.Err()
			}
			return status(), fmt.Errorf("shell: reading input: %w", err)
		}
		buf = append(buf, line)
		stmt := strings.Join(buf, "\n")
		// An empty line at ">> " submits what there is, as the console does.
		if Incomplete(stmt) && (strings.TrimSpace(line) != "" || len(buf) == 1) {
			continue
		}
		buf = nil
		if strings.TrimSpace(stmt) == "" {
			continue
		}
		if r.Interactive {
			r.remember(stmt)
		}
		switch {
		case isLeave(stmt):
			return 0, nil
		case isClear(stmt):
			if r.ClearScreen != nil {
				r.ClearScreen()
			}
			continue
		}
		failed, exit, err := r.runStatement(ctx, stmt, outString)
		if err != nil {
			return status(), err
		}
		if exit != nil {
			return int(*exit), nil
		}
		lastFailed = failed
		if r.Interactive {
			prompt = r.Prompt(ctx)
		}
	}
}

func (r *REPL) remember(stmt string) {
	if r.Remember != nil {
		r.Remember(stmt)
	}
	if r.History != nil {
		if _, err := r.History.Append(r.HistoryKey, stmt); err != nil {
			r.notice("pssession: " + err.Error())
			r.History = nil // say it once
		}
	}
}

// StatementPipeline is the pipeline for one typed statement: the text as
// a script, then `Out-String -Stream -Width N` when the endpoint has it
// (restricted endpoints get plain objects, rendered by their ToString).
// It is added to the remote history, as Enter-PSSession does.
func StatementPipeline(stmt string, width int, outString bool) psrp.PipelineSpec {
	cmds := []psrp.Command{{Cmd: stmt, IsScript: true}}
	if outString {
		cmds = append(cmds, psrp.Command{Cmd: "Out-String", Args: []psrp.Argument{
			{Name: "Stream", Value: true},
			{Name: "Width", Value: int32(width)},
		}})
	}
	return psrp.PipelineSpec{Commands: cmds, NoInput: true, AddToHistory: true}
}

// runStatement runs one statement and renders it. failed reports an error
// record or a failed pipeline; exit is set when the script called exit.
func (r *REPL) runStatement(ctx context.Context, stmt string, outString bool) (failed bool, exit *int32, err error) {
	runCtx, stop, interrupted := r.interruptible(ctx)
	defer stop()
	errorsBefore := r.Renderer.ErrorCount
	res, err := r.Session.Run(runCtx, session.RunRequest{
		Spec:        StatementPipeline(stmt, r.width(), outString),
		CommandLine: session.CommandLineOf(stmt),
		OnEvent:     r.Renderer.Event,
	})
	r.Renderer.Flush()
	stopped := runCtx.Err() != nil && ctx.Err() == nil
	switch {
	case errors.Is(err, session.ErrAbandoned):
		r.notice("pssession: the command did not stop in time; it was abandoned and the session kept")
		return true, nil, nil
	case err != nil && stopped && errors.Is(err, context.Canceled):
		return true, nil, nil
	case err != nil:
		return true, nil, err
	}
	if res.ShouldExit != nil {
		return false, res.ShouldExit, nil
	}
	select {
	case <-interrupted:
		// Stopped by Ctrl+C: PowerShell shows no error for it. Piped input
		// ends there, with the status of an interrupted program.
		if !r.Interactive {
			code := int32(130)
			return true, &code, nil
		}
		return true, nil, nil
	default:
	}
	if res.State == psrp.PipelineFailed || res.State == psrp.PipelineStopped {
		if res.Error != nil {
			r.Renderer.Event(psrp.PipelineErrorRecord{Record: res.Error.Object()})
		}
		return true, nil, nil
	}
	return r.Renderer.ErrorCount > errorsBefore, nil, nil
}

// interruptible returns a context that Ctrl+C (Interrupts, or Interrupt)
// cancels, the function that releases it, and a channel closed on the first
// press. A second press says the command is still stopping.
func (r *REPL) interruptible(ctx context.Context) (context.Context, func(), <-chan struct{}) {
	runCtx, cancel := context.WithCancel(ctx)
	r.mu.Lock()
	r.cancel = cancel
	r.mu.Unlock()
	// Ctrl+C presses made before this command started are stale.
	drain(r.Interrupts)
	done := make(chan struct{})
	interrupted := make(chan struct{})
	go func() {
		presses := 0
		for {
			select {
			case <-done:
				return
			case <-r.Interrupts:
				presses++
				if presses == 1 {
					close(interrupted)
					cancel()
				} else if presses == 2 {
					r.notice("pssession: waiting for the command to stop")
				}
			}
		}
	}()
	stop := func() {
		close(done)
		cancel()
		r.mu.Lock()
		r.cancel = nil
		r.mu.Unlock()
	}
	return runCtx, stop, interrupted
}

func drain(c <-chan struct{}) {
	for {
		select {
		case <-c:
		default:
			return
		}
	}
}

// PipeLines is the LineSource of a non-terminal stdin: one line per call,
// no prompt.
type PipeLines struct {
	R io.Reader

	once sync.Once
	rd   *bufio.Reader
}

// ReadLine reads the next line; the prompt is not shown. A last line
// without a newline is returned before io.EOF.
func (p *PipeLines) ReadLine(string) (string, error) {
	p.once.Do(func() { p.rd = bufio.NewReader(p.R) })
	line, err := p.rd.ReadString('\n')
	if err != nil && (line == "" || !errors.Is(err, io.EOF)) {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}
