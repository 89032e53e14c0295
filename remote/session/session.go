package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/pssession/pssession/remote/psrp"
	"github.com/pssession/pssession/remote/psrp/clixml"
)

// Protocol facts the session depends on (shared/PROTOCOL.md §1.2, §2.4).
const (
	// LargeEnvelopeSize is the envelope size used once the server proves
	// protocol 2.2 or later (PowerShell 3+).
	LargeEnvelopeSize = 512000
	// DefaultBusyTimeout is how long a command waits for a busy session
	// (about_PSSession_Details).
	DefaultBusyTimeout = 4 * time.Minute
	// DefaultCancelTimeout is how long a stopped pipeline may take to
	// acknowledge before it is abandoned.
	DefaultCancelTimeout = 10 * time.Second
)

// Config describes a session to open or connect.
type Config struct {
	Transport Transport
	// Name is the session's friendly name on the server (may be empty).
	Name string
	// IdleTimeout is the server-side idle timeout; zero is the server default.
	IdleTimeout time.Duration
	// NoProfile asks the server not to load the user profile.
	NoProfile bool
	// Host answers host calls; nil means no interactive host (HostInfo
	// says so and the server uses a null host).
	Host Host
	// HostInfo describes Host to the server; nil derives it from Host.
	HostInfo *clixml.Object
	// ApplicationArguments is exposed remotely as
	// $PSSenderInfo.ApplicationArguments (a PSPrimitiveDictionary), or nil.
	ApplicationArguments *clixml.Object
	// CancelTimeout bounds how long Run waits for a stop to be
	// acknowledged; zero means DefaultCancelTimeout.
	CancelTimeout time.Duration
	// BusyTimeout bounds how long Run waits for another pipeline of this
	// session to finish; zero means DefaultBusyTimeout.
	BusyTimeout time.Duration
	// RetryTimeout bounds how long a dropped network connection is retried
	// (robust connections); zero means DefaultRetryTimeout, negative
	// disables retrying.
	RetryTimeout time.Duration
	// OnNotice receives messages for the user (network interrupted,
	// restored); nil drops them.
	OnNotice func(string)
	Logger   *slog.Logger
}

// Host answers the remote host calls of a session (MS-PSRP 2.2.3.17).
type Host interface {
	// HostCall answers one call. The result of a void call is ignored.
	// Return a SecureText (or a PSCredential object whose password is a
	// SecureText) for secure strings: the session encrypts it with the
	// session key. An error is sent back as an exception.
	HostCall(ctx context.Context, call psrp.HostCall) (clixml.Value, error)
}

// SecureText is a plain-text secret a Host returns; the session encrypts
// it into a SecureString before it leaves the process.
type SecureText string

// String keeps the secret out of logs.
func (SecureText) String() string { return "********" }

// Session is one live runspace pool on a server.
type Session struct {
	cfg     Config
	t       Transport
	shellID string
	log     *slog.Logger

	mu          sync.Mutex // guards pool, runs, the fields below
	pool        *psrp.ClientPool
	runs        map[clixml.GUID]*run
	privateData *clixml.Object
	keyReady    chan struct{} // closed when the session key is known
	brokenErr   error
	// commandCache remembers CommandExists answers.
	commandCache map[string]bool

	sendMu sync.Mutex // serialises pool-level sends

	busy chan struct{} // one pipeline at a time

	recvCancel context.CancelFunc
	recvDone   chan struct{}
}

// ShellID returns the shell id (upper-case runspace pool id).
func (s *Session) ShellID() string { return s.shellID }

// InstanceID returns the runspace pool id.
func (s *Session) InstanceID() clixml.GUID {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pool.ID()
}

// State returns the pool state as the client knows it.
func (s *Session) State() psrp.RunspacePoolState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pool.State()
}

// PrivateData returns the server's APPLICATION_PRIVATE_DATA dictionary
// (PSVersionTable and friends), or nil.
func (s *Session) PrivateData() *clixml.Object {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.privateData
}

