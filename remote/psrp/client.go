package psrp

import (
	"fmt"
	"io"

	"github.com/pssession/pssession/remote/psrp/clixml"
)

// ProtocolVersion is the PSRP protocol version both roles advertise in
// SESSION_CAPABILITY (MS-PSRP 2.2.2.1; shared/PROTOCOL.md §2.4); a client
// transport sends the same text in the WSMan protocolversion option.
const ProtocolVersion = "2.3"

// The versions SESSION_CAPABILITY carries (MS-PSRP 2.2.2.1).
func capabilityBody() *SessionCapabilityBody {
	return &SessionCapabilityBody{
		ProtocolVersion:      protocolVersion(),
		PSVersion:            clixml.NewVersion(2, 0),
		SerializationVersion: clixml.NewVersion(1, 1, 0, 1),
	}
}

func protocolVersion() clixml.Version { return clixml.NewVersion(2, 3) }

// ClientConfig configures a client runspace pool. The zero value is
// usable: a new random pool id, one runspace, no host, crypto/rand.
type ClientConfig struct {
	// RunspacePoolID is the pool id (= WSMan ShellId); zero picks a random
	// one. Set it to connect to an existing pool.
	RunspacePoolID clixml.GUID
	// MinRunspaces and MaxRunspaces default to 1.
	MinRunspaces, MaxRunspaces int32
	// HostInfo describes the client host (MS-PSRP 2.2.3.14); nil means no
	// host (clixml.NullHostInfo).
	HostInfo *clixml.Object
	// ApplicationArguments is a PSPrimitiveDictionary the server exposes as
	// $PSSenderInfo.ApplicationArguments, or nil.
	ApplicationArguments *clixml.Object
	// Rand is the entropy source for ids and keys; nil means crypto/rand.
	Rand io.Reader
	// Limits bounds what the server may send; zero means the defaults.
	Limits Limits
}

// ClientPool is the client role of a runspace pool (MS-PSRP 3.1). It does
// no I/O: methods queue messages, DataToSend returns packets for the
// transport, ReceiveData consumes the server's packets and NextEvent
// returns what they meant.
type ClientPool struct {
	core poolCore
	cfg  ClientConfig

	serverCap    *SessionCapabilityReceived
	keyPair      *KeyPair
	keyRequested bool // PUBLIC_KEY queued, ENCRYPTED_SESSION_KEY pending

	nextCallID int64
	calls      map[int64]pendingRequest // RUNSPACE_AVAILABILITY awaited
	hostCalls  map[int64]HostMethodID   // pool host calls awaiting a response
	pipelines  map[clixml.GUID]*ClientPipeline
}

// NewClientPool returns a client pool in state BeforeOpen.
func NewClientPool(cfg ClientConfig) (*ClientPool, error) {
	if cfg.MinRunspaces == 0 {
		cfg.MinRunspaces = 1
	}
	if cfg.MaxRunspaces == 0 {
		cfg.MaxRunspaces = 1
	}
	if cfg.MinRunspaces < 1 || cfg.MaxRunspaces < cfg.MinRunspaces {
		return nil, fmt.Errorf("psrp: invalid runspace limits min %d max %d", cfg.MinRunspaces, cfg.MaxRunspaces)
	}
	if cfg.HostInfo == nil {
		cfg.HostInfo = clixml.NullHostInfo().Object()
	}
	p := &ClientPool{
		cfg:       cfg,
		calls:     make(map[int64]pendingRequest),
		hostCalls: make(map[int64]HostMethodID),
		pipelines: make(map[clixml.GUID]*ClientPipeline),
	}
	p.core.init(DestinationServer, cfg.RunspacePoolID, cfg.Rand, cfg.Limits)
	if p.core.id == (clixml.GUID{}) {
		id, err := newGUID(p.core.rand)
		if err != nil {
			return nil, err
		}
		p.core.id = id
	}
	return p, nil
}

