package psrp

import (
	"strconv"

	"github.com/pssession/pssession/remote/psrp/clixml"
)

// HostMethodID identifies a PSHost method invoked remotely (MS-PSRP
// 2.2.3.17, RemoteHostMethodId; shared/PROTOCOL.md §2.8).
type HostMethodID int32

// Host method identifiers (MS-PSRP 2.2.3.17).
const (
	HostGetName                          HostMethodID = 1
	HostGetVersion                       HostMethodID = 2
	HostGetInstanceID                    HostMethodID = 3
	HostGetCurrentCulture                HostMethodID = 4
	HostGetCurrentUICulture              HostMethodID = 5
	HostSetShouldExit                    HostMethodID = 6
	HostEnterNestedPrompt                HostMethodID = 7
	HostExitNestedPrompt                 HostMethodID = 8
	HostNotifyBeginApplication           HostMethodID = 9
	HostNotifyEndApplication             HostMethodID = 10
	HostReadLine                         HostMethodID = 11
	HostReadLineAsSecureString           HostMethodID = 12
	HostWrite1                           HostMethodID = 13
	HostWrite2                           HostMethodID = 14
	HostWriteLine1                       HostMethodID = 15
	HostWriteLine2                       HostMethodID = 16
	HostWriteLine3                       HostMethodID = 17
	HostWriteErrorLine                   HostMethodID = 18
	HostWriteDebugLine                   HostMethodID = 19
	HostWriteProgress                    HostMethodID = 20
	HostWriteVerboseLine                 HostMethodID = 21
	HostWriteWarningLine                 HostMethodID = 22
	HostPrompt                           HostMethodID = 23
	HostPromptForCredential1             HostMethodID = 24
	HostPromptForCredential2             HostMethodID = 25
	HostPromptForChoice                  HostMethodID = 26
	HostGetForegroundColor               HostMethodID = 27
	HostSetForegroundColor               HostMethodID = 28
	HostGetBackgroundColor               HostMethodID = 29
	HostSetBackgroundColor               HostMethodID = 30
	HostGetCursorPosition                HostMethodID = 31
	HostSetCursorPosition                HostMethodID = 32
	HostGetWindowPosition                HostMethodID = 33
	HostSetWindowPosition                HostMethodID = 34
	HostGetCursorSize                    HostMethodID = 35
	HostSetCursorSize                    HostMethodID = 36
	HostGetBufferSize                    HostMethodID = 37
	HostSetBufferSize                    HostMethodID = 38
	HostGetWindowSize                    HostMethodID = 39
	HostSetWindowSize                    HostMethodID = 40
	HostGetWindowTitle                   HostMethodID = 41
	HostSetWindowTitle                   HostMethodID = 42
	HostGetMaxWindowSize                 HostMethodID = 43
	HostGetMaxPhysicalWindowSize         HostMethodID = 44
	HostGetKeyAvailable                  HostMethodID = 45
	HostReadKey                          HostMethodID = 46
	HostFlushInputBuffer                 HostMethodID = 47
	HostSetBufferContents1               HostMethodID = 48
	HostSetBufferContents2               HostMethodID = 49
	HostGetBufferContents                HostMethodID = 50
	HostScrollBufferContents             HostMethodID = 51
	HostPushRunspace                     HostMethodID = 52
	HostPopRunspace                      HostMethodID = 53
	HostGetIsRunspacePushed              HostMethodID = 54
	HostGetRunspace                      HostMethodID = 55
	HostPromptForChoiceMultipleSelection HostMethodID = 56
)

// hostMethodNames are the RemoteHostMethodId enum names as they travel in
// the `mi` ToString, indexed by id.
var hostMethodNames = [...]string{
	1: "GetName", "GetVersion", "GetInstanceId", "GetCurrentCulture", "GetCurrentUICulture",
	"SetShouldExit", "EnterNestedPrompt", "ExitNestedPrompt", "NotifyBeginApplication",
	"NotifyEndApplication", "ReadLine", "ReadLineAsSecureString", "Write1", "Write2",
	"WriteLine1", "WriteLine2", "WriteLine3", "WriteErrorLine", "WriteDebugLine",
	"WriteProgress", "WriteVerboseLine", "WriteWarningLine", "Prompt", "PromptForCredential1",
	"PromptForCredential2", "PromptForChoice", "GetForegroundColor", "SetForegroundColor",
	"GetBackgroundColor", "SetBackgroundColor", "GetCursorPosition", "SetCursorPosition",
	"GetWindowPosition", "SetWindowPosition", "GetCursorSize", "SetCursorSize", "GetBufferSize",
	"SetBufferSize", "GetWindowSize", "SetWindowSize", "GetWindowTitle", "SetWindowTitle",
	"GetMaxWindowSize", "GetMaxPhysicalWindowSize", "GetKeyAvailable", "ReadKey",
	"FlushInputBuffer", "SetBufferContents1", "SetBufferContents2", "GetBufferContents",
	"ScrollBufferContents", "PushRunspace", "PopRunspace", "GetIsRunspacePushed", "GetRunspace",
	"PromptForChoiceMultipleSelection",
}

// String returns the RemoteHostMethodId name.
func (m HostMethodID) String() string {
	if m > 0 && int(m) < len(hostMethodNames) {
		return hostMethodNames[m]
	}
	return "HostMethodID(" + strconv.Itoa(int(m)) + ")"
}

// Void reports whether the method returns nothing. Void calls travel with
// call id VoidCallID and are never answered (MS-PSRP 3.1.5.4.5).
func (m HostMethodID) Void() bool {
	switch m {
	case HostSetShouldExit, HostEnterNestedPrompt, HostExitNestedPrompt,
		HostNotifyBeginApplication, HostNotifyEndApplication,
		HostWrite1, HostWrite2, HostWriteLine1, HostWriteLine2, HostWriteLine3,
		HostWriteErrorLine, HostWriteDebugLine, HostWriteProgress, HostWriteVerboseLine,
		HostWriteWarningLine, HostSetForegroundColor, HostSetBackgroundColor,
		HostSetCursorPosition, HostSetWindowPosition, HostSetCursorSize, HostSetBufferSize,
		HostSetWindowSize, HostSetWindowTitle, HostFlushInputBuffer, HostSetBufferContents1,
		HostSetBufferContents2, HostScrollBufferContents, HostPushRunspace, HostPopRunspace:
		return true
	}
	return false
}

// VoidCallID is the call id of a host call that expects no response.
const VoidCallID int64 = -100

// hostResponse builds the content of a host response: `mr` with the
// result, or `me` with the ErrorRecord when errRecord is not nil.
func hostResponse(ci int64, m HostMethodID, result clixml.Value, errRecord *clixml.Object) HostResponseData {
	if errRecord != nil {
		return HostResponseData{CallID: ci, Method: m, Error: errRecord}
	}
	return HostResponseData{CallID: ci, Method: m, Result: result, HasResult: true}
}
