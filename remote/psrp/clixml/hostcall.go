package clixml

import "fmt"

// MethodID is System.Management.Automation.Remoting.RemoteHostMethodId, the
// host method a RUNSPACEPOOL_HOST_CALL / PIPELINE_HOST_CALL invokes
// (MS-PSRP 2.2.3.17; shared/PROTOCOL.md §2.8).
type MethodID int32

// Host method identifiers.
const (
	MethodGetName                          MethodID = 1
	MethodGetVersion                       MethodID = 2
	MethodGetInstanceID                    MethodID = 3
	MethodGetCurrentCulture                MethodID = 4
	MethodGetCurrentUICulture              MethodID = 5
	MethodSetShouldExit                    MethodID = 6
	MethodEnterNestedPrompt                MethodID = 7
	MethodExitNestedPrompt                 MethodID = 8
	MethodNotifyBeginApplication           MethodID = 9
	MethodNotifyEndApplication             MethodID = 10
	MethodReadLine                         MethodID = 11
	MethodReadLineAsSecureString           MethodID = 12
	MethodWrite1                           MethodID = 13
	MethodWrite2                           MethodID = 14
	MethodWriteLine1                       MethodID = 15
	MethodWriteLine2                       MethodID = 16
	MethodWriteLine3                       MethodID = 17
	MethodWriteErrorLine                   MethodID = 18
	MethodWriteDebugLine                   MethodID = 19
	MethodWriteProgress                    MethodID = 20
	MethodWriteVerboseLine                 MethodID = 21
	MethodWriteWarningLine                 MethodID = 22
	MethodPrompt                           MethodID = 23
	MethodPromptForCredential1             MethodID = 24
	MethodPromptForCredential2             MethodID = 25
	MethodPromptForChoice                  MethodID = 26
	MethodGetForegroundColor               MethodID = 27
	MethodSetForegroundColor               MethodID = 28
	MethodGetBackgroundColor               MethodID = 29
	MethodSetBackgroundColor               MethodID = 30
	MethodGetCursorPosition                MethodID = 31
	MethodSetCursorPosition                MethodID = 32
	MethodGetWindowPosition                MethodID = 33
	MethodSetWindowPosition                MethodID = 34
	MethodGetCursorSize                    MethodID = 35
	MethodSetCursorSize                    MethodID = 36
	MethodGetBufferSize                    MethodID = 37
	MethodSetBufferSize                    MethodID = 38
	MethodGetWindowSize                    MethodID = 39
	MethodSetWindowSize                    MethodID = 40
	MethodGetWindowTitle                   MethodID = 41
	MethodSetWindowTitle                   MethodID = 42
	MethodGetMaxWindowSize                 MethodID = 43
	MethodGetMaxPhysicalWindowSize         MethodID = 44
	MethodGetKeyAvailable                  MethodID = 45
	MethodReadKey                          MethodID = 46
	MethodFlushInputBuffer                 MethodID = 47
	MethodSetBufferContents1               MethodID = 48
	MethodSetBufferContents2               MethodID = 49
	MethodGetBufferContents                MethodID = 50
	MethodScrollBufferContents             MethodID = 51
	MethodPushRunspace                     MethodID = 52
	MethodPopRunspace                      MethodID = 53
	MethodGetIsRunspacePushed              MethodID = 54
	MethodGetRunspace                      MethodID = 55
	MethodPromptForChoiceMultipleSelection MethodID = 56
)

var methodNames = [...]string{
	1: "GetName", "GetVersion", "GetInstanceId", "GetCurrentCulture", "GetCurrentUICulture",
	"SetShouldExit", "EnterNestedPrompt", "ExitNestedPrompt", "NotifyBeginApplication",
	"NotifyEndApplication", "ReadLine", "ReadLineAsSecureString", "Write1", "Write2", "WriteLine1",
	"WriteLine2", "WriteLine3", "WriteErrorLine", "WriteDebugLine", "WriteProgress",
	"WriteVerboseLine", "WriteWarningLine", "Prompt", "PromptForCredential1", "PromptForCredential2",
	"PromptForChoice", "GetForegroundColor", "SetForegroundColor", "GetBackgroundColor",
	"SetBackgroundColor", "GetCursorPosition", "SetCursorPosition", "GetWindowPosition",
	"SetWindowPosition", "GetCursorSize", "SetCursorSize", "GetBufferSize", "SetBufferSize",
	"GetWindowSize", "SetWindowSize", "GetWindowTitle", "SetWindowTitle", "GetMaxWindowSize",
	"GetMaxPhysicalWindowSize", "GetKeyAvailable", "ReadKey", "FlushInputBuffer",
	"SetBufferContents1", "SetBufferContents2", "GetBufferContents", "ScrollBufferContents",
	"PushRunspace", "PopRunspace", "GetIsRunspacePushed", "GetRunspace",
	"PromptForChoiceMultipleSelection",
}

// String returns the .NET enum name ("MethodID(99)" for unknown ids).
func (m MethodID) String() string {
	if m > 0 && int(m) < len(methodNames) {
		return methodNames[m]
	}
	return fmt.Sprintf("MethodID(%d)", int32(m))
}

