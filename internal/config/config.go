// Package config reads pssession's configuration file: connection defaults
// plus per-host blocks selected by glob patterns, in the spirit of
// ssh_config's Host (shared/DESIGN.md §1 names the options). It is a
// client-side convenience layer; nothing in it reaches the wire protocol.
//
// The file is line oriented:
//
//	# comments and blank lines are ignored
//	user CORP\alice            # options before the first Host are defaults
//	auth = negotiate
//
//	Host web?.corp.example.com *.lab
//	  ssl yes
//	  ca-file ~/corp-ca.pem
//
// For a host, the first Host block whose patterns match gives each option;
// the defaults apply to options no matching block sets.
package config

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// MaxFileSize bounds the configuration file read.
const MaxFileSize = 1 << 20

// Keys are the options the file may set, in display order. Each is also the
// name of the command-line flag it defaults.
func Keys() []string {
	return []string{
		"user", "auth", "port", "ssl", "configuration-name", "application-name",
		"ca-file", "insecure-skip-verify", "allow-unencrypted",
		"spn", "keytab", "krb5-conf",
		"idle-timeout", "operation-timeout", "output-buffering", "proxy",
	}
}

// Entry is one "key value" line.
type Entry struct {
	Key   string
	Value string // normalised: booleans are "true"/"false"
	Line  int
}

// Block is one Host block.
type Block struct {
	Patterns []string
	Line     int
	Entries  []Entry
}

// File is a parsed configuration file.
type File struct {
	Path     string
	Defaults []Entry
	Blocks   []Block
}

// Setting is the value an option takes for a host and where it came from.
type Setting struct {
	Value string
	Line  int
	// Host is the matching block's pattern list ("" for the defaults).
	Host string
}

// SyntaxError reports a bad line of the file.
type SyntaxError struct {
	Path string
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("config: %s:%d: %s", e.Path, e.Line, e.Msg)
}

// DefaultPath is $PSSESSION_CONFIG, or pssession/config in the user's
// configuration directory ($XDG_CONFIG_HOME, ~/.config, ~/Library/Application
// Support, %AppData%).
func DefaultPath(getenv func(string) string) (string, error) {
	if p := getenv("PSSESSION_CONFIG"); p != "" {
		return p, nil
	}
	if d := getenv("XDG_CONFIG_HOME"); d != "" {
		return filepath.Join(d, "pssession", "config"), nil
	}
	d, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("config: no configuration directory: %w", err)
	}
	return filepath.Join(d, "pssession", "config"), nil
}

// Load reads and parses the file at path. A missing file is an empty
// configuration.
func Load(path string) (*File, error) {
	fh, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return &File{Path: path}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer fh.Close()
	return Parse(path, fh)
}

// Parse reads a configuration from r; path names it in errors.
func Parse(path string, r io.Reader) (*File, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("config: reading %s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("config: %s is larger than %d bytes", path, MaxFileSize)
	}
	f := &File{Path: path}
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	sc.Buffer(make([]byte, 0, 4096), MaxFileSize)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(stripComment(sc.Text()))
		if line == "" {
			continue
		}
		key, value := splitKeyValue(line)
		bad := func(format string, a ...any) error {
			return &SyntaxError{Path: path, Line: n, Msg: fmt.Sprintf(format, a...)}
		}
		if strings.EqualFold(key, "host") {
			pats := strings.Fields(value)
			if len(pats) == 0 {
				return nil, bad("Host needs at least one pattern")
			}
			f.Blocks = append(f.Blocks, Block{Patterns: pats, Line: n})
			continue
		}
		key = strings.ToLower(key)
		if value == "" {
			return nil, bad("%q has no value", key)
		}
		v, err := normalise(key, value)
		if err != nil {
			return nil, bad("%v", err)
		}
		e := Entry{Key: key, Value: v, Line: n}
		if len(f.Blocks) == 0 {
			f.Defaults = append(f.Defaults, e)
		} else {
			b := &f.Blocks[len(f.Blocks)-1]
			b.Entries = append(b.Entries, e)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("config: reading %s: %w", path, err)
	}
	return f, nil
}

