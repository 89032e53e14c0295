package psrp

import (
	"encoding/base64"
	"fmt"
	"io"

	"github.com/pssession/pssession/remote/psrp/clixml"
)

// ServerConfig configures a server runspace pool. The zero value is usable.
type ServerConfig struct {
	// RunspacePoolID is the pool id (= WSMan ShellId); zero adopts the RPID
	// of the first message received.
	RunspacePoolID clixml.GUID
	// ApplicationPrivateData is the PSPrimitiveDictionary sent in
	// APPLICATION_PRIVATE_DATA; nil sends an empty one.
	ApplicationPrivateData *clixml.Object
	// Rand is the entropy source for session keys; nil means crypto/rand.
	Rand io.Reader
	// Limits bounds what the client may send; zero means the defaults.
	Limits Limits
}

// ServerPool is the server role of a runspace pool (MS-PSRP 3.2), for the
// loopback endpoint and in-memory tests. Like ClientPool it does no I/O.
type ServerPool struct {
	core poolCore
	cfg  ServerConfig

	clientCap    *SessionCapabilityReceived
	connecting   bool // a new client's connectXml is being received
	min, max     int32
	hostInfo     *clixml.Object
	appArgs      *clixml.Object
	nextCallID   int64
	hostCalls    map[int64]HostMethodID // pool host calls awaiting a response
	availability map[int64]pendingRequest
	pipelines    map[clixml.GUID]*ServerPipeline
}

// NewServerPool returns a server pool in state BeforeOpen.
func NewServerPool(cfg ServerConfig) *ServerPool {
	if cfg.ApplicationPrivateData == nil {
		cfg.ApplicationPrivateData = emptyPrimitiveDictionary()
	}
	s := &ServerPool{
		cfg:          cfg,
		nextCallID:   1,
		hostCalls:    make(map[int64]HostMethodID),
		availability: make(map[int64]pendingRequest),
		pipelines:    make(map[clixml.GUID]*ServerPipeline),
	}
	s.core.init("ServerPool", DestinationClient, cfg.RunspacePoolID, cfg.Rand, cfg.Limits)
	return s
}

// ID returns the runspace pool id (zero until known).
func (s *ServerPool) ID() clixml.GUID { return s.core.id }

// State returns the pool state.
func (s *ServerPool) State() RunspacePoolState { return s.core.state }

// ClientCapability returns the client's SESSION_CAPABILITY once received.
func (s *ServerPool) ClientCapability() (SessionCapabilityReceived, bool) {
	if s.clientCap == nil {
		return SessionCapabilityReceived{}, false
	}
	return *s.clientCap, true
}

// HostInfo returns the client's HostInfo from INIT_RUNSPACEPOOL.
func (s *ServerPool) HostInfo() *clixml.Object { return s.hostInfo }

// ApplicationArguments returns the client's ApplicationArguments, or nil.
func (s *ServerPool) ApplicationArguments() *clixml.Object { return s.appArgs }

// MinRunspaces and MaxRunspaces return the current limits.
func (s *ServerPool) MinRunspaces() int32 { return s.min }

// MaxRunspaces: see MinRunspaces.
func (s *ServerPool) MaxRunspaces() int32 { return s.max }

// SessionKey returns the session key, or nil before a key exchange.
func (s *ServerPool) SessionKey() []byte { return s.core.sessionKey }

// Pipeline returns the pipeline with id pid, or nil.
func (s *ServerPool) Pipeline(pid clixml.GUID) *ServerPipeline { return s.pipelines[pid] }

// RemovePipeline forgets a finished pipeline (after WSMan Signal terminate).
func (s *ServerPool) RemovePipeline(pid clixml.GUID) { delete(s.pipelines, pid) }

// DataToSend returns the next packet for the client, at most max bytes of
// whole fragments (max <= 0: no limit), or nil. PipelineID says which
// command's output stream carries it (zero: the pool's).
func (s *ServerPool) DataToSend(max int) *OutgoingData {
	return s.core.out.next(max, clixml.GUID{}, false)
}

// DataToSendFor is DataToSend restricted to the messages of pipeline pid
// (zero: the pool's own stream), for a transport that serves each stream
// on demand.
func (s *ServerPool) DataToSendFor(pid clixml.GUID, max int) *OutgoingData {
	return s.core.out.next(max, pid, true)
}