// Void reports whether the method returns nothing. Void calls travel with
// call id VoidCallID and are never answered (MS-PSRP 3.1.5.4.5).
func (m MethodID) Void() bool {
	switch m {
	case MethodSetShouldExit, MethodEnterNestedPrompt, MethodExitNestedPrompt,
		MethodNotifyBeginApplication, MethodNotifyEndApplication,
		MethodWrite1, MethodWrite2, MethodWriteLine1, MethodWriteLine2, MethodWriteLine3,
		MethodWriteErrorLine, MethodWriteDebugLine, MethodWriteProgress, MethodWriteVerboseLine,
		MethodWriteWarningLine, MethodSetForegroundColor, MethodSetBackgroundColor,
		MethodSetCursorPosition, MethodSetWindowPosition, MethodSetCursorSize, MethodSetBufferSize,
		MethodSetWindowSize, MethodSetWindowTitle, MethodFlushInputBuffer, MethodSetBufferContents1,
		MethodSetBufferContents2, MethodScrollBufferContents, MethodPushRunspace, MethodPopRunspace:
		return true
	}
	return false
}

// TypeRemoteHostMethodID is the enum type of the mi member.
const TypeRemoteHostMethodID = "System.Management.Automation.Remoting.RemoteHostMethodId"

// VoidCallID is the call id of host calls that expect no response.
const VoidCallID int64 = -100

func (m MethodID) object() *Object { return NewEnum(TypeRemoteHostMethodID, m.String(), int32(m)) }

// RemoteHostCall is the body of RUNSPACEPOOL_HOST_CALL and
// PIPELINE_HOST_CALL: MS { I64 ci, mi (RemoteHostMethodId), mp (ArrayList) }.
type RemoteHostCall struct {
	CallID     int64
	Method     MethodID
	MethodName string // the mi ToString as received (Method.String() when built)
	Params     []Value
}

// IsVoid reports whether the call expects no response (ci = -100).
func (c *RemoteHostCall) IsVoid() bool { return c.CallID == VoidCallID }

// ParseRemoteHostCall reads a host call body.
func ParseRemoteHostCall(v Value) (*RemoteHostCall, error) {
	const view = "RemoteHostCall"
	o, err := asObject(view, v)
	if err != nil {
		return nil, err
	}
	r := &reader{view: view, o: o}
	c := &RemoteHostCall{CallID: r.integer("ci", true)}
	mi, _ := r.get("mi", true)
	mp := r.object("mp", true)
	if r.err != nil {
		return nil, r.err
	}
	e, err := ParseEnum(mi)
	if err != nil || e.Value != int64(int32(e.Value)) {
		return nil, &ShapeError{View: view, Member: "mi", Reason: "not a RemoteHostMethodId"}
	}
	c.Method, c.MethodName = MethodID(e.Value), e.Name
	if c.MethodName == "" {
		c.MethodName = c.Method.String()
	}
	if mp != nil {
		if mp.Content != ContentList && mp.Content != ContentNone {
			return nil, &ShapeError{View: view, Member: "mp", Reason: "not a list"}
		}
		c.Params = mp.Items
	}
	return c, nil
}

// Object builds the host call as Windows sends it.
func (c *RemoteHostCall) Object() *Object {
	mp := &Object{TypeNames: []string{"System.Collections.ArrayList", "System.Object"}, Content: ContentList, Items: c.Params}
	return ms(
		Property{"ci", c.CallID},
		Property{"mi", c.Method.object()},
		Property{"mp", mp},
	)
}

// RemoteHostResponse is the body of RUNSPACEPOOL_HOST_RESPONSE and
// PIPELINE_HOST_RESPONSE: MS { I64 ci, mi, mr (return value) } or with me
// (an ErrorRecord) instead of mr when the method failed.
type RemoteHostResponse struct {
	CallID int64
	Method MethodID
	Result Value
	// Error, when not nil, is the ErrorRecord Obj sent as me (build it with
	// ErrorRecord.Object); Result is then not sent.
	Error *Object
}

// Object builds the response the way PowerShell's client sends it
// (RemoteHostResponse.Encode): mr only when there is a non-nil result, me
// when the method failed.
func (r *RemoteHostResponse) Object() *Object {
	props := []Property{{"ci", r.CallID}, {"mi", r.Method.object()}}
	if r.Error != nil {
		props = append(props, Property{"me", r.Error})
	} else if r.Result != nil {
		props = append(props, Property{"mr", r.Result})
	}
	return ms(props...)
}

// ParseRemoteHostResponse reads a host response body.
func ParseRemoteHostResponse(v Value) (*RemoteHostResponse, error) {
	const view = "RemoteHostResponse"
	o, err := asObject(view, v)
	if err != nil {
		return nil, err
	}
	rd := &reader{view: view, o: o}
	resp := &RemoteHostResponse{CallID: rd.integer("ci", true)}
	mi, _ := rd.get("mi", true)
	if rd.err != nil {
		return nil, rd.err
	}
	e, err := ParseEnum(mi)
	if err != nil || e.Value != int64(int32(e.Value)) {
		return nil, &ShapeError{View: view, Member: "mi", Reason: "not a RemoteHostMethodId"}
	}
	resp.Method = MethodID(e.Value)
	resp.Result, _ = o.Member("mr")
	if me, ok := o.Member("me"); ok && me != nil {
		meo, isObj := me.(*Object)
		if !isObj {
			return nil, &ShapeError{View: view, Member: "me", Reason: "want Obj, got " + kindName(me)}
		}
		resp.Error = meo
	}
	return resp, nil
}
