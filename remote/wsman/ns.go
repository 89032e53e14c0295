package wsman

import "time"

// Namespaces (MS-WSMV 2.2.1; shared/PROTOCOL.md §1.1).
const (
	NsSOAP        = "http://www.w3.org/2003/05/soap-envelope"
	NsAddressing  = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
	NsWSMan       = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
	NsWSMV        = "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"
	NsShell       = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
	NsTransfer    = "http://schemas.xmlsoap.org/ws/2004/09/transfer"
	NsEnumeration = "http://schemas.xmlsoap.org/ws/2004/09/enumeration"
	NsEventing    = "http://schemas.xmlsoap.org/ws/2004/08/eventing"
	NsFault       = "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"
	NsPowerShell  = "http://schemas.microsoft.com/powershell"
	NsConfig      = "http://schemas.microsoft.com/wbem/wsman/1/config"
	NsXML         = "http://www.w3.org/XML/1998/namespace"
	NsXSI         = "http://www.w3.org/2001/XMLSchema-instance"
)

// Action URIs (MS-WSMV 3.1.4; responses are the request action +
// "Response"; shared/PROTOCOL.md §1.4).
const (
	ActionCreate     = NsTransfer + "/Create"
	ActionGet        = NsTransfer + "/Get"
	ActionDelete     = NsTransfer + "/Delete"
	ActionEnumerate  = NsEnumeration + "/Enumerate"
	ActionPull       = NsEnumeration + "/Pull"
	ActionCommand    = NsShell + "/Command"
	ActionSend       = NsShell + "/Send"
	ActionReceive    = NsShell + "/Receive"
	ActionSignal     = NsShell + "/Signal"
	ActionDisconnect = NsShell + "/Disconnect"
	ActionReconnect  = NsShell + "/Reconnect"
	ActionConnect    = NsShell + "/Connect"

	ActionCreateResponse     = ActionCreate + "Response"
	ActionGetResponse        = ActionGet + "Response"
	ActionDeleteResponse     = ActionDelete + "Response"
	ActionEnumerateResponse  = ActionEnumerate + "Response"
	ActionPullResponse       = ActionPull + "Response"
	ActionCommandResponse    = ActionCommand + "Response"
	ActionSendResponse       = ActionSend + "Response"
	ActionReceiveResponse    = ActionReceive + "Response"
	ActionSignalResponse     = ActionSignal + "Response"
	ActionDisconnectResponse = ActionDisconnect + "Response"
	ActionReconnectResponse  = ActionReconnect + "Response"
	ActionConnectResponse    = ActionConnect + "Response"

	// ActionFault is the wsa:Action of a WS-Management fault (MS-WSMV
	// 2.2.4.13); ActionAddressingFault is used for addressing faults such
	// as an invalid header value.
	ActionFault           = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"
	ActionAddressingFault = NsAddressing + "/fault"
)

// AddressAnonymous is the wsa:ReplyTo address of every request and the
// wsa:To of every response (WS-Addressing 2004/08).
const AddressAnonymous = NsAddressing + "/role/anonymous"

// Resource URIs (MS-WSMV 3.1.4.1.31, MS-PSRP 3.1.4).
const (
	// ResourcePowerShellPrefix is followed by the configuration name.
	ResourcePowerShellPrefix = NsPowerShell + "/"
	// DefaultConfigurationName is PowerShell's default session
	// configuration.
	DefaultConfigurationName = "Microsoft.PowerShell"
	// ResourcePowerShell is the default PowerShell resource.
	ResourcePowerShell = ResourcePowerShellPrefix + DefaultConfigurationName
	// ResourceShell is the generic shell resource used by Get (liveness)
	// and by the shell Enumerate.
	ResourceShell = NsShell
	// ResourceCmd is the WinRS cmd.exe shell.
	ResourceCmd = NsShell + "/cmd"
	// ResourceShellCommand enumerates the commands of a shell.
	ResourceShellCommand = NsShell + "/Command"
	// ResourceConfig is the WinRM configuration (MaxEnvelopeSizekb).
	ResourceConfig = NsConfig
)

// PowerShellResourceURI returns the resource URI of a session
// configuration; an empty name means DefaultConfigurationName.
func PowerShellResourceURI(configurationName string) string {
	if configurationName == "" {
		configurationName = DefaultConfigurationName
	}
	return ResourcePowerShellPrefix + configurationName
}

// Signal codes (MS-WSMV 2.2.4.38, MS-PSRP 3.1.5.3.9).
const (
	// SignalPSCtrlC stops a running PowerShell pipeline. The typo "crtl"
	// is normative: it is the only code the PowerShell plugin treats as a
	// graceful stop (shared/PROTOCOL.md §1.4, §7.1).
	SignalPSCtrlC = "powershell/signal/crtl_c"
	// SignalTerminate releases a finished command. MS-WSMV 2.2.5.6 spells
	// it ".../signal/terminate"; pypsrp sends "Terminate" and Windows
	// accepts it (test_psrp_multiple_invocations.yml), so servers compare
	// signal codes case-insensitively.
	SignalTerminate = NsShell + "/signal/Terminate"
	// SignalCtrlC and SignalCtrlBreak are WinRS console signals.
	SignalCtrlC     = NsShell + "/signal/ctrl_c"
	SignalCtrlBreak = NsShell + "/signal/ctrl_break"
)

