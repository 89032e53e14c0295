package cmd

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pssession/pssession/shell"
)

// TestGeneratedDocsUpToDate regenerates the command reference and the man
// pages and fails when docs/reference or docs/man differ from them.
func TestGeneratedDocsUpToDate(t *testing.T) {
	dir := t.TempDir()
	io, _, _, errOut := shell.Test()
	f := &Factory{IO: io, Getenv: func(string) string { return "" }}
	if code := Execute(f, []string{"gen-docs", "--dir", dir}); code != ExitOK {
		t.Fatalf("gen-docs: exit %d: %s", code, errOut)
	}
	for _, sub := range []string{"reference", "man"} {
		want := readDir(t, filepath.Join(dir, sub))
		got := readDir(t, filepath.Join("..", "docs", sub))
		if len(want) == 0 {
			t.Fatalf("gen-docs wrote nothing into %s", sub)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("docs/%s is stale; refresh it with\n\tgo run ./cmd/pssession gen-docs --dir docs\n(-generated +committed):\n%s", sub, diff)
		}
	}
}

func TestGenDocsCompletions(t *testing.T) {
	dir := t.TempDir()
	io, _, _, errOut := shell.Test()
	f := &Factory{IO: io, Getenv: func(string) string { return "" }}
	if code := Execute(f, []string{"gen-docs", "--dir", dir, "--completions"}); code != ExitOK {
		t.Fatalf("gen-docs: exit %d: %s", code, errOut)
	}
	got := readDir(t, filepath.Join(dir, "completions"))
	for _, name := range []string{"pssession.bash", "_pssession", "pssession.fish", "pssession.ps1"} {
		if len(got[name]) < 100 {
			t.Errorf("completions/%s: %d bytes", name, len(got[name]))
		}
	}
}

// readDir maps each file name in dir to its content.
func readDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}
