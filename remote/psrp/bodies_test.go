package psrp

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pssession/pssession/remote/psrp/clixml"
)

func ptr[T any](v T) *T { return &v }

// TestBodyRoundTrip encodes a body of every message type, decodes it back
// and expects the same body.
func TestBodyRoundTrip(t *testing.T) {
	errRec := &clixml.Object{
		TypeNames: []string{"System.Management.Automation.ErrorRecord", "System.Object"},
		ToString:  "boom", HasToString: true,
		Members: []clixml.Property{{Name: "FullyQualifiedErrorId", Value: "Boom"}},
	}
	info := &clixml.Object{
		TypeNames: []string{"System.Management.Automation.WarningRecord", "System.Management.Automation.InformationalRecord", "System.Object"},
		ToString:  "careful", HasToString: true,
		Members: []clixml.Property{{Name: "InformationalRecord_Message", Value: "careful"}},
	}
	hostInfo := newMS(clixml.Property{Name: "_isHostNull", Value: true})
	when, err := clixml.ParseDateTime("2024-05-06T07:08:09+00:00")
	if err != nil {
		t.Fatal(err)
	}
	bodies := []Body{
		&SessionCapabilityBody{ProtocolVersion: clixml.NewVersion(2, 3), PSVersion: clixml.NewVersion(2, 0), SerializationVersion: clixml.NewVersion(1, 1, 0, 1)},
		&SessionCapabilityBody{ProtocolVersion: clixml.NewVersion(2, 2), PSVersion: clixml.NewVersion(2, 0), SerializationVersion: clixml.NewVersion(1, 1, 0, 1), TimeZone: []byte{1, 2, 3}},
		&InitRunspacePoolBody{MinRunspaces: 1, MaxRunspaces: 4, ThreadOptions: ThreadOptionsReuseThread, ApartmentState: ApartmentUnknown, HostInfo: hostInfo},
		&PublicKeyBody{PublicKey: []byte{6, 2, 0, 0}},
		&EncryptedSessionKeyBody{EncryptedSessionKey: []byte{1, 2, 0, 0, 16, 102}},
		&PublicKeyRequestBody{},
		&ConnectRunspacePoolBody{},
		&ConnectRunspacePoolBody{MinRunspaces: ptr(int32(1)), MaxRunspaces: ptr(int32(5))},
		&ConnectRunspacePoolBody{MaxRunspaces: ptr(int32(2))},
		&RunspacePoolInitDataBody{MinRunspaces: 1, MaxRunspaces: 1},
		&ResetRunspaceStateBody{CallID: 7, CallIDName: "ci"},
		&SetMaxRunspacesBody{MaxRunspaces: 5, CallID: 1, CallIDName: "CI"},
		&SetMinRunspacesBody{MinRunspaces: 2, CallID: 3, CallIDName: "ci"},
		&RunspaceAvailabilityBody{Response: true, CallID: 1},
		&RunspaceAvailabilityBody{Response: int64(5), CallID: 2},
		&RunspacePoolStateBody{State: PoolOpened},
		&RunspacePoolStateBody{State: PoolBroken, Error: errRec},
		&CreatePipelineBody{
			NoInput: true, ApartmentState: ApartmentUnknown, RemoteStreamOptions: StreamOptionsAddInvocationInfo,
			HostInfo: hostInfo, IsNested: false,
			PowerShell: PowerShellData{
				Cmds: []Command{
					{Cmd: "Get-Item", UseLocalScope: ptr(true), MergeMyResult: ResultError, MergeToResult: ResultOutput, MergeError: ResultOutput,
						Args: []Argument{{Name: "Path", Value: "C:\\"}, {Value: int32(3)}}},
					{Cmd: "Out-String", Args: []Argument{{Name: "Stream", Value: true}}},
				},
				History:                      ptr("Get-Item C:\\"),
				RedirectShellErrorOutputPipe: true,
			},
		},
		&CreatePipelineBody{
			ApartmentState: ApartmentMTA,
			PowerShell: PowerShellData{
				IsNested:             true,
				ExtraCmds:            [][]Command{{{Cmd: "a", IsScript: true}}, {{Cmd: "b", IsScript: true}}},
				Cmds:                 []Command{{Cmd: "a", IsScript: true}},
				OmitStreamMerges:     true,
				OmitInformationMerge: true,
			},
		},
		&GetAvailableRunspacesBody{CallID: 9, CallIDName: "ci"},
		&UserEventBody{EventIdentifier: 1, SourceIdentifier: "src", TimeGenerated: when, MessageData: "hello", ComputerName: "host", RunspaceID: clixml.GUID{1, 2, 3}},
		&ApplicationPrivateDataBody{Data: &clixml.Object{
			TypeNames: []string{"System.Management.Automation.PSPrimitiveDictionary", "System.Collections.Hashtable", "System.Object"},
			Content:   clixml.ContentDict, Entries: []clixml.DictEntry{{Key: "k", Value: "v"}},
		}},
		&GetCommandMetadataBody{Name: []string{"Get-*"}, CommandType: 511, Namespace: []string{"Microsoft.WSMan.Management"}, ArgumentList: []clixml.Value{"x"}},
		&GetCommandMetadataBody{Name: []string{"*"}, CommandType: 511},
		&RunspacePoolHostCallBody{HostCall{CallID: VoidCallID, Method: HostSetShouldExit, Params: []clixml.Value{int32(3)}}},
		&RunspacePoolHostResponseBody{HostResponseData{CallID: 4, Method: HostGetName, Result: "pssession", HasResult: true}},
		&PipelineInputBody{Data: "line"},
		&EndOfPipelineInputBody{},
		&PipelineOutputBody{Data: "output"},
		&PipelineOutputBody{Data: nil},
		&ErrorRecordBody{Record: errRec},
		&PipelineStateBody{State: PipelineCompleted},
		&PipelineStateBody{State: PipelineStopped, Error: errRec},
		&DebugRecordBody{Record: info},
		&VerboseRecordBody{Record: info},
		&WarningRecordBody{Record: info},
		&ProgressRecordBody{Record: info},
		&InformationRecordBody{Record: info},
		&PipelineHostCallBody{HostCall{CallID: 1, Method: HostReadLine}},
		&PipelineHostResponseBody{HostResponseData{CallID: 1, Method: HostReadLine, Error: errRec}},
		&PipelineHostResponseBody{HostResponseData{CallID: 2, Method: HostSetBufferContents1}},
	}
	seen := map[MessageType]bool{}
	for _, b := range bodies {
		seen[b.MessageType()] = true
		t.Run(b.MessageType().String(), func(t *testing.T) {
			m, err := NewMessage(DestinationServer, clixml.GUID{1}, clixml.GUID{2}, b)
			if err != nil {
				t.Fatal(err)
			}
			m.BOM = true
			back, err := DecodeMessage(m.Encode())
			if err != nil {
				t.Fatal(err)
			}
			got, err := back.DecodeBody(clixml.Limits{})
			if err != nil {
				t.Fatalf("%v\n%s", err, back.Data)
			}
			if diff := cmp.Diff(b, got); diff != "" {
				t.Fatalf("(-want +got):\n%s\n%s", diff, back.Data)
			}
		})
	}
	for mt := range messageTypeNames {
		if !seen[mt] {
			t.Errorf("no round-trip case for %v", mt)
		}
	}
}

