package wsman

import (
	"encoding/base64"
	"strconv"
	"time"
)

// Header holds the values of the SOAP header block common to every request
// (MS-WSMV 2.2.4; shared/PROTOCOL.md §1.2). Each request type sets the
// action, selectors and options itself.
type Header struct {
	To               string        // wsa:To, the endpoint URL
	ResourceURI      string        // wsman:ResourceURI; some requests override it
	MessageID        string        // wsa:MessageID, "uuid:" + upper-case GUID
	SessionID        string        // wsmv:SessionId, "uuid:" + GUID; omitted when empty
	MaxEnvelopeSize  int           // wsman:MaxEnvelopeSize in bytes; omitted when 0
	OperationTimeout time.Duration // wsman:OperationTimeout; omitted when 0
	Locale           string        // wsman:Locale xml:lang; omitted when empty
	DataLocale       string        // wsmv:DataLocale xml:lang; omitted when empty
}

// Option is one wsman:Option of the OptionSet.
type Option struct {
	Name       string
	Value      string
	MustComply bool
}

// EnvVar is one rsp:Variable of a WinRS shell environment.
type EnvVar struct {
	Name  string
	Value string
}

// envelope writes a whole request: header (with the action, selector and
// options of the operation) and the body written by body, which may be
// nil for an empty body.
func (h Header) envelope(action, resourceURI, shellID string, opts []Option, body func(w *xmlWriter)) []byte {
	if resourceURI == "" {
		resourceURI = h.ResourceURI
	}
	var w xmlWriter
	w.buf.Grow(2048) // the header alone is about 1.5 KB
	w.start("s:Envelope",
		"xmlns:s", NsSOAP,
		"xmlns:wsa", NsAddressing,
		"xmlns:wsman", NsWSMan,
		"xmlns:wsmv", NsWSMV,
		"xmlns:rsp", NsShell,
		"xmlns:wsen", NsEnumeration)
	w.start("s:Header")
	w.elem("wsa:To", h.To)
	w.elem("wsman:ResourceURI", resourceURI, "s:mustUnderstand", "true")
	w.start("wsa:ReplyTo")
	w.elem("wsa:Address", AddressAnonymous, "s:mustUnderstand", "true")
	w.end()
	w.elem("wsa:Action", action, "s:mustUnderstand", "true")
	if h.MaxEnvelopeSize > 0 {
		w.elem("wsman:MaxEnvelopeSize", strconv.Itoa(h.MaxEnvelopeSize), "s:mustUnderstand", "true")
	}
	w.elem("wsa:MessageID", h.MessageID)
	if h.Locale != "" {
		w.elem("wsman:Locale", "", "s:mustUnderstand", "false", "xml:lang", h.Locale)
	}
	if h.DataLocale != "" {
		w.elem("wsmv:DataLocale", "", "s:mustUnderstand", "false", "xml:lang", h.DataLocale)
	}
	if h.SessionID != "" {
		w.elem("wsmv:SessionId", h.SessionID, "s:mustUnderstand", "false")
	}
	if h.OperationTimeout != 0 {
		w.elem("wsman:OperationTimeout", FormatDuration(h.OperationTimeout))
	}
	if shellID != "" {
		w.start("wsman:SelectorSet")
		w.elem("wsman:Selector", shellID, "Name", "ShellId")
		w.end()
	}
	if len(opts) > 0 {
		w.start("wsman:OptionSet", "s:mustUnderstand", "true")
		for _, o := range opts {
			if o.MustComply {
				w.elem("wsman:Option", o.Value, "Name", o.Name, "MustComply", "true")
			} else {
				w.elem("wsman:Option", o.Value, "Name", o.Name)
			}
		}
		w.end()
	}
	w.end() // s:Header
	w.start("s:Body")
	if body != nil {
		body(&w)
	}
	w.end()
	w.end()
	return w.bytes()
}

// CreateRequest opens a PowerShell runspace pool shell (MS-PSRP 3.1.5.3.1;
// shared/PROTOCOL.md §1.4 Create).
type CreateRequest struct {
	ShellID         string        // upper-case runspace pool id, sent as rsp:Shell@ShellId
	Name            string        // friendly session name (rsp:Name); omitted when empty
	IdleTimeout     time.Duration // rsp:IdleTimeOut; 0 = server default
	NoProfile       bool          // WINRS_NOPROFILE option
	CreationXML     []byte        // SESSION_CAPABILITY + INIT_RUNSPACEPOOL fragments
	InputStreams    string        // default "stdin pr"
	OutputStreams   string        // default "stdout"
	ProtocolVersion string        // default ProtocolVersion
	Options         []Option      // extra options, appended
}

