// Package shell is the terminal layer of pssession: IOStreams, the readline
// adapter, the REPL, rendering and the PSHost UI. It talks only to
// remote/session (shared/DESIGN.md §3).
package shell

import (
	"bytes"
	"io"
	"os"

	"github.com/mattn/go-isatty"
	"golang.org/x/term"
)

// IOStreams carries the standard streams and what is known about them, so
// commands never touch os.Stdin/os.Stdout directly and tests use buffers.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	inTTY, outTTY, errTTY bool
	// NoColor disables colour regardless of the terminal.
	NoColor bool
}

// System returns IOStreams bound to the process's standard streams.
func System() *IOStreams {
	s := &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	s.inTTY = isTerminal(os.Stdin)
	s.outTTY = isTerminal(os.Stdout)
	s.errTTY = isTerminal(os.Stderr)
	if _, ok := os.LookupEnv("NO_COLOR"); ok {
		s.NoColor = true
	}
	return s
}

// Test returns IOStreams over in-memory buffers, none of them a terminal.
func Test() (s *IOStreams, in, out, errOut *bytes.Buffer) {
	in, out, errOut = &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut, NoColor: true}, in, out, errOut
}

// IsStdinTTY reports whether standard input is a terminal.
func (s *IOStreams) IsStdinTTY() bool { return s.inTTY }

// IsStdoutTTY reports whether standard output is a terminal.
func (s *IOStreams) IsStdoutTTY() bool { return s.outTTY }

// IsStderrTTY reports whether standard error is a terminal.
func (s *IOStreams) IsStderrTTY() bool { return s.errTTY }

// SetTTY overrides terminal detection (tests).
func (s *IOStreams) SetTTY(in, out, err bool) { s.inTTY, s.outTTY, s.errTTY = in, out, err }

// ColorEnabled reports whether coloured output should be written to Out.
func (s *IOStreams) ColorEnabled() bool { return s.outTTY && !s.NoColor }

func isTerminal(f *os.File) bool {
	return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
}

// TerminalSize returns the columns and rows of the terminal on Out, or
// zeros when Out is not a terminal.
func (s *IOStreams) TerminalSize() (int, int) {
	f, ok := s.Out.(*os.File)
	if !ok || !s.outTTY {
		return 0, 0
	}
	w, h, err := term.GetSize(int(f.Fd()))
	if err != nil {
		return 0, 0
	}
	return w, h
}
