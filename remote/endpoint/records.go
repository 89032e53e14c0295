package endpoint

import (
	"fmt"
	"strings"
	"time"

	"github.com/pssession/pssession/remote/psrp/clixml"
)

// Builders of the PSRP record objects the endpoint writes (MS-PSRP 2.2.3.15
// ErrorRecord, 2.2.3.25 ProgressRecord, 2.2.3.26 InformationRecord; wire
// shapes of shared/PROTOCOL.md §3.3).

func prop(name string, v clixml.Value) clixml.Property { return clixml.Property{Name: name, Value: v} }

// errorRecord builds an ErrorRecord for msg (category NotSpecified).
func errorRecord(msg, exceptionType, errorID, activity string) *clixml.Object {
	reason := exceptionType[strings.LastIndexByte(exceptionType, '.')+1:]
	exc := &clixml.Object{
		TypeNames:   []string{exceptionType, "System.SystemException", "System.Exception", "System.Object"},
		ToString:    msg,
		HasToString: true,
		Props: []clixml.Property{
			prop("Message", msg),
			prop("Data", &clixml.Object{TypeNames: []string{"System.Collections.ListDictionaryInternal", "System.Object"}, Content: clixml.ContentDict}),
			prop("InnerException", nil),
			prop("TargetSite", nil),
			prop("StackTrace", nil),
			prop("HelpLink", nil),
			prop("Source", nil),
			prop("HResult", int32(-2146233087)),
		},
	}
	return &clixml.Object{
		TypeNames:   []string{"System.Management.Automation.ErrorRecord", "System.Object"},
		ToString:    msg,
		HasToString: true,
		Members: []clixml.Property{
			prop("Exception", exc),
			prop("TargetObject", nil),
			prop("FullyQualifiedErrorId", errorID),
			prop("InvocationInfo", nil),
			prop("ErrorCategory_Category", int32(0)),
			prop("ErrorCategory_Activity", activity),
			prop("ErrorCategory_Reason", reason),
			prop("ErrorCategory_TargetName", ""),
			prop("ErrorCategory_TargetType", ""),
			prop("ErrorCategory_Message", fmt.Sprintf("NotSpecified: (:) [%s], %s", activity, reason)),
			prop("SerializeExtendedInfo", false),
		},
	}
}

// writeErrorRecord is what Write-Error produces.
func writeErrorRecord(msg string) *clixml.Object {
	return errorRecord(msg, "Microsoft.PowerShell.Commands.WriteErrorException",
		"Microsoft.PowerShell.Commands.WriteErrorException", "Write-Error")
}

// throwRecord is what an uncaught throw produces.
func throwRecord(msg string) *clixml.Object {
	return errorRecord(msg, "System.Management.Automation.RuntimeException", msg, "")
}

// informationRecord wraps msg as Write-Information does.
func informationRecord(msg, computer string, now time.Time, tags ...string) *clixml.Object {
	tagItems := make([]clixml.Value, len(tags))
	for i, t := range tags {
		tagItems[i] = t
	}
	return &clixml.Object{
		TypeNames: []string{"System.Management.Automation.InformationRecord", "System.Object"},
		ToString:  msg, HasToString: true,
		Members: []clixml.Property{
			prop("MessageData", msg),
			prop("Source", "Write-Information"),
			prop("TimeGenerated", clixml.DateTime{Time: now}),
			prop("Tags", &clixml.Object{TypeNames: []string{"System.Collections.Generic.List`1[[System.String]]", "System.Object"}, Content: clixml.ContentList, Items: tagItems}),
			prop("User", ""),
			prop("Computer", computer),
			prop("ProcessId", uint32(0)),
			prop("NativeThreadId", uint32(0)),
			prop("ManagedThreadId", uint32(0)),
		},
	}
}

// progressRecord builds a ProgressRecord.
func progressRecord(p Progress) *clixml.Object {
	typ, name := int32(0), "Processing"
	if p.Completed {
		typ, name = 1, "Completed"
	}
	return &clixml.Object{
		Members: []clixml.Property{
			prop("Activity", p.Activity),
			prop("ActivityId", int32(0)),
			prop("StatusDescription", p.Status),
			prop("CurrentOperation", nil),
			prop("ParentActivityId", int32(-1)),
			prop("PercentComplete", int32(p.PercentComplete)),
			prop("Type", enumValue("System.Management.Automation.ProgressRecordType", name, typ)),
			prop("SecondsRemaining", int32(-1)),
		},
	}
}

func enumValue(typeName, name string, v int32) *clixml.Object {
	return &clixml.Object{TypeNames: []string{typeName, "System.Enum", "System.ValueType", "System.Object"},
		ToString: name, HasToString: true, Content: clixml.ContentPrimitive, Value: v}
}

// consoleColors are the System.ConsoleColor names by value.
var consoleColors = []string{"Black", "DarkBlue", "DarkGreen", "DarkCyan", "DarkRed", "DarkMagenta", "DarkYellow",
	"Gray", "DarkGray", "Blue", "Green", "Cyan", "Red", "Magenta", "Yellow", "White"}

// consoleColor returns the ConsoleColor enum object for name, or false.
func consoleColor(name string) (*clixml.Object, bool) {
	for i, c := range consoleColors {
		if strings.EqualFold(c, name) {
			return enumValue("System.ConsoleColor", c, int32(i)), true
		}
	}
	return nil, false
}

// choiceList builds the Collection<ChoiceDescription> of PromptForChoice
// (MS-PSRP 2.2.3.17 host parameters: fields label and helpMessage).
func choiceList(choices []string) *clixml.Object {
	items := make([]clixml.Value, len(choices))
	for i, c := range choices {
		items[i] = &clixml.Object{Members: []clixml.Property{prop("helpMessage", ""), prop("label", c)}}
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
