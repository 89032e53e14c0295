package endpoint

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/pssession/pssession/remote/psrp"
	"github.com/pssession/pssession/remote/psrp/clixml"
	"github.com/pssession/pssession/remote/wsman"
)

// psShell is the PowerShell side of a shell: a psrp.ServerPool, its engine
// runspace and the fragments waiting for a pool Receive. Guarded by
// Handler.mu.
type psShell struct {
	pool      *psrp.ServerPool
	rs        Runspace
	maxPacket int             // fragment packet size, from the Create envelope
	out       []psrp.Fragment // pool-stream fragments not yet received
	// lastPID and lastCmd remember the command of the last packet
	// drained: a pipeline's output drains one record at a time, and
	// formatting the GUID as the map key took two allocations each.
	lastPID clixml.GUID
	lastCmd *command
}

func (p *psShell) close() {
	if p.rs != nil {
		_ = p.rs.Close()
	}
}

// psCommand is one pipeline of a PowerShell shell. Guarded by Handler.mu.
type psCommand struct {
	pl       *psrp.ServerPipeline
	out      []psrp.Fragment // fragments not yet received
	outBytes int             // the sum of out's fragment sizes
	sentPart uint64          // ObjectId of a partly received message (0: none)
	finished bool            // the final PIPELINE_STATE is queued in out
	reported bool            // CommandState Done was delivered
	started  bool
	input    []any
	ctx      context.Context
	cancel   context.CancelFunc
	calls    map[int64]chan psrp.HostResponseReceived
	dropped  int // messages discarded in Drop mode
	blocked  int // writers waiting for the client to drain (Block)
}

// bufferedLocked counts the bytes waiting for the client. Every writer
// asks before each record, so the count is kept rather than summed.
func (c *psCommand) bufferedLocked() int { return c.outBytes }

// queueLocked appends fragments to out.
func (c *psCommand) queueLocked(frags []psrp.Fragment) {
	c.out = append(c.out, frags...)
	for _, f := range frags {
		c.outBytes += f.Size()
	}
}

// dequeueLocked removes the first n fragments of out.
func (c *psCommand) dequeueLocked(n int) {
	for _, f := range c.out[:n] {
		c.outBytes -= f.Size()
	}
	c.out = c.out[n:]
}

// psCreate opens a runspace pool (MS-PSRP 3.1.4.1, 3.2.5.3.1): the
// creationXml carries SESSION_CAPABILITY and INIT_RUNSPACEPOOL.
func (h *Handler) psCreate(c *call) (string, *Fault) {
	b := c.req.Body.Shell
	if b == nil {
		return "", faultSchema("Create needs an rsp:Shell body")
	}
	id, err := clixml.ParseGUID(b.ShellID)
	if err != nil {
		return "", faultInvalidParameter("ShellId " + b.ShellID + " is not a GUID")
	}
	creation, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b.CreationXML))
	if err != nil || len(creation) == 0 {
		return "", faultInvalidParameter("creationXml is missing or not base64")
	}
	s, f := h.newShell(c, kindPS, strings.ToUpper(id.String()), b)
	if f != nil {
		return "", f
	}
	if s.inputStreams == "" {
		s.inputStreams = "stdin pr"
	}
	if s.outputStreams == "" {
		s.outputStreams = "stdout"
	}
	rs, err := h.engine.Open(s.ctx, RunspaceOptions{})
	if err != nil {
		s.cancel()
		return "", faultInternal("the engine cannot open a runspace: " + err.Error())
	}
	s.ps = &psShell{pool: psrp.NewServerPool(psrp.ServerConfig{RunspacePoolID: id}), rs: rs,
		maxPacket: packetSize(c.req.envelopeSize())}
	h.mu.Lock()
	err = s.ps.pool.ReceiveData(creation)
	if err == nil {
		h.psEventsLocked(s)
	}
	h.mu.Unlock()
	if err != nil {
		s.close()
		s.cancel()
		return "", faultInvalidParameter("creationXml: " + err.Error())
	}
	if f := h.register(s); f != nil {
		s.close()
		s.cancel()
		return "", f
	}
	return h.resourceCreated(c, s), nil
}

