package session

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/pssession/pssession/remote/psrp"
	"github.com/pssession/pssession/remote/psrp/clixml"
)

// ErrBusy is returned when the session stayed busy with another pipeline
// for longer than the busy timeout.
var ErrBusy = errors.New("session: the session is busy running another command")

// CommandLineOf is the command text WS-Man shows for a script in command
// enumeration: its first line, at most 256 characters, as PowerShell sends.
func CommandLineOf(script string) string {
	s := strings.TrimSpace(script)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	if len(s) > 256 {
		s = s[:256]
	}
	return s
}

// ErrAbandoned is returned when a stopped pipeline did not acknowledge the
// stop within the cancel timeout and was left behind.
var ErrAbandoned = errors.New("session: the command did not stop in time and was abandoned")

// RunRequest is one pipeline to run.
type RunRequest struct {
	Spec psrp.PipelineSpec
	// CommandLine is the text shown for the command in server-side
	// command enumeration (the first line of the script, or empty).
	CommandLine string
	// Input objects are sent as pipeline input, then end of input. With no
	// input the spec's NoInput is set.
	Input []clixml.Value
	// OnEvent receives every stream event of the pipeline in order:
	// output, error, warning, verbose, debug, information and progress
	// records. Host calls are answered by the session's Host.
	OnEvent func(psrp.Event)
	// OnStopping is called once when a stop was requested (ctx ended).
	OnStopping func()
	// Flush, when set, is called whenever the events delivered so far
	// should reach the user: before a host call is answered and before
	// the run waits for more events. A caller that buffers what OnEvent
	// renders writes it out here.
	Flush func()
}

// Result is how a pipeline ended.
type Result struct {
	State psrp.PipelineState
	// Error is the terminating error record of a Failed or Stopped pipeline.
	Error *clixml.ErrorRecord
	// ShouldExit is set when the script called exit (SetShouldExit).
	ShouldExit *int32
	// ExitCode is the WS-Man command exit code (0 for PowerShell).
	ExitCode int

	// delivered is set once any stream event or host call arrived.
	delivered bool
}

// run is one pipeline in flight. Its events arrive from the receiving
// goroutine and are consumed by Run.
type run struct {
	mu     sync.Mutex
	events []psrp.Event
	err    error
	done   bool // the command reported CommandState Done
	notify chan struct{}
}

func newRun() *run { return &run{notify: make(chan struct{}, 1)} }

func (r *run) wake() {
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

func (r *run) push(ev psrp.Event) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
	r.wake()
}

func (r *run) fail(err error) {
	r.mu.Lock()
	if r.err == nil {
		r.err = err
	}
	r.mu.Unlock()
	r.wake()
}

func (r *run) finish() {
	r.mu.Lock()
	r.done = true
	r.mu.Unlock()
	r.wake()
}

// take returns the queued events and the run's status.
func (r *run) take() ([]psrp.Event, error, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	evs := r.events
	r.events = nil
	return evs, r.err, r.done
}

// acquire waits for the session to be free: one pipeline at a time
// (about_PSSession_Details).
func (s *Session) acquire(ctx context.Context) error {
	select {
	case s.busy <- struct{}{}:
		return nil
	default:
	}
	wait := s.cfg.BusyTimeout
	if wait == 0 {
		wait = DefaultBusyTimeout
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case s.busy <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return ErrBusy
	}
}

func (s *Session) release() { <-s.busy }

// Run runs one pipeline to its end, streaming its events to
// req.OnEvent and answering host calls with the session's Host. When ctx
// ends the pipeline is stopped (PSRP stop signal) and Run waits up to the
// cancel timeout for the stop; the session survives.
func (s *Session) Run(ctx context.Context, req RunRequest) (*Result, error) {
	spec := req.Spec
	spec.NoInput = len(req.Input) == 0
	return s.execute(ctx, req, func(p *psrp.ClientPool) (*psrp.ClientPipeline, error) {
		return p.CreatePipeline(spec)
	})
}

