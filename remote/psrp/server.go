package psrp

import (
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
		cfg.ApplicationPrivateData = clixml.PSPrimitiveDictionary{}.Object()
	}
	s := &ServerPool{
		cfg:          cfg,
		nextCallID:   1,
		hostCalls:    make(map[int64]HostMethodID),
		availability: make(map[int64]pendingRequest),
		pipelines:    make(map[clixml.GUID]*ServerPipeline),
	}
	s.core.init(DestinationClient, cfg.RunspacePoolID, cfg.Rand, cfg.Limits)
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
	return s.core.send(clixml.GUID{}, &RunspacePoolStateBody{State: st, Error: rec}, StreamDefault, false)
}

// Open accepts the client's INIT_RUNSPACEPOOL (MS-PSRP 3.2.5.3.2): it queues
// SESSION_CAPABILITY, APPLICATION_PRIVATE_DATA and RUNSPACEPOOL_STATE
// Opened, and moves Opening → Opened.
func (s *ServerPool) Open() error {
	if err := guardPool("ServerPool.Open", s.core.state, PoolOpening); err != nil {
		return err
	}
	if err := s.core.send(clixml.GUID{}, capabilityBody(), StreamDefault, false); err != nil {
		return err
	}
	if err := s.queueOpened(); err != nil {
		return err
	}
	s.setState(PoolOpened, nil)
	return nil
}