// packetSize is the PSRP payload that fits a response envelope of size
// bytes once base64-encoded, leaving room for the SOAP headers.
func packetSize(size int) int {
	return max((size-4096)*3/4, 1024)
}

func (h *Handler) psDispatch(c *call, s *shell) (string, *Fault) {
	switch c.req.Header.Action {
	case actionDelete:
		h.deleteShell(s)
		return "", nil
	case actionCommand:
		return h.psCommandStart(c, s)
	case actionSend:
		return h.psSend(c, s)
	case actionReceive:
		return h.psReceive(c, s)
	case actionSignal:
		return h.psSignal(c, s)
	case actionDisconnect:
		return h.psDisconnect(c, s)
	case actionReconnect:
		return h.psReconnect(c, s)
	case actionConnect:
		return h.psConnect(c, s)
	}
	return "", faultActionNotSupported(c.req.Header.Action)
}

// psEventsLocked handles the pool's events and moves queued fragments to
// the pool and command outboxes. h.mu must be held.
func (h *Handler) psEventsLocked(s *shell) {
	pool := s.ps.pool
	for {
		ev, ok := pool.NextEvent()
		if !ok {
			break
		}
		switch e := ev.(type) {
		case psrp.RunspacePoolInitReceived:
			if err := pool.Open(); err != nil {
				h.log.Warn("endpoint: opening runspace pool", "shell", s.id, "err", err)
			}
		case psrp.PipelineCreated:
			cmd := s.commands[strings.ToUpper(e.Pipeline.ID().String())]
			if cmd == nil || cmd.p == nil {
				// CREATE_PIPELINE for a command this shell did not announce.
				h.log.Warn("endpoint: pipeline without a WSMan command", "shell", s.id, "pid", e.Pipeline.ID())
				continue
			}
			cmd.p.pl = e.Pipeline
			if e.Pipeline.InputEnded() {
				h.psStartLocked(s, cmd)
			}
		case psrp.PipelineInputReceived:
			if cmd := s.commands[strings.ToUpper(e.PipelineID.String())]; cmd != nil && cmd.p != nil {
				cmd.p.input = append(cmd.p.input, e.Value)
			}
		case psrp.PipelineEndOfInput:
			if cmd := s.commands[strings.ToUpper(e.PipelineID.String())]; cmd != nil && cmd.p != nil && cmd.p.pl != nil {
				h.psStartLocked(s, cmd)
			}
		case psrp.HostResponseReceived:
			if cmd := s.commands[strings.ToUpper(e.PipelineID.String())]; cmd != nil && cmd.p != nil {
				if ch := cmd.p.calls[e.CallID]; ch != nil {
					ch <- e
					delete(cmd.p.calls, e.CallID)
				}
			}
		case psrp.AvailabilityRequested:
			var v clixml.Value = true
			if e.Request == psrp.RequestGetAvailableRunspaces {
				v = int64(1)
			}
			if err := pool.RespondAvailability(e.CallID, v); err != nil {
				h.log.Warn("endpoint: availability response", "shell", s.id, "err", err)
			}
		case psrp.ProtocolErrorReceived:
			h.log.Warn("endpoint: PSRP protocol error", "shell", s.id, "err", e.Err)
		}
	}
	h.psDrainLocked(s)
}

// psDrainLocked moves the pool's queued packets into the outboxes.
func (h *Handler) psDrainLocked(s *shell) {
	for {
		d := s.ps.pool.DataToSend(s.ps.maxPacket)
		if d == nil {
			break
		}
		frags, err := psrp.ParseFragments(d.Data, len(d.Data))
		if err != nil {
			h.log.Error("endpoint: own packet does not parse", "err", err)
			continue
		}
		if d.PipelineID == (clixml.GUID{}) {
			s.ps.out = append(s.ps.out, frags...)
			continue
		}
		cmd := s.ps.lastCmd
		if cmd == nil || d.PipelineID != s.ps.lastPID || s.commands[cmd.id] != cmd {
			cmd = s.commands[strings.ToUpper(d.PipelineID.String())]
			s.ps.lastPID, s.ps.lastCmd = d.PipelineID, cmd
		}
		if cmd == nil || cmd.p == nil {
			continue // the command was terminated
		}
		cmd.p.queueLocked(frags)
		if s.disconnected && s.bufferMode == "Drop" {
			h.psDropLocked(cmd.p, h.cfg.BufferLimit)
		}
	}
	h.notifyLocked()
}

