package clixml

import (
	"bytes"
	"errors"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// MS-PSRP 2.2.1 message types used below.
const (
	msgApplicationPrivateData = 0x00021009
	msgInitRunspacePool       = 0x00010004
	msgPipelineOutput         = 0x00041004
	msgErrorRecord            = 0x00041005
	msgPipelineState          = 0x00041006
	msgDebugRecord            = 0x00041007
	msgVerboseRecord          = 0x00041008
	msgWarningRecord          = 0x00041009
	msgProgressRecord         = 0x00041010
	msgInformationRecord      = 0x00041011
	msgPipelineHostCall       = 0x00041100
	msgPipelineHostResponse   = 0x00041101
)

// vectorsOf returns the decoded bodies of one file's messages of type typ.
func vectorsOf(t *testing.T, file string, typ uint32) []*Object {
	t.Helper()
	var out []*Object
	for _, m := range loadVectorMessages(t) {
		if m.File != file || m.Type != typ {
			continue
		}
		v, err := Decode(m.Data)
		if err != nil {
			t.Fatalf("%v: %v", m, err)
		}
		if o, ok := v.(*Object); ok {
			out = append(out, o)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no messages of type 0x%08X in %s", typ, file)
	}
	return out
}

// windowsBytes returns the body of the first message of type typ in file,
// without its BOM.
func windowsBytes(t *testing.T, file string, typ uint32) []byte {
	t.Helper()
	for _, m := range loadVectorMessages(t) {
		if m.File == file && m.Type == typ {
			return bytes.TrimPrefix(m.Data, []byte("\xEF\xBB\xBF"))
		}
	}
	t.Fatalf("no message of type 0x%08X in %s", typ, file)
	return nil
}

func mustEncode(t *testing.T, v Value) string {
	t.Helper()
	b, err := Encode(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestErrorRecordFromFailedPipeline(t *testing.T) {
	state := vectorsOf(t, "test_psrp_error_failed.yml", msgPipelineState)[0]
	ev, ok := state.Member("ExceptionAsErrorRecord")
	if !ok {
		t.Fatal("no ExceptionAsErrorRecord")
	}
	e, err := ParseErrorRecord(ev)
	if err != nil {
		t.Fatal(err)
	}
	want := &ErrorRecord{
		Message:               "error",
		FullyQualifiedErrorID: "Microsoft.PowerShell.Commands.WriteErrorException",
		Category: ErrorCategoryInfo{
			Category: 0, Activity: "Write-Error", Reason: "WriteErrorException",
			Message: "NotSpecified: (:) [Write-Error], WriteErrorException",
		},
		Exception: ExceptionInfo{
			TypeNames: []string{"Microsoft.PowerShell.Commands.WriteErrorException", "System.SystemException", "System.Exception", "System.Object"},
			Message:   "error",
			HResult:   -2146233087,
		},
		Invocation: &InvocationInfo{
			MyCommand:        "$ErrorActionPreference = 'Stop'; Write-Output before; Write-Error error; Write-Output after",
			ScriptLineNumber: 1,
			OffsetInLine:     55,
			HistoryID:        1,
			Line:             "$ErrorActionPreference = 'Stop'; Write-Output before; Write-Error error; Write-Output after",
			PositionMessage:  "At line:1 char:55\r\n+ ... onPreference = 'Stop'; Write-Output before; Write-Error error; Write- ...\r\n+                                                 ~~~~~~~~~~~~~~~~~",
		},
		ScriptStackTrace: "at <ScriptBlock>, <No file>: line 1",
	}
	if diff := cmp.Diff(want, e); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got, want := e.CategoryLine(), "    + CategoryInfo          : NotSpecified: (:) [Write-Error], WriteErrorException"; got != want {
		t.Errorf("CategoryLine = %q, want %q", got, want)
	}
	if got, want := e.FullyQualifiedErrorIDLine(), "    + FullyQualifiedErrorId : Microsoft.PowerShell.Commands.WriteErrorException"; got != want {
		t.Errorf("FullyQualifiedErrorIDLine = %q", got)
	}
	wantText := "error\nAt line:1 char:55\n+ ... onPreference = 'Stop'; Write-Output before; Write-Error error; Write- ...\n" +
		"+                                                 ~~~~~~~~~~~~~~~~~\n" +
		"    + CategoryInfo          : NotSpecified: (:) [Write-Error], WriteErrorException\n" +
		"    + FullyQualifiedErrorId : Microsoft.PowerShell.Commands.WriteErrorException"
	if diff := cmp.Diff(wantText, e.ConsoleText()); diff != "" {
		t.Errorf("ConsoleText (-want +got):\n%s", diff)
	}
	// The builder reproduces Windows' bytes for the whole PIPELINE_STATE.
	body := ms(Property{"PipelineState", int32(5)}, Property{"ExceptionAsErrorRecord", e.Object()})
	if diff := cmp.Diff(string(windowsBytes(t, "test_psrp_error_failed.yml", msgPipelineState)), mustEncode(t, body)); diff != "" {
		t.Errorf("built ErrorRecord differs from Windows (-want +got):\n%s", diff)
	}
}

func TestErrorRecordsInVectorsParse(t *testing.T) {
	n := 0
	for _, m := range loadVectorMessages(t) {
		if m.Type != msgErrorRecord {
			continue
		}
		n++
		v, err := Decode(m.Data)
		if err != nil {
			t.Fatalf("%v: %v", m, err)
		}
		e, err := ParseErrorRecord(v)
		if err != nil {
			t.Errorf("%v: %v", m, err)
			continue
		}
		if e.FullyQualifiedErrorID == "" || e.DisplayMessage() == "" || e.Category.String() == "" {
			t.Errorf("%v: incomplete record %+v", m, e)
		}
		again, err := ParseErrorRecord(e.Object())
		if err != nil {
			t.Fatalf("%v: parse of built record: %v", m, err)
		}
		// Everything the view holds survives the builder (the flattened
		// InvocationInfo_* members are not rebuilt, but their content is in
		// the InvocationInfo object).
		if diff := cmp.Diff(e, again); diff != "" {
			t.Errorf("%v: builder round trip (-want +got):\n%s", m, diff)
		}
	}
	if n == 0 {
		t.Fatal("no ERROR_RECORD messages")
	}
}

func TestMergeCommandsRecords(t *testing.T) {
	const file = "test_psrp_merge_commands.yml"
	e, err := ParseErrorRecord(vectorsOf(t, file, msgErrorRecord)[0])
	if err != nil {
		t.Fatal(err)
	}
	if e.Message != "error stream" || !e.MergedToOutput || !e.SerializeExtendedInfo || e.Invocation == nil || e.Invocation.HistoryID != 1 {
		t.Errorf("error record = %+v", e)
	}
	for _, tc := range []struct {
		typ    uint32
		stream string
		msg    string
	}{
		{msgWarningRecord, "Warning", "warning stream"},
		{msgVerboseRecord, "Verbose", "verbose stream"},
		{msgDebugRecord, "Debug", "debug stream"},
	} {
		r, err := ParseInformationalRecord(vectorsOf(t, file, tc.typ)[0])
		if err != nil {
			t.Fatal(err)
		}
		if r.Stream() != tc.stream || r.Message != tc.msg || r.MergedToOutput {
			t.Errorf("%s record = %+v", tc.stream, r)
		}
	}
	info, err := ParseInformationRecord(vectorsOf(t, file, msgInformationRecord)[0])
	if err != nil {
		t.Fatal(err)
	}
	wantInfo := &InformationRecord{
		MessageData:     "information stream",
		Source:          "Write-Information",
		TimeGenerated:   DateTime{Time: time.Date(2018, 6, 13, 23, 46, 28, 5160000, time.UTC), Text: "2018-06-13T23:46:28.00516+00:00"},
		User:            `WIN-NNMU24VVKJ0\vagrant`,
		Computer:        "WIN-NNMU24VVKJ0",
		ProcessID:       2636,
		NativeThreadID:  2840,
		ManagedThreadID: 7,
	}
	if diff := cmp.Diff(wantInfo, info); diff != "" {
		t.Errorf("information record (-want +got):\n%s", diff)
	}
	if info.Text() != "information stream" {
		t.Errorf("Text() = %q", info.Text())
	}
	if diff := cmp.Diff(string(windowsBytes(t, file, msgInformationRecord)), mustEncode(t, info.Object())); diff != "" {
		t.Errorf("built information record differs from Windows (-want +got):\n%s", diff)
	}

	// The same records merged into the output stream.
	var streams []string
	for _, o := range vectorsOf(t, file, msgPipelineOutput) {
		switch {
		case o.IsType(TypeErrorRecord):
			e, err := ParseErrorRecord(o)
			if err != nil || !e.MergedToOutput {
				t.Errorf("merged error: %+v %v", e, err)
			}
			streams = append(streams, "Error")
		case o.IsType(TypeInformationalRecord):
			r, err := ParseInformationalRecord(o)
			if err != nil || !r.MergedToOutput || r.Message != strings.ToLower(r.Stream())+" stream" {
				t.Errorf("merged %s: %+v %v", o.TypeName(), r, err)
			}
			streams = append(streams, r.Stream())
		case o.IsType(TypeInformationRecord):
			r, err := ParseInformationRecord(o)
			if err != nil || !r.MergedToOutput || r.Text() != "information stream" {
				t.Errorf("merged information: %+v %v", r, err)
			}
			streams = append(streams, "Information")
			if diff := cmp.Diff(mustEncode(t, o), mustEncode(t, r.Object())); diff != "" {
				t.Errorf("built merged information record (-want +got):\n%s", diff)
			}
		}
	}
	if diff := cmp.Diff([]string{"Debug", "Verbose", "Error", "Warning", "Information"}, streams); diff != "" {
		t.Errorf("merged streams (-want +got):\n%s", diff)
	}
}

func TestWarningRecords(t *testing.T) {
	r, err := ParseInformationalRecord(vectorsOf(t, "test_client_copy_file_warning.yml", msgWarningRecord)[0])
	if err != nil {
		t.Fatal(err)
	}
	if r.Stream() != "Warning" || !strings.HasPrefix(r.Message, "Failed to disable MaximumAllowedMemory input size") || !strings.Contains(r.Message, "\r\n") {
		t.Errorf("warning = %+v", r)
	}
	// A warning without invocation info, merged into output: the builder
	// reproduces Windows' bytes.
	for _, o := range vectorsOf(t, "test_psrp_merge_commands.yml", msgPipelineOutput) {
		if !o.IsType(TypeWarningRecord) {
			continue
		}
		r, err := ParseInformationalRecord(o)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(mustEncode(t, o), mustEncode(t, r.Object())); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		return
	}
	t.Fatal("no merged warning record")
}

func TestProgressRecords(t *testing.T) {
	const file = "test_psrp_pshost_ui_mocked_methods.yml"
	var got []ProgressRecord
	for _, o := range vectorsOf(t, file, msgProgressRecord) {
		p, err := ParseProgressRecord(o)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, *p)
		if diff := cmp.Diff(mustEncode(t, o), mustEncode(t, p.Object())); diff != "" {
			t.Errorf("builder (-want +got):\n%s", diff)
		}
	}
	want := []ProgressRecord{
		{Activity: "Preparing modules for first use.", StatusDescription: " ", ParentActivityID: -1, PercentComplete: -1, Type: ProgressCompleted, SecondsRemaining: -1},
		{Activity: "activity", ActivityID: 2, StatusDescription: "description", ParentActivityID: -1, PercentComplete: -1, Type: ProgressProcessing, SecondsRemaining: -1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestHostCallsAndResponses(t *testing.T) {
	const file = "test_psrp_pshost_ui_mocked_methods.yml"
	type call struct {
		CI     int64
		Method MethodID
		Name   string
		Params string
	}
	var calls []call
	for _, o := range vectorsOf(t, file, msgPipelineHostCall) {
		c, err := ParseRemoteHostCall(o)
		if err != nil {
			t.Fatal(err)
		}
		if c.Method.String() != c.MethodName {
			t.Errorf("MethodID(%d).String() = %s, wire says %s", int32(c.Method), c.Method, c.MethodName)
		}
		var ps []string
		for _, p := range c.Params {
			ps = append(ps, ToDisplayString(p))
		}
		calls = append(calls, call{c.CallID, c.Method, c.MethodName, strings.Join(ps, "|")})
		if diff := cmp.Diff(mustEncode(t, o), mustEncode(t, c.Object())); diff != "" {
			t.Errorf("%s builder (-want +got):\n%s", c.MethodName, diff)
		}
	}
	want := []call{
		{1, MethodReadLine, "ReadLine", ""},
		{2, MethodReadLineAsSecureString, "ReadLineAsSecureString", ""},
		{-100, MethodWrite1, "Write1", "Write1"},
		{-100, MethodWrite2, "Write2", "9|15|Write2"},
		{-100, MethodWriteLine1, "WriteLine1", ""},
		{-100, MethodWriteLine2, "WriteLine2", "WriteLine2"},
		{-100, MethodWriteLine3, "WriteLine3", "7|10|WriteLine3"},
		{-100, MethodWriteErrorLine, "WriteErrorLine", "WriteErrorLine"},
		{-100, MethodWriteDebugLine, "WriteDebugLine", "WriteDebugLine"},
		{-100, MethodWriteProgress, "WriteProgress", "1|@{Activity=Preparing modules for first use.; ActivityId=0; StatusDescription= ; CurrentOperation=; ParentActivityId=-1; PercentComplete=-1; Type=Completed; SecondsRemaining=-1}"},
		{-100, MethodWriteProgress, "WriteProgress", "1|@{Activity=activity; ActivityId=2; StatusDescription=description; CurrentOperation=; ParentActivityId=-1; PercentComplete=-1; Type=Processing; SecondsRemaining=-1}"},
		{-100, MethodWriteVerboseLine, "WriteVerboseLine", "WriteVerboseLine"},
		{-100, MethodWriteWarningLine, "WriteWarningLine", "WriteWarningLine"},
		{3, MethodPrompt, "Prompt", "Prompt caption|Prompt message|System.Collections.ArrayList"},
		{4, MethodPromptForCredential2, "PromptForCredential2", "PromptForCredential caption|PromptForCredential message|PromptForCredential user|PromptForCredential target|3|1"},
		{5, MethodPromptForChoice, "PromptForChoice", "PromptForChoice caption|PromptForChoice message|System.Collections.ArrayList|0"},
	}
	if diff := cmp.Diff(want, calls); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}

	var responses []*RemoteHostResponse
	for _, m := range loadVectorMessages(t) {
		if m.File != file || m.Type != msgPipelineHostResponse {
			continue
		}
		v, err := Decode(m.Data)
		if err != nil {
			t.Fatal(err)
		}
		r, err := ParseRemoteHostResponse(v)
		if err != nil {
			t.Fatal(err)
		}
		responses = append(responses, r)
		// pypsrp writes RefId before N; compare canonically.
		want, _ := Canonicalize(m.Data)
		got, err := Canonicalize([]byte(mustEncode(t, r.Object())))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(string(want), string(got)); diff != "" {
			t.Errorf("response builder (-want +got):\n%s", diff)
		}
	}
	if len(responses) != 5 {
		t.Fatalf("%d responses, want 5", len(responses))
	}
	if responses[0].Method != MethodReadLine || responses[0].Result != "ReadLine response" {
		t.Errorf("ReadLine response = %+v", responses[0])
	}
	if _, ok := responses[1].Result.(SecureString); !ok {
		t.Errorf("ReadLineAsSecureString result = %T", responses[1].Result)
	}
	prompt, err := ParsePSPrimitiveDictionary(responses[2].Result)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := prompt.Get("prompt field"); v != "prompt response" {
		t.Errorf("Prompt result = %v", prompt)
	}
	cred, err := ParsePSCredential(responses[3].Result)
	if err != nil {
		t.Fatal(err)
	}
	if cred.UserName != "username" || string(cred.Password) != "K86C/Bl3T/RyAsU62XoDMTutDb5iAk1xgDNBMZwqPZY=" {
		t.Errorf("credential = %q %q", cred.UserName, string(cred.Password))
	}
	if diff := cmp.Diff(mustEncode(t, responses[3].Result), mustEncode(t, cred.Object())); diff != "" {
		t.Errorf("PSCredential builder (-want +got):\n%s", diff)
	}
	if responses[4].Method != MethodPromptForChoice || responses[4].Result != int32(1) {
		t.Errorf("PromptForChoice response = %+v", responses[4])
	}
}

func TestMethodIDNames(t *testing.T) {
	for id := MethodID(1); id <= 56; id++ {
		if s := id.String(); s == "" || strings.HasPrefix(s, "MethodID(") {
			t.Errorf("MethodID(%d) has no name", int32(id))
		}
	}
	for id, want := range map[MethodID]string{1: "GetName", 3: "GetInstanceId", 26: "PromptForChoice", 44: "GetMaxPhysicalWindowSize", 56: "PromptForChoiceMultipleSelection", 0: "MethodID(0)", 57: "MethodID(57)"} {
		if got := id.String(); got != want {
			t.Errorf("MethodID(%d) = %s, want %s", int32(id), got, want)
		}
	}
}

func TestHostInfo(t *testing.T) {
	// The vectors carry the null-host form and, in the host-method tests, a
	// host with UI but no raw UI; the builder reproduces both.
	n, null := 0, 0
	for _, m := range loadVectorMessages(t) {
		if m.Type != msgInitRunspacePool {
			continue
		}
		o, err := DecodeObject(m.Data)
		if err != nil {
			t.Fatal(err)
		}
		hv, _ := o.Member("HostInfo")
		h, err := ParseHostInfo(hv)
		if err != nil {
			t.Fatalf("%v: %v", m, err)
		}
		switch {
		case h == NullHostInfo():
			null++
		case m.File == "test_psrp_pshost_ui_mocked_methods.yml":
			if diff := cmp.Diff(HostInfo{IsHostRawUINull: true}, h); diff != "" {
				t.Errorf("%v: (-want +got):\n%s", m, diff)
			}
		default:
			t.Errorf("%v: unexpected HostInfo %+v", m, h)
		}
		if diff := cmp.Diff(mustEncode(t, hv), mustEncode(t, h.Object())); diff != "" {
			t.Errorf("%v: builder (-want +got):\n%s", m, diff)
		}
		n++
	}
	if n == 0 || null == 0 {
		t.Fatalf("%d INIT_RUNSPACEPOOL messages, %d with a null host", n, null)
	}

	full := HostInfo{DefaultData: &HostDefaultData{
		ForegroundColor: DarkYellow, BackgroundColor: DarkMagenta,
		CursorPosition: Coordinates{0, 9}, WindowPosition: Coordinates{0, 0}, CursorSize: 25,
		BufferSize: Size{120, 3000}, WindowSize: Size{120, 50}, MaxWindowSize: Size{120, 72},
		MaxPhysicalWindowSize: Size{274, 72}, WindowTitle: "Windows PowerShell",
	}}
	// The shape a Windows PowerShell client sends (MS-PSRP 2.2.3.14): keys
	// 9 down to 0, each value an MS {T, V}.
	tv := func(k int, typ, v string) string {
		return `<En><I32 N="Key">` + itoa(int64(k)) + `</I32><Obj N="Value" RefId="R"><MS><S N="T">` + typ + `</S>` + v + `</MS></Obj></En>`
	}
	size := func(w, h string) string {
		return `<Obj N="V" RefId="R"><MS><I32 N="width">` + w + `</I32><I32 N="height">` + h + `</I32></MS></Obj>`
	}
	coord := func(x, y string) string {
		return `<Obj N="V" RefId="R"><MS><I32 N="x">` + x + `</I32><I32 N="y">` + y + `</I32></MS></Obj>`
	}
	want := `<Obj RefId="R"><MS><Obj N="_hostDefaultData" RefId="R"><MS><Obj N="data" RefId="R"><TN RefId="R"><T>System.Collections.Hashtable</T><T>System.Object</T></TN><DCT>` +
		tv(9, "System.String", `<S N="V">Windows PowerShell</S>`) +
		tv(8, "System.Management.Automation.Host.Size", size("274", "72")) +
		tv(7, "System.Management.Automation.Host.Size", size("120", "72")) +
		tv(6, "System.Management.Automation.Host.Size", size("120", "50")) +
		tv(5, "System.Management.Automation.Host.Size", size("120", "3000")) +
		tv(4, "System.Int32", `<I32 N="V">25</I32>`) +
		tv(3, "System.Management.Automation.Host.Coordinates", coord("0", "0")) +
		tv(2, "System.Management.Automation.Host.Coordinates", coord("0", "9")) +
		tv(1, "System.ConsoleColor", `<I32 N="V">5</I32>`) +
		tv(0, "System.ConsoleColor", `<I32 N="V">6</I32>`) +
		`</DCT></Obj></MS></Obj><B N="_isHostNull">false</B><B N="_isHostUINull">false</B><B N="_isHostRawUINull">false</B><B N="_useRunspaceHost">false</B></MS></Obj>`
	got := mustEncode(t, full.Object())
	if diff := cmp.Diff(want, refIDs.ReplaceAllString(got, `RefId="R"`)); diff != "" {
		t.Errorf("full HostInfo (-want +got):\n%s", diff)
	}
	back, err := DecodeObject([]byte(got))
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := ParseHostInfo(back)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(full, parsed); diff != "" {
		t.Errorf("parse of built HostInfo (-want +got):\n%s", diff)
	}
}

func TestPSPrimitiveDictionary(t *testing.T) {
	args := vectorsOf(t, "test_psrp_application_args.yml", msgPipelineOutput)[0]
	d, err := ParsePSPrimitiveDictionary(args)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := d.Get("TEST_VAR"); !ok || v != "abcdef12345" {
		t.Errorf("Get = %v %v", v, ok)
	}
	if diff := cmp.Diff(mustEncode(t, args), mustEncode(t, d.Object())); diff != "" {
		t.Errorf("builder (-want +got):\n%s", diff)
	}

	apd := vectorsOf(t, "test_psrp_open_runspace.yml", msgApplicationPrivateData)[0]
	pv, _ := apd.Member("ApplicationPrivateData")
	priv, err := ParsePSPrimitiveDictionary(pv)
	if err != nil {
		t.Fatal(err)
	}
	table, ok := priv.Dict("PSVersionTable")
	if !ok {
		t.Fatal("no PSVersionTable")
	}
	psv, _ := table.Get("PSVersion")
	if v, ok := psv.(Version); !ok || v.Major != 5 || v.Minor != 1 {
		t.Errorf("PSVersion = %#v", psv)
	}
	if prv, _ := table.Get("PSRemotingProtocolVersion"); prv != NewVersion(2, 3) {
		t.Errorf("PSRemotingProtocolVersion = %v", prv)
	}
	nested := PSPrimitiveDictionary{{"a", int32(1)}, {"inner", PSPrimitiveDictionary{{"b", true}}.Object()}}
	back, err := Decode([]byte(mustEncode(t, nested.Object())))
	if err != nil {
		t.Fatal(err)
	}
	bd, _ := ParsePSPrimitiveDictionary(back)
	inner, ok := bd.Dict("inner")
	if v, _ := inner.Get("b"); !ok || v != true {
		t.Errorf("nested = %v", bd)
	}
	if _, err := ParsePSPrimitiveDictionary("x"); err == nil {
		t.Error("string accepted as a dictionary")
	}
}

func TestHostInformationMessage(t *testing.T) {
	m := &HostInformationMessage{Message: "hello", ForegroundColor: Green, BackgroundColor: NoColor}
	rec := &InformationRecord{MessageData: m.Object(), Source: "Write-Host", Tags: []string{"PSHOST"},
		TimeGenerated: NewDateTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))}
	v, err := Decode([]byte(mustEncode(t, rec.Object())))
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseInformationRecord(v)
	if err != nil {
		t.Fatal(err)
	}
	hm, ok := got.HostMessage()
	if !ok {
		t.Fatal("no host message")
	}
	if diff := cmp.Diff(m, hm); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got.Text() != "hello" || got.Tags[0] != "PSHOST" || !got.TimeGenerated.Time.Equal(rec.TimeGenerated.Time) {
		t.Errorf("record = %+v", got)
	}
	// Colors as enum objects or integers are accepted too.
	alt := &Object{TypeNames: []string{TypeHostInformation, "System.Object"}, Props: []Property{
		{"Message", "x"}, {"NoNewLine", true}, {"ForegroundColor", NewEnum("System.ConsoleColor", "Red", 12)}, {"BackgroundColor", int32(0)},
	}}
	am, err := ParseHostInformationMessage(alt)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&HostInformationMessage{Message: "x", NoNewLine: true, ForegroundColor: Red, BackgroundColor: Black}, am); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestViewShapeErrors(t *testing.T) {
	tests := []struct {
		name  string
		parse func(Value) error
		v     Value
	}{
		{"error record not an object", func(v Value) error { _, err := ParseErrorRecord(v); return err }, "x"},
		{"error record without FQID", func(v Value) error { _, err := ParseErrorRecord(v); return err }, &Object{}},
		{"error record FQID wrong type", func(v Value) error { _, err := ParseErrorRecord(v); return err }, ms(Property{"FullyQualifiedErrorId", int32(1)})},
		{"informational without message", func(v Value) error { _, err := ParseInformationalRecord(v); return err }, &Object{}},
		{"information TimeGenerated wrong type", func(v Value) error { _, err := ParseInformationRecord(v); return err }, ms(Property{"MessageData", "x"}, Property{"TimeGenerated", "now"})},
		{"information tags not strings", func(v Value) error { _, err := ParseInformationRecord(v); return err }, ms(Property{"MessageData", "x"}, Property{"Tags", &Object{Content: ContentList, Items: []Value{int32(1)}}})},
		{"progress without activity", func(v Value) error { _, err := ParseProgressRecord(v); return err }, ms(Property{"ActivityId", int32(1)})},
		{"progress id out of range", func(v Value) error { _, err := ParseProgressRecord(v); return err }, ms(Property{"Activity", "a"}, Property{"ActivityId", int64(1 << 40)})},
		{"host call without mi", func(v Value) error { _, err := ParseRemoteHostCall(v); return err }, ms(Property{"ci", int64(1)}, Property{"mp", &Object{Content: ContentList}})},
		{"host call mi not enum", func(v Value) error { _, err := ParseRemoteHostCall(v); return err }, ms(Property{"ci", int64(1)}, Property{"mi", "ReadLine"}, Property{"mp", &Object{Content: ContentList}})},
		{"host response me not object", func(v Value) error { _, err := ParseRemoteHostResponse(v); return err }, ms(Property{"ci", int64(1)}, Property{"mi", MethodReadLine.object()}, Property{"me", "x"})},
		{"host info flag wrong type", func(v Value) error { _, err := ParseHostInfo(v); return err }, ms(Property{"_isHostNull", "yes"})},
		{"host info data not dict", func(v Value) error { _, err := ParseHostInfo(v); return err }, ms(Property{"_hostDefaultData", ms(Property{"data", &Object{}})})},
		{"host info bad size", func(v Value) error { _, err := ParseHostInfo(v); return err }, HostInfo{DefaultData: &HostDefaultData{}}.Object().withEntry(5, ms(Property{"T", "x"}, Property{"V", "big"}))},
		{"credential password wrong type", func(v Value) error { _, err := ParsePSCredential(v); return err }, &Object{Props: []Property{{"UserName", "u"}, {"Password", "plain"}}}},
		{"host message wrong type", func(v Value) error { _, err := ParseHostInformationMessage(v); return err }, &Object{TypeNames: []string{"X"}}},
		{"enum without value", func(v Value) error { _, err := ParseEnum(v); return err }, &Object{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.parse(tc.v)
			var se *ShapeError
			if !errorsAs(err, &se) {
				t.Fatalf("err = %v, want *ShapeError", err)
			}
			if !strings.HasPrefix(err.Error(), "clixml: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestToDisplayString(t *testing.T) {
	tests := []struct {
		in   Value
		want string
	}{
		{nil, ""},
		{"s", "s"},
		{true, "True"},
		{false, "False"},
		{Char('x'), "x"},
		{int32(-5), "-5"},
		{uint64(18446744073709551615), "18446744073709551615"},
		{1.5, "1.5"},
		{1e20, "1E+20"},
		{float32(0.1), "0.1"},
		{math.Inf(-1), "-Infinity"},
		{Decimal("1.10"), "1.10"},
		{NewVersion(5, 1, 14393, 2248), "5.1.14393.2248"},
		{Duration{Ticks: ticksPerDay + 90260000}, "1.00:00:09.0260000"},
		{Duration{Ticks: -ticksPerHour}, "-01:00:00"},
		{NewDateTime(time.Date(2018, 6, 13, 23, 46, 27, 0, time.UTC)), "06/13/2018 23:46:27"},
		{[]byte{1}, "System.Byte[]"},
		{SecureString("x"), "System.Security.SecureString"},
		{NewEnum("System.ConsoleColor", "Red", 12), "Red"},
		{&Object{TypeNames: []string{"Deserialized.System.Foo"}}, "Deserialized.System.Foo"},
		{&Object{Content: ContentPrimitive, Value: int32(3)}, "3"},
		{ms(Property{"a", int32(1)}, Property{"b", "x"}), "@{a=1; b=x}"},
	}
	for _, tc := range tests {
		if got := ToDisplayString(tc.in); got != tc.want {
			t.Errorf("ToDisplayString(%#v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestObjectMemberLookup(t *testing.T) {
	o := &Object{Props: []Property{{"Name", "prop"}, {"Only", 1}}, Members: []Property{{"Name", "member"}, {"name", "lower"}}}
	if v, _ := o.Member("Name"); v != "member" {
		t.Errorf("Member(Name) = %v", v)
	}
	if v, _ := o.Member("NAME"); v != "member" {
		t.Errorf("Member(NAME) = %v", v)
	}
	if v, _ := o.Member("only"); v != 1 {
		t.Errorf("Member(only) = %v", v)
	}
	if v, _ := o.Prop("Name"); v != "prop" {
		t.Errorf("Prop(Name) = %v", v)
	}
	if _, ok := o.Member("missing"); ok {
		t.Error("missing member found")
	}
	var nilObj *Object
	if _, ok := nilObj.Member("x"); ok {
		t.Error("nil object has members")
	}
}

var refIDs = regexp.MustCompile(`RefId="\d+"`)

func errorsAs(err error, target any) bool { return errors.As(err, target) }

// withEntry replaces the value of one _hostDefaultData key (test helper).
func (o *Object) withEntry(key int32, v Value) *Object {
	hd, _ := o.Member("_hostDefaultData")
	data, _ := hd.(*Object).Member("data")
	for i, e := range data.(*Object).Entries {
		if e.Key == key {
			data.(*Object).Entries[i].Value = v
		}
	}
	return o
}

func TestNewErrorRecord(t *testing.T) {
	e := NewErrorRecord("System.Management.Automation.CommandNotFoundException", "The term 'x' is not recognized.", "CommandNotFoundException", ErrorCategory(13))
	if got, want := e.CategoryLine(), "    + CategoryInfo          : ObjectNotFound: (:) [], CommandNotFoundException"; got != want {
		t.Errorf("CategoryLine = %q, want %q", got, want)
	}
	v, err := Decode([]byte(mustEncode(t, e.Object())))
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseErrorRecord(v)
	if err != nil {
		t.Fatal(err)
	}
	want := *e
	want.Exception.TypeNames = []string{"System.Management.Automation.CommandNotFoundException", "System.SystemException", "System.Exception", "System.Object"}
	want.Exception.HResult = -2146233087
	want.Category.Message = "ObjectNotFound: (:) [], CommandNotFoundException"
	if diff := cmp.Diff(&want, back); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if back.ConsoleText() != "The term 'x' is not recognized.\n"+want.CategoryLine()+"\n    + FullyQualifiedErrorId : CommandNotFoundException" {
		t.Errorf("ConsoleText = %q", back.ConsoleText())
	}
}

func TestRemoteHostResponseError(t *testing.T) {
	me := NewErrorRecord("System.Management.Automation.Host.HostException", "no UI", "HostException", 0).Object()
	r := &RemoteHostResponse{CallID: 7, Method: MethodReadLine, Error: me}
	v, err := Decode([]byte(mustEncode(t, r.Object())))
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseRemoteHostResponse(v)
	if err != nil {
		t.Fatal(err)
	}
	if back.CallID != 7 || back.Method != MethodReadLine || back.Result != nil || back.Error == nil {
		t.Fatalf("response = %+v", back)
	}
	if e, err := ParseErrorRecord(back.Error); err != nil || e.Message != "no UI" {
		t.Errorf("me = %+v, %v", e, err)
	}
	if _, ok := v.(*Object).Member("mr"); ok {
		t.Error("mr sent with me")
	}
	nilResult := mustEncode(t, (&RemoteHostResponse{CallID: 1, Method: MethodSetShouldExit}).Object())
	if strings.Contains(nilResult, `"mr"`) {
		t.Errorf("nil result sent as mr: %s", nilResult)
	}
}

func TestToDisplayStringIsBounded(t *testing.T) {
	// 64 members all pointing at the same 64-member object, 6 levels deep:
	// expanding it naively would take 64^6 steps.
	leaf := ms(Property{"x", "y"})
	node := leaf
	for range 6 {
		props := make([]Property, 64)
		for i := range props {
			props[i] = Property{"p", node}
		}
		node = ms(props...)
	}
	s := ToDisplayString(node)
	if len(s) > maxDisplayLen+16 || !strings.HasPrefix(s, "@{p=@{p=") {
		t.Errorf("len %d, prefix %q", len(s), s[:min(len(s), 20)])
	}
	self := &Object{}
	self.Members = []Property{{"self", self}}
	if got := ToDisplayString(self); !strings.Contains(got, "...") {
		t.Errorf("cycle rendered as %q", got)
	}
}
