package shell

import (
	"bytes"
	"strings"
	"testing"

	"github.com/pssession/pssession/remote/psrp"
	"github.com/pssession/pssession/remote/psrp/clixml"
)

func errRec(msg string) *clixml.Object {
	return (&clixml.ErrorRecord{
		Message:               msg,
		FullyQualifiedErrorID: "Microsoft.PowerShell.Commands.WriteErrorException",
		Category:              clixml.ErrorCategoryInfo{Category: 0, Activity: "Write-Error", Reason: "WriteErrorException"},
		Exception:             clixml.ExceptionInfo{TypeNames: []string{"Microsoft.PowerShell.Commands.WriteErrorException"}, Message: msg},
	}).Object()
}

func info(typ, msg string) *clixml.Object {
	return (&clixml.InformationalRecord{TypeName: typ, Message: msg}).Object()
}

func hostInfoRecord(msg string, noNewLine bool, fg clixml.ConsoleColor) *clixml.Object {
	hm := &clixml.HostInformationMessage{Message: msg, NoNewLine: noNewLine, ForegroundColor: fg, BackgroundColor: clixml.NoColor}
	return (&clixml.InformationRecord{MessageData: hm.Object(), Tags: []string{"PSHOST"}, Source: "Write-Host"}).Object()
}

func TestRendererText(t *testing.T) {
	var out, errOut bytes.Buffer
	r := &Renderer{Out: &out, Err: &errOut}
	for _, ev := range []psrp.Event{
		psrp.PipelineOutput{Value: "line one"},
		psrp.PipelineOutput{Value: int32(42)},
		psrp.PipelineErrorRecord{Record: errRec("boom")},
		psrp.PipelineWarningRecord{Record: info(clixml.TypeWarningRecord, "careful")},
		psrp.PipelineVerboseRecord{Record: info(clixml.TypeVerboseRecord, "hidden")},
		psrp.PipelineDebugRecord{Record: info(clixml.TypeDebugRecord, "hidden too")},
		psrp.PipelineInformationRecord{Record: hostInfoRecord("no ", true, clixml.NoColor)},
		psrp.PipelineInformationRecord{Record: hostInfoRecord("newline", false, clixml.NoColor)},
	} {
		r.Event(ev)
	}
	r.Flush()
	if got, want := out.String(), "line one\n42\nno newline\n"; got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
	e := errOut.String()
	for _, want := range []string{"boom\n", "    + CategoryInfo          : NotSpecified: (:) [Write-Error], WriteErrorException\n", "    + FullyQualifiedErrorId : Microsoft.PowerShell.Commands.WriteErrorException\n", "WARNING: careful\n"} {
		if !strings.Contains(e, want) {
			t.Errorf("stderr lacks %q:\n%s", want, e)
		}
	}
	if strings.Contains(e, "hidden") {
		t.Errorf("verbose/debug shown without the flags:\n%s", e)
	}
	if r.ErrorCount != 1 {
		t.Errorf("ErrorCount %d", r.ErrorCount)
	}
}

func TestRendererVerboseDebugPrefixColor(t *testing.T) {
	var out, errOut bytes.Buffer
	r := &Renderer{Out: &out, Err: &errOut, Verbose: true, Debug: true, Prefix: "[web] ", Color: true}
	r.Event(psrp.PipelineVerboseRecord{Record: info(clixml.TypeVerboseRecord, "v")})
	r.Event(psrp.PipelineDebugRecord{Record: info(clixml.TypeDebugRecord, "d")})
	r.Event(psrp.PipelineOutput{Value: "a\nb"})
	r.Event(psrp.PipelineInformationRecord{Record: hostInfoRecord("green", false, clixml.ConsoleColor(10))})
	if got := out.String(); got != "[web] a\n[web] b\n[web] \x1b[92mgreen\x1b[0m\n" {
		t.Errorf("stdout %q", got)
	}
	e := errOut.String()
	if !strings.Contains(e, "[web] \x1b[36mVERBOSE: v") || !strings.Contains(e, "[web] \x1b[33mDEBUG: d") {
		t.Errorf("stderr %q", e)
	}
}