// psDropLocked discards the oldest whole messages beyond limit bytes,
// never the one partly received nor the last one (MS-WSMV 2.2.5.10 Drop).
func (h *Handler) psDropLocked(p *psCommand, limit int) {
	for p.bufferedLocked() > limit {
		first := p.out[0].ObjectID
		if first == p.sentPart {
			return
		}
		n := 0
		for n < len(p.out) && p.out[n].ObjectID == first {
			n++
		}
		if n == len(p.out) {
			return
		}
		p.dequeueLocked(n)
		p.dropped++
	}
}

// psStartLocked runs the pipeline on the engine in its own goroutine.
func (h *Handler) psStartLocked(s *shell, cmd *command) {
	p := cmd.p
	if p.started {
		return
	}
	p.started = true
	pl := p.pl
	if pl.Metadata != nil {
		err := h.psCommandMetadataLocked(s, pl)
		if err == nil {
			err = pl.Complete()
		}
		if err != nil {
			h.log.Warn("endpoint: command metadata", "shell", s.id, "err", err)
		}
		h.psDrainLocked(s)
		p.finished = true
		return
	}
	spec := Pipeline{Input: p.input}
	stmts := append([][]psrp.Command{pl.Spec.Commands}, pl.Spec.ExtraStatements...)
	for _, stmt := range stmts {
		for _, c := range stmt {
			ec := Command{Text: c.Cmd, IsScript: c.IsScript}
			for _, a := range c.Args {
				ec.Args = append(ec.Args, Arg{Name: a.Name, Value: a.Value})
			}
			spec.Commands = append(spec.Commands, ec)
		}
	}
	if missing := unknownCommand(s.ps.rs, spec); missing != "" {
		// PowerShell resolves every command of a pipeline before running
		// any: nothing has run when this fails.
		if err := pl.Fail(commandNotFoundRecord(missing)); err != nil {
			h.log.Debug("endpoint: pipeline end", "shell", s.id, "command", cmd.id, "err", err)
		}
		h.psDrainLocked(s)
		p.finished = true
		return
	}
	w := &psWriter{h: h, s: s, cmd: cmd}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		err := s.ps.rs.Run(p.ctx, spec, w)
		h.mu.Lock()
		defer h.mu.Unlock()
		var se *ScriptError
		switch {
		case p.ctx.Err() != nil:
			err = pl.Stop()
		case err == nil:
			err = pl.Complete()
		case errors.As(err, &se):
			err = pl.Fail(throwRecord(se.Message))
		default:
			err = pl.Fail(throwRecord(err.Error()))
		}
		if err != nil {
			h.log.Debug("endpoint: pipeline end", "shell", s.id, "command", cmd.id, "err", err)
		}
		h.psDrainLocked(s)
		p.finished = true
		h.notifyLocked()
	}()
}

func (h *Handler) psCommandStart(c *call, s *shell) (string, *Fault) {
	b := c.req.Body.CommandLine
	if b == nil {
		return "", faultSchema("Command needs an rsp:CommandLine body")
	}
	pid, err := clixml.ParseGUID(b.CommandID)
	if err != nil {
		return "", faultInvalidParameter("CommandId " + b.CommandID + " is not a GUID")
	}
	id := strings.ToUpper(pid.String())
	var data []byte
	for _, a := range b.Arguments {
		d, err := base64.StdEncoding.DecodeString(strings.TrimSpace(a))
		if err != nil {
			return "", faultInvalidParameter("Arguments are not base64")
		}
		data = append(data, d...)
	}
	ctx, cancel := context.WithCancel(s.ctx)
	cmd := &command{id: id, line: strings.TrimSpace(b.Command),
		p: &psCommand{ctx: ctx, cancel: cancel, calls: map[int64]chan psrp.HostResponseReceived{}}}
	h.mu.Lock()
	defer h.mu.Unlock()
	if s.disconnected {
		cancel()
		return "", faultDisconnected()
	}
	if f := h.checkCommandQuotaLocked(s, id); f != nil {
		cancel()
		return "", f
	}
	s.commands[id] = cmd
	s.order = append(s.order, id)
	if err := s.ps.pool.ReceiveData(data); err != nil {
		delete(s.commands, id)
		s.order = s.order[:len(s.order)-1]
		cancel()
		return "", faultInvalidParameter("Arguments: " + err.Error())
	}
	h.psEventsLocked(s)
	return `<rsp:CommandResponse>` + elem("rsp:CommandId", id) + `</rsp:CommandResponse>`, nil
}