func TestBodyWireShapes(t *testing.T) {
	tests := []struct {
		name string
		body Body
		want string
	}{
		{"connect without limits", &ConnectRunspacePoolBody{}, `<S></S>`},
		{"end of input", &EndOfPipelineInputBody{}, ``},
		{"pipeline state", &PipelineStateBody{State: PipelineCompleted}, `<Obj RefId="0"><MS><I32 N="PipelineState">4</I32></MS></Obj>`},
		{"set max with pypsrp CI", &SetMaxRunspacesBody{MaxRunspaces: 5, CallID: 1, CallIDName: "CI"}, `<Obj RefId="0"><MS><I32 N="MaxRunspaces">5</I32><I64 N="CI">1</I64></MS></Obj>`},
		{"reset default ci", &ResetRunspaceStateBody{CallID: 2}, `<Obj RefId="0"><MS><I64 N="ci">2</I64></MS></Obj>`},
		{"host call", &PipelineHostCallBody{HostCall{CallID: 1, Method: HostReadLine}},
			`<Obj RefId="0"><MS><I64 N="ci">1</I64><Obj N="mi" RefId="1"><TN RefId="0"><T>System.Management.Automation.Remoting.RemoteHostMethodId</T><T>System.Enum</T><T>System.ValueType</T><T>System.Object</T></TN><ToString>ReadLine</ToString><I32>11</I32></Obj><Obj N="mp" RefId="2"><TN RefId="1"><T>System.Collections.ArrayList</T><T>System.Object</T></TN><LST></LST></Obj></MS></Obj>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := EncodeBody(tt.body)
			if err != nil {
				t.Fatal(err)
			}
			got, want := string(data), tt.want
			if len(data) > 0 {
				g, err := clixml.Canonicalize(data)
				if err != nil {
					t.Fatal(err)
				}
				w, err := clixml.Canonicalize([]byte(tt.want))
				if err != nil {
					t.Fatal(err)
				}
				got, want = string(g), string(w)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeBodyErrors(t *testing.T) {
	tests := []struct {
		name string
		t    MessageType
		data string
	}{
		{"unknown type", MessageType(0x1234), `<S>x</S>`},
		{"bad xml", MsgPipelineState, `<Obj RefId="0"><MS>`},
		{"not an object", MsgPipelineState, `<S>x</S>`},
		{"missing field", MsgPipelineState, `<Obj RefId="0"><MS></MS></Obj>`},
		{"wrong field type", MsgPipelineState, `<Obj RefId="0"><MS><S N="PipelineState">x</S></MS></Obj>`},
		{"int32 overflow", MsgRunspacePoolState, `<Obj RefId="0"><MS><I64 N="RunspaceState">4294967296</I64></MS></Obj>`},
		{"bad base64", MsgPublicKey, `<Obj RefId="0"><MS><S N="PublicKey">!!</S></MS></Obj>`},
		{"availability of a string", MsgRunspaceAvailability, `<Obj RefId="0"><MS><S N="SetMinMaxRunspacesResponse">x</S><I64 N="ci">1</I64></MS></Obj>`},
		{"no call id", MsgGetAvailableRunspaces, `<Obj RefId="0"><MS></MS></Obj>`},
		{"public key request not empty", MsgPublicKeyRequest, `<S>x</S>`},
		{"end of input with data", MsgEndOfPipelineInput + 0, ``},
		{"pipeline without PowerShell", MsgCreatePipeline, `<Obj RefId="0"><MS><B N="NoInput">true</B><I32 N="ApartmentState">2</I32><I32 N="RemoteStreamOptions">0</I32><B N="AddToHistory">false</B><B N="IsNested">false</B><Nil N="PowerShell"/></MS></Obj>`},
		{"command without Cmd", MsgCreatePipeline, `<Obj RefId="0"><MS><B N="NoInput">true</B><I32 N="ApartmentState">2</I32><I32 N="RemoteStreamOptions">0</I32><B N="AddToHistory">false</B><B N="IsNested">false</B><Obj N="PowerShell" RefId="1"><MS><B N="IsNested">false</B><Obj N="Cmds" RefId="2"><LST><Obj RefId="3"><MS></MS></Obj></LST></Obj></MS></Obj></MS></Obj>`},
		{"metadata names not strings", MsgGetCommandMetadata, `<Obj RefId="0"><MS><Obj N="Name" RefId="1"><LST><I32>1</I32></LST></Obj><I32 N="CommandType">511</I32></MS></Obj>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.t == MsgEndOfPipelineInput {
				// END_OF_PIPELINE_INPUT ignores its data: nothing to reject.
				if _, err := DecodeBody(tt.t, []byte(tt.data), clixml.Limits{}); err != nil {
					t.Fatal(err)
				}
				return
			}
			_, err := DecodeBody(tt.t, []byte(tt.data), clixml.Limits{})
			var be *BodyError
			if !errors.As(err, &be) {
				t.Fatalf("err = %v, want *BodyError", err)
			}
		})
	}
}

