package endpoint

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pssession/pssession/remote/wsman/transport"
)

// Clock is the time source of idle timeouts and Receive long-polls; tests
// inject a fake one.
type Clock interface {
	Now() time.Time
	// After returns a channel that receives once d has elapsed, and a
	// function that releases the timer early.
	After(d time.Duration) (<-chan time.Time, func())
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) After(d time.Duration) (<-chan time.Time, func()) {
	t := time.NewTimer(d)
	return t.C, func() { t.Stop() }
}

// Defaults (MS-WSMV 3.1.4.11: Windows' IdleTimeOut PT7200S, MaxIdleTimeOut
// PT2147483.647S).
const (
	DefaultIdleTimeout      = 7200 * time.Second
	DefaultMaxIdleTimeout   = 2147483647 * time.Millisecond
	DefaultOperationTimeout = 60 * time.Second
)

// Config configures a Handler. The zero value serves Microsoft.PowerShell
// and WinRS with the scripted engine as user "anonymous".
type Config struct {
	// Engine runs PowerShell pipelines and WinRS "powershell" command
	// lines; nil means Scripted{}.
	Engine Engine
	// Configurations are extra PowerShell configuration names served
	// besides Microsoft.PowerShell (resource .../powershell/<name>).
	Configurations []string
	// User names the authenticated caller of r; nil means the user
	// transport.ServerAuth authenticated, and "" means "anonymous".
	User func(r *http.Request) string
	// Machine is the host name shown in faults and shell owners
	// (default: os.Hostname).
	Machine string
	// Clock defaults to the real clock.
	Clock Clock
	// Logger receives one debug line per request; nil discards.
	Logger *slog.Logger
	// IdleTimeout is the default shell idle timeout (DefaultIdleTimeout).
	IdleTimeout time.Duration
	// MaxIdleTimeout caps requested idle timeouts (DefaultMaxIdleTimeout).
	MaxIdleTimeout time.Duration
	// BufferLimit is the per-command buffer limit (DefaultBufferLimit).
	BufferLimit int
	// MaxShellsPerUser (DefaultMaxShellsPerUser) and MaxCommandsPerShell
	// (DefaultMaxCommandsPerShell) bound what one user may hold.
	MaxShellsPerUser, MaxCommandsPerShell int
	// ClientTimeout disconnects a connected PowerShell shell whose client
	// has gone: no request in flight and none for this long (a live
	// PowerShell client always keeps a Receive outstanding). The shell and
	// its commands keep running, as when a client's network drops
	// (about_PSSession_Details). Zero means DefaultClientTimeout; negative
	// disables it.
	ClientTimeout time.Duration
}

// Handler is the /wsman http.Handler. Close it to stop every shell.
type Handler struct {
	cfg     Config
	clock   Clock
	log     *slog.Logger
	machine string
	engine  Engine

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	changed chan struct{} // closed on the next state change; nil until someone waits (changedLocked)
	shells  map[string]*shell
	enums   map[string]*enumeration
	closed  bool
	// clientSeen is when a PowerShell shell's client last had a request
	// served successfully (failed Connect attempts of other clients do not
	// count): the basis of ClientTimeout.
	clientSeen map[string]time.Time
}

// New returns a Handler for cfg.
func New(cfg Config) *Handler {
	h := &Handler{cfg: cfg, clock: cfg.Clock, log: cfg.Logger, machine: cfg.Machine, engine: cfg.Engine,
		shells: map[string]*shell{}, enums: map[string]*enumeration{},
		clientSeen: map[string]time.Time{}}
	if h.clock == nil {
		h.clock = realClock{}
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.machine == "" {
		h.machine, _ = os.Hostname()
		if h.machine == "" {
			h.machine = "localhost"
		}
	}
	if h.engine == nil {
		h.engine = Scripted{}
	}
	if h.cfg.IdleTimeout <= 0 {
		h.cfg.IdleTimeout = DefaultIdleTimeout
	}
	if h.cfg.MaxIdleTimeout <= 0 {
		h.cfg.MaxIdleTimeout = DefaultMaxIdleTimeout
	}
	if h.cfg.BufferLimit <= 0 {
		h.cfg.BufferLimit = DefaultBufferLimit
	}
	if h.cfg.MaxShellsPerUser <= 0 {
		h.cfg.MaxShellsPerUser = DefaultMaxShellsPerUser
	}
	if h.cfg.MaxCommandsPerShell <= 0 {
		h.cfg.MaxCommandsPerShell = DefaultMaxCommandsPerShell
	}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	if _, real := h.clock.(realClock); real {
		h.wg.Add(1)
		go h.sweepLoop()
	}
	return h
}

// Close deletes every shell, stops their commands and waits for them.
func (h *Handler) Close() error {
	h.mu.Lock()
	h.closed = true
	shells := h.shells
	h.shells = map[string]*shell{}
	h.notifyLocked()
	h.mu.Unlock()
	for _, s := range shells {
		s.close()
	}
	h.cancel()
	h.wg.Wait()
	return nil
}

// sweepLoop expires idle shells once a second under the real clock; with
// an injected clock the sweep runs at the start of every request.
func (h *Handler) sweepLoop() {
	defer h.wg.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-t.C:
			h.expireIdle()
		}
	}
}

