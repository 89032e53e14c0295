package endpoint

import (
	"fmt"
	"strings"
	"time"

	"github.com/pssession/pssession/remote/psrp/clixml"
)

// Records the endpoint writes, built with clixml's typed views so that they
// have the Windows wire shapes (MS-PSRP 2.2.3.15 ErrorRecord, 2.2.3.25
// ProgressRecord, 2.2.3.26 InformationRecord; shared/PROTOCOL.md §3.3).

// writeErrorRecord is what Write-Error produces.
func writeErrorRecord(msg string) *clixml.Object {
	rec := clixml.NewErrorRecord("Microsoft.PowerShell.Commands.WriteErrorException", msg,
		"Microsoft.PowerShell.Commands.WriteErrorException", 0)
	rec.Category.Activity = "Write-Error"
	return rec.Object()
}

// throwRecord is what an uncaught throw produces.
func throwRecord(msg string) *clixml.Object {
	return clixml.NewErrorRecord("System.Management.Automation.RuntimeException", msg, msg, 0).Object()
}

// commandNotFoundRecord is what PowerShell fails a pipeline with when one
// of its commands does not resolve (before any command runs; no
// invocation info).
func commandNotFoundRecord(name string) *clixml.Object {
	msg := fmt.Sprintf("The term '%s' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again.", name)
	rec := clixml.NewErrorRecord("System.Management.Automation.CommandNotFoundException", msg, "CommandNotFoundException", clixml.ErrorCategory(13))
	rec.Category.TargetName, rec.Category.TargetType = name, "String"
	rec.TargetObject = name
	return rec.Object()
}

// informationRecord wraps data as Write-Information (or, with a
// HostInformationMessage and the PSHOST tag, Write-Host) does.
func informationRecord(data clixml.Value, source, computer string, now time.Time, tags ...string) *clixml.Object {
	rec := &clixml.InformationRecord{MessageData: data, Source: source, TimeGenerated: clixml.DateTime{Time: now},
		Tags: tags, Computer: computer}
	return rec.Object()
}

// hostMessage is the MessageData of Write-Host.
func hostMessage(text string, o HostText) *clixml.Object {
	m := &clixml.HostInformationMessage{Message: text, NoNewLine: o.NoNewline,
		ForegroundColor: consoleColor(o.Foreground), BackgroundColor: consoleColor(o.Background)}
	return m.Object()
}

// progressRecord builds a ProgressRecord.
func progressRecord(p Progress) *clixml.Object {
	rec := &clixml.ProgressRecord{Activity: p.Activity, StatusDescription: p.Status, ParentActivityID: -1,
		PercentComplete: int32(p.PercentComplete), SecondsRemaining: -1}
	if p.Completed {
		rec.Type = clixml.ProgressCompleted
	}
	return rec.Object()
}

// consoleColors are the System.ConsoleColor names by value.
var consoleColors = []string{"Black", "DarkBlue", "DarkGreen", "DarkCyan", "DarkRed", "DarkMagenta", "DarkYellow",
	"Gray", "DarkGray", "Blue", "Green", "Cyan", "Red", "Magenta", "Yellow", "White"}

// consoleColor returns the ConsoleColor named name, or NoColor.
func consoleColor(name string) clixml.ConsoleColor {
	for i, c := range consoleColors {
		if strings.EqualFold(c, name) {
			return clixml.ConsoleColor(i)
		}
	}
	return clixml.NoColor
}

// choiceList builds the Collection<ChoiceDescription> of PromptForChoice
// (MS-PSRP 2.2.3.17 host parameters: fields label and helpMessage).
func choiceList(choices []string) *clixml.Object {
	items := make([]clixml.Value, len(choices))
	for i, c := range choices {
		items[i] = &clixml.Object{Members: []clixml.Property{{Name: "helpMessage", Value: ""}, {Name: "label", Value: c}}}
	}
	return &clixml.Object{TypeNames: []string{"System.Collections.ObjectModel.Collection`1[[System.Management.Automation.Host.ChoiceDescription]]", "System.Object"},
		Content: clixml.ContentList, Items: items}
}

// member returns the property or extended member name of o (any case).
func member(o *clixml.Object, name string) (clixml.Value, bool) {
	for _, list := range [][]clixml.Property{o.Members, o.Props} {
		for _, p := range list {
			if strings.EqualFold(p.Name, name) {
				return p.Value, true
			}
		}
	}
	return nil, false
}

// toClixml converts an engine output value to a CLIXML value.
func toClixml(v any) clixml.Value {
	switch x := v.(type) {
	case int:
		if int64(int32(x)) == int64(x) {
			return int32(x)
		}
		return int64(x)
	case nil, string, bool, int32, int64, uint32, uint64, float64, float32, *clixml.Object:
		return x
	case fmt.Stringer:
		return x.String()
	}
	return fmt.Sprint(v)
}