// Envelope renders the request.
func (r CreateRequest) Envelope(h Header) []byte {
	in, out, pv := r.InputStreams, r.OutputStreams, r.ProtocolVersion
	if in == "" {
		in = StreamStdin + " " + StreamPR
	}
	if out == "" {
		out = StreamStdout
	}
	if pv == "" {
		pv = ProtocolVersion
	}
	opts := []Option{{Name: OptionProtocolVersion, Value: pv, MustComply: true}}
	if r.NoProfile {
		opts = append(opts, Option{Name: OptionNoProfile, Value: "TRUE", MustComply: true})
	}
	opts = append(opts, r.Options...)
	return h.envelope(ActionCreate, "", "", opts, func(w *xmlWriter) {
		if r.ShellID != "" {
			w.start("rsp:Shell", "ShellId", r.ShellID)
		} else {
			w.start("rsp:Shell")
		}
		w.elem("rsp:InputStreams", in)
		w.elem("rsp:OutputStreams", out)
		if r.IdleTimeout > 0 {
			w.elem("rsp:IdleTimeOut", FormatDuration(r.IdleTimeout))
		}
		if r.Name != "" {
			w.elem("rsp:Name", r.Name)
		}
		w.elemBase64("creationXml", r.CreationXML, "xmlns", NsPowerShell)
		w.end()
	})
}

// CreateCmdRequest opens a WinRS cmd.exe shell (MS-WSMV 3.1.4.1.31;
// resource ResourceCmd, which the caller puts in Header.ResourceURI or
// leaves to the request).
type CreateCmdRequest struct {
	InputStreams     string        // default "stdin"
	OutputStreams    string        // default "stdout stderr"
	IdleTimeout      time.Duration // rsp:IdleTimeOut; 0 = server default
	Lifetime         time.Duration // rsp:Lifetime; 0 = omitted
	Name             string        // rsp:Name
	WorkingDirectory string        // rsp:WorkingDirectory
	Environment      []EnvVar      // rsp:Environment, in order
	NoProfile        bool          // WINRS_NOPROFILE
	Codepage         int           // WINRS_CODEPAGE (e.g. 65001); 0 = omitted
	Options          []Option      // extra options, appended
}

// Envelope renders the request on the cmd resource.
func (r CreateCmdRequest) Envelope(h Header) []byte {
	in, out := r.InputStreams, r.OutputStreams
	if in == "" {
		in = StreamStdin
	}
	if out == "" {
		out = StreamStdout + " " + StreamStderr
	}
	var opts []Option
	if r.NoProfile {
		opts = append(opts, Option{Name: OptionNoProfile, Value: "TRUE", MustComply: true})
	}
	if r.Codepage != 0 {
		opts = append(opts, Option{Name: OptionCodepage, Value: strconv.Itoa(r.Codepage)})
	}
	opts = append(opts, r.Options...)
	return h.envelope(ActionCreate, ResourceCmd, "", opts, func(w *xmlWriter) {
		w.start("rsp:Shell")
		w.elem("rsp:InputStreams", in)
		w.elem("rsp:OutputStreams", out)
		if r.IdleTimeout > 0 {
			w.elem("rsp:IdleTimeOut", FormatDuration(r.IdleTimeout))
		}
		if r.Lifetime > 0 {
			w.elem("rsp:Lifetime", FormatDuration(r.Lifetime))
		}
		if r.Name != "" {
			w.elem("rsp:Name", r.Name)
		}
		if r.WorkingDirectory != "" {
			w.elem("rsp:WorkingDirectory", r.WorkingDirectory)
		}
		if len(r.Environment) > 0 {
			w.start("rsp:Environment")
			for _, v := range r.Environment {
				w.elem("rsp:Variable", v.Value, "Name", v.Name)
			}
			w.end()
		}
		w.end()
	})
}

// CommandRequest creates a command in a shell (MS-WSMV 3.1.4.11; for PSRP
// a pipeline, MS-PSRP 3.1.5.3.3).
type CommandRequest struct {
	ShellID   string
	CommandID string   // upper-case pipeline id; omitted when empty (WinRS: server picks)
	Command   string   // rsp:Command text
	Arguments []string // rsp:Arguments, written as given
	// SkipCmdShell is sent as the WINRS_SKIP_CMD_SHELL option (ignored by
	// the PowerShell plugin, which pypsrp sends anyway).
	SkipCmdShell bool
}