// newGUID returns a random (version 4) GUID.
func newGUID(r io.Reader) (clixml.GUID, error) {
	var g clixml.GUID
	if _, err := io.ReadFull(r, g[:]); err != nil {
		return g, fmt.Errorf("psrp: generate id: %w", err)
	}
	g[6] = g[6]&0x0F | 0x40
	g[8] = g[8]&0x3F | 0x80
	return g, nil
}

// ID returns the runspace pool id (RPID, = WSMan ShellId).
func (p *ClientPool) ID() clixml.GUID { return p.core.id }

// State returns the pool state.
func (p *ClientPool) State() RunspacePoolState { return p.core.state }

// ServerCapability returns the server's SESSION_CAPABILITY once received.
func (p *ClientPool) ServerCapability() (SessionCapabilityReceived, bool) {
	if p.serverCap == nil {
		return SessionCapabilityReceived{}, false
	}
	return *p.serverCap, true
}

// MinRunspaces and MaxRunspaces return the limits last agreed (the
// configuration, updated by RUNSPACEPOOL_INIT_DATA and accepted Set calls).
func (p *ClientPool) MinRunspaces() int32 { return p.cfg.MinRunspaces }

// MaxRunspaces: see MinRunspaces.
func (p *ClientPool) MaxRunspaces() int32 { return p.cfg.MaxRunspaces }

// serverAtLeast reports whether the server's protocol version is at least
// major.minor; before the capability arrives it assumes our own version.
func (p *ClientPool) serverAtLeast(major, minor int32) bool {
	v := protocolVersion()
	if p.serverCap != nil {
		v = p.serverCap.ProtocolVersion
	}
	return v.Compare(clixml.NewVersion(major, minor)) >= 0
}

// Open queues SESSION_CAPABILITY and INIT_RUNSPACEPOOL (MS-PSRP 3.1.4.1)
// and moves to Opening. The first DataToSend packet holds both messages
// (or their first fragments): the transport puts it in the WSMan Create
// creationXml and sends any rest with Send.
func (p *ClientPool) Open() error {
	if err := guardPool("ClientPool.Open", p.core.state, PoolBeforeOpen); err != nil {
		return err
	}
	if err := p.core.send(clixml.GUID{}, capabilityBody(), StreamDefault, false); err != nil {
		return err
	}
	err := p.core.send(clixml.GUID{}, &InitRunspacePoolBody{
		MinRunspaces:         p.cfg.MinRunspaces,
		MaxRunspaces:         p.cfg.MaxRunspaces,
		ThreadOptions:        ThreadOptionsDefault,
		ApartmentState:       ApartmentUnknown,
		HostInfo:             p.cfg.HostInfo,
		ApplicationArguments: p.cfg.ApplicationArguments,
	}, StreamDefault, true)
	if err != nil {
		return err
	}
	p.setLocalState(PoolOpening)
	return nil
}

// Connect queues SESSION_CAPABILITY and CONNECT_RUNSPACEPOOL (MS-PSRP
// 3.1.4.10.3) for a pool another client created, and moves to Connecting.
// The first DataToSend packet is the WSMan Connect connectXml; the server
// answers in connectResponseXml with its capability and
// RUNSPACEPOOL_INIT_DATA, which moves the pool to Opened; Windows then
// sends APPLICATION_PRIVATE_DATA and RUNSPACEPOOL_STATE Opened on the pool
// stream. Reattach running pipelines with AttachPipeline.
func (p *ClientPool) Connect() error {
	if err := guardPool("ClientPool.Connect", p.core.state, PoolBeforeOpen); err != nil {
		return err
	}
	if err := p.core.send(clixml.GUID{}, capabilityBody(), StreamDefault, false); err != nil {
		return err
	}
	// No limits: an empty body, which asks for no change (observed
	// accepted by Windows; shared/PROTOCOL.md §2.9).
	if err := p.core.send(clixml.GUID{}, &ConnectRunspacePoolBody{}, StreamDefault, true); err != nil {
		return err
	}
	p.setLocalState(PoolConnecting)
	return nil
}