func TestBodyCaseInsensitive(t *testing.T) {
	b, err := DecodeBody(MsgSetMinRunspaces, []byte(`<Obj RefId="0"><MS><I32 N="minrunspaces">2</I32><I64 N="Ci">3</I64></MS></Obj>`), clixml.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := &SetMinRunspacesBody{MinRunspaces: 2, CallID: 3, CallIDName: "Ci"}
	if diff := cmp.Diff(want, b); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}

func TestRecordViews(t *testing.T) {
	rec := clixml.NewErrorRecord("System.Exception", "exception message", "Id,Cmd", 0)
	b := &ErrorRecordBody{Record: rec.Object()}
	if got := b.Message(); got != "exception message" {
		t.Errorf("Message = %q", got)
	}
	if got, err := b.ErrorRecord(); err != nil || got.FullyQualifiedErrorID != "Id,Cmd" {
		t.Errorf("ErrorRecord = %+v, %v", got, err)
	}
	if got := (&ErrorRecordBody{Record: &clixml.Object{ToString: "only"}}).Message(); got != "only" {
		t.Errorf("Message of an unparsable record = %q", got)
	}
	p := &clixml.ProgressRecord{Activity: "Copying", ActivityID: 1, StatusDescription: "half", ParentActivityID: -1, PercentComplete: 50, SecondsRemaining: -1}
	got, err := (&ProgressRecordBody{Record: p.Object()}).ProgressRecord()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(p, got); diff != "" {
		t.Errorf("ProgressRecord (-want +got):\n%s", diff)
	}
}

func TestEnumStrings(t *testing.T) {
	tests := []struct {
		got  string
		want string
	}{
		{ThreadOptionsDefault.String(), "Default"},
		{ThreadOptionsUseCurrentThread.String(), "UseCurrentThread"},
		{PSThreadOptions(9).String(), "PSThreadOptions(9)"},
		{ApartmentUnknown.String(), "UNKNOWN"},
		{ApartmentSTA.String(), "STA"},
		{ApartmentState(-1).String(), "ApartmentState(-1)"},
		{StreamOptionsAddInvocationInfo.String(), "AddInvocationInfo"},
		{StreamOptionsNone.String(), "None"},
		{(StreamOptionsAddInvocationInfoToErrorRecord | StreamOptionsAddInvocationInfoToVerboseRecord).String(), "AddInvocationInfoToErrorRecord, AddInvocationInfoToVerboseRecord"},
		{RemoteStreamOptions(16).String(), "16"},
		{DestinationClient.String(), "Client"},
		{Destination(3).String(), "Destination(3)"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}
