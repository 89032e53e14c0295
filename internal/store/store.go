// Package store keeps pssession's saved sessions: what is needed to find
// and reconnect a disconnected PSSession from any process (shared/DESIGN.md
// §4, shared/PROTOCOL.md §4). It never holds a password or token. Writes
// are atomic, the file is 0600, and a lock file serialises processes.
package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// FileName is the store's file inside its directory.
const FileName = "sessions.json"

// formatVersion is written into the file; a newer one is refused.
const formatVersion = 1

// Session is one saved session.
type Session struct {
	ID                int       `json:"id"`
	Name              string    `json:"name"`
	InstanceID        string    `json:"instance_id"` // RunspacePool id
	ShellID           string    `json:"shell_id"`    // upper-case InstanceID
	URL               string    `json:"url"`
	ComputerName      string    `json:"computer_name"`
	ConfigurationName string    `json:"configuration_name"`
	Auth              string    `json:"auth"`
	User              string    `json:"user,omitempty"`
	IdleTimeout       Duration  `json:"idle_timeout,omitempty"`
	BufferMode        string    `json:"buffer_mode,omitempty"`
	CAFile            string    `json:"ca_file,omitempty"`
	SPN               string    `json:"spn,omitempty"`       // Kerberos service principal override
	Keytab            string    `json:"keytab,omitempty"`    // path of the user's keytab (never its content)
	Krb5Conf          string    `json:"krb5_conf,omitempty"` // path of the krb5.conf
	SkipVerify        bool      `json:"insecure_skip_verify,omitempty"`
	CertFile          string    `json:"cert_file,omitempty"` // client certificate paths (--auth certificate); never the key itself
	KeyFile           string    `json:"key_file,omitempty"`
	AllowUnencrypted  bool      `json:"allow_unencrypted,omitempty"`
	State             string    `json:"state"`                // Opened, Disconnected, Broken, Closed
	CommandID         string    `json:"command_id,omitempty"` // a command left running while disconnected
	CommandText       string    `json:"command_text,omitempty"`
	DisconnectedAt    time.Time `json:"disconnected_at,omitzero"`
	UpdatedAt         time.Time `json:"updated_at"`
}

// Duration is a time.Duration stored as text ("1h0m0s").
type Duration time.Duration

// MarshalJSON writes the duration as text.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads the text form.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

type file struct {
	Version  int        `json:"version"`
	NextID   int        `json:"next_id"`
	Sessions []*Session `json:"sessions"`
}

// Store is the saved-session file in Dir.
type Store struct {
	Dir string
	// Now returns the current time; tests replace it.
	Now func() time.Time
}

// ErrNotFound is returned when no session matches a name or id.
var ErrNotFound = errors.New("store: no such saved session")

// ErrNameTaken is returned when a new session's name is already used.
var ErrNameTaken = errors.New("store: a saved session with that name already exists")

// CorruptError reports a damaged store file; the file was moved aside to
// Backup and nothing was dropped silently.
type CorruptError struct {
	Path, Backup string
	Err          error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("store: %s is damaged (%v); it was kept as %s — repair or remove it", e.Path, e.Err, e.Backup)
}

func (e *CorruptError) Unwrap() error { return e.Err }

// DefaultDir returns the user's state directory for pssession.
func DefaultDir(getenv func(string) string) (string, error) {
	if d := getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "pssession"), nil
	}
	if d := getenv("LOCALAPPDATA"); d != "" {
		return filepath.Join(d, "pssession"), nil
	}
	home := getenv("HOME")
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("store: no home directory: %w", err)
		}
		home = h
	}
	return filepath.Join(home, ".local", "state", "pssession"), nil
}

func (s *Store) path() string { return filepath.Join(s.Dir, FileName) }

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// List returns the saved sessions ordered by id.
func (s *Store) List() ([]Session, error) {
	var out []Session
	err := s.update(false, func(f *file) error {
		for _, x := range f.Sessions {
			out = append(out, *x)
		}
		return nil
	})
	return out, err
}

// Find returns the session whose name (case-insensitive) or numeric id is ref.
func (s *Store) Find(ref string) (Session, error) {
	var out Session
	err := s.update(false, func(f *file) error {
		x := find(f, ref)
		if x == nil {
			return fmt.Errorf("%w: %q", ErrNotFound, ref)
		}
		out = *x
		return nil
	})
	return out, err
}