// ExchangeKey queues PUBLIC_KEY to start the session key exchange (MS-PSRP
// 3.1.4.5); SessionKeyReady follows. It does nothing if a key exists or an
// exchange is under way. The first call generates the pool's RSA-2048 key
// pair, which takes tens to hundreds of milliseconds; so does a server's
// PUBLIC_KEY_REQUEST, inside ReceiveData.
func (p *ClientPool) ExchangeKey() error {
	if err := guardPool("ClientPool.ExchangeKey", p.core.state, PoolOpened); err != nil {
		return err
	}
	return p.startKeyExchange()
}

func (p *ClientPool) startKeyExchange() error {
	if p.core.sessionKey != nil || p.keyRequested {
		return nil
	}
	if p.keyPair == nil {
		k, err := NewKeyPair(p.core.rand)
		if err != nil {
			return err
		}
		p.keyPair = k
	}
	if err := p.core.send(clixml.GUID{}, &PublicKeyBody{PublicKey: p.keyPair.PublicKeyBlob()}, StreamDefault, false); err != nil {
		return err
	}
	p.keyRequested = true
	return nil
}

// SessionKey returns the session key, or nil before the exchange finished.
func (p *ClientPool) SessionKey() []byte { return p.core.sessionKey }

// pendingRequest is a request awaiting RUNSPACE_AVAILABILITY.
type pendingRequest struct {
	req   AvailabilityRequest
	limit int32 // requested limit of a Set call
}

// availabilityRequest queues one of the RUNSPACE_AVAILABILITY requests and
// returns its call id.
func (p *ClientPool) availabilityRequest(op string, req AvailabilityRequest, limit int32) (int64, error) {
	if err := guardPool(op, p.core.state, PoolOpened); err != nil {
		return 0, err
	}
	ci := p.nextCallID
	var body Body
	switch req {
	case RequestSetMaxRunspaces:
		body = &SetMaxRunspacesBody{MaxRunspaces: limit, CallID: ci}
	case RequestSetMinRunspaces:
		body = &SetMinRunspacesBody{MinRunspaces: limit, CallID: ci}
	case RequestGetAvailableRunspaces:
		body = &GetAvailableRunspacesBody{CallID: ci}
	default:
		body = &ResetRunspaceStateBody{CallID: ci}
	}
	if err := p.core.send(clixml.GUID{}, body, StreamDefault, false); err != nil {
		return 0, err
	}
	p.nextCallID++
	p.calls[ci] = pendingRequest{req: req, limit: limit}
	return ci, nil
}

// SetMaxRunspaces queues SET_MAX_RUNSPACES (MS-PSRP 2.2.2.5) and returns
// its call id; RunspaceAvailabilityReceived carries the answer (a bool).
func (p *ClientPool) SetMaxRunspaces(n int32) (int64, error) {
	return p.availabilityRequest("ClientPool.SetMaxRunspaces", RequestSetMaxRunspaces, n)
}

// SetMinRunspaces queues SET_MIN_RUNSPACES (MS-PSRP 2.2.2.6).
func (p *ClientPool) SetMinRunspaces(n int32) (int64, error) {
	return p.availabilityRequest("ClientPool.SetMinRunspaces", RequestSetMinRunspaces, n)
}

// GetAvailableRunspaces queues GET_AVAILABLE_RUNSPACES (MS-PSRP 2.2.2.11);
// the answer is a count.
func (p *ClientPool) GetAvailableRunspaces() (int64, error) {
	return p.availabilityRequest("ClientPool.GetAvailableRunspaces", RequestGetAvailableRunspaces, 0)
}

// ResetRunspaceState queues RESET_RUNSPACE_STATE (MS-PSRP 2.2.2.31,
// protocol 2.3).
func (p *ClientPool) ResetRunspaceState() (int64, error) {
	if !p.serverAtLeast(2, 3) {
		return 0, fmt.Errorf("psrp: ResetRunspaceState needs protocol 2.3, server has %s", p.serverCap.ProtocolVersion)
	}
	return p.availabilityRequest("ClientPool.ResetRunspaceState", RequestResetRunspaceState, 0)
}

