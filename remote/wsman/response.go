package wsman

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Response is a parsed response envelope. ParseResponse returns a *Fault
// instead when the body is a SOAP fault; the typed accessors check the
// body element and decode it.
type Response struct {
	Action    string // wsa:Action
	MessageID string // wsa:MessageID
	RelatesTo string // wsa:RelatesTo: the MessageID of our request
	body      *node
}

// ParseResponse parses a response envelope. A fault body is returned as a
// *Fault error (HTTPStatus left 0).
func ParseResponse(b []byte) (*Response, error) {
	root, err := parseTree(b)
	if err != nil {
		return nil, err
	}
	if !root.is(NsSOAP, "Envelope") {
		return nil, fmt.Errorf("wsman: response root is {%s}%s, not a SOAP envelope", root.Space, root.Local)
	}
	if f := faultOf(root); f != nil {
		return nil, f
	}
	body := root.child(NsSOAP, "Body")
	if body == nil {
		return nil, errors.New("wsman: response has no SOAP body")
	}
	h := root.child(NsSOAP, "Header")
	return &Response{
		Action:    h.child(NsAddressing, "Action").text(),
		MessageID: h.child(NsAddressing, "MessageID").text(),
		RelatesTo: h.child(NsAddressing, "RelatesTo").text(),
		body:      body,
	}, nil
}

// expect checks that the body's first element is space:local and returns it.
func (r *Response) expect(space, local string) (*node, error) {
	n := r.body.child(space, local)
	if n == nil {
		return nil, fmt.Errorf("wsman: response (action %q) has no {%s}%s", r.Action, space, local)
	}
	return n, nil
}

// Shell is an rsp:Shell as returned by Create, Get and Enumerate
// (MS-WSMV 2.2.4.37). Durations are parsed from xs:duration; absent
// fields are zero.
type Shell struct {
	ShellID          string
	Name             string
	ResourceURI      string
	Owner            string
	ClientIP         string
	ProcessID        int
	State            string // ShellStateConnected or ShellStateDisconnected
	IdleTimeout      time.Duration
	MaxIdleTimeout   time.Duration
	ShellInactivity  time.Duration
	ShellRunTime     time.Duration
	Lifetime         time.Duration
	BufferMode       string // BufferModeBlock or BufferModeDrop
	Locale           string
	DataLocale       string
	CompressionMode  string // "NoCompression" or "XpressCompression"
	Encoding         string // "UTF8" or "UTF16"
	ProfileLoaded    string // "Yes" or "No"
	MemoryUsed       string // e.g. "58MB"
	ChildProcesses   int
	InputStreams     string
	OutputStreams    string
	WorkingDirectory string
	Environment      []EnvVar
}

func parseShell(n *node) (*Shell, error) {
	s := &Shell{
		ShellID:          n.child(NsShell, "ShellId").text(),
		Name:             n.child(NsShell, "Name").text(),
		ResourceURI:      n.child(NsShell, "ResourceUri").text(),
		Owner:            n.child(NsShell, "Owner").text(),
		ClientIP:         n.child(NsShell, "ClientIP").text(),
		State:            n.child(NsShell, "State").text(),
		BufferMode:       n.child(NsShell, "BufferMode").text(),
		Locale:           n.child(NsShell, "Locale").text(),
		DataLocale:       n.child(NsShell, "DataLocale").text(),
		CompressionMode:  n.child(NsShell, "CompressionMode").text(),
		Encoding:         n.child(NsShell, "Encoding").text(),
		ProfileLoaded:    n.child(NsShell, "ProfileLoaded").text(),
		MemoryUsed:       n.child(NsShell, "MemoryUsed").text(),
		InputStreams:     n.child(NsShell, "InputStreams").text(),
		OutputStreams:    n.child(NsShell, "OutputStreams").text(),
		WorkingDirectory: n.child(NsShell, "WorkingDirectory").text(),
	}
	if s.ShellID == "" {
		// A request-shaped rsp:Shell carries the id as an attribute.
		s.ShellID = n.attr("ShellId")
	}
	var err error
	if s.ProcessID, err = intField(n, "ProcessId"); err != nil {
		return nil, err
	}
	if s.ChildProcesses, err = intField(n, "ChildProcesses"); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name string
		dst  *time.Duration
	}{
		{"IdleTimeOut", &s.IdleTimeout},
		{"MaxIdleTimeOut", &s.MaxIdleTimeout},
		{"ShellInactivity", &s.ShellInactivity},
		{"ShellRunTime", &s.ShellRunTime},
		{"Lifetime", &s.Lifetime},
	} {
		t := n.child(NsShell, f.name).text()
		if t == "" {
			continue
		}
		d, err := ParseDuration(t)
		if err != nil {
			return nil, fmt.Errorf("wsman: shell %s: %w", f.name, err)
		}
		*f.dst = d
	}
	for _, v := range n.child(NsShell, "Environment").all(NsShell, "Variable") {
		s.Environment = append(s.Environment, EnvVar{Name: v.attr("Name"), Value: v.Text})
	}
	return s, nil
}

