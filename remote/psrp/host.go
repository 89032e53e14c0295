package psrp

import (
	"github.com/pssession/pssession/remote/psrp/clixml"
)

// HostMethodID identifies a PSHost method invoked remotely (MS-PSRP
// 2.2.3.17, RemoteHostMethodId; shared/PROTOCOL.md §2.8). It is
// clixml.MethodID, which holds the names, String and Void.
type HostMethodID = clixml.MethodID

// Host method identifiers (MS-PSRP 2.2.3.17), psrp names for the
// clixml.Method* constants.
const (
	HostGetName                          = clixml.MethodGetName
	HostGetVersion                       = clixml.MethodGetVersion
	HostGetInstanceID                    = clixml.MethodGetInstanceID
	HostGetCurrentCulture                = clixml.MethodGetCurrentCulture
	HostGetCurrentUICulture              = clixml.MethodGetCurrentUICulture
	HostSetShouldExit                    = clixml.MethodSetShouldExit
	HostEnterNestedPrompt                = clixml.MethodEnterNestedPrompt
	HostExitNestedPrompt                 = clixml.MethodExitNestedPrompt
	HostNotifyBeginApplication           = clixml.MethodNotifyBeginApplication
	HostNotifyEndApplication             = clixml.MethodNotifyEndApplication
	HostReadLine                         = clixml.MethodReadLine
	HostReadLineAsSecureString           = clixml.MethodReadLineAsSecureString
	HostWrite1                           = clixml.MethodWrite1
	HostWrite2                           = clixml.MethodWrite2
	HostWriteLine1                       = clixml.MethodWriteLine1
	HostWriteLine2                       = clixml.MethodWriteLine2
	HostWriteLine3                       = clixml.MethodWriteLine3
	HostWriteErrorLine                   = clixml.MethodWriteErrorLine
	HostWriteDebugLine                   = clixml.MethodWriteDebugLine
	HostWriteProgress                    = clixml.MethodWriteProgress
	HostWriteVerboseLine                 = clixml.MethodWriteVerboseLine
	HostWriteWarningLine                 = clixml.MethodWriteWarningLine
	HostPrompt                           = clixml.MethodPrompt
	HostPromptForCredential1             = clixml.MethodPromptForCredential1
	HostPromptForCredential2             = clixml.MethodPromptForCredential2
	HostPromptForChoice                  = clixml.MethodPromptForChoice
	HostGetForegroundColor               = clixml.MethodGetForegroundColor
	HostSetForegroundColor               = clixml.MethodSetForegroundColor
	HostGetBackgroundColor               = clixml.MethodGetBackgroundColor
	HostSetBackgroundColor               = clixml.MethodSetBackgroundColor
	HostGetCursorPosition                = clixml.MethodGetCursorPosition
	HostSetCursorPosition                = clixml.MethodSetCursorPosition
	HostGetWindowPosition                = clixml.MethodGetWindowPosition
	HostSetWindowPosition                = clixml.MethodSetWindowPosition
	HostGetCursorSize                    = clixml.MethodGetCursorSize
	HostSetCursorSize                    = clixml.MethodSetCursorSize
	HostGetBufferSize                    = clixml.MethodGetBufferSize
	HostSetBufferSize                    = clixml.MethodSetBufferSize
	HostGetWindowSize                    = clixml.MethodGetWindowSize
	HostSetWindowSize                    = clixml.MethodSetWindowSize
	HostGetWindowTitle                   = clixml.MethodGetWindowTitle
	HostSetWindowTitle                   = clixml.MethodSetWindowTitle
	HostGetMaxWindowSize                 = clixml.MethodGetMaxWindowSize
	HostGetMaxPhysicalWindowSize         = clixml.MethodGetMaxPhysicalWindowSize
	HostGetKeyAvailable                  = clixml.MethodGetKeyAvailable
	HostReadKey                          = clixml.MethodReadKey
	HostFlushInputBuffer                 = clixml.MethodFlushInputBuffer
	HostSetBufferContents1               = clixml.MethodSetBufferContents1
	HostSetBufferContents2               = clixml.MethodSetBufferContents2
	HostGetBufferContents                = clixml.MethodGetBufferContents
	HostScrollBufferContents             = clixml.MethodScrollBufferContents
	HostPushRunspace                     = clixml.MethodPushRunspace
	HostPopRunspace                      = clixml.MethodPopRunspace
	HostGetIsRunspacePushed              = clixml.MethodGetIsRunspacePushed
	HostGetRunspace                      = clixml.MethodGetRunspace
	HostPromptForChoiceMultipleSelection = clixml.MethodPromptForChoiceMultipleSelection
)

// VoidCallID is the call id of a host call that expects no response
// (MS-PSRP 3.1.5.4.5).
const VoidCallID = clixml.VoidCallID

// hostResponse builds the content of a host response: `mr` with the
// result, or `me` with the ErrorRecord when errRecord is not nil.
func hostResponse(ci int64, m HostMethodID, result clixml.Value, errRecord *clixml.Object) HostResponseData {
	if errRecord != nil {
		return HostResponseData{CallID: ci, Method: m, Error: errRecord}
	}
	return HostResponseData{CallID: ci, Method: m, Result: result, HasResult: true}
}