// HostResponse answers the pool host call ci (RUNSPACEPOOL_HOST_RESPONSE on
// the `pr` stream). Pass the method's return value, or errRecord (an
// ErrorRecord object) when the host failed. Void calls are never answered.
func (p *ClientPool) HostResponse(ci int64, result clixml.Value, errRecord *clixml.Object) error {
	if err := guardPool("ClientPool.HostResponse", p.core.state, PoolOpened); err != nil {
		return err
	}
	mi, ok := p.hostCalls[ci]
	if !ok {
		return fmt.Errorf("psrp: no pending pool host call %d", ci)
	}
	if err := p.core.send(clixml.GUID{}, &RunspacePoolHostResponseBody{hostResponse(ci, mi, result, errRecord)}, StreamPromptResponse, false); err != nil {
		return err
	}
	delete(p.hostCalls, ci)
	return nil
}

// EncryptSecureString encrypts s with the session key for a SecureString
// value (a host response to ReadLineAsSecureString, a PSCredential
// password, an argument).
func (p *ClientPool) EncryptSecureString(s string) (clixml.SecureString, error) {
	return p.core.encryptSecureString(s)
}

// DecryptSecureString decrypts a SecureString the server sent.
func (p *ClientPool) DecryptSecureString(ss clixml.SecureString) (string, error) {
	return p.core.decryptSecureString(ss)
}

// Pipeline returns the pipeline with id pid, or nil.
func (p *ClientPool) Pipeline(pid clixml.GUID) *ClientPipeline { return p.pipelines[pid] }

// RemovePipeline forgets a pipeline after the transport closed its command
// (WSMan Signal terminate); later messages for it are protocol errors.
func (p *ClientPool) RemovePipeline(pid clixml.GUID) { delete(p.pipelines, pid) }

// BeginDisconnect moves Opened → Disconnecting before the transport sends
// WSMan Disconnect (MS-PSRP 3.1.4.7).
func (p *ClientPool) BeginDisconnect() error {
	if err := guardPool("ClientPool.BeginDisconnect", p.core.state, PoolOpened); err != nil {
		return err
	}
	p.setLocalState(PoolDisconnecting)
	return nil
}

// Disconnected records that WSMan Disconnect succeeded: the pool and its
// running pipelines become Disconnected.
func (p *ClientPool) Disconnected() error {
	if err := guardPool("ClientPool.Disconnected", p.core.state, PoolDisconnecting, PoolConnecting); err != nil {
		return err
	}
	p.setLocalState(PoolDisconnected)
	for _, pl := range p.pipelines {
		if pl.state == PipelineRunning || pl.state == PipelineStopping {
			pl.setState(PipelineDisconnected, nil)
		}
	}
	return nil
}

// BeginReconnect moves Disconnected → Connecting before the same client
// sends WSMan Reconnect (MS-PSRP 3.1.4.8). Reassembly starts afresh.
func (p *ClientPool) BeginReconnect() error {
	if err := guardPool("ClientPool.BeginReconnect", p.core.state, PoolDisconnected); err != nil {
		return err
	}
	p.core.in.Reset()
	p.setLocalState(PoolConnecting)
	return nil
}

// Reconnected records that WSMan Reconnect succeeded: the pool is Opened
// and its disconnected pipelines Running again.
func (p *ClientPool) Reconnected() error {
	if err := guardPool("ClientPool.Reconnected", p.core.state, PoolConnecting); err != nil {
		return err
	}
	p.setLocalState(PoolOpened)
	for _, pl := range p.pipelines {
		if pl.state == PipelineDisconnected {
			pl.setState(PipelineRunning, nil)
		}
	}
	return nil
}