// execute runs the pipeline that create makes, once the session is free.
func (s *Session) execute(ctx context.Context, req RunRequest, create func(*psrp.ClientPool) (*psrp.ClientPipeline, error)) (*Result, error) {
	if err := s.acquire(ctx); err != nil {
		return nil, err
	}
	defer s.release()
	pl, r, err := s.begin(ctx, req, create)
	if err != nil {
		return nil, err
	}
	return s.finish(ctx, pl, r, req)
}

// StartDetached creates and sends a pipeline without waiting for its
// output, for a caller that disconnects next (Invoke-Command
// -InDisconnectedSession). It returns the command id.
func (s *Session) StartDetached(ctx context.Context, req RunRequest) (string, error) {
	if err := s.acquire(ctx); err != nil {
		return "", err
	}
	defer s.release()
	spec := req.Spec
	spec.NoInput = len(req.Input) == 0
	pl, _, err := s.begin(ctx, req, func(p *psrp.ClientPool) (*psrp.ClientPipeline, error) { return p.CreatePipeline(spec) })
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	delete(s.runs, pl.ID())
	s.mu.Unlock()
	return commandID(pl.ID()), nil
}

// Attach reattaches to a command that kept running on the server while the
// session was disconnected, prints (through req.OnEvent) what it buffered
// and what follows, and runs it to its end like Run. After Connect the
// command must be connected too (connect true); after Reconnect it only
// needs receiving (MS-PSRP 3.1.4.11).
func (s *Session) Attach(ctx context.Context, cmdID string, connect bool, req RunRequest) (*Result, error) {
	pid, err := clixml.ParseGUID(cmdID)
	if err != nil {
		return nil, fmt.Errorf("session: attach: bad command id %q: %w", cmdID, err)
	}
	if err := s.acquire(ctx); err != nil {
		return nil, err
	}
	defer s.release()
	r := newRun()
	s.mu.Lock()
	pl, err := s.pool.AttachPipeline(pid)
	if err == nil {
		s.runs[pid] = r
	}
	s.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("session: attach: %w", err)
	}
	if connect {
		if err := s.t.ConnectCommand(context.WithoutCancel(ctx), s.shellID, commandID(pid)); err != nil {
			s.forget(pid)
			return nil, fmt.Errorf("session: attach: %w", err)
		}
	}
	return s.finish(ctx, pl, r, req)
}

// forget drops a pipeline from the session.
func (s *Session) forget(pid clixml.GUID) {
	s.mu.Lock()
	delete(s.runs, pid)
	s.pool.RemovePipeline(pid)
	s.mu.Unlock()
}

// begin creates the pipeline, sends it and its input.
func (s *Session) begin(ctx context.Context, req RunRequest, create func(*psrp.ClientPool) (*psrp.ClientPipeline, error)) (*psrp.ClientPipeline, *run, error) {
	r := newRun()
	s.mu.Lock()
	if s.brokenErr != nil {
		err := s.brokenErr
		s.mu.Unlock()
		return nil, nil, err
	}
	pl, err := create(s.pool)
	if err == nil {
		err = pl.Start()
	}
	var first *psrp.OutgoingData
	if err == nil {
		s.runs[pl.ID()] = r
		first = s.pool.DataToSendFor(pl.ID(), s.t.MaxPayload())
	}
	s.mu.Unlock()
	if err != nil {
		return nil, nil, fmt.Errorf("session: run: %w", err)
	}
	pid := pl.ID()
	cmdID := commandID(pid)
	// The transport calls below must survive the caller's cancellation:
	// cancelling means stopping the pipeline, not abandoning the socket.
	opCtx := context.WithoutCancel(ctx)
	if err := s.t.Command(opCtx, s.shellID, cmdID, req.CommandLine, first.Data); err != nil {
		s.forget(pid)
		return nil, nil, fmt.Errorf("session: run: %w", err)
	}
	if err := s.flush(opCtx, pid); err != nil {
		s.forget(pid)
		return nil, nil, err
	}
	if len(req.Input) > 0 {
		s.mu.Lock()
		for _, v := range req.Input {
			if err = pl.Send(v); err != nil {
				break
			}
		}
		if err == nil {
			err = pl.EndInput()
		}
		s.mu.Unlock()
		if err == nil {
			err = s.flush(opCtx, pid)
		}
		if err != nil {
			s.forget(pid)
			return nil, nil, fmt.Errorf("session: pipeline input: %w", err)
		}
	}
	return pl, r, nil
}

