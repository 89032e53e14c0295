package wsman

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// Transport posts one SOAP envelope and returns the HTTP status and the
// plaintext response body. A fault comes back as status 500 with a fault
// body and a nil error: err is only for failures to get any response.
// Implementations must be safe for concurrent use (a long-poll Receive
// runs while other requests are made). transport.Client implements it.
type Transport interface {
	Post(ctx context.Context, envelope []byte) (status int, body []byte, err error)
}

// Request is anything that renders a request envelope from the common
// header values: every *Request type of this package.
type Request interface {
	Envelope(h Header) []byte
}

// Client runs WS-Management shell operations against one endpoint. Set
// the exported fields before first use; zero values take the defaults
// named on each field. Methods are safe for concurrent use.
type Client struct {
	Transport Transport
	// URL is the endpoint, sent as wsa:To and named in errors.
	URL string
	// ResourceURI defaults to ResourcePowerShell; use
	// PowerShellResourceURI for another configuration.
	ResourceURI string
	// OperationTimeout defaults to DefaultOperationTimeout. It is the
	// Receive long-poll limit: the transport's HTTP timeout must exceed it.
	OperationTimeout time.Duration
	// Locale and DataLocale default to DefaultLocale.
	Locale, DataLocale string
	// SessionID is sent as wsmv:SessionId ("uuid:<GUID>"); NewClient sets
	// a fresh one, empty omits the header.
	SessionID string
	// MaxElements is how many items one Enumerate or Pull asks for;
	// 0 means 32000 (Windows' MaxBatchItems).
	MaxElements int

	maxEnvelope atomic.Int64 // 0 means DefaultMaxEnvelopeSize

	// payload caches MaxPayload's envelope overhead for the header values
	// it was measured with (building the two envelopes cost a few hundred
	// microseconds per pipeline).
	payloadMu sync.Mutex
	payload   payloadCache
}

// payloadCache is one MaxPayload overhead measurement and the header it
// was measured with (without a MessageID: its length never changes).
type payloadCache struct {
	h        Header
	overhead int
}

// NewClient returns a Client for url with a fresh SessionID.
func NewClient(t Transport, url string) *Client {
	return &Client{Transport: t, URL: url, SessionID: NewMessageID()}
}

// NewMessageID returns "uuid:" + a random upper-case GUID (version 4).
func NewMessageID() string {
	return "uuid:" + NewGUID()
}

// NewGUID returns a random upper-case GUID (version 4), the form Windows
// uses for ShellId and CommandId.
func NewGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%X-%X-%X-%X-%X", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// MaxEnvelopeSize returns the wsman:MaxEnvelopeSize announced in requests.
func (c *Client) MaxEnvelopeSize() int {
	if v := c.maxEnvelope.Load(); v > 0 {
		return int(v)
	}
	return DefaultMaxEnvelopeSize
}

// SetMaxEnvelopeSize changes the announced envelope size, e.g. to
// MaxEnvelopeSize22 once the server proved PSRP protocol 2.2 or later
// (shared/PROTOCOL.md §1.2). Values below 8192 are raised to 8192.
func (c *Client) SetMaxEnvelopeSize(n int) {
	c.maxEnvelope.Store(int64(max(n, minEnvelopeSize)))
}

const (
	minEnvelopeSize = 8192
	// maxCommandText is how much command text Command sends in
	// rsp:Command (PowerShell sends at most 256 characters).
	maxCommandText = 256
	// envelopeSlack is kept free in every envelope for header values the
	// overhead estimate does not see.
	envelopeSlack = 512
)