// PSRPArguments renders PSRP fragments as the single base64 rsp:Arguments
// of a pipeline Command.
func PSRPArguments(fragments []byte) []string {
	return []string{base64.StdEncoding.EncodeToString(fragments)}
}

// Envelope renders the request.
func (r CommandRequest) Envelope(h Header) []byte {
	skip := "False"
	if r.SkipCmdShell {
		skip = "True"
	}
	opts := []Option{{Name: OptionSkipCmdShell, Value: skip}}
	return h.envelope(ActionCommand, "", r.ShellID, opts, func(w *xmlWriter) {
		if r.CommandID != "" {
			w.start("rsp:CommandLine", "CommandId", r.CommandID)
		} else {
			w.start("rsp:CommandLine")
		}
		w.elem("rsp:Command", r.Command)
		for _, a := range r.Arguments {
			w.elem("rsp:Arguments", a)
		}
		w.end()
	})
}

// SendStream is one rsp:Stream of a Send.
type SendStream struct {
	Name      string // StreamStdin or StreamPR
	CommandID string // empty for pool-level data
	Data      []byte // sent base64
	// End, when non-nil, is sent as the End attribute (WinRS end of
	// input; PSRP never uses it).
	End *bool
}

// SendRequest sends input to a shell or command (MS-WSMV 3.1.4.12).
type SendRequest struct {
	ShellID string
	Streams []SendStream
}

// Envelope renders the request.
func (r SendRequest) Envelope(h Header) []byte {
	return h.envelope(ActionSend, "", r.ShellID, nil, func(w *xmlWriter) {
		w.start("rsp:Send")
		for _, s := range r.Streams {
			attrs := []string{"Name", s.Name}
			if s.CommandID != "" {
				attrs = append(attrs, "CommandId", s.CommandID)
			}
			if s.End != nil {
				attrs = append(attrs, "End", boolText(*s.End))
			}
			w.elemBase64("rsp:Stream", s.Data, attrs...)
		}
		w.end()
	})
}

