package endpoint

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/pssession/pssession/remote/psrp"
	"github.com/pssession/pssession/remote/psrp/clixml"
)

func intp(i int32) *int32 { return &i }

func TestPowerShellScripted(t *testing.T) {
	_, srv := newTestServer(t, Config{})
	c := openPS(t, srv, "")
	c.answer = func(call psrp.HostCall) clixml.Value {
		switch call.Method {
		case psrp.HostReadLine:
			return "typed answer"
		case psrp.HostPromptForChoice:
			return int32(1)
		case psrp.HostPromptForCredential1:
			return &clixml.Object{TypeNames: []string{"System.Management.Automation.PSCredential", "System.Object"},
				Props: []clixml.Property{{Name: "UserName", Value: `CORP\alice`}, {Name: "Password", Value: nil}}}
		}
		return nil
	}
	for _, tc := range []struct {
		name, script string
		want         run
	}{
		{name: "output", script: "Write-Output a 'b c'; 42", want: run{Output: []string{"a", "b c", "int32:42"}, State: psrp.PipelineCompleted}},
		{name: "streams", script: "Write-Error bad\nWrite-Warning w; Write-Verbose v; Write-Information i; Write-Progress -Activity act -PercentComplete 50",
			want: run{Errors: []string{"bad"}, Warnings: []string{"w"}, Verbose: []string{"v"}, Info: []string{"i"}, Progress: 1, State: psrp.PipelineCompleted}},
		{name: "write-host", script: "Write-Host plain; Write-Host -ForegroundColor Red -NoNewline red",
			want: run{Host: []string{"plain", "Red/Black:red"}, State: psrp.PipelineCompleted}},
		{name: "variables and location", script: "$x = hello; Set-Location C:\\temp; cd sub; Write-Output \"$x world\"; prompt",
			want: run{Output: []string{"hello world", `PS C:\temp\sub> `}, State: psrp.PipelineCompleted}},
		{name: "variables persist in the runspace", script: "$x",
			want: run{Output: []string{"hello"}, State: psrp.PipelineCompleted}},
		{name: "read-host", script: "Read-Host 'Your name'",
			want: run{Host: []string{"Your name: "}, Output: []string{"typed answer"}, State: psrp.PipelineCompleted}},
		{name: "choice", script: "Read-Choice Title Pick yes no",
			want: run{Output: []string{"int32:1"}, State: psrp.PipelineCompleted}},
		{name: "credential", script: "Get-Credential alice",
			want: run{Output: []string{`CORP\alice`}, State: psrp.PipelineCompleted}},
		{name: "exit", script: "Write-Output before; exit 3; Write-Output after",
			want: run{Output: []string{"before"}, Exit: intp(3), State: psrp.PipelineCompleted}},
		{name: "throw", script: "throw kaboom", want: run{State: psrp.PipelineFailed, Reason: "kaboom"}},
		{name: "unknown command", script: "Get-Nothing", want: run{State: psrp.PipelineCompleted,
			Errors: []string{"The term 'Get-Nothing' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again."}}},
		{name: "large output", script: "Get-Output -Lines 3000", want: run{Output: lines(3000), State: psrp.PipelineCompleted}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := c.collect(c.start(tc.script))
			if d := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func lines(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("line %d", i+1)
	}
	return out
}