// BeginClose moves to Closing before the transport deletes the shell.
func (p *ClientPool) BeginClose() error {
	if err := guardPool("ClientPool.BeginClose", p.core.state, PoolOpened, PoolDisconnected, PoolOpening, PoolConnecting); err != nil {
		return err
	}
	p.setLocalState(PoolClosing)
	return nil
}

// Closed records that the shell is gone: the pool is Closed.
func (p *ClientPool) Closed() error {
	if err := guardPool("ClientPool.Closed", p.core.state, PoolClosing, PoolOpened, PoolDisconnected, PoolOpening, PoolConnecting, PoolDisconnecting); err != nil {
		return err
	}
	p.setLocalState(PoolClosed)
	return nil
}

// SetBroken records a transport failure: the pool becomes Broken, as do
// its unfinished pipelines.
func (p *ClientPool) SetBroken(reason *clixml.Object) {
	if p.core.state == PoolClosed || p.core.state == PoolBroken {
		return
	}
	p.core.state = PoolBroken
	p.core.emit(PoolStateChanged{State: PoolBroken, Error: reason})
	p.failPipelines(reason)
}

func (p *ClientPool) setLocalState(s RunspacePoolState) {
	if p.core.setState(s) {
		p.core.emit(PoolStateChanged{State: s})
	}
}

func (p *ClientPool) failPipelines(reason *clixml.Object) {
	for _, pl := range p.pipelines {
		if !pl.state.Terminal() && pl.state != PipelineNotStarted {
			pl.setState(PipelineFailed, reason)
		}
	}
}

// DataToSend returns the next packet for the transport, at most max bytes
// of whole fragments (max <= 0: no limit), or nil when nothing is queued.
// A packet holds messages of one pipeline (PipelineID, zero for the pool)
// and one stream (StreamDefault, or StreamPromptResponse for host
// responses). The first packet of a new pipeline is its WSMan Command
// arguments; a CREATE_PIPELINE never shares its packet with later messages.
func (p *ClientPool) DataToSend(max int) *OutgoingData {
	return p.core.out.next(max, clixml.GUID{}, false)
}

// DataToSendFor is DataToSend restricted to the messages of pipeline pid
// (zero: the pool's own stream), for a transport that serves each stream
// on demand.
func (p *ClientPool) DataToSendFor(pid clixml.GUID, max int) *OutgoingData {
	return p.core.out.next(max, pid, true)
}

// ReceiveData consumes a packet of fragments from the server (a pool
// Receive, a command Receive, connectResponseXml). Messages are routed by
// the PID in their header; the RPID is not checked (Windows sends zero
// RPIDs). Every complete message is handled; the errors of those that
// could not be are returned joined, and also queued as
// ProtocolErrorReceived events.
func (p *ClientPool) ReceiveData(data []byte) error { return p.core.receive(data, p.handle) }

// NextEvent returns the oldest unread event.
func (p *ClientPool) NextEvent() (Event, bool) { return p.core.nextEvent() }

