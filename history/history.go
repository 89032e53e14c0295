// Package history keeps the command history of interactive sessions: one
// file per saved session, or per host for temporary sessions, in the
// user's state directory (shared/DESIGN.md §4). Lines that look sensitive
// are never written, as PSReadLine does.
package history

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// DefaultMaxLines is how many entries a history file keeps.
const DefaultMaxLines = 4096

// sensitive matches what PSReadLine's default history handler treats as
// sensitive (password, asplaintext, token, apikey, secret).
var sensitive = regexp.MustCompile(`(?i)password|asplaintext|token|apikey|secret`)

// IsSensitive reports whether a line must not be saved to history.
func IsSensitive(line string) bool { return sensitive.MatchString(line) }

// Store locates history files under Dir.
type Store struct {
	Dir      string
	MaxLines int
}

// DefaultDir returns the history directory in the user's state directory:
// $XDG_STATE_HOME/pssession/history, ~/.local/state/pssession/history on
// Unix, %LOCALAPPDATA%\pssession\history on Windows.
func DefaultDir(getenv func(string) string) (string, error) {
	if d := getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "pssession", "history"), nil
	}
	if d := getenv("LOCALAPPDATA"); d != "" {
		return filepath.Join(d, "pssession", "history"), nil
	}
	home := getenv("HOME")
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("history: no home directory: %w", err)
		}
		home = h
	}
	return filepath.Join(home, ".local", "state", "pssession", "history"), nil
}

// Key returns the history key for a saved session name, or for a host when
// the session is temporary.
func Key(sessionName, host string) string {
	if sessionName != "" {
		return "session-" + sanitize(sessionName)
	}
	return "host-" + sanitize(strings.ToLower(host))
}

func sanitize(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '.':
			b.WriteRune(r)
		default:
			fmt.Fprintf(&b, "_%04x", r)
		}
	}
	if b.Len() == 0 {
		return "_"
	}
	return b.String()
}

// Path returns the file that holds the history for key.
func (s Store) Path(key string) string { return filepath.Join(s.Dir, key+".history") }

// Append adds line to the history of key unless it is blank or sensitive.
// It reports whether the line was written. Multi-line entries are stored
// with their newlines escaped, so one entry is one file line.
func (s Store) Append(key, line string) (bool, error) {
	if strings.TrimSpace(line) == "" || IsSensitive(line) {
		return false, nil
	}
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return false, fmt.Errorf("history: %w", err)
	}
	f, err := os.OpenFile(s.Path(key), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return false, fmt.Errorf("history: %w", err)
	}
	_, werr := f.WriteString(escape(line) + "\n")
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		return false, fmt.Errorf("history: %w", err)
	}
	return true, s.trim(key)
}

// Lines returns the entries of key, oldest first; none when there is no file.
func (s Store) Lines(key string) ([]string, error) {
	f, err := os.Open(s.Path(key))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		out = append(out, unescape(sc.Text()))
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("history: %w", err)
	}
	return out, nil
}

// trim keeps the file at MaxLines entries, rewriting it atomically.
func (s Store) trim(key string) error {
	max := s.MaxLines
	if max <= 0 {
		max = DefaultMaxLines
	}
	lines, err := s.Lines(key)
	if err != nil || len(lines) <= max {
		return err
	}
	lines = lines[len(lines)-max:]
	tmp, err := os.CreateTemp(s.Dir, ".history-*")
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	w := bufio.NewWriter(tmp)
	for _, l := range lines {
		w.WriteString(escape(l) + "\n")
	}
	werr := w.Flush()
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("history: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.Path(key)); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("history: %w", err)
	}
	return nil
}

func escape(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`, "\r", `\r`).Replace(s)
}

func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			switch s[i+1] {
			case 'n':
				b.WriteByte('\n')
				i++
				continue
			case 'r':
				b.WriteByte('\r')
				i++
				continue
			case '\\':
				b.WriteByte('\\')
				i++
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
