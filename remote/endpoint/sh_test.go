//go:build !windows

package endpoint

import (
	"errors"
	"strconv"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/pssession/pssession/remote/psrp"
)

func TestShEngine(t *testing.T) {
	dir := t.TempDir()
	_, srv := newTestServer(t, Config{Engine: Sh{}})
	c := openPS(t, srv, "")
	for _, tc := range []struct {
		name, script string
		want         run
	}{
		{name: "stdout and stderr", script: "echo one; echo two; echo bad >&2; printf partial",
			want: run{Output: []string{"one", "two", "partial"}, Errors: []string{"bad"}, State: psrp.PipelineCompleted}},
		{name: "cd persists", script: "cd " + dir, want: run{State: psrp.PipelineCompleted}},
		{name: "prompt", script: "prompt", want: run{Output: []string{"PS " + dir + "> "}, State: psrp.PipelineCompleted}},
		{name: "variables persist", script: "X=kept", want: run{State: psrp.PipelineCompleted}},
		{name: "read variable", script: `echo "$X"`, want: run{Output: []string{"kept"}, State: psrp.PipelineCompleted}},
		{name: "stdin is not the control pipe", script: "cat; echo after", want: run{Output: []string{"after"}, State: psrp.PipelineCompleted}},
		{name: "failing command", script: "false", want: run{State: psrp.PipelineCompleted}},
		{name: "last exit code", script: "$global:LASTEXITCODE", want: run{Output: []string{"int32:1"}, State: psrp.PipelineCompleted}},
		{name: "syntax error", script: "if then fi (", want: run{State: psrp.PipelineFailed}},
		{name: "still alive after a syntax error", script: `echo "$X"`, want: run{Output: []string{"kept"}, State: psrp.PipelineCompleted}},
		{name: "exit", script: "exit 3", want: run{Exit: intp(3), State: psrp.PipelineCompleted}},
		{name: "exit inside a script ends the shell", script: "echo bye; exit 4", want: run{Output: []string{"bye"}, Exit: intp(4), State: psrp.PipelineCompleted}},
		{name: "a new shell in the same directory", script: "pwd", want: run{Output: []string{dir}, State: psrp.PipelineCompleted}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := c.collect(c.start(tc.script))
			got.Reason = ""
			if d := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
	t.Run("stop kills the running command", func(t *testing.T) {
		pl := c.start("sleep 300; echo never")
		c.signal(pl, signalPSCtrlC)
		got := c.collect(pl)
		if got.State != psrp.PipelineStopped || len(got.Output) != 0 {
			t.Fatalf("%+v", got)
		}
		if got := c.collect(c.start("pwd")); len(got.Output) != 1 || got.Output[0] != dir {
			t.Fatalf("after stop: %+v", got)
		}
	})
}

func TestShEngineOneShotWinRS(t *testing.T) {
	_, srv := newTestServer(t, Config{Engine: Sh{}})
	c := winrsClient{t: t, srv: srv}
	shell := c.create("")
	id := c.command(shell, "powershell -encodedcommand "+encodePS("echo hi; echo oops >&2; exit 5"))
	stdout, stderr, code := c.output(shell, id)
	if stdout != "hi\n" || stderr != "oops\n" || code != "5" {
		t.Fatalf("stdout %q stderr %q code %s", stdout, stderr, code)
	}
}

func TestShScriptSkipsPowerShellPreamble(t *testing.T) {
	for in, want := range map[string]string{
		"$ProgressPreference = 'SilentlyContinue';echo hi": "echo hi",
		`$a = "x y"; $b=1; ls`:                             " ls",
		"echo $HOME; $x = 1;":                              "echo $HOME; $x = 1;",
	} {
		if got := shScript(Pipeline{Commands: []Command{{Text: in, IsScript: true}}}); got != want {
			t.Errorf("shScript(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestShEngineShellEndsWithTheRunspace(t *testing.T) {
	_, srv := newTestServer(t, Config{Engine: Sh{}})
	c := openPS(t, srv, "")
	got := c.collect(c.start("echo $$"))
	if len(got.Output) != 1 {
		t.Fatalf("%+v", got)
	}
	pid, err := strconv.Atoi(got.Output[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, 0); err != nil {
		t.Fatalf("the runspace shell %d is not running: %v", pid, err)
	}
	mustOK(t, post(t, srv, reqOpts{action: actionDelete, resource: resourceMSPowerShell, shellID: c.shellID}))
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("shell %d survived Delete: %v", pid, err)
	}
}
