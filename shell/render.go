package shell

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/fatih/color"

	"github.com/pssession/pssession/remote/psrp"
	"github.com/pssession/pssession/remote/psrp/clixml"
)

// OutputMode selects how output objects are written.
type OutputMode int

// Output modes of --output.
const (
	OutputText  OutputMode = iota // text lines (Out-String -Stream, or ToString)
	OutputJSON                    // one JSON array at the end (see JSONCollector)
	OutputJSONL                   // one JSON document per line
)

// Renderer writes the streams of a remote pipeline the way PowerShell's
// console shows them: output on Out; errors, warnings, verbose, debug and
// progress on Err. It is safe for use by several goroutines (fan-out
// shares one Out).
type Renderer struct {
	Out, Err io.Writer
	// Color enables ANSI colours (errors red, warnings yellow, verbose and
	// debug cyan/yellow as PowerShell shows them, Write-Host colours).
	Color bool
	// Verbose and Debug show those streams.
	Verbose, Debug bool
	// Progress shows progress records on Err (only for terminals).
	Progress bool
	// Prefix is written before every text line (fan-out: "[HOST] ").
	Prefix string
	// Computer is added as PSComputerName to JSON objects when set.
	Computer string
	Mode     OutputMode
	// Lock serialises writes across renderers sharing Out/Err.
	Lock *sync.Mutex

	// BufferOutput collects output lines and writes them to Out in one
	// write when FlushOutput or Flush is called, before anything is
	// written to Err, or every 64 KiB: one write per batch of output
	// rather than one per line (bulk output spent 15% of its CPU in
	// write system calls). The caller flushes whenever it waits for more.
	BufferOutput bool

	// ErrorCount counts error records written.
	ErrorCount int

	outBuf []byte // BufferOutput: complete lines not yet written

	hostLine     strings.Builder // Write-Host -NoNewline text not yet ended
	progressShow bool            // a progress line is on screen
	collected    []any           // OutputJSON
}

func (r *Renderer) lock() func() {
	if r.Lock == nil {
		return func() {}
	}
	r.Lock.Lock()
	return r.Lock.Unlock
}

func (r *Renderer) paint(attr color.Attribute, s string) string {
	if !r.Color {
		return s
	}
	c := color.New(attr)
	c.EnableColor()
	return c.Sprint(s)
}

// lines writes text as prefixed lines.
func (r *Renderer) lines(w io.Writer, text string, paint func(string) string) {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	if r.BufferOutput && w == r.Out && paint == nil {
		for l := range strings.SplitSeq(text, "\n") {
			r.outBuf = append(r.outBuf, r.Prefix...)
			r.outBuf = append(r.outBuf, l...)
			r.outBuf = append(r.outBuf, '\n')
		}
		if len(r.outBuf) >= outBufMax {
			r.flushOutLocked()
		}
		return
	}
	r.flushOutLocked()
	for _, l := range strings.Split(text, "\n") {
		if paint != nil {
			l = paint(l)
		}
		fmt.Fprintf(w, "%s%s\n", r.Prefix, l)
	}
}

// outBufMax is how much BufferOutput collects before writing anyway.
const outBufMax = 64 << 10

// flushOutLocked writes the buffered output lines (with the lock held).
func (r *Renderer) flushOutLocked() {
	if len(r.outBuf) == 0 {
		return
	}
	_, _ = r.Out.Write(r.outBuf)
	if cap(r.outBuf) > 4*outBufMax {
		r.outBuf = nil
		return
	}
	r.outBuf = r.outBuf[:0]
}

// FlushOutput writes the output lines BufferOutput collected.
func (r *Renderer) FlushOutput() {
	defer r.lock()()
	r.flushOutLocked()
}

// Event renders one pipeline event.
func (r *Renderer) Event(ev psrp.Event) {
	defer r.lock()()
	switch e := ev.(type) {
	case psrp.PipelineOutput:
		r.clearProgress()
		r.output(e.Value)
	case psrp.PipelineErrorRecord:
		r.clearProgress()
		r.ErrorCount++
		r.errorRecord(e.Record)
	case psrp.PipelineWarningRecord:
		r.clearProgress()
		r.informational(e.Record, "WARNING: ", color.FgYellow, true)
	case psrp.PipelineVerboseRecord:
		r.clearProgress()
		r.informational(e.Record, "VERBOSE: ", color.FgCyan, r.Verbose)
	case psrp.PipelineDebugRecord:
		r.clearProgress()
		r.informational(e.Record, "DEBUG: ", color.FgYellow, r.Debug)
	case psrp.PipelineInformationRecord:
		r.clearProgress()
		r.information(e.Record)
	case psrp.PipelineProgressRecord:
		r.progress(e.Record)
	}
}

func (r *Renderer) output(v clixml.Value) {
	switch r.Mode {
	case OutputJSON, OutputJSONL:
		j := JSONValue(v)
		if r.Computer != "" {
			if m, ok := j.(map[string]any); ok {
				m["PSComputerName"] = r.Computer
			} else {
				j = map[string]any{"PSComputerName": r.Computer, "Value": j}
			}
		}
		if r.Mode == OutputJSON {
			r.collected = append(r.collected, j)
			return
		}
		b, err := json.Marshal(j)
		if err != nil {
			r.flushOutLocked()
			fmt.Fprintf(r.Err, "%scannot render object as JSON: %v\n", r.Prefix, err)
			return
		}
		if r.BufferOutput {
			r.outBuf = append(append(r.outBuf, b...), '\n')
			if len(r.outBuf) >= outBufMax {
				r.flushOutLocked()
			}
			return
		}
		fmt.Fprintf(r.Out, "%s\n", b)
	default:
		r.lines(r.Out, clixml.ToDisplayString(v), nil)
	}
}