// finish receives the pipeline's output until it ended, then releases the
// command on the server.
func (s *Session) finish(ctx context.Context, pl *psrp.ClientPipeline, r *run, req RunRequest) (*Result, error) {
	pid := pl.ID()
	cmdID := commandID(pid)
	defer s.forget(pid)
	opCtx := context.WithoutCancel(ctx)
	recvCtx, stopRecv := context.WithCancel(opCtx)
	defer stopRecv()
	res := &Result{}
	go s.receiveCommand(recvCtx, cmdID, r, res)

	res2, err := s.drive(ctx, pl, r, req, res)
	stopRecv()
	if err == nil || errors.Is(err, ErrAbandoned) {
		// Release the command on the server (PowerShell closes each one).
		tctx, cancel := context.WithTimeout(opCtx, 30*time.Second)
		if terr := s.t.Signal(tctx, s.shellID, cmdID, SignalTerminate); terr != nil {
			s.log.Debug("terminate command", "err", terr)
		}
		cancel()
	}
	return res2, err
}

// receiveCommand long-polls the command's output until CommandState Done.
func (s *Session) receiveCommand(ctx context.Context, cmdID string, r *run, res *Result) {
	err := s.longPoll(ctx, cmdID, func(rec *Received) {
		r.mu.Lock()
		res.ExitCode = rec.ExitCode
		r.mu.Unlock()
		r.finish()
	})
	if err != nil {
		r.fail(err)
	}
}

// drive consumes the run's events until the pipeline ended.
func (s *Session) drive(ctx context.Context, pl *psrp.ClientPipeline, r *run, req RunRequest, res *Result) (*Result, error) {
	var (
		stopping   bool
		abandonC   <-chan time.Time
		terminal   bool
		ctxDone    = ctx.Done()
		cancelWait = s.cfg.CancelTimeout
	)
	if cancelWait == 0 {
		cancelWait = DefaultCancelTimeout
	}
	opCtx := context.WithoutCancel(ctx)
	for {
		evs, rerr, done := r.take()
		for _, ev := range evs {
			switch e := ev.(type) {
			case psrp.PipelineHostCall:
				res.delivered = true
				if req.Flush != nil {
					req.Flush()
				}
				if err := s.answerPipelineHostCall(ctx, pl, e.Call, res); err != nil {
					return nil, err
				}
			case psrp.PipelineStateChanged:
				if e.State.Terminal() {
					terminal = true
					res.State = e.State
					if e.Error != nil {
						if rec, err := clixml.ParseErrorRecord(e.Error); err == nil {
							res.Error = rec
						}
					}
				}
			default:
				res.delivered = true
				if req.OnEvent != nil {
					req.OnEvent(ev)
				}
			}
		}
		if req.Flush != nil && len(evs) > 0 {
			req.Flush()
		}
		if terminal && done {
			return res, nil
		}
		if rerr != nil {
			if terminal {
				return res, nil
			}
			var lost *ConnectionLostError
			if errors.As(rerr, &lost) && lost.CommandID == "" {
				rerr = &ConnectionLostError{CommandID: commandID(pl.ID()), Err: lost.Err}
			}
			return nil, rerr
		}
		select {
		case <-r.notify:
		case <-ctxDone:
			ctxDone = nil
			if !stopping && !terminal {
				stopping = true
				if req.OnStopping != nil {
					req.OnStopping()
				}
				s.mu.Lock()
				serr := pl.BeginStop()
				s.mu.Unlock()
				if serr == nil {
					sctx, cancel := context.WithTimeout(opCtx, cancelWait)
					err := s.t.Signal(sctx, s.shellID, commandID(pl.ID()), SignalStop)
					cancel()
					if err != nil {
						s.log.Debug("stop signal", "err", err)
					}
				}
				t := time.NewTimer(cancelWait)
				defer t.Stop()
				abandonC = t.C
			}
		case <-abandonC:
			return &Result{State: psrp.PipelineStopped}, ErrAbandoned
		}
	}
}