// ServerProtocolVersion returns the server's PSRP protocol version.
func (s *Session) ServerProtocolVersion() (clixml.Version, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.pool.ServerCapability()
	return c.ProtocolVersion, ok
}

func newSession(cfg Config, id clixml.GUID) (*Session, error) {
	if cfg.Transport == nil {
		return nil, errors.New("session: no transport")
	}
	hi := cfg.HostInfo
	if hi == nil {
		if cfg.Host != nil {
			hi = DefaultHostInfo(120, 50)
		} else {
			hi = clixml.NullHostInfo().Object()
		}
	}
	pool, err := psrp.NewClientPool(psrp.ClientConfig{
		RunspacePoolID:       id,
		HostInfo:             hi,
		ApplicationArguments: cfg.ApplicationArguments,
	})
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Session{
		cfg:      cfg,
		t:        cfg.Transport,
		pool:     pool,
		shellID:  strings.ToUpper(pool.ID().String()),
		log:      log,
		runs:     make(map[clixml.GUID]*run),
		keyReady: make(chan struct{}),
		busy:     make(chan struct{}, 1),
	}
	return s, nil
}

// Open creates a new runspace pool on the server and waits until it is
// Opened (MS-PSRP 3.1.4.1).
func Open(ctx context.Context, cfg Config) (*Session, error) {
	s, err := newSession(cfg, clixml.GUID{})
	if err != nil {
		return nil, err
	}
	first, err := s.firstPacket(s.pool.Open)
	if err != nil {
		return nil, fmt.Errorf("session: open: %w", err)
	}
	if err := s.t.Create(ctx, CreateRequest{
		ShellID:     s.shellID,
		Name:        cfg.Name,
		IdleTimeout: cfg.IdleTimeout,
		NoProfile:   cfg.NoProfile,
		CreationXML: first.Data,
	}); err != nil {
		return nil, fmt.Errorf("session: create shell: %w", err)
	}
	if err := s.flushPool(ctx); err != nil {
		s.abandon()
		return nil, err
	}
	if err := s.awaitOpened(ctx); err != nil {
		s.abandon()
		return nil, err
	}
	s.startPoolReceiver()
	return s, nil
}

// Connect attaches this process to a disconnected runspace pool that
// another client (or process) created (MS-PSRP 3.1.4.10): Connect with
// connectXml, then the pool stream until Opened.
func Connect(ctx context.Context, cfg Config, shellID string) (*Session, error) {
	id, err := clixml.ParseGUID(shellID)
	if err != nil {
		return nil, fmt.Errorf("session: connect: bad shell id %q: %w", shellID, err)
	}
	s, err := newSession(cfg, id)
	if err != nil {
		return nil, err
	}
	first, err := s.firstPacket(s.pool.Connect)
	if err != nil {
		return nil, fmt.Errorf("session: connect: %w", err)
	}
	resp, err := s.t.Connect(ctx, s.shellID, first.Data)
	if err != nil {
		return nil, fmt.Errorf("session: connect: %w", err)
	}
	if err := s.pump(resp, true); err != nil {
		return nil, fmt.Errorf("session: connect response: %w", err)
	}
	if err := s.awaitOpened(ctx); err != nil {
		return nil, err
	}
	s.startPoolReceiver()
	return s, nil
}

// firstPacket runs op (Open or Connect) on the pool and returns the first
// packet it queued: the creationXml or connectXml payload.
func (s *Session) firstPacket(op func() error) (*psrp.OutgoingData, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := op(); err != nil {
		return nil, err
	}
	d := s.pool.DataToSend(s.t.MaxPayload())
	if d == nil {
		return nil, errors.New("nothing to send")
	}
	return d, nil
}

// abandon deletes a shell whose open failed, best effort.
func (s *Session) abandon() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s.t.Delete(ctx, s.shellID)
}