func (h *Handler) psSend(c *call, s *shell) (string, *Fault) {
	b := c.req.Body.Send
	if b == nil {
		return "", faultSchema("Send needs an rsp:Send body")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, st := range b.Streams {
		if st.Name != "stdin" && st.Name != "pr" {
			return "", faultInvalidParameter("stream " + st.Name + " is not an input stream of this shell")
		}
		if id := strings.TrimSpace(st.CommandID); id != "" && s.commands[strings.ToUpper(id)] == nil {
			return "", faultInvalidSelectors()
		}
		data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(st.Data))
		if err != nil {
			return "", faultInvalidParameter("stream data is not base64")
		}
		if err := s.ps.pool.ReceiveData(data); err != nil {
			return "", faultInvalidParameter("stream data: " + err.Error())
		}
		h.psEventsLocked(s)
	}
	return `<rsp:SendResponse/>`, nil
}

func (h *Handler) psSignal(c *call, s *shell) (string, *Fault) {
	b := c.req.Body.Signal
	if b == nil {
		return "", faultSchema("Signal needs an rsp:Signal body")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	cmd := s.commands[strings.ToUpper(strings.TrimSpace(b.CommandID))]
	if cmd == nil || cmd.p == nil {
		return "", faultInvalidSelectors()
	}
	code := strings.TrimSpace(b.Code)
	switch {
	case code == signalPSCtrlC:
		cmd.p.cancel()
		if !cmd.p.started && cmd.p.pl != nil && !cmd.p.finished {
			// Waiting for input: stop without running.
			cmd.p.started = true
			if err := cmd.p.pl.Stop(); err == nil {
				h.psDrainLocked(s)
				cmd.p.finished = true
			}
		}
	default:
		// Terminate, and any other code on a command, closes it
		// (shared/PROTOCOL.md §1.4 Signal).
		cmd.p.cancel()
		delete(s.commands, cmd.id)
		if cmd.p.pl != nil {
			s.ps.pool.RemovePipeline(cmd.p.pl.ID())
		}
	}
	h.notifyLocked()
	return `<rsp:SignalResponse/>`, nil
}

func faultDisconnected() *Fault {
	return &Fault{Subcode: "w:InvalidParameter", WSManCode: CodeInvalidParameter,
		Message: "The shell is disconnected: reconnect or connect to it first."}
}

// psReceive long-polls the pool stream or a command's stream.
func (h *Handler) psReceive(c *call, s *shell) (string, *Fault) {
	b := c.req.Body.Receive
	if b == nil {
		return "", faultSchema("Receive needs an rsp:Receive body")
	}
	cmdID := strings.ToUpper(strings.TrimSpace(b.DesiredStream.CommandID))
	h.begin(s)
	defer h.end(s)
	timeout, stop := h.clock.After(c.req.operationTimeout(DefaultOperationTimeout))
	defer stop()
	room := packetSize(c.req.envelopeSize())
	h.mu.Lock()
	defer h.mu.Unlock()
	for {
		if s.disconnected {
			return "", faultDisconnected()
		}
		var queue *[]psrp.Fragment
		var p *psCommand
		if cmdID == "" {
			queue = &s.ps.out
		} else {
			cmd := s.commands[cmdID]
			if cmd == nil || cmd.p == nil {
				return "", faultInvalidSelectors()
			}
			p = cmd.p
			queue = &p.out
		}
		if len(*queue) > 0 || p != nil && p.finished && !p.reported {
			h.psReceiveBody(c, cmdID, queue, p, room)
			return "", nil
		}
		ch := h.changedLocked()
		h.mu.Unlock()
		select {
		case <-ch:
		case <-timeout:
			h.mu.Lock()
			return "", faultTimedOut()
		case <-c.ctx.Done():
			h.mu.Lock()
			return "", faultTimedOut()
		case <-s.ctx.Done():
			h.mu.Lock()
			return "", faultInvalidSelectors()
		}
		h.mu.Lock()
	}
}

// psReceiveBody takes fragments that fit room into rsp:Stream elements
// and reports Done once the final PIPELINE_STATE went out.
func (h *Handler) psReceiveBody(c *call, cmdID string, queue *[]psrp.Fragment, p *psCommand, room int) {
	attr := ""
	if cmdID != "" {
		attr = ` CommandId="` + esc(cmdID) + `"`
	}
	// First pass: which fragments fit, and the exact size of their
	// rsp:Stream elements (one per message), so that the body and the
	// packet buffer are allocated once.
	streamOverhead := len(`<rsp:Stream Name="stdout"`) + len(attr) + len(`>`) + len(`</rsp:Stream>`)
	used, n, size, packetMax, packetLen := 0, 0, 0, 0, 0
	for n < len(*queue) {
		f := (*queue)[n]
		if used > 0 && used+f.Size() > room {
			break
		}
		used += f.Size()
		packetLen += f.Size()
		n++
		if f.End || n == len(*queue) || used+(*queue)[n].Size() > room {
			size += streamOverhead + base64.StdEncoding.EncodedLen(packetLen)
			packetMax = max(packetMax, packetLen)
			packetLen = 0
		}
	}
	// The body goes straight into the response envelope (no body string
	// to copy: it is the envelope size, 500 KiB in bulk output).
	b := c.startEnvelope(size + 512)
	b.WriteString(`<rsp:ReceiveResponse>`)
	packet := make([]byte, 0, packetMax)
	for i := range n {
		f := (*queue)[i]
		packet = f.Append(packet)
		if f.End {
			writeStream(b, attr, packet)
			packet = packet[:0]
		}
	}
	if len(packet) > 0 {
		writeStream(b, attr, packet)
	}
	if p != nil {
		p.sentPart = 0
		if n > 0 && !(*queue)[n-1].End {
			p.sentPart = (*queue)[n-1].ObjectID
		}
	}
	if p != nil {
		p.dequeueLocked(n)
	} else {
		*queue = (*queue)[n:]
	}
	if p != nil && p.finished && len(*queue) == 0 {
		b.WriteString(`<rsp:CommandState` + attr + ` State="` + commandStateDone + `"><rsp:ExitCode>0</rsp:ExitCode></rsp:CommandState>`)
		p.reported = true
	}
	b.WriteString(`</rsp:ReceiveResponse>`)
	c.endEnvelope()
	h.notifyLocked() // a blocked writer may continue
}

// writeStream appends one stdout rsp:Stream element carrying packet.
func writeStream(b *bytes.Buffer, attr string, packet []byte) {
	b.WriteString(`<rsp:Stream Name="stdout"`)
	b.WriteString(attr)
	b.WriteByte('>')
	// base64 straight into the buffer's free space (Write then copies
	// the AvailableBuffer slice onto itself).
	b.Grow(base64.StdEncoding.EncodedLen(len(packet)))
	b.Write(base64.StdEncoding.AppendEncode(b.AvailableBuffer(), packet))
	b.WriteString(`</rsp:Stream>`)
}

// psDisconnect suspends the client side (MS-PSRP 3.1.5.3.16): commands keep
// running, output keeps buffering.
func (h *Handler) psDisconnect(c *call, s *shell) (string, *Fault) {
	b := c.req.Body.Disconnect
	idle := s.idleTimeout
	mode := s.bufferMode
	if b != nil {
		if t := strings.TrimSpace(b.IdleTimeOut); t != "" {
			d, err := wsman.ParseDuration(t)
			if err != nil || d <= 0 {
				return "", faultInvalidParameter("IdleTimeOut " + t)
			}
			idle = min(d, h.cfg.MaxIdleTimeout)
		}
		switch m := strings.TrimSpace(b.BufferMode); {
		case m == "":
		case strings.EqualFold(m, "Block"):
			mode = "Block"
		case strings.EqualFold(m, "Drop"):
			mode = "Drop"
		default:
			return "", faultInvalidParameter("BufferMode " + m)
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	s.disconnected = true
	s.disconnectedAt = h.clock.Now()
	s.idleTimeout, s.bufferMode = idle, mode
	if mode == "Drop" {
		for _, cmd := range s.commands {
			if cmd.p != nil {
				h.psDropLocked(cmd.p, h.cfg.BufferLimit)
			}
		}
	}
	h.notifyLocked()
	return `<rsp:DisconnectResponse/>`, nil
}

// psReconnect resumes the same client's shell (MS-PSRP 3.1.5.3.17).
func (h *Handler) psReconnect(_ *call, s *shell) (string, *Fault) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !s.disconnected {
		return "", faultInUse("The shell is not disconnected.")
	}
	s.disconnected = false
	h.notifyLocked()
	return `<rsp:ReconnectResponse/>`, nil
}

// psConnect attaches a new client (MS-PSRP 3.1.5.3.13): with connectXml
// for the pool, without it (CommandId) for one command.
func (h *Handler) psConnect(c *call, s *shell) (string, *Fault) {
	b := c.req.Body.Connect
	if b == nil {
		return "", faultSchema("Connect needs an rsp:Connect body")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if id := strings.TrimSpace(b.CommandID); id != "" {
		cmd := s.commands[strings.ToUpper(id)]
		if cmd == nil || cmd.p == nil {
			return "", faultInvalidSelectors()
		}
		return `<rsp:ConnectResponse/>`, nil
	}
	if !s.disconnected {
		return "", faultInUse("The shell is connected to another client and cannot be connected to.")
	}
	data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b.ConnectXML))
	if err != nil || len(data) == 0 {
		return "", faultInvalidParameter("connectXml is missing or not base64")
	}
	s.ps.out = nil // pool messages meant for the previous client
	if err := s.ps.pool.ReceiveConnect(data); err != nil {
		return "", faultInvalidParameter("connectXml: " + err.Error())
	}
	resp := s.ps.pool.DataToSend(0)
	if resp == nil {
		return "", faultInternal("no connect response was produced")
	}
	// Reset partial-message state: the new client defragments afresh.
	for _, cmd := range s.commands {
		if cmd.p != nil && cmd.p.sentPart != 0 {
			for len(cmd.p.out) > 0 && cmd.p.out[0].ObjectID == cmd.p.sentPart {
				cmd.p.dequeueLocked(1)
			}
			cmd.p.sentPart = 0
		}
	}
	h.psEventsLocked(s)
	s.disconnected = false
	s.clientIP = c.clientIP
	h.notifyLocked()
	return `<rsp:ConnectResponse>` + elem("rsp:InputStreams", s.inputStreams) + elem("rsp:OutputStreams", s.outputStreams) +
		`<connectResponseXml xmlns="` + nsPowerShell + `">` + base64.StdEncoding.EncodeToString(resp.Data) +
		`</connectResponseXml></rsp:ConnectResponse>`, nil
}

// psWriter is the Writer of a PSRP pipeline: it queues records on the
// ServerPipeline and waits (Block) while the client has not drained the
// command's buffer.
type psWriter struct {
	h   *Handler
	s   *shell
	cmd *command
}

// do runs f on the pipeline under the lock, after waiting for room.
func (w *psWriter) do(f func(pl *psrp.ServerPipeline) error) error {
	h, p := w.h, w.cmd.p
	h.mu.Lock()
	defer h.mu.Unlock()
	for {
		if p.ctx.Err() != nil {
			return errStopped
		}
		dropping := w.s.disconnected && w.s.bufferMode == "Drop"
		if dropping || p.bufferedLocked() < h.cfg.BufferLimit {
			break
		}
		p.blocked++
		h.notifyLocked()
		ch := h.changedLocked()
		h.mu.Unlock()
		select {
		case <-ch:
		case <-p.ctx.Done():
		}
		h.mu.Lock()
		p.blocked--
	}
	if err := f(p.pl); err != nil {
		return fmt.Errorf("endpoint: writing to pipeline %s: %w", w.cmd.id, err)
	}
	h.psDrainLocked(w.s)
	return nil
}

func (w *psWriter) Output(v any) error {
	return w.do(func(pl *psrp.ServerPipeline) error { return pl.WriteOutput(toClixml(v)) })
}

func (w *psWriter) Error(m string) error {
	return w.do(func(pl *psrp.ServerPipeline) error { return pl.WriteError(writeErrorRecord(m)) })
}

func (w *psWriter) Warning(m string) error {
	return w.do(func(pl *psrp.ServerPipeline) error { return pl.WriteWarning(m) })
}

func (w *psWriter) Verbose(m string) error {
	return w.do(func(pl *psrp.ServerPipeline) error { return pl.WriteVerbose(m) })
}

func (w *psWriter) Debug(m string) error {
	return w.do(func(pl *psrp.ServerPipeline) error { return pl.WriteDebug(m) })
}

func (w *psWriter) Information(m string) error {
	rec := informationRecord(m, "Write-Information", w.h.machine, w.h.clock.Now())
	return w.do(func(pl *psrp.ServerPipeline) error { return pl.WriteInformation(rec) })
}

func (w *psWriter) Progress(p Progress) error {
	return w.do(func(pl *psrp.ServerPipeline) error { return pl.WriteProgress(progressRecord(p)) })
}

// Host is Write-Host: since PowerShell 5 an InformationRecord tagged PSHOST
// whose MessageData is a HostInformationMessage.
func (w *psWriter) Host(text string, o HostText) error {
	rec := informationRecord(hostMessage(text, o), "Write-Host", w.h.machine, w.h.clock.Now(), "PSHOST")
	return w.do(func(pl *psrp.ServerPipeline) error { return pl.WriteInformation(rec) })
}

// call makes a non-void host call and waits for the client's answer.
func (w *psWriter) call(ctx context.Context, method psrp.HostMethodID, params ...clixml.Value) (psrp.HostResponseReceived, error) {
	ch := make(chan psrp.HostResponseReceived, 1)
	err := w.do(func(pl *psrp.ServerPipeline) error {
		ci, err := pl.HostCall(method, params...)
		if err == nil {
			w.cmd.p.calls[ci] = ch
		}
		return err
	})
	if err != nil {
		return psrp.HostResponseReceived{}, err
	}
	select {
	case r := <-ch:
		if r.Error != nil {
			msg := r.Error.ToString
			if msg == "" {
				msg = "the host call failed"
			}
			return r, fmt.Errorf("endpoint: host %s: %s", method, msg)
		}
		return r, nil
	case <-ctx.Done():
		return psrp.HostResponseReceived{}, ctx.Err()
	}
}

func (w *psWriter) ReadLine(ctx context.Context, prompt string, secure bool) (string, error) {
	if prompt != "" {
		if err := w.do(func(pl *psrp.ServerPipeline) error {
			_, err := pl.HostCall(psrp.HostWrite1, prompt+": ")
			return err
		}); err != nil {
			return "", err
		}
	}
	method := psrp.HostReadLine
	if secure {
		method = psrp.HostReadLineAsSecureString
	}
	r, err := w.call(ctx, method)
	if err != nil {
		return "", err
	}
	return w.text(r.Result)
}

// text renders a host call result: strings as they are, SecureStrings
// decrypted with the session key.
func (w *psWriter) text(v clixml.Value) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case clixml.SecureString:
		w.h.mu.Lock()
		defer w.h.mu.Unlock()
		return w.s.ps.pool.DecryptSecureString(x)
	case nil:
		return "", nil
	case *clixml.Object:
		if x.Content == clixml.ContentPrimitive {
			return w.text(x.Value)
		}
		return x.ToString, nil
	}
	return fmt.Sprint(v), nil
}

