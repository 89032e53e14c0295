package cmd

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/pssession/pssession/internal/faultproxy"
)

// robustRun starts `pssession invoke --session web` running a command that
// writes "a", waits, then writes "b"; fault is applied once "a" arrives.
// It returns stdout, stderr and the exit error.
func robustRun(t *testing.T, env []string, extra []string, fault func(stderrLines <-chan string)) (string, string, error) {
	t.Helper()
	args := append([]string{"invoke", "--session", "web", "-c", "Write-Output a; Start-Sleep -Milliseconds 2500; Write-Output b"}, extra...)
	cmd := exec.Command(pssessionBinary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 64)
	var errText strings.Builder
	errDone := make(chan struct{})
	go func() {
		defer close(errDone)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			errText.WriteString(sc.Text() + "\n")
			select {
			case lines <- sc.Text():
			default:
			}
		}
	}()
	var out strings.Builder
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		out.WriteString(sc.Text() + "\n")
		if sc.Text() == "a" {
			fault(lines)
		}
	}
	<-errDone
	err := cmd.Wait()
	return out.String(), errText.String(), err
}

func waitLine(t *testing.T, lines <-chan string, substr string) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case l := <-lines:
			if strings.Contains(l, substr) {
				return
			}
		case <-deadline:
			t.Fatalf("never saw %q on stderr", substr)
		}
	}
}

// TestInvokeThroughNetworkFaults runs the binary through a proxy that
// resets connections mid-Receive and blackholes traffic: the command
// completes with complete output; a blackhole longer than the retry window
// leaves the session disconnected on the server, recorded so, and a later
// receive recovers the rest.
func TestInvokeThroughNetworkFaults(t *testing.T) {
	addr := e2eEndpoint(t)
	proxy, err := faultproxy.New(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	env := []string{"PSSESSION_PASSWORD=Passw0rd!", "XDG_STATE_HOME=" + t.TempDir()}
	if _, e, err := runBin(t, env, "new", proxy.Addr(), "-u", `LAB\alice`, "--name", "web"); err != nil {
		t.Fatalf("new: %v %s", err, e)
	}

	t.Run("connections reset", func(t *testing.T) {
		out, e, err := robustRun(t, env, []string{"--operation-timeout", "2s"}, func(lines <-chan string) {
			proxy.Cut()
			waitLine(t, lines, "interrupted")
			proxy.Restore()
		})
		if err != nil || out != "a\nb\n" {
			t.Fatalf("stdout %q, err %v, stderr %s", out, err, e)
		}
		if !strings.Contains(e, "restored") {
			t.Fatalf("no recovery notice: %s", e)
		}
	})

	t.Run("short blackhole", func(t *testing.T) {
		out, e, err := robustRun(t, env, []string{"--operation-timeout", "2s"}, func(<-chan string) {
			proxy.Blackhole()
			time.AfterFunc(1500*time.Millisecond, proxy.Unblackhole)
		})
		if err != nil || out != "a\nb\n" {
			t.Fatalf("stdout %q, err %v, stderr %s", out, err, e)
		}
	})

	t.Run("blackhole longer than the retry window", func(t *testing.T) {
		out, e, err := robustRun(t, env, []string{"--operation-timeout", "1s", "--retry-timeout", "1s"}, func(<-chan string) {
			proxy.Blackhole()
		})
		var ee *exec.ExitError
		if out != "a\n" || !errors.As(err, &ee) || ee.ExitCode() != 255 {
			t.Fatalf("stdout %q, err %v, stderr %s", out, err, e)
		}
		if !strings.Contains(e, "pssession receive web") {
			t.Fatalf("the user is not told how to come back: %s", e)
		}
		list, _, _ := runBin(t, env, "list", "--offline")
		if !strings.Contains(list, "Disconnected") {
			t.Fatalf("not recorded Disconnected:\n%s", list)
		}
		proxy.Unblackhole()
		// A later `enter web` recovers the session: it reattaches the
		// command, prints the rest of its output, then runs new lines.
		cmd := exec.Command(pssessionBinary(t), "enter", "web")
		cmd.Env = append(os.Environ(), env...)
		cmd.Stdin = strings.NewReader("Write-Output again\n")
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil || stdout.String() != "b\nagain\n" {
			t.Fatalf("enter after the loss: %q %v %s", stdout.String(), err, stderr.String())
		}
	})
}