// awaitOpened receives on the pool stream until the pool is Opened.
func (s *Session) awaitOpened(ctx context.Context) error {
	for {
		s.mu.Lock()
		st := s.pool.State()
		broken := s.brokenErr
		s.mu.Unlock()
		switch {
		case st == psrp.PoolOpened:
			return nil
		case broken != nil:
			return broken
		case st == psrp.PoolBroken || st == psrp.PoolClosed:
			return fmt.Errorf("session: the runspace pool is %s", st)
		}
		r, err := s.t.Receive(ctx, s.shellID, "")
		if err != nil {
			return fmt.Errorf("session: open: %w", err)
		}
		for _, d := range r.Data {
			if err := s.pump(d, true); err != nil {
				return fmt.Errorf("session: open: %w", err)
			}
		}
	}
}

// startPoolReceiver keeps a long-poll Receive on the pool stream so that
// pool-level messages (session key, host calls, state) arrive while the
// session is open.
func (s *Session) startPoolReceiver() {
	ctx, cancel := context.WithCancel(context.Background())
	s.recvCancel = cancel
	s.recvDone = make(chan struct{})
	go func() {
		defer close(s.recvDone)
		if err := s.longPoll(ctx, "", nil); err != nil {
			s.fail(err)
		}
	}()
}

func (s *Session) stopPoolReceiver() {
	if s.recvCancel == nil {
		return
	}
	s.recvCancel()
	<-s.recvDone
	s.recvCancel = nil
}

// fail records a fatal session error and wakes every waiting pipeline.
func (s *Session) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.brokenErr == nil {
		s.brokenErr = err
	}
	for _, r := range s.runs {
		r.fail(err)
	}
}

// pump feeds one packet of fragments to the pool and routes the events.
// Pool events are handled here; pipeline events go to their run.
func (s *Session) pump(data []byte, opening bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.pool.ReceiveData(data); err != nil {
		return fmt.Errorf("session: %w", err)
	}
	for {
		ev, ok := s.pool.NextEvent()
		if !ok {
			return nil
		}
		if pid, ok := pipelineOf(ev); ok {
			if r := s.runs[pid]; r != nil {
				r.push(ev)
				continue
			}
			s.log.Debug("event for unknown pipeline", "pipeline", pid, "event", fmt.Sprintf("%T", ev))
			continue
		}
		s.handlePoolEvent(ev)
	}
}

// handlePoolEvent runs with s.mu held.
func (s *Session) handlePoolEvent(ev psrp.Event) {
	switch e := ev.(type) {
	case psrp.SessionCapabilityReceived:
		if e.ProtocolVersion.Compare(clixml.NewVersion(2, 2)) >= 0 {
			s.t.SetMaxEnvelopeSize(LargeEnvelopeSize)
		}
	case psrp.ApplicationPrivateDataReceived:
		s.privateData = e.Data
	case psrp.SessionKeyReady:
		select {
		case <-s.keyReady:
		default:
			close(s.keyReady)
		}
	case psrp.PoolStateChanged:
		if e.State == psrp.PoolBroken || e.State == psrp.PoolClosed {
			err := fmt.Errorf("session: the runspace pool is %s", e.State)
			if e.Error != nil {
				if rec, perr := clixml.ParseErrorRecord(e.Error); perr == nil {
					err = fmt.Errorf("session: the runspace pool is %s: %s", e.State, rec.DisplayMessage())
				}
			}
			if s.brokenErr == nil {
				s.brokenErr = err
			}
			for _, r := range s.runs {
				r.fail(err)
			}
		}
	case psrp.PoolHostCall:
		go s.answerPoolHostCall(e.Call)
	case psrp.PipelineWarningRecord: // pool-scoped warning
		s.log.Warn("server warning", "record", clixml.ToDisplayString(e.Record))
	}
}

func (s *Session) answerPoolHostCall(call psrp.HostCall) {
	ctx := context.Background()
	res, herr := s.callHost(ctx, call)
	if call.CallID == psrp.VoidCallID {
		return
	}
	s.mu.Lock()
	err := s.pool.HostResponse(call.CallID, res, herr)
	s.mu.Unlock()
	if err == nil {
		err = s.flushPool(ctx)
	}
	if err != nil {
		s.log.Warn("answering a pool host call", "err", err)
	}
}

