package shell

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/chzyer/readline"
)

// Readline is the line editor of the interactive shell (chzyer/readline):
// prompts, in-memory history with Ctrl+R search, Tab completion, and the
// no-echo reads of Read-Host -AsSecureString. One instance serves both the
// REPL (LineSource) and the host's prompts (LineReader).
type Readline struct {
	rl *readline.Instance
	// OnHostInterrupt is called when Ctrl+C is pressed at a host prompt
	// (Read-Host): the command that asked should stop.
	OnHostInterrupt func()
	// Pending, when set, is the writer the host writes on; a host read
	// with no prompt of its own uses the line it left unfinished (the
	// "Name: " that Read-Host wrote with Write) as the prompt, so that the
	// line editor redraws it instead of erasing it.
	Pending *LineTracker
}

// LineTracker is a writer that remembers the text written after the last
// newline.
type LineTracker struct {
	W io.Writer

	mu   sync.Mutex
	tail []byte
}

// maxTrackedLine bounds the remembered unfinished line.
const maxTrackedLine = 512

func (l *LineTracker) Write(p []byte) (int, error) {
	l.mu.Lock()
	if i := bytes.LastIndexByte(p, '\n'); i >= 0 {
		l.tail = append(l.tail[:0], p[i+1:]...)
	} else {
		l.tail = append(l.tail, p...)
	}
	if len(l.tail) > maxTrackedLine {
		l.tail = append([]byte(nil), l.tail[len(l.tail)-maxTrackedLine:]...)
	}
	l.mu.Unlock()
	return l.W.Write(p)
}

// Take returns the unfinished line and forgets it.
func (l *LineTracker) Take() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := string(l.tail)
	l.tail = l.tail[:0]
	return s
}

// NewReadline starts a line editor on the terminal of io. completer may be
// nil (no Tab completion).
func NewReadline(s *IOStreams, completer readline.AutoCompleter) (*Readline, error) {
	cfg := &readline.Config{
		Stdout:                 s.Out,
		Stderr:                 s.ErrOut,
		DisableAutoSaveHistory: true,
		HistoryLimit:           4096,
		HistorySearchFold:      true,
		InterruptPrompt:        "^C",
		AutoComplete:           completer,
	}
	if l, ok := completer.(readline.Listener); ok {
		cfg.Listener = l
	}
	if f, ok := s.In.(*os.File); ok {
		cfg.Stdin = f
	} else {
		cfg.Stdin = io.NopCloser(s.In)
	}
	rl, err := readline.NewEx(cfg)
	if err != nil {
		return nil, fmt.Errorf("shell: starting the line editor: %w", err)
	}
	return &Readline{rl: rl}, nil
}

// ReadLine implements LineSource: it shows prompt and reads a line.
func (r *Readline) ReadLine(prompt string) (string, error) {
	r.rl.SetPrompt(prompt)
	return r.rl.Readline()
}

// Remember adds a statement to the in-memory history (Up, Ctrl+R).
func (r *Readline) Remember(line string) {
	// With no history file this only fails to write a file it has not got.
	_ = r.rl.SaveHistory(line)
}

// Close restores the terminal and stops the editor; a ReadLine in
// progress returns.
func (r *Readline) Close() error { return r.rl.Close() }

// HostReader returns the LineReader the PSHost uses for Read-Host,
// Get-Credential and PromptForChoice.
func (r *Readline) HostReader() LineReader { return hostReader{r} }

type hostReader struct{ r *Readline }

func (h hostReader) interrupted(err error) error {
	if errors.Is(err, readline.ErrInterrupt) && h.r.OnHostInterrupt != nil {
		h.r.OnHostInterrupt()
	}
	return err
}

// prompt completes a host prompt with the unfinished line on screen.
func (h hostReader) prompt(p string) string {
	if h.r.Pending != nil {
		return h.r.Pending.Take() + p
	}
	return p
}

func (h hostReader) ReadLine(prompt string) (string, error) {
	h.r.rl.SetPrompt(h.prompt(prompt))
	line, err := h.r.rl.Readline()
	return line, h.interrupted(err)
}

func (h hostReader) ReadPassword(prompt string) (string, error) {
	cfg := h.r.rl.GenPasswordConfig()
	cfg.Prompt = h.prompt(prompt)
	cfg.EnableMask = true
	cfg.MaskRune = '*'
	b, err := h.r.rl.ReadPasswordWithConfig(cfg)
	return string(b), h.interrupted(err)
}