func (s *ServerPool) queueOpened() error {
	if err := s.core.send(clixml.GUID{}, &ApplicationPrivateDataBody{Data: s.cfg.ApplicationPrivateData}, StreamDefault, false); err != nil {
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
	return s.core.send(clixml.GUID{}, &PublicKeyRequestBody{}, StreamDefault, false)
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
	if err := s.core.send(clixml.GUID{}, &RunspacePoolHostCallBody{HostCall{CallID: ci, Method: method, Params: params}}, StreamDefault, false); err != nil {
		return 0, err
	}
	if ci != VoidCallID {
		s.nextCallID++
		s.hostCalls[ci] = method
	}
	return ci, nil
}

// SendUserEvent queues USER_EVENT (MS-PSRP 2.2.2.12).
func (s *ServerPool) SendUserEvent(event UserEventBody) error {
	if err := guardPool("ServerPool.SendUserEvent", s.core.state, PoolOpened); err != nil {
		return err
	}
	return s.core.send(clixml.GUID{}, &event, StreamDefault, false)
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
	if err := s.core.send(clixml.GUID{}, &RunspaceAvailabilityBody{Response: value, CallID: ci}, StreamDefault, false); err != nil {
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
	return s.core.encryptSecureString(plain)
}

// DecryptSecureString decrypts a SecureString the client sent.
func (s *ServerPool) DecryptSecureString(ss clixml.SecureString) (string, error) {
	return s.core.decryptSecureString(ss)
}

func (s *ServerPool) handle(m Message, b Body) error {
	if m.Destination != DestinationServer {
		return &UnexpectedMessageError{Type: m.Type, PipelineID: m.PID, Reason: fmt.Sprintf("destination %s", m.Destination)}
	}
	if s.core.id == (clixml.GUID{}) {
		s.core.id = m.RPID
	}
	switch s.core.state {
	case PoolClosed, PoolBroken:
		return &UnexpectedMessageError{Type: m.Type, PipelineID: m.PID, Reason: "pool is " + s.core.state.String()}
	}
	switch b := b.(type) {
	case *SessionCapabilityBody:
		return s.handleCapability(m, b)
	case *InitRunspacePoolBody:
		return s.handleInit(m, b)
	case *ConnectRunspacePoolBody:
		return s.handleConnect(m, b)
	}
	if s.core.state != PoolOpened {
		return &UnexpectedMessageError{Type: m.Type, PipelineID: m.PID, Reason: "pool is " + s.core.state.String()}
	}
	switch b := b.(type) {
	case *PublicKeyBody:
		return s.handlePublicKey(b)
	case *SetMaxRunspacesBody:
		return s.availabilityRequested(m, AvailabilityRequested{CallID: b.CallID, Request: RequestSetMaxRunspaces, Count: b.MaxRunspaces})
	case *SetMinRunspacesBody:
		return s.availabilityRequested(m, AvailabilityRequested{CallID: b.CallID, Request: RequestSetMinRunspaces, Count: b.MinRunspaces})
	case *GetAvailableRunspacesBody:
		return s.availabilityRequested(m, AvailabilityRequested{CallID: b.CallID, Request: RequestGetAvailableRunspaces})
	case *ResetRunspaceStateBody:
		return s.availabilityRequested(m, AvailabilityRequested{CallID: b.CallID, Request: RequestResetRunspaceState})
	case *RunspacePoolHostResponseBody:
		if _, ok := s.hostCalls[b.CallID]; !ok {
			return &UnexpectedMessageError{Type: m.Type, Reason: fmt.Sprintf("no pending host call %d", b.CallID)}
		}
		delete(s.hostCalls, b.CallID)
		s.core.emit(hostResponseReceived(clixml.GUID{}, &b.HostResponseData))
		return nil
	case *CreatePipelineBody, *GetCommandMetadataBody:
		return s.handleCreatePipeline(m, b)
	case *PipelineInputBody, *EndOfPipelineInputBody, *PipelineHostResponseBody:
		pl := s.pipelines[m.PID]
		if pl == nil {
			return &UnexpectedMessageError{Type: m.Type, PipelineID: m.PID, Reason: "unknown pipeline"}
		}
		return pl.handle(m, b)
	}
	return &UnexpectedMessageError{Type: m.Type, PipelineID: m.PID, Reason: "not a server pool message"}
}

func hostResponseReceived(pid clixml.GUID, d *HostResponseData) HostResponseReceived {
	return HostResponseReceived{PipelineID: pid, CallID: d.CallID, Method: d.Method, Result: d.Result, Error: d.Error}
}

func (s *ServerPool) handleCapability(m Message, b *SessionCapabilityBody) error {
	if s.core.state != PoolBeforeOpen && !s.connecting {
		return &UnexpectedMessageError{Type: m.Type, Reason: "capability after open"}
	}
	c := SessionCapabilityReceived(*b)
	s.clientCap = &c
	s.core.emit(c)
	if c.ProtocolVersion.Major != protocolVersion().Major {
		// MS-PSRP 3.2.5.3.1: incompatible versions break the pool.
		err := fmt.Errorf("psrp: client protocol version %s is not compatible with %s", c.ProtocolVersion, ProtocolVersion)
		rec := (&clixml.ErrorRecord{
			Message:               err.Error(),
			FullyQualifiedErrorID: "ServerClientVersionMismatch",
			Category:              clixml.ErrorCategoryInfo{Category: errorCategoryInvalidOperation, Reason: "PSRemotingDataStructureException"},
			Exception:             clixml.ExceptionInfo{TypeNames: []string{"System.Management.Automation.Remoting.PSRemotingDataStructureException"}},
		}).Object()
		if qerr := s.queueState(PoolBroken, rec); qerr != nil {
			return qerr
		}
		s.core.state = PoolBroken
		s.core.emit(PoolStateChanged{State: PoolBroken, Error: rec})
		return err
	}
	return nil
}

func (s *ServerPool) handleInit(m Message, b *InitRunspacePoolBody) error {
	if s.core.state != PoolBeforeOpen || s.clientCap == nil {
		return &UnexpectedMessageError{Type: m.Type, Reason: "INIT_RUNSPACEPOOL before SESSION_CAPABILITY or after open"}
	}
	s.min, s.max = b.MinRunspaces, b.MaxRunspaces
	s.hostInfo, s.appArgs = b.HostInfo, b.ApplicationArguments
	s.setState(PoolOpening, nil)
	s.core.emit(RunspacePoolInitReceived{
		MinRunspaces:         b.MinRunspaces,
		MaxRunspaces:         b.MaxRunspaces,
		HostInfo:             b.HostInfo,
		ApplicationArguments: b.ApplicationArguments,
	})
	return nil
}

func (s *ServerPool) handleConnect(m Message, b *ConnectRunspacePoolBody) error {
	if !s.connecting || s.clientCap == nil {
		return &UnexpectedMessageError{Type: m.Type, Reason: "CONNECT_RUNSPACEPOOL outside a WSMan Connect"}
	}
	// The new client needs a fresh key exchange (shared/PROTOCOL.md §4).
	s.core.sessionKey = nil
	if err := s.core.send(clixml.GUID{}, capabilityBody(), StreamDefault, false); err != nil {
		return err
	}
	if err := s.core.send(clixml.GUID{}, &RunspacePoolInitDataBody{MinRunspaces: s.min, MaxRunspaces: s.max}, StreamDefault, true); err != nil {
		return err
	}
	if err := s.queueOpened(); err != nil {
		return err
	}
	s.connecting = false
	s.core.emit(ConnectReceived{MinRunspaces: b.MinRunspaces, MaxRunspaces: b.MaxRunspaces})
	return nil
}

func (s *ServerPool) handlePublicKey(b *PublicKeyBody) error {
	pub, err := ParsePublicKeyBlob(b.PublicKey)
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
	if err := s.core.send(clixml.GUID{}, &EncryptedSessionKeyBody{EncryptedSessionKey: enc}, StreamDefault, false); err != nil {
		return err
	}
	s.core.sessionKey = key
	s.core.emit(SessionKeyReady{})
	return nil
}

func (s *ServerPool) availabilityRequested(m Message, ev AvailabilityRequested) error {
	if _, dup := s.availability[ev.CallID]; dup {
		return &UnexpectedMessageError{Type: m.Type, Reason: fmt.Sprintf("call id %d already pending", ev.CallID)}
	}
	s.availability[ev.CallID] = pendingRequest{req: ev.Request, limit: ev.Count}
	s.core.emit(ev)
	return nil
}

func (s *ServerPool) handleCreatePipeline(m Message, b Body) error {
	if m.PID == (clixml.GUID{}) {
		return &UnexpectedMessageError{Type: m.Type, Reason: "zero pipeline id"}
	}
	if old := s.pipelines[m.PID]; old != nil && !old.state.Terminal() {
		// A finished pipeline's id may be reused (pypsrp re-invokes a
		// PowerShell object under the same id; Windows accepts it).
		return &UnexpectedMessageError{Type: m.Type, PipelineID: m.PID, Reason: "pipeline exists"}
	}
	pl := &ServerPipeline{pool: s, id: m.PID, state: PipelineRunning, nextCallID: 1, hostCalls: make(map[int64]HostMethodID)}
	switch b := b.(type) {
	case *GetCommandMetadataBody:
		pl.Metadata = b
		pl.Spec.NoInput = true
	case *CreatePipelineBody:
		pl.Spec = specFromBody(b)
	}
	s.pipelines[m.PID] = pl
	s.core.emit(PipelineCreated{Pipeline: pl})
	return nil
}