func (w *psWriter) PromptForCredential(ctx context.Context, caption, message, userName string) (Credential, error) {
	r, err := w.call(ctx, psrp.HostPromptForCredential1, caption, message, userName, "")
	if err != nil {
		return Credential{}, err
	}
	o, ok := r.Result.(*clixml.Object)
	if !ok {
		return Credential{}, fmt.Errorf("endpoint: PromptForCredential answered %T, not a PSCredential", r.Result)
	}
	var cred Credential
	if v, ok := member(o, "UserName"); ok {
		cred.UserName, _ = w.text(v)
	}
	if v, ok := member(o, "Password"); ok {
		cred.Password, _ = w.text(v)
	}
	return cred, nil
}

func (w *psWriter) PromptForChoice(ctx context.Context, caption, message string, choices []string, def int) (int, error) {
	r, err := w.call(ctx, psrp.HostPromptForChoice, caption, message, choiceList(choices), int32(def))
	if err != nil {
		return 0, err
	}
	switch x := r.Result.(type) {
	case int32:
		return int(x), nil
	case int64:
		return int(x), nil
	}
	return 0, fmt.Errorf("endpoint: PromptForChoice answered %T, not an index", r.Result)
}

func (w *psWriter) SetShouldExit(code int) error {
	return w.do(func(pl *psrp.ServerPipeline) error {
		_, err := pl.HostCall(psrp.HostSetShouldExit, int32(code))
		return err
	})
}