// expireIdle deletes the shells whose idle timeout elapsed, and
// disconnects PowerShell shells whose client has gone.
func (h *Handler) expireIdle() {
	now := h.clock.Now()
	var dead []*shell
	h.mu.Lock()
	for id, s := range h.shells {
		if s.expired(now) {
			delete(h.shells, id)
			dead = append(dead, s)
			continue
		}
		if h.clientGoneLocked(s, now) {
			delete(h.clientSeen, s.id)
			h.log.Info("endpoint: client gone; shell disconnected", "shell", s.id, "owner", s.owner)
			s.disconnected = true
			s.disconnectedAt = now
			if s.bufferMode == "Drop" {
				for _, cmd := range s.commands {
					if cmd.p != nil {
						h.psDropLocked(cmd.p, h.cfg.BufferLimit)
					}
				}
			}
			h.notifyLocked()
		}
	}
	for id := range h.clientSeen {
		if h.shells[id] == nil {
			delete(h.clientSeen, id)
		}
	}
	if len(dead) > 0 {
		h.notifyLocked()
	}
	h.mu.Unlock()
	for _, s := range dead {
		h.log.Info("endpoint: shell idle timeout expired", "shell", s.id, "owner", s.owner)
		s.close()
	}
}

// clientGoneLocked reports whether s is a connected PowerShell shell that
// no client has served for ClientTimeout; h.mu must be held.
func (h *Handler) clientGoneLocked(s *shell, now time.Time) bool {
	limit := h.cfg.ClientTimeout
	if limit < 0 || s.ps == nil || s.disconnected || s.inFlight > 0 {
		return false
	}
	if limit == 0 {
		limit = DefaultClientTimeout
	}
	since := s.created
	if t := h.clientSeen[s.id]; t.After(since) {
		since = t
	}
	return now.Sub(since) > limit
}

// notifyLocked wakes every waiting Receive; h.mu must be held. Output
// notifies once per record, so the channel is only made when someone
// waits (changedLocked).
func (h *Handler) notifyLocked() {
	if h.changed != nil {
		close(h.changed)
		h.changed = nil
	}
}

// changedLocked returns a channel closed at the next notifyLocked; h.mu
// must be held.
func (h *Handler) changedLocked() <-chan struct{} {
	if h.changed == nil {
		h.changed = make(chan struct{})
	}
	return h.changed
}

// call is one request being served.
type call struct {
	ctx      context.Context
	req      *request
	user     string
	clientIP string
	host     string // the Host the client addressed, for wsa:Address
	scheme   string
	// env is the response envelope when a handler rendered the whole
	// success envelope itself (startEnvelope, then endEnvelope) instead
	// of returning a body to copy: bulk Receive.
	env     *bytes.Buffer
	envDone bool
}

// startEnvelope renders the success envelope up to the body into c.env
// (sizeHint: the body's expected size) and returns the buffer for the
// body; endEnvelope closes it.
func (c *call) startEnvelope(sizeHint int) *bytes.Buffer {
	if c.env == nil {
		c.env = envelopes.Get().(*bytes.Buffer)
	}
	c.env.Reset()
	writeEnvelopeHead(c.env, c.req.Header.Action+"Response", c.req.Header.MessageID, sizeHint)
	return c.env
}

func (c *call) endEnvelope() {
	writeEnvelopeTail(c.env)
	c.envDone = true
}