// ReceiveData consumes a packet of fragments from the client (creationXml,
// Send, Command arguments).
func (s *ServerPool) ReceiveData(data []byte) error { return s.core.receive(data, s.handle) }

// ReceiveConnect consumes the connectXml of a WSMan Connect from a new
// client (MS-PSRP 3.2.5.3.13): reassembly restarts (the new client's
// ObjectIds start at 1) and queued pool-stream messages meant for the
// previous client are dropped; pipeline output stays queued. The next
// DataToSend packet is the connectResponseXml (SESSION_CAPABILITY and
// RUNSPACEPOOL_INIT_DATA); APPLICATION_PRIVATE_DATA and RUNSPACEPOOL_STATE
// Opened follow on the pool stream.
func (s *ServerPool) ReceiveConnect(data []byte) error {
	if err := guardPool("ServerPool.ReceiveConnect", s.core.state, PoolOpened); err != nil {
		return err
	}
	s.core.in.Reset()
	s.core.out.dropPool()
	s.connecting = true
	return s.core.receive(data, s.handle)
}

// NextEvent returns the oldest unread event.
func (s *ServerPool) NextEvent() (Event, bool) { return s.core.nextEvent() }

func (s *ServerPool) setState(to RunspacePoolState, rec *clixml.Object) {
	if s.core.setState(to) {
		s.core.emit(PoolStateChanged{State: to, Error: rec})
	}
}

func (s *ServerPool) queueState(st RunspacePoolState, rec *clixml.Object) error {
	body := msObject(prop("RunspaceState", int32(st)))
	if rec != nil {
		body.Members = append(body.Members, prop("ExceptionAsErrorRecord", rec))
	}
	return s.core.queue(MsgRunspacePoolState, clixml.GUID{}, body, StreamDefault)
}

// Open accepts the client's INIT_RUNSPACEPOOL (MS-PSRP 3.2.5.3.2): it queues
// SESSION_CAPABILITY, APPLICATION_PRIVATE_DATA and RUNSPACEPOOL_STATE
// Opened, and moves Opening → Opened.
func (s *ServerPool) Open() error {
	if err := guardPool("ServerPool.Open", s.core.state, PoolOpening); err != nil {
		return err
	}
	if err := s.core.queue(MsgSessionCapability, clixml.GUID{}, capabilityBody(), StreamDefault); err != nil {
		return err
	}
	if err := s.queueOpened(); err != nil {
		return err
	}
	s.setState(PoolOpened, nil)
	return nil
}

func (s *ServerPool) queueOpened() error {
	if err := s.core.queue(MsgApplicationPrivateData, clixml.GUID{}, msObject(prop("ApplicationPrivateData", s.cfg.ApplicationPrivateData)), StreamDefault); err != nil {
		return err
	}
	return s.queueState(PoolOpened, nil)
}

// Close queues RUNSPACEPOOL_STATE Closed and moves to Closed (the WSMan
// shell was deleted). Running pipelines are abandoned.
func (s *ServerPool) Close() error {
	if err := guardPool("ServerPool.Close", s.core.state, PoolOpened, PoolOpening, PoolBeforeOpen); err != nil {
		return err
	}
	if err := s.queueState(PoolClosed, nil); err != nil {
		return err
	}
	s.setState(PoolClosed, nil)
	return nil
}

// SetBroken queues RUNSPACEPOOL_STATE Broken with rec as
// ExceptionAsErrorRecord (nil: none) and moves to Broken.
func (s *ServerPool) SetBroken(rec *clixml.Object) error {
	if err := guardPool("ServerPool.SetBroken", s.core.state, PoolOpened, PoolOpening, PoolBeforeOpen); err != nil {
		return err
	}
	if err := s.queueState(PoolBroken, rec); err != nil {
		return err
	}
	s.setState(PoolBroken, rec)
	return nil
}

