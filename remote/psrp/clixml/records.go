package clixml

import (
	"strconv"
	"strings"
)

// Type names of the records PSRP carries (MS-PSRP 2.2.3.15-2.2.3.17, 2.2.2.22-2.2.2.27).
const (
	TypeErrorRecord         = "System.Management.Automation.ErrorRecord"
	TypeInformationalRecord = "System.Management.Automation.InformationalRecord"
	TypeWarningRecord       = "System.Management.Automation.WarningRecord"
	TypeVerboseRecord       = "System.Management.Automation.VerboseRecord"
	TypeDebugRecord         = "System.Management.Automation.DebugRecord"
	TypeInformationRecord   = "System.Management.Automation.InformationRecord"
	TypeHostInformation     = "System.Management.Automation.HostInformationMessage"
	TypeProgressRecordType  = "System.Management.Automation.ProgressRecordType"
	TypeInvocationInfo      = "System.Management.Automation.InvocationInfo"
	TypeStringList          = "System.Collections.Generic.List`1[[System.String, mscorlib, Version=4.0.0.0, Culture=neutral, PublicKeyToken=b77a5c561934e089]]"
)

// ErrorCategory is System.Management.Automation.ErrorCategory.
type ErrorCategory int32

var errorCategoryNames = [...]string{
	"NotSpecified", "OpenError", "CloseError", "DeviceError", "DeadlockDetected", "InvalidArgument",
	"InvalidData", "InvalidOperation", "InvalidResult", "InvalidType", "MetadataError", "NotImplemented",
	"NotInstalled", "ObjectNotFound", "OperationStopped", "OperationTimeout", "SyntaxError", "ParserError",
	"PermissionDenied", "ResourceBusy", "ResourceExists", "ResourceUnavailable", "ReadError", "WriteError",
	"FromStdErr", "SecurityError", "ProtocolError", "ConnectionError", "AuthenticationError",
	"LimitsExceeded", "QuotaExceeded", "NotEnabled",
}