// Add saves a new session, assigning its id. The name must be unique.
func (s *Store) Add(sess Session) (Session, error) {
	if strings.TrimSpace(sess.Name) == "" {
		return Session{}, errors.New("store: a saved session needs a name")
	}
	if _, err := strconv.Atoi(sess.Name); err == nil {
		return Session{}, fmt.Errorf("store: name %q is a number and would be confused with an id", sess.Name)
	}
	var out Session
	err := s.update(true, func(f *file) error {
		if find(f, sess.Name) != nil {
			return fmt.Errorf("%w: %q", ErrNameTaken, sess.Name)
		}
		f.NextID++
		sess.ID = f.NextID
		sess.UpdatedAt = s.now()
		n := sess
		f.Sessions = append(f.Sessions, &n)
		out = n
		return nil
	})
	return out, err
}

// Update applies fn to the session named or numbered ref and saves it.
func (s *Store) Update(ref string, fn func(*Session)) (Session, error) {
	var out Session
	err := s.update(true, func(f *file) error {
		x := find(f, ref)
		if x == nil {
			return fmt.Errorf("%w: %q", ErrNotFound, ref)
		}
		id := x.ID
		fn(x)
		x.ID = id
		x.UpdatedAt = s.now()
		out = *x
		return nil
	})
	return out, err
}

// Remove forgets the session named or numbered ref.
func (s *Store) Remove(ref string) (Session, error) {
	var out Session
	err := s.update(true, func(f *file) error {
		for i, x := range f.Sessions {
			if matches(x, ref) {
				out = *x
				f.Sessions = append(f.Sessions[:i], f.Sessions[i+1:]...)
				return nil
			}
		}
		return fmt.Errorf("%w: %q", ErrNotFound, ref)
	})
	return out, err
}

func find(f *file, ref string) *Session {
	for _, x := range f.Sessions {
		if matches(x, ref) {
			return x
		}
	}
	return nil
}

func matches(x *Session, ref string) bool {
	if id, err := strconv.Atoi(ref); err == nil {
		return x.ID == id
	}
	return strings.EqualFold(x.Name, ref)
}

// update runs fn on the file's contents under the lock, writing the result
// back atomically when write is set and fn succeeded.
func (s *Store) update(write bool, fn func(*file) error) error {
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	unlock, err := lockFile(filepath.Join(s.Dir, FileName+".lock"))
	if err != nil {
		return fmt.Errorf("store: lock: %w", err)
	}
	defer unlock()
	f, err := s.read()
	if err != nil {
		return err
	}
	if err := fn(f); err != nil {
		return err
	}
	if !write {
		return nil
	}
	return s.write(f)
}

func (s *Store) read() (*file, error) {
	b, err := os.ReadFile(s.path())
	if errors.Is(err, os.ErrNotExist) {
		return &file{Version: formatVersion}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	var f file
	perr := json.Unmarshal(b, &f)
	if perr == nil && f.Version > formatVersion {
		return nil, fmt.Errorf("store: %s was written by a newer pssession (format %d)", s.path(), f.Version)
	}
	if perr == nil {
		perr = validate(&f)
	}
	if perr != nil {
		backup := fmt.Sprintf("%s.damaged-%s", s.path(), s.now().UTC().Format("20060102T150405Z"))
		if err := os.Rename(s.path(), backup); err != nil {
			return nil, fmt.Errorf("store: %s is damaged (%v) and could not be moved aside: %w", s.path(), perr, err)
		}
		return nil, &CorruptError{Path: s.path(), Backup: backup, Err: perr}
	}
	return &f, nil
}

func validate(f *file) error {
	ids := map[int]bool{}
	names := map[string]bool{}
	for _, x := range f.Sessions {
		if x == nil {
			return errors.New("null session entry")
		}
		if x.ID <= 0 || ids[x.ID] {
			return fmt.Errorf("bad or duplicate id %d", x.ID)
		}
		if x.Name == "" || names[strings.ToLower(x.Name)] {
			return fmt.Errorf("empty or duplicate name %q", x.Name)
		}
		ids[x.ID], names[strings.ToLower(x.Name)] = true, true
		if x.ID > f.NextID {
			f.NextID = x.ID
		}
	}
	return nil
}

func (s *Store) write(f *file) error {
	f.Version = formatVersion
	sort.Slice(f.Sessions, func(i, j int) bool { return f.Sessions[i].ID < f.Sessions[j].ID })
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	tmp, err := os.CreateTemp(s.Dir, ".sessions-*.json")
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	name := tmp.Name()
	_, werr := tmp.Write(append(b, '\n'))
	serr := tmp.Sync()
	cerr := tmp.Close()
	if err := errors.Join(werr, serr, cerr, os.Chmod(name, 0o600)); err != nil {
		os.Remove(name)
		return fmt.Errorf("store: writing %s: %w", s.path(), err)
	}
	if err := os.Rename(name, s.path()); err != nil {
		os.Remove(name)
		return fmt.Errorf("store: %w", err)
	}
	return nil
}