// RequestPublicKey queues PUBLIC_KEY_REQUEST, asking the client to start
// the key exchange (MS-PSRP 3.2.4.3; for clients before protocol 2.2).
func (s *ServerPool) RequestPublicKey() error {
	if err := guardPool("ServerPool.RequestPublicKey", s.core.state, PoolOpened); err != nil {
		return err
	}
	return s.core.queue(MsgPublicKeyRequest, clixml.GUID{}, "", StreamDefault)
}

// HostCall queues RUNSPACEPOOL_HOST_CALL and returns its call id
// (VoidCallID for void methods, which get no response; others are
// answered by a HostResponseReceived event with PipelineID zero).
func (s *ServerPool) HostCall(method HostMethodID, params ...clixml.Value) (int64, error) {
	if err := guardPool("ServerPool.HostCall", s.core.state, PoolOpened); err != nil {
		return 0, err
	}
	ci := VoidCallID
	if !method.Void() {
		ci = s.nextCallID
	}
	if err := s.core.queue(MsgRunspacePoolHostCall, clixml.GUID{}, hostCallBody(ci, method, params), StreamDefault); err != nil {
		return 0, err
	}
	if ci != VoidCallID {
		s.nextCallID++
		s.hostCalls[ci] = method
	}
	return ci, nil
}

// SendUserEvent queues USER_EVENT with an event object carrying the
// PSEventArgs.* properties (MS-PSRP 2.2.2.12).
func (s *ServerPool) SendUserEvent(event *clixml.Object) error {
	if err := guardPool("ServerPool.SendUserEvent", s.core.state, PoolOpened); err != nil {
		return err
	}
	return s.core.queue(MsgUserEvent, clixml.GUID{}, event, StreamDefault)
}

// RespondAvailability answers the request ci with RUNSPACE_AVAILABILITY
// (MS-PSRP 2.2.2.8): a bool for the Set and Reset requests, an integer
// count (int64) for GetAvailableRunspaces. An accepted Set request
// updates the pool's limits.
func (s *ServerPool) RespondAvailability(ci int64, value clixml.Value) error {
	if err := guardPool("ServerPool.RespondAvailability", s.core.state, PoolOpened); err != nil {
		return err
	}
	pr, ok := s.availability[ci]
	if !ok {
		return fmt.Errorf("psrp: no pending availability request %d", ci)
	}
	body := msObject(prop("SetMinMaxRunspacesResponse", value), prop("ci", ci))
	if err := s.core.queue(MsgRunspaceAvailability, clixml.GUID{}, body, StreamDefault); err != nil {
		return err
	}
	delete(s.availability, ci)
	if b, ok := value.(bool); ok && b {
		switch pr.req {
		case RequestSetMaxRunspaces:
			s.max = pr.limit
		case RequestSetMinRunspaces:
			s.min = pr.limit
		}
	}
	return nil
}

// EncryptSecureString encrypts s with the session key.
func (s *ServerPool) EncryptSecureString(plain string) (clixml.SecureString, error) {
	return encryptSecureString(s.core.sessionKey, plain)
}

// DecryptSecureString decrypts a SecureString the client sent.
func (s *ServerPool) DecryptSecureString(ss clixml.SecureString) (string, error) {
	return decryptSecureString(s.core.sessionKey, ss)
}

