package shell

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"golang.org/x/term"
)

// TerminalReader is the LineReader of a non-REPL command (invoke) whose
// stdin is a terminal: prompts go to ErrOut, passwords are read without
// echo.
type TerminalReader struct {
	IO *IOStreams

	once sync.Once
	in   *bufio.Reader
}

func (t *TerminalReader) reader() *bufio.Reader {
	t.once.Do(func() { t.in = bufio.NewReader(t.IO.In) })
	return t.in
}

// ReadLine shows prompt and reads one line.
func (t *TerminalReader) ReadLine(prompt string) (string, error) {
	fmt.Fprint(t.IO.ErrOut, prompt)
	line, err := t.reader().ReadString('\n')
	if err != nil && (line == "" || !errors.Is(err, io.EOF)) {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// ReadPassword shows prompt and reads one line without echo.
func (t *TerminalReader) ReadPassword(prompt string) (string, error) {
	fd, ok := t.IO.In.(interface{ Fd() uintptr })
	if !ok || !t.IO.IsStdinTTY() {
		return t.ReadLine(prompt)
	}
	fmt.Fprint(t.IO.ErrOut, prompt)
	b, err := term.ReadPassword(int(fd.Fd()))
	fmt.Fprintln(t.IO.ErrOut)
	return string(b), err
}