// MaxPayload returns how many PSRP bytes fit in one Send or Command
// envelope at the current envelope size: (envelope - overhead) * 3/4,
// the overhead being measured on real envelopes with this client's header
// values. The PSRP layer sizes its fragments from it.
func (c *Client) MaxPayload() int {
	key := c.baseHeader()
	c.payloadMu.Lock()
	overhead := c.payload.overhead
	if overhead == 0 || c.payload.h != key {
		h := key
		h.MessageID = NewMessageID()
		id := "00000000-0000-0000-0000-000000000000"
		send := SendRequest{ShellID: id, Streams: []SendStream{{Name: StreamStdin, CommandID: id}}}.Envelope(h)
		cmd := CommandRequest{ShellID: id, CommandID: id, Command: strings.Repeat(`"`, maxCommandText), Arguments: []string{""}}.Envelope(h)
		overhead = max(len(send), len(cmd)) + envelopeSlack
		c.payload = payloadCache{h: key, overhead: overhead}
	}
	c.payloadMu.Unlock()
	room := key.MaxEnvelopeSize - overhead
	if room < 4 {
		return 0
	}
	return room / 4 * 3
}

// MaxResponseSize is the largest response body the client parses: twice
// the envelope size plus 64 KiB (servers size responses from the envelope
// size we announce; encryption framing is already removed).
func (c *Client) MaxResponseSize() int {
	return 2*c.MaxEnvelopeSize() + 64<<10
}

func (c *Client) header() Header {
	h := c.baseHeader()
	h.MessageID = NewMessageID()
	return h
}

// baseHeader is header without a MessageID.
func (c *Client) baseHeader() Header {
	h := Header{
		To:               c.URL,
		ResourceURI:      c.ResourceURI,
		SessionID:        c.SessionID,
		MaxEnvelopeSize:  c.MaxEnvelopeSize(),
		OperationTimeout: c.OperationTimeout,
		Locale:           c.Locale,
		DataLocale:       c.DataLocale,
	}
	if h.ResourceURI == "" {
		h.ResourceURI = ResourcePowerShell
	}
	if h.OperationTimeout <= 0 {
		h.OperationTimeout = DefaultOperationTimeout
	}
	if h.Locale == "" {
		h.Locale = DefaultLocale
	}
	if h.DataLocale == "" {
		h.DataLocale = h.Locale
	}
	return h
}

// HTTPError is a non-2xx HTTP response without a SOAP fault body.
type HTTPError struct {
	Status int
	URL    string
	Body   string // the start of the body, for diagnostics
}

// Error implements error.
func (e *HTTPError) Error() string {
	var hint string
	switch {
	case e.Status == 401:
		hint = "authentication failed"
	case e.Status == 403:
		hint = "forbidden"
	case e.Status == 404:
		hint = "not a WinRM endpoint?"
	case e.Status == 413:
		hint = "request too large for the server's MaxEnvelopeSize"
	case e.Status == 415:
		hint = "the server rejected the content type (encryption required?)"
	case e.Status >= 500:
		hint = "server error without a WS-Management fault"
	default:
		hint = "unexpected status"
	}
	return fmt.Sprintf("wsman: HTTP %d from %s: %s", e.Status, e.URL, hint)
}

// Do posts one request and returns the parsed response. A SOAP fault is
// returned as a *Fault (with HTTPStatus set); a non-2xx status without one
// as an *HTTPError; a body that is not a SOAP envelope, is too large, or
// answers another message as an error naming the endpoint.
func (c *Client) Do(ctx context.Context, req Request) (*Response, error) {
	x, err := c.post(ctx, req)
	if err != nil {
		return nil, err
	}
	return x.parse()
}

// exchange is one posted request and the server's answer.
type exchange struct {
	messageID, op, where string
	status               int
	body                 []byte
}

// post sends req and checks the response's size.
func (c *Client) post(ctx context.Context, req Request) (*exchange, error) {
	if c.Transport == nil {
		return nil, errors.New("wsman: client has no transport")
	}
	h := c.header()
	env := req.Envelope(h)
	x := &exchange{messageID: h.MessageID, op: opName(env), where: redact(c.URL)}
	status, body, err := c.Transport.Post(ctx, env)
	if err != nil {
		return nil, fmt.Errorf("wsman: %s to %s: %w", x.op, x.where, err)
	}
	if limit := c.MaxResponseSize(); len(body) > limit {
		return nil, fmt.Errorf("wsman: %s: response from %s is %d bytes, over the %d-byte limit", x.op, x.where, len(body), limit)
	}
	x.status, x.body = status, body
	return x, nil
}