func (s *ServerPool) handle(m Message) error {
	if m.Destination != DestinationServer {
		return &UnexpectedMessageError{Type: m.Type, PipelineID: m.PID, Reason: fmt.Sprintf("destination %d", m.Destination)}
	}
	if s.core.id == (clixml.GUID{}) {
		s.core.id = m.RPID
	}
	switch s.core.state {
	case PoolClosed, PoolBroken:
		return &UnexpectedMessageError{Type: m.Type, PipelineID: m.PID, Reason: "pool is " + s.core.state.String()}
	}
	switch m.Type {
	case MsgSessionCapability:
		return s.handleCapability(m)
	case MsgInitRunspacePool:
		return s.handleInit(m)
	case MsgConnectRunspacePool:
		return s.handleConnect(m)
	}
	if s.core.state != PoolOpened {
		return &UnexpectedMessageError{Type: m.Type, PipelineID: m.PID, Reason: "pool is " + s.core.state.String()}
	}
	switch m.Type {
	case MsgPublicKey:
		return s.handlePublicKey(m)
	case MsgSetMaxRunspaces, MsgSetMinRunspaces, MsgGetAvailableRunspaces, MsgResetRunspaceState:
		return s.handleAvailabilityRequest(m)
	case MsgRunspacePoolHostResponse:
		resp, err := decodeHostResponse(&s.core, m)
		if err != nil {
			return err
		}
		if _, ok := s.hostCalls[resp.CallID]; !ok {
			return &UnexpectedMessageError{Type: m.Type, Reason: fmt.Sprintf("no pending host call %d", resp.CallID)}
		}
		delete(s.hostCalls, resp.CallID)
		resp.PipelineID = clixml.GUID{}
		s.core.emit(resp)
		return nil
	case MsgCreatePipeline, MsgGetCommandMetadata:
		return s.handleCreatePipeline(m)
	case MsgPipelineInput, MsgEndOfPipelineInput, MsgPipelineHostResponse:
		pl := s.pipelines[m.PID]
		if pl == nil {
			return &UnexpectedMessageError{Type: m.Type, PipelineID: m.PID, Reason: "unknown pipeline"}
		}
		return pl.handle(m)
	}
	return &UnexpectedMessageError{Type: m.Type, PipelineID: m.PID, Reason: "not a server pool message"}
}

func (s *ServerPool) handleCapability(m Message) error {
	if s.core.state != PoolBeforeOpen && !s.connecting {
		return &UnexpectedMessageError{Type: m.Type, Reason: "capability after open"}
	}
	c, err := decodeCapability(&s.core, m)
	if err != nil {
		return err
	}
	s.clientCap = &c
	s.core.emit(c)
	if c.ProtocolVersion.Major != ProtocolVersion.Major {
		// MS-PSRP 3.2.5.3.1: incompatible versions break the pool.
		err := fmt.Errorf("psrp: client protocol version %s is not compatible with %s", c.ProtocolVersion, ProtocolVersion)
		rec := errorRecordObject(err.Error(), "System.Management.Automation.Remoting.PSRemotingDataStructureException",
			"ServerClientVersionMismatch", errorCategoryInvalidOperation, "PSRemotingDataStructureException", hresultSystemException)
		if qerr := s.queueState(PoolBroken, rec); qerr != nil {
			return qerr
		}
		s.core.state = PoolBroken
		s.core.emit(PoolStateChanged{State: PoolBroken, Error: rec})
		return err
	}
	return nil
}

func (s *ServerPool) handleInit(m Message) error {
	if s.core.state != PoolBeforeOpen || s.clientCap == nil {
		return &UnexpectedMessageError{Type: m.Type, Reason: "INIT_RUNSPACEPOOL before SESSION_CAPABILITY or after open"}
	}
	v, err := s.core.decodeData(m)
	if err != nil {
		return err
	}
	r := newReader("INIT_RUNSPACEPOOL", v)
	ev := RunspacePoolInitReceived{
		MinRunspaces:         r.int32("MinRunspaces"),
		MaxRunspaces:         r.int32("MaxRunspaces"),
		HostInfo:             r.object("HostInfo"),
		ApplicationArguments: r.object("ApplicationArguments"),
	}
	if r.err != nil {
		return r.err
	}
	s.min, s.max = ev.MinRunspaces, ev.MaxRunspaces
	s.hostInfo, s.appArgs = ev.HostInfo, ev.ApplicationArguments
	s.setState(PoolOpening, nil)
	s.core.emit(ev)
	return nil
}

func (s *ServerPool) handleConnect(m Message) error {
	if !s.connecting || s.clientCap == nil {
		return &UnexpectedMessageError{Type: m.Type, Reason: "CONNECT_RUNSPACEPOOL outside a WSMan Connect"}
	}
	v, err := s.core.decodeData(m)
	if err != nil {
		return err
	}
	var ev ConnectReceived
	if o, ok := v.(*clixml.Object); ok {
		r := newReader("CONNECT_RUNSPACEPOOL", o)
		if _, ok := r.optional("MinRunspaces"); ok {
			n := r.int32("MinRunspaces")
			ev.MinRunspaces = &n
		}
		if _, ok := r.optional("MaxRunspaces"); ok {
			n := r.int32("MaxRunspaces")
			ev.MaxRunspaces = &n
		}
		if r.err != nil {
			return r.err
		}
	}
	// The new client needs a fresh key exchange (shared/PROTOCOL.md §4).
	s.core.sessionKey = nil
	if err := s.core.queue(MsgSessionCapability, clixml.GUID{}, capabilityBody(), StreamDefault); err != nil {
		return err
	}
	data, err := encodeBody(msObject(prop("MinRunspaces", s.min), prop("MaxRunspaces", s.max)))
	if err != nil {
		return err
	}
	s.core.queueRaw(MsgRunspacePoolInitData, clixml.GUID{}, data, StreamDefault, true)
	if err := s.queueOpened(); err != nil {
		return err
	}
	s.connecting = false
	s.core.emit(ev)
	return nil
}