func intField(n *node, name string) (int, error) {
	t := n.child(NsShell, name).text()
	if t == "" {
		return 0, nil
	}
	v, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("wsman: shell %s %q is not a number", name, t)
	}
	return int(v), nil
}

// Created is the result of a Create: the shell id and resource URI of
// wst:ResourceCreated, and the rsp:Shell the server added (Windows always
// does; its ShellID falls back to the selector).
type Created struct {
	ShellID     string
	ResourceURI string
	Address     string
	Shell       Shell
}

// Create decodes a CreateResponse.
func (r *Response) Create() (*Created, error) {
	rc, err := r.expect(NsTransfer, "ResourceCreated")
	if err != nil {
		return nil, err
	}
	ref := rc.child(NsAddressing, "ReferenceParameters")
	c := &Created{
		Address:     rc.child(NsAddressing, "Address").text(),
		ResourceURI: ref.child(NsWSMan, "ResourceURI").text(),
	}
	for _, s := range ref.child(NsWSMan, "SelectorSet").all(NsWSMan, "Selector") {
		if s.attr("Name") == "ShellId" {
			c.ShellID = s.text()
		}
	}
	if sn := r.body.child(NsShell, "Shell"); sn != nil {
		sh, err := parseShell(sn)
		if err != nil {
			return nil, err
		}
		c.Shell = *sh
	}
	if c.ShellID == "" {
		c.ShellID = c.Shell.ShellID
	}
	if c.Shell.ShellID == "" {
		c.Shell.ShellID = c.ShellID
	}
	if c.ResourceURI == "" {
		c.ResourceURI = c.Shell.ResourceURI
	}
	if c.ShellID == "" {
		return nil, errors.New("wsman: CreateResponse carries no ShellId")
	}
	return c, nil
}

// Shell decodes a GetResponse on the shell resource.
func (r *Response) Shell() (*Shell, error) {
	n, err := r.expect(NsShell, "Shell")
	if err != nil {
		return nil, err
	}
	return parseShell(n)
}

// CommandID decodes a CommandResponse.
func (r *Response) CommandID() (string, error) {
	n, err := r.expect(NsShell, "CommandResponse")
	if err != nil {
		return "", err
	}
	id := n.child(NsShell, "CommandId").text()
	if id == "" {
		return "", errors.New("wsman: CommandResponse carries no CommandId")
	}
	return id, nil
}

// StreamData is one rsp:Stream of a ReceiveResponse.
type StreamData struct {
	Name      string
	CommandID string
	Data      []byte // decoded base64: for PSRP, whole fragments
	End       bool   // End="true": no more data on this stream (WinRS)
}

// CommandState is rsp:CommandState of a ReceiveResponse.
type CommandState struct {
	CommandID string
	State     string // CommandStateDone, ...
	ExitCode  *int   // rsp:ExitCode when present
}

// Received is the result of a Receive.
type Received struct {
	Streams []StreamData
	State   *CommandState // nil when the response has no CommandState
}

// Done reports whether the command reported CommandStateDone.
func (r *Received) Done() bool {
	return r.State != nil && r.State.State == CommandStateDone
}

// Receive decodes a ReceiveResponse.
func (r *Response) Receive() (*Received, error) {
	n, err := r.expect(NsShell, "ReceiveResponse")
	if err != nil {
		return nil, err
	}
	out := &Received{}
	for _, s := range n.all(NsShell, "Stream") {
		data, err := decodeBase64(s.Text)
		if err != nil {
			return nil, fmt.Errorf("wsman: stream %q: %w", s.attr("Name"), err)
		}
		out.Streams = append(out.Streams, StreamData{
			Name:      s.attr("Name"),
			CommandID: s.attr("CommandId"),
			Data:      data,
			End:       strings.EqualFold(s.attr("End"), "true"),
		})
	}
	if cs := n.child(NsShell, "CommandState"); cs != nil {
		st := &CommandState{CommandID: cs.attr("CommandId"), State: cs.attr("State")}
		if ec := cs.child(NsShell, "ExitCode"); ec != nil {
			v, err := strconv.ParseInt(ec.text(), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("wsman: ExitCode %q is not a number", ec.text())
			}
			code := int(v)
			st.ExitCode = &code
		}
		out.State = st
	}
	return out, nil
}

// decodeBase64 decodes base64 text, ignoring whitespace (line breaks are
// legal in xs:base64Binary).
func decodeBase64(s string) ([]byte, error) {
	if strings.IndexByte(s, ' ') < 0 && strings.IndexByte(s, '\t') < 0 {
		// The decoder skips '\r' and '\n' itself; Map walks runes and
		// cost 7% of a bulk Receive (and ContainsAny, byte by byte, 5%).
		return base64.StdEncoding.DecodeString(s)
	}
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, s)
	return base64.StdEncoding.DecodeString(s)
}