func (p *ClientPool) handle(m Message, b Body) error {
	if m.Destination != DestinationClient {
		return &UnexpectedMessageError{Type: m.Type, PipelineID: m.PID, Reason: fmt.Sprintf("destination %s", m.Destination)}
	}
	if m.PID != (clixml.GUID{}) && m.Type.PipelineScoped() {
		pl := p.pipelines[m.PID]
		if pl == nil {
			return &UnexpectedMessageError{Type: m.Type, PipelineID: m.PID, Reason: "unknown pipeline"}
		}
		return pl.handle(m, b)
	}
	switch b := b.(type) {
	case *SessionCapabilityBody:
		c := SessionCapabilityReceived(*b)
		p.serverCap = &c
		p.core.emit(c)
		if c.ProtocolVersion.Major != protocolVersion().Major {
			// Only major version 2 is compatible (MS-PSRP 3.2.5.3.1, the
			// rule the server applies to the client).
			p.SetBroken(nil)
			return fmt.Errorf("psrp: server protocol version %s is not compatible with %s", c.ProtocolVersion, ProtocolVersion)
		}
	case *ApplicationPrivateDataBody:
		p.core.emit(ApplicationPrivateDataReceived{Data: b.Data})
	case *RunspacePoolStateBody:
		return p.handlePoolState(m, b)
	case *PublicKeyRequestBody:
		return p.startKeyExchange()
	case *EncryptedSessionKeyBody:
		return p.handleSessionKey(m, b)
	case *RunspaceAvailabilityBody:
		return p.handleAvailability(m, b)
	case *UserEventBody:
		p.core.emit(UserEventReceived{Event: *b})
	case *RunspacePoolInitDataBody:
		p.cfg.MinRunspaces, p.cfg.MaxRunspaces = b.MinRunspaces, b.MaxRunspaces
		p.core.emit(RunspacePoolInitDataReceived{MinRunspaces: b.MinRunspaces, MaxRunspaces: b.MaxRunspaces})
		// The connect response completes Connect: the pool is Opened
		// (MS-PSRP 3.1.4.10.3). Windows then also sends RUNSPACEPOOL_STATE
		// Opened on the pool stream, which changes nothing.
		if p.core.state == PoolConnecting {
			p.setLocalState(PoolOpened)
		}
	case *RunspacePoolHostCallBody:
		if b.CallID != VoidCallID {
			p.hostCalls[b.CallID] = b.Method
		}
		p.core.emit(PoolHostCall{Call: b.HostCall})
	case *WarningRecordBody:
		// A warning at pool scope (PID zero).
		p.core.emit(PipelineWarningRecord{Record: b.Record})
	default:
		return &UnexpectedMessageError{Type: m.Type, PipelineID: m.PID, Reason: "not a client pool message"}
	}
	return nil
}

func (p *ClientPool) handlePoolState(m Message, b *RunspacePoolStateBody) error {
	switch b.State {
	case PoolOpened:
		if p.core.state == PoolOpened {
			return nil
		}
		if !p.core.setState(PoolOpened) {
			return &UnexpectedMessageError{Type: m.Type, Reason: fmt.Sprintf("state Opened in state %s", p.core.state)}
		}
		p.core.emit(PoolStateChanged{State: PoolOpened})
	case PoolBroken:
		p.SetBroken(b.Error)
	case PoolClosed:
		if p.core.state != PoolClosed {
			p.core.state = PoolClosed
			p.core.emit(PoolStateChanged{State: PoolClosed, Error: b.Error})
			p.failPipelines(b.Error)
		}
	default:
		return &UnexpectedMessageError{Type: m.Type, Reason: fmt.Sprintf("server sent pool state %s", b.State)}
	}
	return nil
}

func (p *ClientPool) handleSessionKey(m Message, b *EncryptedSessionKeyBody) error {
	if !p.keyRequested || p.keyPair == nil {
		return &UnexpectedMessageError{Type: m.Type, Reason: "no key exchange under way"}
	}
	key, err := p.keyPair.DecryptSessionKey(b.EncryptedSessionKey)
	if err != nil {
		return err
	}
	p.core.sessionKey = key
	p.keyRequested = false
	p.core.emit(SessionKeyReady{})
	return nil
}

func (p *ClientPool) handleAvailability(m Message, b *RunspaceAvailabilityBody) error {
	pr, ok := p.calls[b.CallID]
	if !ok {
		return &UnexpectedMessageError{Type: m.Type, Reason: fmt.Sprintf("no request with call id %d", b.CallID)}
	}
	delete(p.calls, b.CallID)
	if ok, _ := b.Response.(bool); ok {
		// An accepted Set call changes the limits the pool reports.
		switch pr.req {
		case RequestSetMaxRunspaces:
			p.cfg.MaxRunspaces = pr.limit
		case RequestSetMinRunspaces:
			p.cfg.MinRunspaces = pr.limit
		}
	}
	p.core.emit(RunspaceAvailabilityReceived{CallID: b.CallID, Request: pr.req, Value: b.Response})
	return nil
}