// answerPipelineHostCall answers one pipeline host call.
func (s *Session) answerPipelineHostCall(ctx context.Context, pl *psrp.ClientPipeline, call psrp.HostCall, res *Result) error {
	if call.Method == psrp.HostSetShouldExit && len(call.Params) > 0 {
		if code, ok := call.Params[0].(int32); ok {
			res.ShouldExit = &code
		}
	}
	result, herr := s.callHost(ctx, call)
	if call.CallID == psrp.VoidCallID {
		return nil
	}
	s.mu.Lock()
	err := pl.HostResponse(call.CallID, result, herr)
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("session: host response: %w", err)
	}
	return s.flush(context.WithoutCancel(ctx), pl.ID())
}

// callHost asks the Host and converts its answer for the wire: secrets
// are encrypted with the session key, errors become error records.
func (s *Session) callHost(ctx context.Context, call psrp.HostCall) (clixml.Value, *clixml.Object) {
	if s.cfg.Host == nil {
		return nil, hostError("the host does not support user interaction", "HostException")
	}
	v, err := s.cfg.Host.HostCall(ctx, call)
	if err != nil {
		return nil, hostError(err.Error(), "HostException")
	}
	v, err = s.secure(ctx, v)
	if err != nil {
		return nil, hostError(err.Error(), "HostException")
	}
	return v, nil
}

// Credential is what a Host returns for PromptForCredential.
type Credential struct {
	UserName string
	Password SecureText
}

// secure encrypts SecureText values (and credentials) for the wire.
func (s *Session) secure(ctx context.Context, v clixml.Value) (clixml.Value, error) {
	switch x := v.(type) {
	case SecureText:
		return s.encrypt(ctx, string(x))
	case Credential:
		ss, err := s.encrypt(ctx, string(x.Password))
		if err != nil {
			return nil, err
		}
		return clixml.PSCredential{UserName: x.UserName, Password: ss}.Object(), nil
	}
	return v, nil
}

func (s *Session) encrypt(ctx context.Context, plain string) (clixml.SecureString, error) {
	if err := s.ensureSessionKey(ctx); err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pool.EncryptSecureString(plain)
}

// hostError builds the error record sent back for a failed host call.
func hostError(msg, typ string) *clixml.Object {
	rec := &clixml.ErrorRecord{
		Message:               msg,
		FullyQualifiedErrorID: typ,
		Category:              clixml.ErrorCategoryInfo{Category: clixml.ErrorCategory(11) /* NotImplemented */, Reason: typ},
		Exception: clixml.ExceptionInfo{
			TypeNames: []string{"System.Management.Automation.Host.HostException", "System.Exception", "System.Object"},
			Message:   msg,
		},
	}
	return rec.Object()
}

// DefaultHostInfo describes an interactive host with the given console
// size (MS-PSRP 2.2.3.14).
func DefaultHostInfo(width, height int) *clixml.Object {
	if width <= 0 {
		width = 120
	}
	if height <= 0 {
		height = 50
	}
	w, h := int32(width), int32(height)
	hi := clixml.HostInfo{DefaultData: &clixml.HostDefaultData{
		ForegroundColor:       clixml.ConsoleColor(7),
		BackgroundColor:       clixml.ConsoleColor(0),
		CursorSize:            25,
		BufferSize:            clixml.Size{Width: w, Height: 9999},
		WindowSize:            clixml.Size{Width: w, Height: h},
		MaxWindowSize:         clixml.Size{Width: w, Height: h},
		MaxPhysicalWindowSize: clixml.Size{Width: w, Height: h},
		WindowTitle:           "pssession",
	}}
	return hi.Object()
}