// ServeHTTP serves POST /wsman (any query string).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	status, action, user := http.StatusOK, "", ""
	defer func() {
		h.log.Debug("wsman request", "method", r.Method, "action", action, "user", user,
			"status", status, "duration", time.Since(start))
	}()
	if r.URL.Path != "/wsman" && r.URL.Path != "/wsman/" {
		status = http.StatusNotFound
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		status = http.StatusMethodNotAllowed
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "endpoint: WS-Management requests are POSTed", status)
		return
	}
	user = transport.UserFrom(r.Context())
	if h.cfg.User != nil {
		user = h.cfg.User(r)
	}
	if user == "" {
		user = "anonymous"
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxRequestBytes))
	var resp string // the response body, without the envelope
	var fault *Fault
	var req *request
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			fault = faultTooLarge(MaxRequestBytes)
		} else {
			fault = faultSchema("reading the request body: " + err.Error())
		}
	} else if len(data) == 0 {
		// An empty POST completes an authentication round trip (MS-WSMV 2.2.9.1).
		status = http.StatusOK
		w.WriteHeader(status)
		return
	} else {
		req, fault = parseRequest(data)
	}
	if req != nil {
		action = shortAction(req.Header.Action)
	}
	var env *bytes.Buffer
	envDone := false
	if fault == nil {
		c := &call{ctx: r.Context(), req: req, user: user, clientIP: clientIP(r), host: r.Host, scheme: "http"}
		if r.TLS != nil {
			c.scheme = "https"
		}
		resp, fault = h.serve(c)
		env, envDone = c.env, c.envDone && fault == nil
	}
	if env == nil {
		env = envelopes.Get().(*bytes.Buffer)
	}
	defer putEnvelope(env)
	relates := ""
	if req != nil {
		relates = req.Header.MessageID
	}
	w.Header().Set("Content-Type", "application/soap+xml;charset=UTF-8")
	if fault != nil {
		status = fault.Status
		if status == 0 {
			status = http.StatusInternalServerError
		}
		action += " fault " + fault.Subcode
	}
	switch {
	case fault != nil:
		env.Reset()
		writeEnvelope(env, actionFault, relates, fault.body(h.machine))
	case !envDone:
		env.Reset()
		writeEnvelope(env, req.Header.Action+"Response", relates, resp)
	}
	w.Header().Set("Content-Length", strconv.Itoa(env.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(env.Bytes())
}

// serve dispatches one parsed request, turning a panic into a fault.
func (h *Handler) serve(c *call) (resp string, fault *Fault) {
	defer func() {
		if v := recover(); v != nil {
			h.log.Error("endpoint: panic serving request", "panic", v, "stack", string(debug.Stack()))
			resp, fault = "", faultInternal(fmt.Sprint(v))
		}
	}()
	if _, real := h.clock.(realClock); !real {
		h.expireIdle()
	}
	if f := c.req.checkOptions(); f != nil {
		return "", f
	}
	return h.dispatch(c)
}

// dispatch routes by wsa:Action and ResourceURI and returns the body.
func (h *Handler) dispatch(c *call) (string, *Fault) {
	hd := &c.req.Header
	res := hd.ResourceURI
	switch hd.Action {
	case actionCreate:
		switch {
		case strings.EqualFold(res, resourceCmd):
			return h.winrsCreate(c)
		case h.isPowerShell(res):
			return h.psCreate(c)
		}
		return "", faultResourceURI(res)
	case actionGet:
		switch {
		case strings.EqualFold(res, resourceConfig):
			return configBody(), nil
		case strings.EqualFold(res, resourceShell), strings.EqualFold(res, resourceCmd), h.isPowerShell(res):
			return h.shellGet(c)
		}
		return "", faultResourceURI(res)
	case actionEnumerate:
		switch {
		case strings.EqualFold(res, resourceShell):
			return h.enumerateShells(c)
		case strings.EqualFold(res, resourceShellCommand):
			return h.enumerateCommands(c)
		}
		return "", faultResourceURI(res)
	case actionPull:
		return h.pull(c)
	case actionDelete, actionCommand, actionSend, actionReceive, actionSignal,
		actionDisconnect, actionReconnect, actionConnect:
	default:
		return "", faultActionNotSupported(hd.Action)
	}
	if !strings.EqualFold(res, resourceCmd) && !h.isPowerShell(res) {
		return "", faultResourceURI(res)
	}
	s, f := h.lookup(c)
	if f != nil {
		return "", f
	}
	if s.kind == kindCmd {
		return h.winrsDispatch(c, s)
	}
	body, f := h.psDispatch(c, s)
	if f == nil {
		h.mu.Lock()
		h.clientSeen[s.id] = h.clock.Now()
		h.mu.Unlock()
	}
	return body, f
}

// isPowerShell reports whether uri names a served PowerShell configuration.
func (h *Handler) isPowerShell(uri string) bool {
	if len(uri) <= len(resourcePowerShell) || !strings.EqualFold(uri[:len(resourcePowerShell)], resourcePowerShell) {
		return false
	}
	name := uri[len(resourcePowerShell):]
	if strings.EqualFold(name, "Microsoft.PowerShell") {
		return true
	}
	for _, c := range h.cfg.Configurations {
		if strings.EqualFold(c, name) {
			return true
		}
	}
	return false
}

// lookup finds the request's shell (selector ShellId) owned by the caller.
func (h *Handler) lookup(c *call) (*shell, *Fault) {
	id := strings.ToUpper(c.req.selector("ShellId"))
	if id == "" {
		return nil, faultInvalidSelectors()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.shells[id]
	if s == nil {
		return nil, faultInvalidSelectors()
	}
	if s.owner != c.user {
		return nil, faultAccessDenied()
	}
	if !s.disconnected {
		// A disconnected shell's idle time runs from its Disconnect.
		s.lastActivity = h.clock.Now()
	}
	return s, nil
}

// configBody answers a Get on the config resource (MS-WSMV 3.1.4.1.8):
// clients read MaxEnvelopeSizekb from it.
func configBody() string {
	return `<cfg:Config xmlns:cfg="` + nsConfig + `"><cfg:MaxEnvelopeSizekb>` + fmt.Sprint(maxEnvelopeSizeKB) +
		`</cfg:MaxEnvelopeSizekb><cfg:MaxTimeoutms>60000</cfg:MaxTimeoutms><cfg:MaxBatchItems>32000</cfg:MaxBatchItems></cfg:Config>`
}

func shortAction(a string) string {
	if i := strings.LastIndexByte(a, '/'); i >= 0 {
		return a[i+1:]
	}
	return a
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
