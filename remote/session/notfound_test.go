package session

import (
	"testing"

	"github.com/pssession/pssession/remote/psrp/clixml"
)

func TestNotFound(t *testing.T) {
	rec := func(id, target string, obj clixml.Value, inv *clixml.InvocationInfo) *clixml.ErrorRecord {
		r := clixml.NewErrorRecord("System.Management.Automation.CommandNotFoundException", "x", id, 13)
		r.Category.TargetName, r.TargetObject, r.Invocation = target, obj, inv
		return r
	}
	tests := []struct {
		name string
		rec  *clixml.ErrorRecord
		want bool
	}{
		{"while building the pipeline", rec("CommandNotFoundException", "Out-String", "Out-String", nil), true},
		{"case and id suffix", rec("CommandNotFoundException,Microsoft.PowerShell.Commands.X", "out-string", nil, nil), true},
		{"target object only", rec("CommandNotFoundException", "", "Out-String", nil), true},
		{"invocation without a script position", rec("CommandNotFoundException", "Out-String", nil, &clixml.InvocationInfo{}), true},
		{"at run time inside the script", rec("CommandNotFoundException", "Out-String", nil, &clixml.InvocationInfo{ScriptLineNumber: 3, Line: "Out-String"}), false},
		{"another command", rec("CommandNotFoundException", "Get-Thing", "Get-Thing", nil), false},
		{"another error", rec("RuntimeException", "Out-String", nil, nil), false},
		{"no record", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := notFound(tt.rec, "Out-String"); got != tt.want {
				t.Errorf("notFound = %v, want %v", got, tt.want)
			}
		})
	}
}