func boolText(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// ReceiveRequest long-polls a shell (CommandID empty) or a command for
// output (MS-WSMV 3.1.4.13).
type ReceiveRequest struct {
	ShellID   string
	CommandID string
	Streams   string // rsp:DesiredStream; default "stdout" (WinRS: "stdout stderr")
}

// Envelope renders the request, with the KEEPALIVE option.
func (r ReceiveRequest) Envelope(h Header) []byte {
	streams := r.Streams
	if streams == "" {
		streams = StreamStdout
	}
	opts := []Option{{Name: OptionKeepAlive, Value: "True"}}
	return h.envelope(ActionReceive, "", r.ShellID, opts, func(w *xmlWriter) {
		w.start("rsp:Receive")
		if r.CommandID != "" {
			w.elem("rsp:DesiredStream", streams, "CommandId", r.CommandID)
		} else {
			w.elem("rsp:DesiredStream", streams)
		}
		w.end()
	})
}

// SignalRequest signals a command (MS-WSMV 3.1.4.14; MS-PSRP 3.1.5.3.9).
type SignalRequest struct {
	ShellID   string
	CommandID string
	Code      string // SignalPSCtrlC, SignalTerminate, ...
}

// Envelope renders the request.
func (r SignalRequest) Envelope(h Header) []byte {
	return h.envelope(ActionSignal, "", r.ShellID, nil, func(w *xmlWriter) {
		if r.CommandID != "" {
			w.start("rsp:Signal", "CommandId", r.CommandID)
		} else {
			w.start("rsp:Signal")
		}
		w.elem("rsp:Code", r.Code)
		w.end()
	})
}

// DeleteRequest closes a shell (transfer Delete; MS-PSRP 3.1.5.3.10).
type DeleteRequest struct {
	ShellID string
}

// Envelope renders the request.
func (r DeleteRequest) Envelope(h Header) []byte {
	return h.envelope(ActionDelete, "", r.ShellID, nil, nil)
}

// DisconnectRequest disconnects a shell (MS-PSRP 3.1.5.3.16).
type DisconnectRequest struct {
	ShellID     string
	IdleTimeout time.Duration // rsp:IdleTimeOut for the disconnected period; 0 = omitted
	BufferMode  string        // BufferModeBlock or BufferModeDrop; empty = omitted
}

// Envelope renders the request.
func (r DisconnectRequest) Envelope(h Header) []byte {
	return h.envelope(ActionDisconnect, "", r.ShellID, nil, func(w *xmlWriter) {
		w.start("rsp:Disconnect")
		if r.BufferMode != "" {
			w.elem("rsp:BufferMode", r.BufferMode)
		}
		if r.IdleTimeout > 0 {
			w.elem("rsp:IdleTimeOut", FormatDuration(r.IdleTimeout))
		}
		w.end()
	})
}

// ReconnectRequest resumes a shell this client disconnected (MS-PSRP
// 3.1.5.3.17).
type ReconnectRequest struct {
	ShellID string
}

// Envelope renders the request (empty body).
func (r ReconnectRequest) Envelope(h Header) []byte {
	return h.envelope(ActionReconnect, "", r.ShellID, nil, nil)
}

// ConnectRequest attaches a new client to a disconnected shell, or, with a
// CommandID and no ConnectXML, to one of its commands (MS-PSRP 3.1.5.3.14).
type ConnectRequest struct {
	ShellID         string
	CommandID       string // per-command connect
	ConnectXML      []byte // SESSION_CAPABILITY + CONNECT_RUNSPACEPOOL fragments (shell connect)
	ProtocolVersion string // default ProtocolVersion; shell connect only
}

// Envelope renders the request.
func (r ConnectRequest) Envelope(h Header) []byte {
	var opts []Option
	if r.CommandID == "" {
		pv := r.ProtocolVersion
		if pv == "" {
			pv = ProtocolVersion
		}
		opts = []Option{{Name: OptionProtocolVersion, Value: pv, MustComply: true}}
	}
	return h.envelope(ActionConnect, "", r.ShellID, opts, func(w *xmlWriter) {
		if r.CommandID != "" {
			w.start("rsp:Connect", "CommandId", r.CommandID)
		} else {
			w.start("rsp:Connect")
		}
		if r.ConnectXML != nil {
			w.elemBase64("connectXml", r.ConnectXML, "xmlns", NsPowerShell)
		}
		w.end()
	})
}

// GetShellRequest reads a shell's properties; it doubles as a liveness
// check (transfer Get on ResourceShell).
type GetShellRequest struct {
	ShellID string
}

// Envelope renders the request.
func (r GetShellRequest) Envelope(h Header) []byte {
	return h.envelope(ActionGet, ResourceShell, r.ShellID, nil, nil)
}

// GetConfigRequest reads the WinRM configuration (cfg:MaxEnvelopeSizekb).
type GetConfigRequest struct{}

// Envelope renders the request.
func (GetConfigRequest) Envelope(h Header) []byte {
	return h.envelope(ActionGet, ResourceConfig, "", nil, nil)
}

// EnumerateRequest enumerates shells (ResourceShell) or the commands of a
// shell (ResourceShellCommand with ShellID as a selector filter)
// (MS-WSMV 3.1.4.8).
type EnumerateRequest struct {
	ResourceURI string // ResourceShell or ResourceShellCommand
	// Optimize asks for the items in the EnumerateResponse itself
	// (wsman:OptimizeEnumeration) with at most MaxElements of them.
	Optimize    bool
	MaxElements int
	ShellID     string // SelectorFilter on ShellId; empty = no filter
}

// Envelope renders the request.
func (r EnumerateRequest) Envelope(h Header) []byte {
	return h.envelope(ActionEnumerate, r.ResourceURI, "", nil, func(w *xmlWriter) {
		w.start("wsen:Enumerate")
		if r.Optimize {
			w.elem("wsman:OptimizeEnumeration", "")
			if r.MaxElements > 0 {
				w.elem("wsman:MaxElements", strconv.Itoa(r.MaxElements))
			}
		}
		if r.ShellID != "" {
			w.start("wsman:Filter", "Dialect", DialectSelectorFilter)
			w.start("wsman:SelectorSet")
			w.elem("wsman:Selector", r.ShellID, "Name", "ShellId")
			w.end()
			w.end()
		}
		w.end()
	})
}

// PullRequest fetches the next items of an enumeration (MS-WSMV 3.1.4.9).
type PullRequest struct {
	ResourceURI string // as in the Enumerate
	Context     string // wsen:EnumerationContext from the previous response
	MaxElements int    // 0 = omitted
}

// Envelope renders the request.
func (r PullRequest) Envelope(h Header) []byte {
	return h.envelope(ActionPull, r.ResourceURI, "", nil, func(w *xmlWriter) {
		w.start("wsen:Pull")
		w.elem("wsen:EnumerationContext", r.Context)
		if r.MaxElements > 0 {
			w.elem("wsen:MaxElements", strconv.Itoa(r.MaxElements))
		}
		w.end()
	})
}
