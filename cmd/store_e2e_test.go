package cmd

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pssession/pssession/internal/store"
)

// runBin runs the real binary with the test environment.
func runBin(t *testing.T, env []string, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(pssessionBinary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	return out.String(), errOut.String(), err
}

// TestConcurrentProcessesKeepStoreConsistent has eight processes create and
// remove saved sessions at once against one store.
func TestConcurrentProcessesKeepStoreConsistent(t *testing.T) {
	addr := e2eEndpoint(t)
	state := t.TempDir()
	env := []string{"PSSESSION_PASSWORD=Passw0rd!", "XDG_STATE_HOME=" + state}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			name := fmt.Sprintf("s%d", i)
			if _, e, err := runBin(t, env, "new", addr, "-u", `LAB\alice`, "--name", name); err != nil {
				errs <- fmt.Errorf("new %s: %v: %s", name, err, e)
				return
			}
			if i%2 == 0 {
				if _, e, err := runBin(t, env, "remove", name); err != nil {
					errs <- fmt.Errorf("remove %s: %v: %s", name, err, e)
				}
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	st := &store.Store{Dir: filepath.Join(state, "pssession")}
	list, err := st.List()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	ids := map[int]bool{}
	for _, s := range list {
		names = append(names, s.Name)
		if ids[s.ID] {
			t.Fatalf("duplicate id %d", s.ID)
		}
		ids[s.ID] = true
	}
	if got := strings.Join(names, ","); len(list) != 4 || strings.Count(got, "s1")+strings.Count(got, "s3")+strings.Count(got, "s5")+strings.Count(got, "s7") != 4 {
		t.Fatalf("saved sessions %q, want s1,s3,s5,s7", got)
	}
	// The server has exactly the sessions the store has.
	out, e, err := runBin(t, env, "list", "--computer", addr, "-u", `LAB\alice`)
	if err != nil {
		t.Fatalf("list --computer: %v %s", err, e)
	}
	if n := strings.Count(out, "Disconnected"); n != 4 {
		t.Fatalf("server lists %d disconnected sessions, want 4:\n%s", n, out)
	}
}

// TestCorruptStoreIsPreserved: a damaged store file gives a clear error
// and is kept aside, never dropped.
func TestCorruptStoreIsPreserved(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	state := t.TempDir()
	dir := filepath.Join(state, "pssession")
	os.MkdirAll(dir, 0o700)
	garbage := []byte(`{"version":1,"sessions":[{"id":1,"name":"web"`)
	if err := os.WriteFile(filepath.Join(dir, store.FileName), garbage, 0o600); err != nil {
		t.Fatal(err)
	}
	_, e, err := runBin(t, []string{"XDG_STATE_HOME=" + state}, "list", "--offline")
	if err == nil || !strings.Contains(e, "damaged") || !strings.Contains(e, "kept as") {
		t.Fatalf("list on a damaged store: %v, stderr %q", err, e)
	}
	matches, _ := filepath.Glob(filepath.Join(dir, store.FileName+".damaged-*"))
	if len(matches) != 1 {
		t.Fatalf("damaged file not kept aside: %v", matches)
	}
	kept, _ := os.ReadFile(matches[0])
	if string(kept) != string(garbage) {
		t.Fatalf("kept file differs: %q", kept)
	}
}

// TestSecondInvokeWaitsForBusySession: while one process runs a command in
// a saved session, a second waits with a notice and proceeds when the first
// finishes; with a short --busy-timeout it fails clearly.
func TestSecondInvokeWaitsForBusySession(t *testing.T) {
	addr := e2eEndpoint(t)
	env := []string{"PSSESSION_PASSWORD=Passw0rd!", "XDG_STATE_HOME=" + t.TempDir()}
	if _, e, err := runBin(t, env, "new", addr, "-u", `LAB\alice`, "--name", "web"); err != nil {
		t.Fatalf("new: %v %s", err, e)
	}
	first := exec.Command(pssessionBinary(t), "invoke", "--session", "web", "-c", "Write-Output first-started; Start-Sleep -Milliseconds 1500; Write-Output first-done")
	first.Env = append(os.Environ(), env...)
	stdout, _ := first.StdoutPipe()
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	if !sc.Scan() || sc.Text() != "first-started" {
		t.Fatalf("first process: %q", sc.Text())
	}
	// The first holds the session: a short busy timeout fails clearly ...
	_, e, err := runBin(t, env, "invoke", "--session", "web", "--busy-timeout", "100ms", "-c", "Write-Output x")
	if err == nil || !strings.Contains(e, "in use by another client") {
		t.Fatalf("short busy timeout: %v, stderr %q", err, e)
	}
	// ... and a patient one waits, says so, and runs once the first is done.
	out, e, err := runBin(t, env, "invoke", "--session", "web", "-c", "Write-Output second")
	if err != nil {
		t.Fatalf("second: %v %s", err, e)
	}
	if !strings.Contains(e, "waiting up to") || strings.TrimSpace(out) != "second" {
		t.Fatalf("second: stdout %q stderr %q", out, e)
	}
	for sc.Scan() {
	}
	if err := first.Wait(); err != nil {
		t.Fatalf("first: %v", err)
	}
}

// TestReceiveAfterClientKilled: a client running a long command in a saved
// session is killed with SIGKILL; the server keeps the session (it sees
// its client gone and disconnects it) and `receive` from a new process
// prints all of the command's output, in order, once.
func TestReceiveAfterClientKilled(t *testing.T) {
	addr := e2eEndpoint(t)
	env := []string{"PSSESSION_PASSWORD=Passw0rd!", "XDG_STATE_HOME=" + t.TempDir()}
	if _, e, err := runBin(t, env, "new", addr, "-u", `LAB\alice`, "--name", "job"); err != nil {
		t.Fatalf("new: %v %s", err, e)
	}
	victim := exec.Command(pssessionBinary(t), "invoke", "--session", "job", "--verbose", "-c",
		"Write-Verbose started; Start-Sleep -Milliseconds 1500; Write-Output one; Write-Output two; Write-Output three")
	victim.Env = append(os.Environ(), env...)
	stderr, _ := victim.StderrPipe()
	if err := victim.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	for sc.Scan() && !strings.Contains(sc.Text(), "VERBOSE: started") {
	}
	victim.Process.Kill() // SIGKILL: no chance to disconnect
	victim.Wait()

	out, e, err := runBin(t, env, "receive", "job")
	if err != nil {
		t.Fatalf("receive: %v %s", err, e)
	}
	if out != "one\ntwo\nthree\n" {
		t.Fatalf("receive printed %q (stderr %q)", out, e)
	}
	// The session is kept, disconnected, for later use.
	out, e, err = runBin(t, env, "invoke", "--session", "job", "-c", "Write-Output again")
	if err != nil || strings.TrimSpace(out) != "again" {
		t.Fatalf("after receive: %q %v %s", out, err, e)
	}
}