// stripComment drops a "#" comment that starts a line or follows a blank.
func stripComment(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '#' && (i == 0 || s[i-1] == ' ' || s[i-1] == '\t') {
			return s[:i]
		}
	}
	return s
}

// splitKeyValue splits "key value" or "key = value".
func splitKeyValue(line string) (string, string) {
	i := strings.IndexAny(line, " \t=")
	if i < 0 {
		return line, ""
	}
	key, rest := line[:i], strings.TrimSpace(line[i:])
	rest = strings.TrimSpace(strings.TrimPrefix(rest, "="))
	if len(rest) >= 2 && rest[0] == '"' && rest[len(rest)-1] == '"' {
		rest = rest[1 : len(rest)-1]
	}
	return key, rest
}

// normalise checks a value for its key and returns its canonical text.
func normalise(key, v string) (string, error) {
	switch key {
	case "user", "configuration-name", "application-name", "ca-file":
		return v, nil
	case "spn", "keytab", "krb5-conf": // Kerberos; checked where they are used
		return v, nil
	case "proxy": // checked where it is used (cmd --proxy)
		return v, nil
	case "port":
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("port %q: want a number from 1 to 65535", v)
		}
		return strconv.Itoa(n), nil
	case "ssl", "insecure-skip-verify", "allow-unencrypted":
		switch strings.ToLower(v) {
		case "yes", "true", "on", "1":
			return "true", nil
		case "no", "false", "off", "0":
			return "false", nil
		}
		return "", fmt.Errorf("%s %q: want yes or no", key, v)
	case "auth":
		switch a := strings.ToLower(v); a {
		case "negotiate", "ntlm", "kerberos", "basic", "certificate":
			return a, nil
		}
		return "", fmt.Errorf("auth %q: want negotiate, ntlm, kerberos, basic or certificate", v)
	case "idle-timeout", "operation-timeout":
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return "", fmt.Errorf("%s %q: want a duration such as 90s or 2h", key, v)
		}
		return d.String(), nil
	case "output-buffering":
		switch b := strings.ToLower(v); b {
		case "block", "drop":
			return b, nil
		}
		return "", fmt.Errorf("output-buffering %q: want block or drop", v)
	}
	return "", fmt.Errorf("unknown option %q (known: %s)", key, strings.Join(Keys(), ", "))
}

// Resolve returns the options that apply to host: per option, the first
// matching Host block that sets it, else the defaults.
func (f *File) Resolve(host string) map[string]Setting {
	out := map[string]Setting{}
	for _, b := range f.Blocks {
		if !b.Matches(host) {
			continue
		}
		for _, e := range b.Entries {
			if _, ok := out[e.Key]; !ok {
				out[e.Key] = Setting{Value: e.Value, Line: e.Line, Host: strings.Join(b.Patterns, " ")}
			}
		}
	}
	for _, e := range f.Defaults {
		if _, ok := out[e.Key]; !ok {
			out[e.Key] = Setting{Value: e.Value, Line: e.Line}
		}
	}
	return out
}

// Matches reports whether host matches the block: some pattern matches and
// no negated pattern ("!pattern") does.
func (b Block) Matches(host string) bool {
	matched := false
	for _, p := range b.Patterns {
		if neg, ok := strings.CutPrefix(p, "!"); ok {
			if Match(neg, host) {
				return false
			}
			continue
		}
		if Match(p, host) {
			matched = true
		}
	}
	return matched
}

// Hosts lists the literal host names of the Host blocks (patterns without
// wildcards or negation), for shell completion.
func (f *File) Hosts() []string {
	var out []string
	seen := map[string]bool{}
	for _, b := range f.Blocks {
		for _, p := range b.Patterns {
			if strings.ContainsAny(p, "*?!") || seen[p] {
				continue
			}
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// Match reports whether name matches the glob pattern, where "*" is any run
// of characters and "?" any one character, ignoring case as host names do.
func Match(pattern, name string) bool {
	p, s := []rune(strings.ToLower(pattern)), []rune(strings.ToLower(name))
	// Iterative matching with backtracking to the last star: linear in
	// practice, quadratic at worst.
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == s[si]):
			pi++
			si++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