// ok reports a 2xx status.
func (x *exchange) ok() bool { return x.status >= 200 && x.status <= 299 }

// checkRelatesTo checks that the response answers our message.
func (x *exchange) checkRelatesTo(relatesTo string) error {
	if relatesTo != "" && !strings.EqualFold(relatesTo, x.messageID) {
		return fmt.Errorf("wsman: %s: response from %s relates to %s, not to our message %s", x.op, x.where, relatesTo, x.messageID)
	}
	return nil
}

// parse decodes the response envelope as Do returns it.
func (x *exchange) parse() (*Response, error) {
	if !x.ok() {
		if f, ferr := ParseFault(x.body); ferr == nil {
			f.HTTPStatus = x.status
			return nil, f
		}
		return nil, &HTTPError{Status: x.status, URL: x.where, Body: snippet(x.body)}
	}
	resp, err := ParseResponse(x.body)
	if err != nil {
		var f *Fault
		if errors.As(err, &f) {
			f.HTTPStatus = x.status
			return nil, f
		}
		return nil, fmt.Errorf("wsman: %s: invalid response from %s (HTTP %d, %q): %w", x.op, x.where, x.status, snippet(x.body), err)
	}
	if err := x.checkRelatesTo(resp.RelatesTo); err != nil {
		return nil, err
	}
	return resp, nil
}

// redact hides a password in a URL for error messages.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.Redacted()
}

// opName returns the operation of a rendered envelope for error messages
// (the last segment of its action).
func opName(env []byte) string {
	const open = `<wsa:Action s:mustUnderstand="true">`
	i := bytes.Index(env, []byte(open))
	if i < 0 {
		return "request"
	}
	b := env[i+len(open):]
	if j := bytes.IndexByte(b, '<'); j >= 0 {
		b = b[:j]
	}
	if j := bytes.LastIndexByte(b, '/'); j >= 0 {
		b = b[j+1:]
	}
	return string(b) // only the name: the envelope may be 500 KiB
}