// Connected is the result of a shell Connect: the server's
// connectResponseXml (SESSION_CAPABILITY + RUNSPACEPOOL_INIT_DATA
// fragments), empty for a per-command Connect.
type Connected struct {
	InputStreams       string
	OutputStreams      string
	ConnectResponseXML []byte
}

// Connect decodes a ConnectResponse.
func (r *Response) Connect() (*Connected, error) {
	n, err := r.expect(NsShell, "ConnectResponse")
	if err != nil {
		return nil, err
	}
	c := &Connected{
		InputStreams:  n.child(NsShell, "InputStreams").text(),
		OutputStreams: n.child(NsShell, "OutputStreams").text(),
	}
	if x := n.child(NsPowerShell, "connectResponseXml"); x != nil {
		if c.ConnectResponseXML, err = decodeBase64(x.Text); err != nil {
			return nil, fmt.Errorf("wsman: connectResponseXml: %w", err)
		}
	}
	return c, nil
}

// CommandInfo is an rsp:Command item of a command enumeration.
type CommandInfo struct {
	CommandID    string
	CommandLine  string
	CommandState string // e.g. "Running", or a CommandState URI
}

// Enumeration is the result of an Enumerate or Pull: the items found,
// the context for the next Pull, and whether the sequence ended.
type Enumeration struct {
	Shells        []Shell
	Commands      []CommandInfo
	Context       string
	EndOfSequence bool
}

// Enumerate decodes an EnumerateResponse (items in the wsman namespace
// when the enumeration was optimized).
func (r *Response) Enumerate() (*Enumeration, error) {
	n, err := r.expect(NsEnumeration, "EnumerateResponse")
	if err != nil {
		return nil, err
	}
	return parseEnumeration(n, NsWSMan)
}

// Pull decodes a PullResponse (items in the enumeration namespace).
func (r *Response) Pull() (*Enumeration, error) {
	n, err := r.expect(NsEnumeration, "PullResponse")
	if err != nil {
		return nil, err
	}
	return parseEnumeration(n, NsEnumeration)
}

func parseEnumeration(n *node, itemsNS string) (*Enumeration, error) {
	e := &Enumeration{Context: n.child(NsEnumeration, "EnumerationContext").text()}
	e.EndOfSequence = n.child(NsWSMan, "EndOfSequence") != nil || n.child(NsEnumeration, "EndOfSequence") != nil
	items := n.child(itemsNS, "Items")
	if items == nil {
		// Be liberal: accept Items in the other namespace too.
		items = n.child(NsWSMan, "Items")
		if items == nil {
			items = n.child(NsEnumeration, "Items")
		}
	}
	if items == nil {
		return e, nil
	}
	for _, c := range items.Children {
		switch {
		case c.is(NsShell, "Shell"):
			s, err := parseShell(c)
			if err != nil {
				return nil, err
			}
			e.Shells = append(e.Shells, *s)
		case c.is(NsShell, "Command"):
			e.Commands = append(e.Commands, CommandInfo{
				CommandID:    c.child(NsShell, "CommandId").text(),
				CommandLine:  c.child(NsShell, "CommandLine").text(),
				CommandState: c.child(NsShell, "CommandState").text(),
			})
		}
	}
	return e, nil
}

// Config is the part of the WinRM configuration pssession reads.
type Config struct {
	MaxEnvelopeSizeKB int
	MaxTimeoutMS      int64
	MaxBatchItems     int
}

// Config decodes a GetResponse on ResourceConfig.
func (r *Response) Config() (*Config, error) {
	n, err := r.expect(NsConfig, "Config")
	if err != nil {
		return nil, err
	}
	c := &Config{}
	kb := n.child(NsConfig, "MaxEnvelopeSizekb").text()
	v, err := strconv.Atoi(kb)
	if err != nil || v <= 0 || v > 1<<20 {
		return nil, fmt.Errorf("wsman: invalid MaxEnvelopeSizekb %q", kb)
	}
	c.MaxEnvelopeSizeKB = v
	if t := n.child(NsConfig, "MaxTimeoutms").text(); t != "" {
		c.MaxTimeoutMS, _ = strconv.ParseInt(t, 10, 64)
	}
	if t := n.child(NsConfig, "MaxBatchItems").text(); t != "" {
		c.MaxBatchItems, _ = strconv.Atoi(t)
	}
	return c, nil
}

// Empty checks that the response is the expected empty-bodied (or
// content-free) response of Send, Signal, Delete, Disconnect or Reconnect:
// its action must be want when the server set one.
func (r *Response) Empty(want string) error {
	if r.Action != "" && r.Action != want {
		return fmt.Errorf("wsman: response action %q, want %q", r.Action, want)
	}
	return nil
}