// Command states of rsp:CommandState@State (MS-WSMV 2.2.4.7).
const (
	CommandStateDone    = NsShell + "/CommandState/Done"
	CommandStateRunning = NsShell + "/CommandState/Running"
	CommandStatePending = NsShell + "/CommandState/Pending"
)

// Shell states in rsp:Shell/rsp:State (MS-WSMV 2.2.4.37).
const (
	ShellStateConnected    = "Connected"
	ShellStateDisconnected = "Disconnected"
)

// Output buffering modes (MS-WSMV 2.2.5.10).
const (
	BufferModeBlock = "Block"
	BufferModeDrop  = "Drop"
)

// Stream names.
const (
	StreamStdin  = "stdin"
	StreamPR     = "pr" // PSRP prompt responses (host call answers)
	StreamStdout = "stdout"
	StreamStderr = "stderr"
)

// Option names of wsman:OptionSet (MS-WSMV 2.2.4.27, MS-PSRP 3.1.5.3.1).
const (
	OptionProtocolVersion = "protocolversion"
	OptionNoProfile       = "WINRS_NOPROFILE"
	OptionKeepAlive       = "WSMAN_CMDSHELL_OPTION_KEEPALIVE"
	OptionSkipCmdShell    = "WINRS_SKIP_CMD_SHELL"
	OptionCodepage        = "WINRS_CODEPAGE"
	OptionConsoleModeIn   = "WINRS_CONSOLEMODE_STDIN"
)

// ProtocolVersion is the PSRP protocol version announced in the
// protocolversion option of Create and Connect.
const ProtocolVersion = "2.3"

// DialectSelectorFilter is the wsman:Filter dialect used to enumerate the
// commands of one shell (MS-WSMV 2.2.4.42).
const DialectSelectorFilter = "http://schemas.dmtf.org/wbem/wsman/1/wsman/SelectorFilter"

// Fault detail URIs of wsman:FaultDetail (DSP0226 Annex A).
const (
	FaultDetailUnexpectedSelectors = "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/UnexpectedSelectors"
	FaultDetailInvalidValue        = "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/InvalidValue"
)

// WSManFault codes (f:WSManFault@Code; WSManNativeAPI.cs ERROR_WSMAN_*,
// Win32 errors; shared/PROTOCOL.md §1.6).
const (
	CodeAccessDenied         uint32 = 5          // ERROR_ACCESS_DENIED
	CodeInvalidParameter     uint32 = 87         // ERROR_INVALID_PARAMETER (WinRS provider)
	CodeFileNotFound         uint32 = 2147942402 // HRESULT of ERROR_FILE_NOT_FOUND (WinRS provider)
	CodeInvalidHeader        uint32 = 2150858767 // 0x8033800F invalid SOAP header value
	CodeOperationTimeout     uint32 = 2150858793 // 0x80338029 w:TimedOut: re-issue the Receive
	CodeInvalidResourceURI   uint32 = 2150858811 // 0x8033803B unknown configuration name
	CodeShellNotFound        uint32 = 2150858843 // 0x8033805B w:InvalidSelectors: unknown shell or command
	CodeSendReceiveTimeout   uint32 = 2150859046 // 0x80338126 client-side send/receive timeout
	CodeConnectMismatch      uint32 = 2150859206 // 0x803381C6 connect: mismatched sessions
	CodeShellInUse           uint32 = 2150859213 // 0x803381CD shell connected to another client
	CodeCannotConnect        uint32 = 2150859216 // 0x803381D0 connect: invalid operation
	CodeIncorrectProtocolVer uint32 = 2152992672 // 0x80540FA0 incorrect protocol version
)

// Envelope sizes (MS-WSMV 3.1.4.1.3; shared/PROTOCOL.md §1.2).
const (
	// DefaultMaxEnvelopeSize is the WSMan v2 (Windows 2008) default,
	// used until the server proves PSRP protocol 2.2 or later.
	DefaultMaxEnvelopeSize = 153600
	// MaxEnvelopeSize22 is the size newer servers accept (500 KiB).
	MaxEnvelopeSize22 = 512000
)

// DefaultOperationTimeout is the wsman:OperationTimeout sent when the
// Client sets none; for Receive it is the long-poll limit.
const DefaultOperationTimeout = 20 * time.Second

// DefaultLocale is the wsman:Locale and wsmv:DataLocale sent by default.
const DefaultLocale = "en-US"