// String returns the .NET enum name, or the number for unknown values.
func (c ErrorCategory) String() string {
	if c >= 0 && int(c) < len(errorCategoryNames) {
		return errorCategoryNames[c]
	}
	return itoa(int64(c))
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// ErrorCategoryInfo is the flattened CategoryInfo of an ErrorRecord.
type ErrorCategoryInfo struct {
	Category   ErrorCategory
	Activity   string
	Reason     string
	TargetName string
	TargetType string
	// Message is ErrorCategory_Message as the server sent it
	// ("NotSpecified: (:) [Write-Error], WriteErrorException"); empty when
	// absent, in which case String computes it.
	Message string
}

// String returns the CategoryInfo line PowerShell shows:
// "Category: (TargetName:TargetType) [Activity], Reason".
func (c ErrorCategoryInfo) String() string {
	if c.Message != "" {
		return c.Message
	}
	return c.Category.String() + ": (" + c.TargetName + ":" + c.TargetType + ") [" + c.Activity + "], " + c.Reason
}

// ExceptionInfo is the deserialized exception of an ErrorRecord.
type ExceptionInfo struct {
	TypeNames []string // .NET type chain, most-derived first
	Message   string
	HResult   int32
}

// InvocationInfo is the part of System.Management.Automation.InvocationInfo
// that remote errors and records carry.
type InvocationInfo struct {
	MyCommand        string
	ScriptLineNumber int32
	OffsetInLine     int32
	HistoryID        int64
	ScriptName       string
	Line             string
	PositionMessage  string
	InvocationName   string
	PipelineLength   int32
	PipelinePosition int32
}

// ErrorRecord is a typed view of a deserialized ErrorRecord (ERROR_RECORD
// messages, ExceptionAsErrorRecord of state messages, host-call errors;
// shared/PROTOCOL.md §3.3).
type ErrorRecord struct {
	Message               string // the record's ToString
	FullyQualifiedErrorID string
	Category              ErrorCategoryInfo
	Exception             ExceptionInfo
	TargetObject          Value
	Invocation            *InvocationInfo // nil when the record has none
	ErrorDetailsMessage   string          // ErrorDetails_Message; overrides the message when set
	RecommendedAction     string          // ErrorDetails_RecommendedAction
	ScriptStackTrace      string          // ErrorDetails_ScriptStackTrace
	SerializeExtendedInfo bool
	// MergedToOutput is the writeErrorStream note PowerShell adds when the
	// record was written to the error stream (and survives merging into
	// output).
	MergedToOutput bool
}

// NewErrorRecord returns an ErrorRecord for an exception of type
// exceptionType (a full .NET name such as
// "System.Management.Automation.RuntimeException") with the category
// reason set to its short name, as PowerShell does.
func NewErrorRecord(exceptionType, message, fullyQualifiedErrorID string, category ErrorCategory) *ErrorRecord {
	reason := exceptionType
	if i := strings.LastIndexByte(reason, '.'); i >= 0 {
		reason = reason[i+1:]
	}
	return &ErrorRecord{
		Message:               message,
		FullyQualifiedErrorID: fullyQualifiedErrorID,
		Category:              ErrorCategoryInfo{Category: category, Reason: reason},
		Exception:             ExceptionInfo{TypeNames: []string{exceptionType}, Message: message},
	}
}

// ParseErrorRecord reads an ErrorRecord object.
func ParseErrorRecord(v Value) (*ErrorRecord, error) {
	const view = "ErrorRecord"
	o, err := asObject(view, v)
	if err != nil {
		return nil, err
	}
	r := &reader{view: view, o: o}
	e := &ErrorRecord{Message: o.ToString}
	e.FullyQualifiedErrorID = r.str("FullyQualifiedErrorId", true)
	e.Category.Category = ErrorCategory(r.i32("ErrorCategory_Category", false))
	e.Category.Activity = r.str("ErrorCategory_Activity", false)
	e.Category.Reason = r.str("ErrorCategory_Reason", false)
	e.Category.TargetName = r.str("ErrorCategory_TargetName", false)
	e.Category.TargetType = r.str("ErrorCategory_TargetType", false)
	e.Category.Message = r.str("ErrorCategory_Message", false)
	e.ErrorDetailsMessage = r.str("ErrorDetails_Message", false)
	e.RecommendedAction = r.str("ErrorDetails_RecommendedAction", false)
	e.ScriptStackTrace = r.str("ErrorDetails_ScriptStackTrace", false)
	e.SerializeExtendedInfo = r.boolean("SerializeExtendedInfo", false)
	e.MergedToOutput = r.boolean("writeErrorStream", false)
	e.TargetObject, _ = o.Member("TargetObject")
	if ex := r.object("Exception", false); ex != nil {
		er := &reader{view: view + ".Exception", o: ex}
		e.Exception = ExceptionInfo{
			TypeNames: ex.TypeNames,
			Message:   er.str("Message", false),
			HResult:   er.i32("HResult", false),
		}
		if er.err != nil {
			return nil, er.err
		}
	}
	if ii := r.object("InvocationInfo", false); ii != nil {
		inv, err := parseInvocationInfo(view+".InvocationInfo", ii, "")
		if err != nil {
			return nil, err
		}
		e.Invocation = inv
	} else if _, ok := o.Member("InvocationInfo_InvocationName"); ok {
		inv, err := parseInvocationInfo(view, o, "InvocationInfo_")
		if err != nil {
			return nil, err
		}
		e.Invocation = inv
	}
	if r.err != nil {
		return nil, r.err
	}
	if e.Message == "" {
		e.Message = e.Exception.Message
	}
	return e, nil
}

func parseInvocationInfo(view string, o *Object, prefix string) (*InvocationInfo, error) {
	r := &reader{view: view, o: o}
	inv := &InvocationInfo{
		ScriptLineNumber: r.i32(prefix+"ScriptLineNumber", false),
		OffsetInLine:     r.i32(prefix+"OffsetInLine", false),
		HistoryID:        r.integer(prefix+"HistoryId", false),
		ScriptName:       r.str(prefix+"ScriptName", false),
		Line:             r.str(prefix+"Line", false),
		PositionMessage:  r.str(prefix+"PositionMessage", false),
		InvocationName:   r.str(prefix+"InvocationName", false),
		PipelineLength:   r.i32(prefix+"PipelineLength", false),
		PipelinePosition: r.i32(prefix+"PipelinePosition", false),
	}
	if prefix == "" {
		if mc, ok := o.Member("MyCommand"); ok {
			inv.MyCommand = ToDisplayString(mc)
		}
	} else {
		inv.MyCommand = r.str("CommandInfo_Name", false)
	}
	return inv, r.err
}

// DisplayMessage is the message PowerShell shows for the record:
// ErrorDetails_Message when set, else the record's message.
func (e *ErrorRecord) DisplayMessage() string {
	if e.ErrorDetailsMessage != "" {
		return e.ErrorDetailsMessage
	}
	if e.Message != "" {
		return e.Message
	}
	return e.Exception.Message
}

// CategoryLine is the console's "    + CategoryInfo          : ..." line.
func (e *ErrorRecord) CategoryLine() string {
	return "    + CategoryInfo          : " + e.Category.String()
}

// FullyQualifiedErrorIDLine is the console's
// "    + FullyQualifiedErrorId : ..." line.
func (e *ErrorRecord) FullyQualifiedErrorIDLine() string {
	return "    + FullyQualifiedErrorId : " + e.FullyQualifiedErrorID
}

// ConsoleText renders the record the way Windows PowerShell's console
// (NormalView) does: "[InvocationName : ]message", the position message
// when there is one, then the CategoryInfo and FullyQualifiedErrorId lines.
// Lines are separated by "\n"; there is no trailing newline.
func (e *ErrorRecord) ConsoleText() string {
	var b strings.Builder
	if e.Invocation != nil && e.Invocation.InvocationName != "" {
		b.WriteString(e.Invocation.InvocationName)
		b.WriteString(" : ")
	}
	b.WriteString(normalizeNewlines(e.DisplayMessage()))
	if e.Invocation != nil && e.Invocation.PositionMessage != "" {
		b.WriteByte('\n')
		b.WriteString(normalizeNewlines(e.Invocation.PositionMessage))
	}
	b.WriteByte('\n')
	b.WriteString(e.CategoryLine())
	b.WriteByte('\n')
	b.WriteString(e.FullyQualifiedErrorIDLine())
	return b.String()
}

func normalizeNewlines(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.TrimRight(s, "\n")
}

// exceptionBaseTypes are appended to an exception type that has no chain.
var exceptionBaseTypes = []string{"System.SystemException", "System.Exception", "System.Object"}

// Object builds the ErrorRecord the way Windows PowerShell 5.1 serializes it
// for remoting (SerializeExtendedInfo is written as given, but the
// flattened InvocationInfo_* members are not).
func (e *ErrorRecord) Object() *Object {
	exTypes := e.Exception.TypeNames
	if len(exTypes) == 0 {
		exTypes = []string{"System.Management.Automation.RuntimeException"}
	}
	if len(exTypes) == 1 {
		exTypes = append(append([]string(nil), exTypes...), exceptionBaseTypes...)
	}
	exMsg := e.Exception.Message
	if exMsg == "" {
		exMsg = e.Message
	}
	hr := e.Exception.HResult
	if hr == 0 {
		hr = -2146233087 // COR_E_SYSTEM / RuntimeException default
	}
	exception := &Object{
		TypeNames:   exTypes,
		ToString:    exTypes[0] + ": " + exMsg,
		HasToString: true,
		Props: []Property{
			{"Message", exMsg},
			{"Data", &Object{TypeNames: []string{"System.Collections.ListDictionaryInternal", "System.Object"}, Content: ContentDict}},
			{"InnerException", nil},
			{"TargetSite", nil},
			{"StackTrace", nil},
			{"HelpLink", nil},
			{"Source", nil},
			{"HResult", hr},
		},
	}
	var members []Property
	if e.MergedToOutput {
		members = append(members, Property{"writeErrorStream", true})
	}
	var inv Value
	if e.Invocation != nil {
		inv = e.Invocation.object()
	}
	msg := e.Message
	if msg == "" {
		msg = exMsg
	}
	catMsg := e.Category.Message
	if catMsg == "" {
		catMsg = e.Category.String()
	}
	members = append(members,
		Property{"Exception", exception},
		Property{"TargetObject", e.TargetObject},
		Property{"FullyQualifiedErrorId", e.FullyQualifiedErrorID},
		Property{"InvocationInfo", inv},
		Property{"ErrorCategory_Category", int32(e.Category.Category)},
		Property{"ErrorCategory_Activity", e.Category.Activity},
		Property{"ErrorCategory_Reason", e.Category.Reason},
		Property{"ErrorCategory_TargetName", e.Category.TargetName},
		Property{"ErrorCategory_TargetType", e.Category.TargetType},
		Property{"ErrorCategory_Message", catMsg},
	)
	if e.ErrorDetailsMessage != "" || e.RecommendedAction != "" {
		members = append(members,
			Property{"ErrorDetails_Message", e.ErrorDetailsMessage},
			Property{"ErrorDetails_RecommendedAction", e.RecommendedAction})
	}
	members = append(members, Property{"SerializeExtendedInfo", e.SerializeExtendedInfo && e.Invocation != nil})
	if e.ScriptStackTrace != "" {
		members = append(members, Property{"ErrorDetails_ScriptStackTrace", e.ScriptStackTrace})
	}
	return &Object{
		TypeNames:   []string{TypeErrorRecord, "System.Object"},
		ToString:    msg,
		HasToString: true,
		Members:     members,
	}
}

func (inv *InvocationInfo) object() *Object {
	return &Object{
		TypeNames:   []string{TypeInvocationInfo, "System.Object"},
		ToString:    TypeInvocationInfo,
		HasToString: true,
		Props: []Property{
			{"MyCommand", nilIfEmpty(inv.MyCommand)},
			{"BoundParameters", &Object{TypeNames: []string{"System.Collections.Generic.Dictionary`2[[System.String, mscorlib, Version=4.0.0.0, Culture=neutral, PublicKeyToken=b77a5c561934e089],[System.Object, mscorlib, Version=4.0.0.0, Culture=neutral, PublicKeyToken=b77a5c561934e089]]", "System.Object"}, Content: ContentDict}},
			{"UnboundArguments", &Object{TypeNames: []string{"System.Collections.Generic.List`1[[System.Object, mscorlib, Version=4.0.0.0, Culture=neutral, PublicKeyToken=b77a5c561934e089]]", "System.Object"}, Content: ContentList}},
			{"ScriptLineNumber", inv.ScriptLineNumber},
			{"OffsetInLine", inv.OffsetInLine},
			{"HistoryId", inv.HistoryID},
			{"ScriptName", inv.ScriptName},
			{"Line", inv.Line},
			{"PositionMessage", inv.PositionMessage},
			{"PSScriptRoot", ""},
			{"PSCommandPath", nil},
			{"InvocationName", inv.InvocationName},
			{"PipelineLength", inv.PipelineLength},
			{"PipelinePosition", inv.PipelinePosition},
			{"ExpectingInput", false},
			{"CommandOrigin", "Internal"},
			{"DisplayScriptPosition", nil},
		},
	}
}

// InformationalRecord is a typed view of a WarningRecord, VerboseRecord or
// DebugRecord (MS-PSRP 2.2.3.16; WARNING/VERBOSE/DEBUG_RECORD messages).
type InformationalRecord struct {
	TypeName       string // TypeWarningRecord, TypeVerboseRecord or TypeDebugRecord
	Message        string
	MergedToOutput bool // the Write{Warning|Verbose|Debug}Stream note
}

// Stream returns "Warning", "Verbose" or "Debug" from the type name.
func (r *InformationalRecord) Stream() string {
	s := strings.TrimPrefix(strings.TrimPrefix(r.TypeName, "Deserialized."), "System.Management.Automation.")
	return strings.TrimSuffix(s, "Record")
}

// ParseInformationalRecord reads a warning, verbose or debug record. A
// TN-less object with InformationalRecord_Message (as older servers send
// for pool-level warnings) is accepted with an empty TypeName.
func ParseInformationalRecord(v Value) (*InformationalRecord, error) {
	const view = "InformationalRecord"
	o, err := asObject(view, v)
	if err != nil {
		return nil, err
	}
	r := &reader{view: view, o: o}
	rec := &InformationalRecord{TypeName: o.TypeName()}
	if rec.TypeName == TypeInformationalRecord || strings.TrimPrefix(rec.TypeName, "Deserialized.") == "System.Object" {
		rec.TypeName = ""
	}
	rec.Message = r.str("InformationalRecord_Message", !o.HasToString)
	if rec.Message == "" && o.HasToString {
		rec.Message = o.ToString
	}
	stream := rec.Stream()
	if stream != "" {
		rec.MergedToOutput = r.boolean("Write"+stream+"Stream", false)
	}
	if r.err != nil {
		return nil, r.err
	}
	return rec, nil
}

// Object builds the record the way Windows PowerShell serializes it
// (InformationalRecord_SerializeInvocationInfo false).
func (r *InformationalRecord) Object() *Object {
	tn := r.TypeName
	if tn == "" {
		tn = TypeWarningRecord
	}
	var members []Property
	if r.MergedToOutput {
		members = append(members, Property{"Write" + (&InformationalRecord{TypeName: tn}).Stream() + "Stream", true})
	}
	members = append(members,
		Property{"InformationalRecord_Message", r.Message},
		Property{"InformationalRecord_SerializeInvocationInfo", false})
	return &Object{
		TypeNames:   []string{tn, TypeInformationalRecord, "System.Object"},
		ToString:    r.Message,
		HasToString: true,
		Members:     members,
	}
}

// ConsoleColor is System.ConsoleColor; NoColor marks an absent color.
type ConsoleColor int32

// ConsoleColor values.
const (
	NoColor ConsoleColor = iota - 1
	Black
	DarkBlue
	DarkGreen
	DarkCyan
	DarkRed
	DarkMagenta
	DarkYellow
	Gray
	DarkGray
	Blue
	Green
	Cyan
	Red
	Magenta
	Yellow
	White
)

var consoleColorNames = [...]string{
	"Black", "DarkBlue", "DarkGreen", "DarkCyan", "DarkRed", "DarkMagenta", "DarkYellow", "Gray",
	"DarkGray", "Blue", "Green", "Cyan", "Red", "Magenta", "Yellow", "White",
}

// String returns the .NET name ("" for NoColor).
func (c ConsoleColor) String() string {
	if c >= 0 && int(c) < len(consoleColorNames) {
		return consoleColorNames[c]
	}
	if c == NoColor {
		return ""
	}
	return itoa(int64(c))
}

// parseConsoleColor accepts a color as a name (S), an integer or an enum Obj.
func parseConsoleColor(v Value) (ConsoleColor, bool) {
	switch x := v.(type) {
	case nil:
		return NoColor, true
	case string:
		for i, n := range consoleColorNames {
			if strings.EqualFold(n, x) {
				return ConsoleColor(i), true
			}
		}
		return NoColor, false
	}
	n, ok := integerValue(v)
	if !ok || n < -1 || n > 15 {
		return NoColor, false
	}
	return ConsoleColor(n), true
}

// HostInformationMessage is the MessageData Write-Host puts in an
// InformationRecord.
type HostInformationMessage struct {
	Message         string
	NoNewLine       bool
	ForegroundColor ConsoleColor // NoColor when absent
	BackgroundColor ConsoleColor // NoColor when absent
}

// ParseHostInformationMessage reads a HostInformationMessage object.
func ParseHostInformationMessage(v Value) (*HostInformationMessage, error) {
	const view = "HostInformationMessage"
	o, err := asObject(view, v)
	if err != nil {
		return nil, err
	}
	if !o.IsType(TypeHostInformation) {
		return nil, &ShapeError{View: view, Reason: "type is " + o.TypeName()}
	}
	r := &reader{view: view, o: o}
	m := &HostInformationMessage{
		Message:   r.str("Message", true),
		NoNewLine: r.boolean("NoNewLine", false),
	}
	for _, c := range []struct {
		name string
		dst  *ConsoleColor
	}{{"ForegroundColor", &m.ForegroundColor}, {"BackgroundColor", &m.BackgroundColor}} {
		cv, _ := o.Member(c.name)
		col, ok := parseConsoleColor(cv)
		if !ok {
			r.fail(c.name, "not a ConsoleColor")
		}
		*c.dst = col
	}
	if r.err != nil {
		return nil, r.err
	}
	return m, nil
}

// Object builds the HostInformationMessage as PowerShell serializes it.
func (m *HostInformationMessage) Object() *Object {
	props := []Property{{"Message", m.Message}, {"NoNewLine", m.NoNewLine}}
	if m.ForegroundColor != NoColor {
		props = append(props, Property{"ForegroundColor", m.ForegroundColor.String()})
	}
	if m.BackgroundColor != NoColor {
		props = append(props, Property{"BackgroundColor", m.BackgroundColor.String()})
	}
	return &Object{
		TypeNames:   []string{TypeHostInformation, "System.Object"},
		ToString:    m.Message,
		HasToString: true,
		Props:       props,
	}
}

// InformationRecord is a typed view of an INFORMATION_RECORD
// (MS-PSRP 2.2.2.26).
type InformationRecord struct {
	MessageData     Value
	Source          string
	TimeGenerated   DateTime
	Tags            []string
	User            string
	Computer        string
	ProcessID       uint32
	NativeThreadID  uint32
	ManagedThreadID uint32
	MergedToOutput  bool // the WriteInformationStream note
}

// ParseInformationRecord reads an information record in either of its
// forms: MS-only (INFORMATION_RECORD) or typed with Props (merged into
// output).
func ParseInformationRecord(v Value) (*InformationRecord, error) {
	const view = "InformationRecord"
	o, err := asObject(view, v)
	if err != nil {
		return nil, err
	}
	r := &reader{view: view, o: o}
	rec := &InformationRecord{
		Source:          r.str("Source", false),
		User:            r.str("User", false),
		Computer:        r.str("Computer", false),
		ProcessID:       r.u32("ProcessId", false),
		NativeThreadID:  r.u32("NativeThreadId", false),
		ManagedThreadID: r.u32("ManagedThreadId", false),
		MergedToOutput:  r.boolean("WriteInformationStream", false),
	}
	md, ok := o.Member("MessageData")
	if !ok {
		r.fail("MessageData", "missing")
	}
	rec.MessageData = md
	if tg, ok := o.Member("TimeGenerated"); ok && tg != nil {
		dt, isDT := tg.(DateTime)
		if !isDT {
			r.fail("TimeGenerated", "want DT, got "+kindName(tg))
		}
		rec.TimeGenerated = dt
	}
	if r.err != nil {
		return nil, r.err
	}
	tags, _ := o.Member("Tags")
	if rec.Tags, err = stringList(view, "Tags", tags); err != nil {
		return nil, err
	}
	return rec, nil
}

// HostMessage returns the Write-Host message carried by the record, if the
// MessageData is a HostInformationMessage.
func (r *InformationRecord) HostMessage() (*HostInformationMessage, bool) {
	o, ok := r.MessageData.(*Object)
	if !ok || !o.IsType(TypeHostInformation) {
		return nil, false
	}
	m, err := ParseHostInformationMessage(o)
	return m, err == nil
}

// Text returns the message text: the HostInformationMessage's Message for
// Write-Host, otherwise ToDisplayString of the MessageData.
func (r *InformationRecord) Text() string {
	if m, ok := r.HostMessage(); ok {
		return m.Message
	}
	return ToDisplayString(r.MessageData)
}

func (r *InformationRecord) properties() []Property {
	tags := &Object{TypeNames: []string{TypeStringList, "System.Object"}, Content: ContentList}
	for _, t := range r.Tags {
		tags.Items = append(tags.Items, t)
	}
	return []Property{
		{"MessageData", r.MessageData},
		{"Source", r.Source},
		{"TimeGenerated", r.TimeGenerated},
		{"Tags", tags},
		{"User", r.User},
		{"Computer", r.Computer},
		{"ProcessId", r.ProcessID},
		{"NativeThreadId", r.NativeThreadID},
		{"ManagedThreadId", r.ManagedThreadID},
	}
}

// Object builds the record as Windows sends it: the MS-only form of
// INFORMATION_RECORD, or, when MergedToOutput is set, the typed form with
// Props and the WriteInformationStream note.
func (r *InformationRecord) Object() *Object {
	if !r.MergedToOutput {
		return ms(r.properties()...)
	}
	return &Object{
		TypeNames:   []string{TypeInformationRecord, "System.Object"},
		ToString:    r.Text(),
		HasToString: true,
		Props:       r.properties(),
		Members:     []Property{{"WriteInformationStream", true}},
	}
}

// ProgressRecordType is System.Management.Automation.ProgressRecordType.
type ProgressRecordType int32

// ProgressRecordType values.
const (
	ProgressProcessing ProgressRecordType = 0
	ProgressCompleted  ProgressRecordType = 1
)

// String returns the .NET name.
func (t ProgressRecordType) String() string {
	switch t {
	case ProgressProcessing:
		return "Processing"
	case ProgressCompleted:
		return "Completed"
	}
	return itoa(int64(t))
}

// ProgressRecord is a typed view of a PROGRESS_RECORD (MS-PSRP 2.2.2.25).
type ProgressRecord struct {
	Activity          string
	ActivityID        int32
	StatusDescription string
	CurrentOperation  string // "" travels as <Nil />
	ParentActivityID  int32
	PercentComplete   int32
	Type              ProgressRecordType
	SecondsRemaining  int32
}

// ParseProgressRecord reads a progress record.
func ParseProgressRecord(v Value) (*ProgressRecord, error) {
	const view = "ProgressRecord"
	o, err := asObject(view, v)
	if err != nil {
		return nil, err
	}
	r := &reader{view: view, o: o}
	p := &ProgressRecord{
		Activity:          r.str("Activity", true),
		ActivityID:        r.i32("ActivityId", true),
		StatusDescription: r.str("StatusDescription", false),
		CurrentOperation:  r.str("CurrentOperation", false),
		ParentActivityID:  r.i32("ParentActivityId", false),
		PercentComplete:   r.i32("PercentComplete", false),
		Type:              ProgressRecordType(r.i32("Type", false)),
		SecondsRemaining:  r.i32("SecondsRemaining", false),
	}
	if r.err != nil {
		return nil, r.err
	}
	return p, nil
}

// Object builds the MS-only progress record Windows sends.
func (p *ProgressRecord) Object() *Object {
	return ms(
		Property{"Activity", p.Activity},
		Property{"ActivityId", p.ActivityID},
		Property{"StatusDescription", p.StatusDescription},
		Property{"CurrentOperation", nilIfEmpty(p.CurrentOperation)},
		Property{"ParentActivityId", p.ParentActivityID},
		Property{"PercentComplete", p.PercentComplete},
		Property{"Type", NewEnum(TypeProgressRecordType, p.Type.String(), int32(p.Type))},
		Property{"SecondsRemaining", p.SecondsRemaining},
	)
}