func TestRendererJSON(t *testing.T) {
	var out bytes.Buffer
	r := &Renderer{Out: &out, Err: &bytes.Buffer{}, Mode: OutputJSONL, Computer: "web"}
	r.Event(psrp.PipelineOutput{Value: &clixml.Object{Members: []clixml.Property{{Name: "n", Value: int32(1)}}}})
	r.Event(psrp.PipelineOutput{Value: "s"})
	if got := out.String(); got != "{\"PSComputerName\":\"web\",\"n\":1}\n{\"PSComputerName\":\"web\",\"Value\":\"s\"}\n" {
		t.Errorf("got %q", got)
	}
	c := &Renderer{Out: &out, Err: &out, Mode: OutputJSON}
	c.Event(psrp.PipelineOutput{Value: "x"})
	if got := c.Collected(); len(got) != 1 || got[0] != "x" {
		t.Errorf("collected %v", got)
	}
}

func TestRendererProgress(t *testing.T) {
	var errOut bytes.Buffer
	r := &Renderer{Out: &bytes.Buffer{}, Err: &errOut, Progress: true}
	p := &clixml.ProgressRecord{Activity: "Copying", StatusDescription: "file 2", PercentComplete: 50, ParentActivityID: -1, SecondsRemaining: -1}
	r.Event(psrp.PipelineProgressRecord{Record: p.Object()})
	done := &clixml.ProgressRecord{Activity: "Copying", Type: clixml.ProgressCompleted, PercentComplete: -1, ParentActivityID: -1, SecondsRemaining: -1}
	r.Event(psrp.PipelineProgressRecord{Record: done.Object()})
	want := "\r\x1b[KCopying: file 2 [##########          ] 50%\r\x1b[K"
	if got := errOut.String(); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	quiet := &Renderer{Out: &bytes.Buffer{}, Err: &errOut}
	errOut.Reset()
	quiet.Event(psrp.PipelineProgressRecord{Record: p.Object()})
	if errOut.Len() != 0 {
		t.Errorf("progress shown when not enabled: %q", errOut.String())
	}
}

// countingWriter records each Write call.
type countingWriter struct {
	buf    *bytes.Buffer
	writes int
}

func (c *countingWriter) Write(p []byte) (int, error) { c.writes++; return c.buf.Write(p) }

// TestRendererBufferOutput: buffered output lines go out in one write at
// FlushOutput, and before anything on Err, so that stdout and stderr on
// one file keep their order.
func TestRendererBufferOutput(t *testing.T) {
	tests := []struct {
		name       string
		mode       OutputMode
		events     []psrp.Event
		flush      bool
		want       string
		wantWrites int
	}{
		{"held until flushed", OutputText, []psrp.Event{psrp.PipelineOutput{Value: "a"}, psrp.PipelineOutput{Value: "b\nc"}}, false, "", 0},
		{"one write per flush", OutputText, []psrp.Event{psrp.PipelineOutput{Value: "a"}, psrp.PipelineOutput{Value: "b\nc"}}, true, "[h] a\n[h] b\n[h] c\n", 1},
		{"jsonl", OutputJSONL, []psrp.Event{psrp.PipelineOutput{Value: "a"}, psrp.PipelineOutput{Value: int32(2)}}, true, "{\"PSComputerName\":\"h\",\"Value\":\"a\"}\n{\"PSComputerName\":\"h\",\"Value\":2}\n", 1},
		{"error keeps order", OutputText, []psrp.Event{psrp.PipelineOutput{Value: "before"}, psrp.PipelineWarningRecord{Record: info(clixml.TypeWarningRecord, "careful")}, psrp.PipelineOutput{Value: "after"}}, true,
			"[h] before\n[h] WARNING: careful\n[h] after\n", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var all bytes.Buffer
			out := &countingWriter{buf: &all}
			r := &Renderer{Out: out, Err: &all, BufferOutput: true, Mode: tt.mode, Prefix: "[h] ", Computer: "h"}
			for _, ev := range tt.events {
				r.Event(ev)
			}
			if tt.flush {
				r.FlushOutput()
			}
			if got := all.String(); got != tt.want {
				t.Errorf("written %q, want %q", got, tt.want)
			}
			if out.writes != tt.wantWrites {
				t.Errorf("%d writes to Out, want %d", out.writes, tt.wantWrites)
			}
		})
	}
	// Past 64 KiB the buffer is written without waiting for a flush.
	var all bytes.Buffer
	out := &countingWriter{buf: &all}
	r := &Renderer{Out: out, Err: &all, BufferOutput: true}
	line := strings.Repeat("x", 1000)
	for range 100 {
		r.Event(psrp.PipelineOutput{Value: line})
	}
	if out.writes != 1 || all.Len() < 64<<10 {
		t.Errorf("after 100 KB of lines: %d writes, %d bytes written", out.writes, all.Len())
	}
	r.Flush()
	if all.Len() != 100*1001 {
		t.Errorf("after Flush %d bytes written, want %d", all.Len(), 100*1001)
	}
}