// pipelineOf returns the pipeline id of a pipeline-scoped event.
func pipelineOf(ev psrp.Event) (clixml.GUID, bool) {
	pe, ok := ev.(psrp.PipelineEvent)
	if !ok {
		return clixml.GUID{}, false
	}
	id := pe.Pipeline()
	return id, id != clixml.GUID{}
}

// flushPool sends queued pool-level data.
func (s *Session) flushPool(ctx context.Context) error {
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	return s.flush(ctx, clixml.GUID{})
}

// flush sends every queued packet for pipeline pid (zero: the pool).
func (s *Session) flush(ctx context.Context, pid clixml.GUID) error {
	for {
		s.mu.Lock()
		d := s.pool.DataToSendFor(pid, s.t.MaxPayload())
		s.mu.Unlock()
		if d == nil {
			return nil
		}
		stream := "stdin"
		if d.Stream == psrp.StreamPromptResponse {
			stream = "pr"
		}
		cmd := ""
		if pid != (clixml.GUID{}) {
			cmd = commandID(pid)
		}
		if err := s.t.Send(ctx, s.shellID, cmd, stream, d.Data); err != nil {
			return fmt.Errorf("session: send: %w", err)
		}
	}
}

func commandID(pid clixml.GUID) string { return strings.ToUpper(pid.String()) }

// ensureSessionKey runs the PSRP key exchange once (MS-PSRP 3.1.4.12) and
// waits for the server's session key.
func (s *Session) ensureSessionKey(ctx context.Context) error {
	s.mu.Lock()
	if s.pool.SessionKey() != nil {
		s.mu.Unlock()
		return nil
	}
	err := s.pool.ExchangeKey()
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("session: key exchange: %w", err)
	}
	if err := s.flushPool(ctx); err != nil {
		return err
	}
	timer := time.NewTimer(time.Minute)
	defer timer.Stop()
	select {
	case <-s.keyReady:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return errors.New("session: the server did not answer the session key exchange")
	}
}

// Close closes the runspace pool on the server (Delete) and releases the
// session (MS-PSRP 3.1.4.5).
func (s *Session) Close(ctx context.Context) error {
	s.stopPoolReceiver()
	s.mu.Lock()
	st := s.pool.State()
	if st == psrp.PoolOpened {
		s.pool.BeginClose()
	}
	s.mu.Unlock()
	err := s.t.Delete(ctx, s.shellID)
	s.mu.Lock()
	s.pool.Closed()
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("session: close: %w", err)
	}
	return nil
}

// Disconnect suspends the session on the server: the pool and any running
// command keep running there, output is buffered (MS-PSRP 3.1.4.9).
func (s *Session) Disconnect(ctx context.Context, idle time.Duration, bufferMode string) error {
	s.stopPoolReceiver()
	s.mu.Lock()
	err := s.pool.BeginDisconnect()
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("session: disconnect: %w", err)
	}
	if err := s.t.Disconnect(ctx, s.shellID, idle, bufferMode); err != nil {
		return fmt.Errorf("session: disconnect: %w", err)
	}
	s.mu.Lock()
	err = s.pool.Disconnected()
	s.mu.Unlock()
	return err
}

// Reconnect resumes a session this process disconnected (MS-PSRP
// 3.1.4.11 with WSMan Reconnect).
func (s *Session) Reconnect(ctx context.Context) error {
	s.mu.Lock()
	err := s.pool.BeginReconnect()
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("session: reconnect: %w", err)
	}
	if err := s.t.Reconnect(ctx, s.shellID); err != nil {
		return fmt.Errorf("session: reconnect: %w", err)
	}
	s.mu.Lock()
	err = s.pool.Reconnected()
	s.mu.Unlock()
	if err != nil {
		return err
	}
	s.startPoolReceiver()
	return nil
}
