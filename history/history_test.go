package history

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestIsSensitive(t *testing.T) {
	for line, want := range map[string]bool{
		"Get-Process":                                false,
		"$cred = Get-Credential":                     false,
		"$p = ConvertTo-SecureString x -AsPlainText": true,
		"$env:API_TOKEN = 'abc'":                     true,
		"Set-Secret foo":                             true,
		"New-User -Password $p":                      true,
		"$apikey='1'":                                true,
	} {
		if got := IsSensitive(line); got != want {
			t.Errorf("IsSensitive(%q) = %v, want %v", line, got, want)
		}
	}
}

func TestAppendAndLines(t *testing.T) {
	s := Store{Dir: filepath.Join(t.TempDir(), "h")}
	key := Key("web", "")
	for _, l := range []string{"Get-Date", "  ", "$password = 'x'", "if ($true) {\n  'multi'\n}", `C:\path\n`} {
		if _, err := s.Append(key, l); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Lines(key)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Get-Date", "if ($true) {\n  'multi'\n}", `C:\path\n`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("(-want +got)\n%s", diff)
	}
	fi, err := os.Stat(s.Path(key))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("history file mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestTrimKeepsNewest(t *testing.T) {
	s := Store{Dir: t.TempDir(), MaxLines: 3}
	for i := 0; i < 5; i++ {
		if _, err := s.Append("k", fmt.Sprintf("cmd %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := s.Lines("k")
	if diff := cmp.Diff([]string{"cmd 2", "cmd 3", "cmd 4"}, got); diff != "" {
		t.Fatalf("(-want +got)\n%s", diff)
	}
}

func TestKeyAndDefaultDir(t *testing.T) {
	if got := Key("", "Web01.Example.COM"); got != "host-web01.example.com" {
		t.Fatalf("host key %q", got)
	}
	if got := Key("a/b", "x"); got != "session-a_002fb" {
		t.Fatalf("session key %q", got)
	}
	env := map[string]string{"XDG_STATE_HOME": "/state", "HOME": "/home/u"}
	d, err := DefaultDir(func(k string) string { return env[k] })
	if err != nil || d != filepath.Join("/state", "pssession", "history") {
		t.Fatalf("got %q %v", d, err)
	}
	delete(env, "XDG_STATE_HOME")
	d, _ = DefaultDir(func(k string) string { return env[k] })
	if d != filepath.Join("/home/u", ".local", "state", "pssession", "history") {
		t.Fatalf("got %q", d)
	}
}

func TestMissingFileIsEmpty(t *testing.T) {
	got, err := Store{Dir: t.TempDir()}.Lines("none")
	if err != nil || got != nil {
		t.Fatalf("got %v, %v", got, err)
	}
}