// CommandLister is implemented by runspaces that can name their commands;
// GET_COMMAND_METADATA answers from it.
type CommandLister interface {
	Commands() []string
}

// unknownCommand returns the first command of p (scripts aside) that a
// runspace listing its commands does not have, or "". Runspaces that do
// not list their commands resolve them themselves.
func unknownCommand(rs Runspace, p Pipeline) string {
	cl, ok := rs.(CommandLister)
	if !ok {
		return ""
	}
	var known []string
	for _, c := range p.Commands {
		if c.IsScript {
			continue
		}
		if known == nil {
			known = cl.Commands()
		}
		if !slices.ContainsFunc(known, func(k string) bool { return strings.EqualFold(k, c.Text) }) {
			return c.Text
		}
	}
	return ""
}

// psCommandMetadataLocked answers GET_COMMAND_METADATA (MS-PSRP 2.2.2.14,
// 3.2.5.3.7): a count object, then one CmdletInfo-like object per command
// matching the wildcard names (shapes as in test_psrp_get_command_metadata).
func (h *Handler) psCommandMetadataLocked(s *shell, pl *psrp.ServerPipeline) error {
	var names []string
	if cl, ok := s.ps.rs.(CommandLister); ok {
		for _, name := range cl.Commands() {
			for _, pattern := range pl.Metadata.Name {
				if ok, _ := path.Match(strings.ToLower(pattern), strings.ToLower(name)); ok {
					names = append(names, name)
					break
				}
			}
		}
	}
	count := &clixml.Object{TypeNames: []string{"Selected.Microsoft.PowerShell.Commands.GenericMeasureInfo",
		"System.Management.Automation.PSCustomObject", "System.Object"},
		Members: []clixml.Property{{Name: "Count", Value: int32(len(names))}}}
	if err := pl.WriteOutput(count); err != nil {
		return err
	}
	for _, name := range names {
		kind, kindValue := "Cmdlet", int32(8)
		if !strings.Contains(name, "-") {
			kind, kindValue = "Function", 2
		}
		info := &clixml.Object{
			TypeNames: []string{"Selected.System.Management.Automation.CmdletInfo", "System.Management.Automation.PSCustomObject", "System.Object"},
			Members: []clixml.Property{
				{Name: "Name", Value: name},
				{Name: "Namespace", Value: ""},
				{Name: "HelpUri", Value: ""},
				{Name: "CommandType", Value: &clixml.Object{TypeNames: []string{"System.Management.Automation.CommandTypes", "System.Enum", "System.ValueType", "System.Object"},
					ToString: kind, HasToString: true, Content: clixml.ContentPrimitive, Value: kindValue}},
				{Name: "ResolvedCommandName", Value: nil},
				{Name: "OutputType", Value: &clixml.Object{TypeNames: []string{"System.Collections.ObjectModel.ReadOnlyCollection`1[[System.Management.Automation.PSTypeName]]", "System.Object"}, Content: clixml.ContentList}},
				{Name: "Parameters", Value: &clixml.Object{TypeNames: []string{"System.Collections.Generic.Dictionary`2[[System.String],[System.Management.Automation.ParameterMetadata]]", "System.Object"}, Content: clixml.ContentDict}},
			},
		}
		if err := pl.WriteOutput(info); err != nil {
			return err
		}
	}
	return nil
}