func (s *ServerPool) handlePublicKey(m Message) error {
	v, err := s.core.decodeData(m)
	if err != nil {
		return err
	}
	r := newReader("PUBLIC_KEY", v)
	text := r.string("PublicKey")
	if r.err != nil {
		return r.err
	}
	blob, err := base64.StdEncoding.DecodeString(text)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrKeyBlob, err)
	}
	pub, err := ParsePublicKeyBlob(blob)
	if err != nil {
		return err
	}
	key, err := NewSessionKey(s.core.rand)
	if err != nil {
		return err
	}
	enc, err := EncryptSessionKey(s.core.rand, pub, key)
	if err != nil {
		return err
	}
	body := msObject(prop("EncryptedSessionKey", base64.StdEncoding.EncodeToString(enc)))
	if err := s.core.queue(MsgEncryptedSessionKey, clixml.GUID{}, body, StreamDefault); err != nil {
		return err
	}
	s.core.sessionKey = key
	s.core.emit(SessionKeyReady{})
	return nil
}

func (s *ServerPool) handleAvailabilityRequest(m Message) error {
	v, err := s.core.decodeData(m)
	if err != nil {
		return err
	}
	var ev AvailabilityRequested
	r := newReader("availability request", v)
	switch m.Type {
	case MsgSetMaxRunspaces:
		ev.Request, ev.Count = RequestSetMaxRunspaces, r.int32("MaxRunspaces")
	case MsgSetMinRunspaces:
		ev.Request, ev.Count = RequestSetMinRunspaces, r.int32("MinRunspaces")
	case MsgGetAvailableRunspaces:
		ev.Request = RequestGetAvailableRunspaces
	default:
		ev.Request = RequestResetRunspaceState
	}
	ev.CallID = r.int64("ci")
	if r.err != nil {
		return r.err
	}
	if _, dup := s.availability[ev.CallID]; dup {
		return &UnexpectedMessageError{Type: m.Type, Reason: fmt.Sprintf("call id %d already pending", ev.CallID)}
	}
	s.availability[ev.CallID] = pendingRequest{req: ev.Request, limit: ev.Count}
	s.core.emit(ev)
	return nil
}

func (s *ServerPool) handleCreatePipeline(m Message) error {
	if m.PID == (clixml.GUID{}) {
		return &UnexpectedMessageError{Type: m.Type, Reason: "zero pipeline id"}
	}
	if old := s.pipelines[m.PID]; old != nil && !old.state.Terminal() {
		// A finished pipeline's id may be reused (pypsrp re-invokes a
		// PowerShell object under the same id; Windows accepts it).
		return &UnexpectedMessageError{Type: m.Type, PipelineID: m.PID, Reason: "pipeline exists"}
	}
	v, err := s.core.decodeData(m)
	if err != nil {
		return err
	}
	pl := &ServerPipeline{pool: s, id: m.PID, state: PipelineRunning, nextCallID: 1, hostCalls: make(map[int64]HostMethodID)}
	if m.Type == MsgGetCommandMetadata {
		md, err := parseCommandMetadata(v)
		if err != nil {
			return err
		}
		pl.Metadata = &md
		pl.Spec.NoInput = true
	} else {
		spec, err := parsePipelineSpec(v)
		if err != nil {
			return err
		}
		pl.Spec = spec
	}
	s.pipelines[m.PID] = pl
	s.core.emit(PipelineCreated{Pipeline: pl})
	return nil
}
