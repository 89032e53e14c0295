package cmd

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pssession/pssession/remote/wsman"
	"github.com/pssession/pssession/remote/wsman/transport"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// pssessionBinary builds the real binary once per test process.
func pssessionBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "pssession-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "pssession")
		out, err := exec.Command("go", "build", "-o", binPath, "./pssession").CombinedOutput()
		if err != nil {
			binErr = errors.New(string(out))
		}
	})
	if binErr != nil {
		t.Fatalf("building pssession: %v", binErr)
	}
	return binPath
}

// TestInvokeSIGINTStopsRemoteCommand interrupts a long remote command: the
// pipeline is stopped, the temporary session closed, and nothing is left on
// the endpoint.
func TestInvokeSIGINTStopsRemoteCommand(t *testing.T) {
	addr := e2eEndpoint(t)
	cmd := exec.Command(pssessionBinary(t), "invoke", addr, "-u", `LAB\alice`, "-c", "Write-Output started; Start-Sleep -Seconds 60; Write-Output never")
	cmd.Env = append(os.Environ(), "PSSESSION_PASSWORD=Passw0rd!", "XDG_STATE_HOME="+t.TempDir())
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	if !sc.Scan() || sc.Text() != "started" {
		t.Fatalf("first line %q, stderr %s", sc.Text(), stderr.String())
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	rest := ""
	for sc.Scan() {
		rest += sc.Text() + "\n"
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err = <-waited:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("pssession did not exit after SIGINT; stderr %s", stderr.String())
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("exit %v, want status 130; stderr %s", err, stderr.String())
	}
	if strings.Contains(rest, "never") {
		t.Fatalf("the command was not stopped: %q", rest)
	}
	tc, err := transport.New(transport.Config{URL: "http://" + addr + "/wsman", Username: `LAB\alice`, Password: "Passw0rd!"})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	shells, err := wsman.NewClient(tc, "http://"+addr+"/wsman").EnumerateShells(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(shells) != 0 {
		t.Fatalf("shells left on the endpoint after SIGINT: %+v", shells)
	}
}
