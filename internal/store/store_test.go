package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func newStore(t *testing.T) *Store {
	t.Helper()
	fixed := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	return &Store{Dir: filepath.Join(t.TempDir(), "state"), Now: func() time.Time { return fixed }}
}

func TestAddFindUpdateRemove(t *testing.T) {
	s := newStore(t)
	a, err := s.Add(Session{Name: "web", URL: "http://web:5985/wsman", ShellID: "A", State: "Disconnected"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Add(Session{Name: "db", State: "Disconnected"})
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != 1 || b.ID != 2 {
		t.Fatalf("ids %d %d, want 1 2", a.ID, b.ID)
	}
	if _, err := s.Add(Session{Name: "WEB"}); !errors.Is(err, ErrNameTaken) {
		t.Fatalf("duplicate name: %v", err)
	}
	if _, err := s.Add(Session{Name: "7"}); err == nil {
		t.Fatal("numeric name accepted")
	}
	got, err := s.Find("Web")
	if err != nil || got.ShellID != "A" {
		t.Fatalf("find by name: %+v %v", got, err)
	}
	if got, err = s.Find("2"); err != nil || got.Name != "db" {
		t.Fatalf("find by id: %+v %v", got, err)
	}
	if _, err := s.Update("web", func(x *Session) { x.State = "Opened"; x.ID = 99 }); err != nil {
		t.Fatal(err)
	}
	if got, _ = s.Find("1"); got.State != "Opened" {
		t.Fatalf("update lost: %+v", got)
	}
	if _, err := s.Remove("web"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Find("web"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after remove: %v", err)
	}
	c, _ := s.Add(Session{Name: "new"})
	if c.ID != 3 {
		t.Fatalf("ids must not be reused: got %d", c.ID)
	}
}

func TestFileModeAndNoSecrets(t *testing.T) {
	s := newStore(t)
	if _, err := s.Add(Session{Name: "x", User: `DOM\alice`}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(s.Dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode().Perm())
	}
	b, _ := os.ReadFile(filepath.Join(s.Dir, FileName))
	for _, word := range []string{"password", "token", "hash"} {
		if strings.Contains(strings.ToLower(string(b)), word) {
			t.Fatalf("store file mentions %q:\n%s", word, b)
		}
	}
}

func TestDamagedFileIsKeptAside(t *testing.T) {
	s := newStore(t)
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(s.Dir, FileName)
	if err := os.WriteFile(p, []byte(`{"version":1,"sessions":[{"id":1,"name":"a"`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := s.List()
	var ce *CorruptError
	if !errors.As(err, &ce) {
		t.Fatalf("want CorruptError, got %v", err)
	}
	kept, rerr := os.ReadFile(ce.Backup)
	if rerr != nil || !strings.Contains(string(kept), `"name":"a"`) {
		t.Fatalf("backup %s not kept: %v", ce.Backup, rerr)
	}
	// The store works again afterwards, starting empty.
	if list, err := s.List(); err != nil || len(list) != 0 {
		t.Fatalf("after corruption: %v %v", list, err)
	}
}

func TestDuplicateIDsAreDamage(t *testing.T) {
	s := newStore(t)
	os.MkdirAll(s.Dir, 0o700)
	os.WriteFile(filepath.Join(s.Dir, FileName), []byte(`{"version":1,"sessions":[{"id":1,"name":"a"},{"id":1,"name":"b"}]}`), 0o600)
	var ce *CorruptError
	if _, err := s.List(); !errors.As(err, &ce) {
		t.Fatalf("want CorruptError, got %v", err)
	}
}

func TestNewerFormatRefused(t *testing.T) {
	s := newStore(t)
	os.MkdirAll(s.Dir, 0o700)
	os.WriteFile(filepath.Join(s.Dir, FileName), []byte(`{"version":99,"sessions":[]}`), 0o600)
	if _, err := s.List(); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("got %v", err)
	}
	if _, err := os.Stat(filepath.Join(s.Dir, FileName)); err != nil {
		t.Fatal("a newer file must be left in place")
	}
}

// TestConcurrentAdds runs writers in several goroutines; the lock and the
// atomic rename keep every entry (the lock is per open file description, so
// goroutines contend exactly as processes do).
func TestConcurrentAdds(t *testing.T) {
	s := newStore(t)
	var wg sync.WaitGroup
	const n = 20
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if _, err := s.Add(Session{Name: fmt.Sprintf("s%d", i)}); err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	list, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != n {
		t.Fatalf("%d sessions saved, want %d", len(list), n)
	}
	seen := map[int]bool{}
	for _, x := range list {
		if seen[x.ID] {
			t.Fatalf("duplicate id %d", x.ID)
		}
		seen[x.ID] = true
	}
}

func TestDurationJSON(t *testing.T) {
	s := newStore(t)
	s.Add(Session{Name: "d", IdleTimeout: Duration(90 * time.Minute)})
	got, err := s.Find("d")
	if err != nil || time.Duration(got.IdleTimeout) != 90*time.Minute {
		t.Fatalf("%v %v", got.IdleTimeout, err)
	}
}
