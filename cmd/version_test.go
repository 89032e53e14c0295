package cmd

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pssession/pssession/shell"
)

func TestVersionCommand(t *testing.T) {
	io, _, out, _ := shell.Test()
	f := &Factory{IO: io, Build: BuildInfo{Version: "1.2.3", Commit: "abc1234"}}
	if code := Execute(f, []string{"version"}); code != ExitOK {
		t.Fatalf("exit code %d", code)
	}
	if got, want := out.String(), "pssession 1.2.3 (commit abc1234)\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestUsageErrorsExitTwo(t *testing.T) {
	for name, args := range map[string][]string{
		"unknown command": {"no-such-command"},
		"unknown flag":    {"version", "--bogus"},
		"extra argument":  {"version", "extra"},
	} {
		t.Run(name, func(t *testing.T) {
			io, _, _, errOut := shell.Test()
			if code := Execute(&Factory{IO: io}, args); code != ExitUsage {
				t.Fatalf("exit code %d, want %d (stderr %q)", code, ExitUsage, errOut)
			}
		})
	}
}

// TestVersionLdflags builds the real binary with the linker flags the
// release uses and checks that they reach `pssession version`.
func TestVersionLdflags(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "pssession")
	build := exec.Command("go", "build", "-o", bin,
		"-ldflags", "-X main.version=9.8.7 -X main.commit=deadbeef", "../cmd/pssession")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatalf("pssession version: %v", err)
	}
	if !strings.Contains(string(out), "9.8.7") || !strings.Contains(string(out), "deadbeef") {
		t.Fatalf("version output %q lacks injected version/commit", out)
	}
}