// snippet returns the start of a body as printable text.
func snippet(b []byte) string {
	const n = 120
	if len(b) > n {
		b = b[:n]
	}
	s := strings.ToValidUTF8(string(b), "?")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == utf8.RuneError {
			return ' '
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// Create opens a PowerShell shell (runspace pool) and returns the shell
// the server reports.
func (c *Client) Create(ctx context.Context, req CreateRequest) (*Shell, error) {
	return c.create(ctx, req)
}

// CreateCmd opens a WinRS cmd.exe shell. Every later operation on a shell
// carries the Client's ResourceURI, so use a Client whose ResourceURI is
// ResourceCmd for WinRS shells (Windows checks it against the shell).
func (c *Client) CreateCmd(ctx context.Context, req CreateCmdRequest) (*Shell, error) {
	return c.create(ctx, req)
}

func (c *Client) create(ctx context.Context, req Request) (*Shell, error) {
	resp, err := c.Do(ctx, req)
	if err != nil {
		return nil, err
	}
	cr, err := resp.Create()
	if err != nil {
		return nil, err
	}
	s := cr.Shell
	if s.ResourceURI == "" {
		s.ResourceURI = cr.ResourceURI
	}
	return &s, nil
}

// Command creates a PowerShell pipeline carrying the first fragments
// (args) of CREATE_PIPELINE; commandLine is echoed by command enumeration
// (at most 256 characters are sent; empty sends a single space, as
// PowerShell does). It returns the CommandId the server confirms.
func (c *Client) Command(ctx context.Context, shellID, commandID, commandLine string, args []byte) (string, error) {
	if utf8.RuneCountInString(commandLine) > maxCommandText {
		commandLine = string([]rune(commandLine)[:maxCommandText])
	}
	if commandLine == "" {
		commandLine = " "
	}
	return c.RunCommand(ctx, CommandRequest{ShellID: shellID, CommandID: commandID, Command: commandLine, Arguments: PSRPArguments(args)})
}

// RunCommand sends any Command request (WinRS commands, with plain
// arguments) and returns the server's CommandId.
func (c *Client) RunCommand(ctx context.Context, req CommandRequest) (string, error) {
	resp, err := c.Do(ctx, req)
	if err != nil {
		return "", err
	}
	return resp.CommandID()
}

// Send sends data on stream (StreamStdin or StreamPR) of the shell
// (commandID empty) or of a command.
func (c *Client) Send(ctx context.Context, shellID, commandID, stream string, data []byte) error {
	return c.SendStreams(ctx, SendRequest{ShellID: shellID, Streams: []SendStream{{Name: stream, CommandID: commandID, Data: data}}})
}

// SendStreams sends a Send with several streams or End flags.
func (c *Client) SendStreams(ctx context.Context, req SendRequest) error {
	return c.empty(ctx, req, ActionSendResponse)
}

// Receive long-polls the shell (commandID empty) or a command for output
// on stream "stdout". Operation-timeout faults are normal while nothing
// is produced: the request is re-issued until output arrives or ctx ends.
func (c *Client) Receive(ctx context.Context, shellID, commandID string) (*Received, error) {
	return c.ReceiveStreams(ctx, ReceiveRequest{ShellID: shellID, CommandID: commandID})
}

// ReceiveStreams is Receive with a full request (e.g. WinRS "stdout
// stderr").
func (c *Client) ReceiveStreams(ctx context.Context, req ReceiveRequest) (*Received, error) {
	for {
		x, err := c.post(ctx, req)
		var resp *Response
		if err == nil {
			if x.ok() {
				// The common case, bulk output, skips encoding/xml.
				if relatesTo, rec, ok := scanReceive(x.body); ok {
					if err := x.checkRelatesTo(relatesTo); err != nil {
						return nil, err
					}
					return rec, nil
				}
			}
			resp, err = x.parse()
		}
		if IsOperationTimeout(err) {
			if cerr := ctx.Err(); cerr != nil {
				return nil, fmt.Errorf("wsman: Receive from %s: %w", redact(c.URL), cerr)
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		return resp.Receive()
	}
}

// Signal sends a signal code (SignalPSCtrlC, SignalTerminate...) to a
// command.
func (c *Client) Signal(ctx context.Context, shellID, commandID, code string) error {
	return c.empty(ctx, SignalRequest{ShellID: shellID, CommandID: commandID, Code: code}, ActionSignalResponse)
}

// Delete closes a shell.
func (c *Client) Delete(ctx context.Context, shellID string) error {
	return c.empty(ctx, DeleteRequest{ShellID: shellID}, ActionDeleteResponse)
}

// Disconnect disconnects a shell; idle (0 = keep the Create value) is how
// long the server keeps it, bufferMode BufferModeBlock, BufferModeDrop or
// empty (server default).
func (c *Client) Disconnect(ctx context.Context, shellID string, idle time.Duration, bufferMode string) error {
	return c.empty(ctx, DisconnectRequest{ShellID: shellID, IdleTimeout: idle, BufferMode: bufferMode}, ActionDisconnectResponse)
}

// Reconnect resumes a shell this client disconnected.
func (c *Client) Reconnect(ctx context.Context, shellID string) error {
	return c.empty(ctx, ReconnectRequest{ShellID: shellID}, ActionReconnectResponse)
}

// Connect attaches this client to a disconnected shell with connectXML
// (SESSION_CAPABILITY + CONNECT_RUNSPACEPOOL fragments) and returns the
// server's connectResponseXml fragments.
func (c *Client) Connect(ctx context.Context, shellID string, connectXML []byte) ([]byte, error) {
	if connectXML == nil {
		connectXML = []byte{}
	}
	resp, err := c.Do(ctx, ConnectRequest{ShellID: shellID, ConnectXML: connectXML})
	if err != nil {
		return nil, err
	}
	cr, err := resp.Connect()
	if err != nil {
		return nil, err
	}
	return cr.ConnectResponseXML, nil
}

// ConnectCommand attaches to a command of a connected shell; its buffered
// output is then read with Receive.
func (c *Client) ConnectCommand(ctx context.Context, shellID, commandID string) error {
	resp, err := c.Do(ctx, ConnectRequest{ShellID: shellID, CommandID: commandID})
	if err != nil {
		return err
	}
	_, err = resp.Connect()
	return err
}

// Get reads a shell's properties (State Connected/Disconnected...). An
// unknown shell gives a fault for which IsShellNotFound is true.
func (c *Client) Get(ctx context.Context, shellID string) (*Shell, error) {
	resp, err := c.Do(ctx, GetShellRequest{ShellID: shellID})
	if err != nil {
		return nil, err
	}
	return resp.Shell()
}

// defaultMaxElements is the MaxElements of enumerations (Windows'
// default MaxBatchItems).
const defaultMaxElements = 32000

func (c *Client) maxElements() int {
	if c.MaxElements > 0 {
		return c.MaxElements
	}
	return defaultMaxElements
}

// maxPulls bounds the Pull loop of one enumeration.
const maxPulls = 1000

// EnumerateShells lists the shells the server shows this user (all
// resources: use Shell.IsPowerShell to keep PowerShell ones).
func (c *Client) EnumerateShells(ctx context.Context) ([]Shell, error) {
	e, err := c.enumerate(ctx, EnumerateRequest{ResourceURI: ResourceShell, Optimize: true, MaxElements: c.maxElements()})
	if err != nil {
		return nil, err
	}
	return e.Shells, nil
}

// EnumerateCommands lists the commands of a shell.
func (c *Client) EnumerateCommands(ctx context.Context, shellID string) ([]CommandInfo, error) {
	e, err := c.enumerate(ctx, EnumerateRequest{ResourceURI: ResourceShellCommand, Optimize: true, MaxElements: c.maxElements(), ShellID: shellID})
	if err != nil {
		return nil, err
	}
	return e.Commands, nil
}

// enumerate runs an Enumerate and, when the server did not end the
// sequence in its response, Pulls until it does.
func (c *Client) enumerate(ctx context.Context, req EnumerateRequest) (*Enumeration, error) {
	resp, err := c.Do(ctx, req)
	if err != nil {
		return nil, err
	}
	all, err := resp.Enumerate()
	if err != nil {
		return nil, err
	}
	next := all.Context
	end := all.EndOfSequence
	for i := 0; !end && next != ""; i++ {
		if i == maxPulls {
			return nil, fmt.Errorf("wsman: enumeration from %s did not end after %d pulls", redact(c.URL), maxPulls)
		}
		resp, err := c.Do(ctx, PullRequest{ResourceURI: req.ResourceURI, Context: next, MaxElements: c.maxElements()})
		if err != nil {
			return nil, err
		}
		p, err := resp.Pull()
		if err != nil {
			return nil, err
		}
		all.Shells = append(all.Shells, p.Shells...)
		all.Commands = append(all.Commands, p.Commands...)
		next, end = p.Context, p.EndOfSequence
	}
	return all, nil
}

// GetMaxEnvelopeSize reads cfg:MaxEnvelopeSizekb from the WinRM
// configuration and returns it in bytes (reading the configuration usually
// needs an administrator).
func (c *Client) GetMaxEnvelopeSize(ctx context.Context) (int, error) {
	resp, err := c.Do(ctx, GetConfigRequest{})
	if err != nil {
		return 0, err
	}
	cfg, err := resp.Config()
	if err != nil {
		return 0, err
	}
	return cfg.MaxEnvelopeSizeKB * 1024, nil
}

func (c *Client) empty(ctx context.Context, req Request, action string) error {
	resp, err := c.Do(ctx, req)
	if err != nil {
		return err
	}
	return resp.Empty(action)
}

// IsPowerShell reports whether the shell is a PowerShell runspace pool
// (its resource URI is under ResourcePowerShellPrefix).
func (s Shell) IsPowerShell() bool {
	return strings.HasPrefix(s.ResourceURI, ResourcePowerShellPrefix)
}
