package endpoint

import (
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/google/go-cmp/cmp"
)

func encodePS(script string) string {
	u := utf16.Encode([]rune(script))
	b := make([]byte, 2*len(u))
	for i, v := range u {
		b[2*i], b[2*i+1] = byte(v), byte(v>>8)
	}
	return base64.StdEncoding.EncodeToString(b)
}

func TestWinRSCommands(t *testing.T) {
	_, srv := newTestServer(t, Config{})
	c := winrsClient{t: t, srv: srv}
	dir := t.TempDir()
	type out struct{ Stdout, Stderr, Code string }
	for _, tc := range []struct {
		name, shellBody, cmd string
		args                 []string
		want                 out
	}{
		{name: "echo", cmd: "echo", args: []string{"hello"}, want: out{"hello\n", "", "0"}},
		{name: "cmd /c prefix", cmd: "cmd.exe", args: []string{"/c", "echo", "hi"}, want: out{"hi\n", "", "0"}},
		{name: "stderr and exit code", cmd: "echo out; echo err >&2; exit 3", want: out{"out\n", "err\n", "3"}},
		{name: "working directory and environment", cmd: "pwd; echo $FOO",
			shellBody: `<rsp:WorkingDirectory>` + dir + `</rsp:WorkingDirectory><rsp:Environment><rsp:Variable Name="FOO">bar baz</rsp:Variable></rsp:Environment>`,
			want:      out{dir + "\n" + "bar baz\n", "", "0"}},
		{name: "large output", cmd: "seq 1 40000", want: out{seqLines(40000), "", "0"}},
		{name: "powershell encodedcommand", cmd: "powershell -encodedcommand " + encodePS("Write-Output hi 'a b'; Write-Warning careful"),
			want: out{"hi\na b\nWARNING: careful\n", "", "0"}},
		{name: "powershell.exe errors and exit", cmd: "powershell.exe", args: []string{"-NoProfile", "-NonInteractive", "-EncodedCommand", encodePS("Write-Error bad; exit 4")},
			want: out{"", "bad\n", "4"}},
		{name: "powershell -Command throw", cmd: "powershell -Command throw boom", want: out{"", "boom\n", "1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			shell := c.create(tc.shellBody)
			id := c.command(shell, tc.cmd, tc.args...)
			var got out
			got.Stdout, got.Stderr, got.Code = c.output(shell, id)
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("output (-want +got):\n%s", d)
			}
			mustOK(t, c.signal(shell, id, signalTerminate))
			mustOK(t, c.delete(shell))
		})
	}
}

func seqLines(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		b.WriteString(strconv.Itoa(i))
		b.WriteByte('\n')
	}
	return b.String()
}

func TestWinRSStdin(t *testing.T) {
	_, srv := newTestServer(t, Config{})
	c := winrsClient{t: t, srv: srv}
	shell := c.create("")
	id := c.command(shell, "tr a-z A-Z")
	for _, part := range []struct{ data, end string }{{"hello ", ""}, {"world", ` End="true"`}} {
		mustOK(t, post(t, srv, reqOpts{action: actionSend, resource: resourceCmd, shellID: shell,
			body: `<rsp:Send><rsp:Stream Name="stdin" CommandId="` + id + `"` + part.end + `>` +
				base64.StdEncoding.EncodeToString([]byte(part.data)) + `</rsp:Stream></rsp:Send>`}))
	}
	stdout, _, code := c.output(shell, id)
	if stdout != "HELLO WORLD" || code != "0" {
		t.Fatalf("stdout %q code %s", stdout, code)
	}
}

func TestWinRSCtrlCKillsProcess(t *testing.T) {
	_, srv := newTestServer(t, Config{})
	c := winrsClient{t: t, srv: srv}
	shell := c.create("")
	id := c.command(shell, "echo started; sleep 300; echo never")
	mustOK(t, c.signal(shell, id, signalCtrlC))
	stdout, _, code := c.output(shell, id)
	if strings.Contains(stdout, "never") || code == "0" {
		t.Fatalf("stdout %q code %s: the process was not killed", stdout, code)
	}
}

func TestStripCmdCAndPowerShellScript(t *testing.T) {
	for _, tc := range []struct {
		line, script string
		ok           bool
	}{
		{"powershell -encodedcommand " + encodePS("Write-Output hi"), "Write-Output hi", true},
		{"cmd /c powershell -NoProfile -ExecutionPolicy Bypass -enc " + encodePS("x"), "x", true},
		{"PowerShell.exe -Command Get-Location", "Get-Location", true},
		{"pwsh Get-Location", "Get-Location", true},
		{"echo powershell", "", false},
		{"powershell -encodedcommand !!!", "", false},
	} {
		t.Run(tc.line, func(t *testing.T) {
			got, ok := powershellScript(tc.line)
			if got != tc.script || ok != tc.ok {
				t.Fatalf("got (%q, %v), want (%q, %v)", got, ok, tc.script, tc.ok)
			}
		})
	}
}