// Collected returns the objects gathered in OutputJSON mode.
func (r *Renderer) Collected() []any {
	defer r.lock()()
	return slices.Clone(r.collected)
}

func (r *Renderer) errorRecord(o *clixml.Object) {
	text := clixml.ToDisplayString(o)
	if rec, err := clixml.ParseErrorRecord(o); err == nil {
		text = rec.ConsoleText()
	}
	r.lines(r.Err, text, func(s string) string { return r.paint(color.FgRed, s) })
}

// WriteErrorText writes a client-side error in the error colour.
func (r *Renderer) WriteErrorText(text string) {
	defer r.lock()()
	r.clearProgress()
	r.lines(r.Err, text, func(s string) string { return r.paint(color.FgRed, s) })
}

func (r *Renderer) informational(o *clixml.Object, label string, attr color.Attribute, show bool) {
	if !show {
		return
	}
	msg := clixml.ToDisplayString(o)
	if rec, err := clixml.ParseInformationalRecord(o); err == nil {
		msg = rec.Message
	}
	r.lines(r.Err, label+msg, func(s string) string { return r.paint(attr, s) })
}

// information shows Write-Host messages (tag PSHOST) on Out with their
// colours, as the console does; other information records are shown only
// with Verbose, as PowerShell's default InformationPreference hides them.
func (r *Renderer) information(o *clixml.Object) {
	rec, err := clixml.ParseInformationRecord(o)
	if err != nil {
		r.lines(r.Out, clixml.ToDisplayString(o), nil)
		return
	}
	hm, isHost := rec.HostMessage()
	if !isHost {
		if r.Verbose || slices.Contains(rec.Tags, "PSHOST") {
			r.lines(r.Out, rec.Text(), nil)
		}
		return
	}
	text := hm.Message
	if r.Color && (hm.ForegroundColor != clixml.NoColor || hm.BackgroundColor != clixml.NoColor) {
		text = ConsoleColorize(text, hm.ForegroundColor, hm.BackgroundColor)
	}
	if hm.NoNewLine {
		r.hostLine.WriteString(text)
		return
	}
	line := r.hostLine.String() + text
	r.hostLine.Reset()
	r.lines(r.Out, line, nil)
}

// Flush ends a pending Write-Host -NoNewline line and clears progress.
func (r *Renderer) Flush() {
	defer r.lock()()
	r.clearProgress()
	if r.hostLine.Len() > 0 {
		r.lines(r.Out, r.hostLine.String(), nil)
		r.hostLine.Reset()
	}
	r.flushOutLocked()
}

func (r *Renderer) progress(o *clixml.Object) {
	if !r.Progress {
		return
	}
	p, err := clixml.ParseProgressRecord(o)
	if err != nil {
		return
	}
	if p.Type == clixml.ProgressCompleted {
		r.clearProgress()
		return
	}
	r.flushOutLocked()
	fmt.Fprintf(r.Err, "\r\x1b[K%s", ProgressLine(p, 60))
	r.progressShow = true
}

func (r *Renderer) clearProgress() {
	if r.progressShow {
		r.flushOutLocked()
		fmt.Fprint(r.Err, "\r\x1b[K")
		r.progressShow = false
	}
}

// ProgressLine renders a progress record in one line of about width
// columns: "Activity: status [#####     ] 40%".
func ProgressLine(p *clixml.ProgressRecord, width int) string {
	var b strings.Builder
	b.WriteString(p.Activity)
	if p.StatusDescription != "" {
		b.WriteString(": ")
		b.WriteString(p.StatusDescription)
	}
	if p.PercentComplete >= 0 && p.PercentComplete <= 100 {
		const bar = 20
		n := int(p.PercentComplete) * bar / 100
		fmt.Fprintf(&b, " [%s%s] %d%%", strings.Repeat("#", n), strings.Repeat(" ", bar-n), p.PercentComplete)
	}
	if p.SecondsRemaining > 0 {
		fmt.Fprintf(&b, " %ds left", p.SecondsRemaining)
	}
	s := b.String()
	if width > 0 && len(s) > width {
		s = s[:width]
	}
	return s
}

// ansiForeground maps System.ConsoleColor to ANSI SGR foreground codes.
var ansiForeground = [16]int{30, 34, 32, 36, 31, 35, 33, 37, 90, 94, 92, 96, 91, 95, 93, 97}

// ConsoleColorize wraps text in the ANSI colours of a ConsoleColor pair
// (NoColor leaves that side unchanged).
func ConsoleColorize(text string, fg, bg clixml.ConsoleColor) string {
	var codes []string
	if fg >= 0 && int(fg) < len(ansiForeground) {
		codes = append(codes, fmt.Sprint(ansiForeground[fg]))
	}
	if bg >= 0 && int(bg) < len(ansiForeground) {
		codes = append(codes, fmt.Sprint(ansiForeground[bg]+10))
	}
	if len(codes) == 0 {
		return text
	}
	return "\x1b[" + strings.Join(codes, ";") + "m" + text + "\x1b[0m"
}
