package psrp

import (
	"fmt"

	"github.com/pssession/pssession/remote/psrp/clixml"
)

// PipelineResultType is a stream a command's results can be merged from or
// into (MS-PSRP 2.2.3.31, PipelineResultTypes).
type PipelineResultType int32

// Pipeline result types (MS-PSRP 2.2.3.31).
const (
	ResultNone        PipelineResultType = 0
	ResultOutput      PipelineResultType = 1
	ResultError       PipelineResultType = 2
	ResultWarning     PipelineResultType = 3
	ResultVerbose     PipelineResultType = 4
	ResultDebug       PipelineResultType = 5
	ResultInformation PipelineResultType = 6
	ResultAll         PipelineResultType = 7
	ResultNull        PipelineResultType = 8
)

var resultTypeNames = [...]string{"None", "Output", "Error", "Warning", "Verbose", "Debug", "Information", "All", "Null"}

// String returns the PipelineResultTypes name.
func (t PipelineResultType) String() string {
	if t >= 0 && int(t) < len(resultTypeNames) {
		return resultTypeNames[t]
	}
	return fmt.Sprintf("PipelineResultType(%d)", int32(t))
}

// Argument is one command parameter (MS-PSRP 2.2.3.13): Name is empty for
// a positional argument.
type Argument struct {
	Name  string
	Value clixml.Value
}

// Command is one command of a pipeline (MS-PSRP 2.2.3.12).
type Command struct {
	Cmd           string // command name, or script text when IsScript
	IsScript      bool
	UseLocalScope *bool // nil: not specified
	Args          []Argument

	// Merges: the v2 pair MergeMyResult/MergeToResult, and the per-stream
	// merges (protocol 2.2; Information 2.3).
	MergeMyResult, MergeToResult, MergePreviousResults PipelineResultType
	MergeError, MergeWarning, MergeVerbose, MergeDebug PipelineResultType
	MergeInformation                                   PipelineResultType
}

// PipelineSpec is what CREATE_PIPELINE carries (MS-PSRP 2.2.2.10;
// shared/PROTOCOL.md §2.7).
type PipelineSpec struct {
	// Commands is the pipeline (one statement).
	Commands []Command
	// ExtraStatements holds further statements of a multi-statement batch
	// (the ExtraCmds list); a server reads them when present.
	ExtraStatements [][]Command
	NoInput         bool
	AddToHistory    bool
	IsNested        bool
	// HostInfo for the pipeline; nil means the pool's.
	HostInfo *clixml.Object
	// RemoteStreamOptions (MS-PSRP 2.2.3.30); 15 adds invocation info to
	// every record.
	RemoteStreamOptions int32
	// RedirectShellErrorOutputPipe (MS-PSRP 2.2.3.11).
	RedirectShellErrorOutputPipe bool
}

// CommandMetadataSpec is what GET_COMMAND_METADATA carries (MS-PSRP
// 2.2.2.14).
type CommandMetadataSpec struct {
	Names        []string       // wildcard patterns
	CommandType  int32          // CommandTypes flags; 0 means All (511)
	Namespace    []string       // module names, or nil
	ArgumentList []clixml.Value // or nil
}

// ClientPipeline is the client side of one pipeline (MS-PSRP 3.1.4.3). It
// shares its pool's outgoing queue and event queue.
type ClientPipeline struct {
	pool      *ClientPool
	id        clixml.GUID
	state     PipelineState
	create    MessageType // CREATE_PIPELINE or GET_COMMAND_METADATA
	body      *clixml.Object
	noInput   bool
	ended     bool // END_OF_PIPELINE_INPUT queued
	hostCalls map[int64]HostMethodID
}

func (p *ClientPool) newPipeline(op string) (*ClientPipeline, error) {
	if err := guardPool(op, p.core.state, PoolOpened); err != nil {
		return nil, err
	}
	id, err := newGUID(p.core.rand)
	if err != nil {
		return nil, err
	}
	pl := &ClientPipeline{pool: p, id: id, hostCalls: make(map[int64]HostMethodID)}
	return pl, nil
}

// CreatePipeline returns a new pipeline in state NotStarted; Start queues
// its CREATE_PIPELINE.
func (p *ClientPool) CreatePipeline(spec PipelineSpec) (*ClientPipeline, error) {
	if len(spec.Commands) == 0 {
		return nil, fmt.Errorf("psrp: CreatePipeline: no commands")
	}
	pl, err := p.newPipeline("ClientPool.CreatePipeline")
	if err != nil {
		return nil, err
	}
	if spec.HostInfo == nil {
		spec.HostInfo = p.cfg.HostInfo
	}
	pl.create = MsgCreatePipeline
	pl.body = p.createPipelineBody(spec)
	pl.noInput = spec.NoInput
	return pl, nil
}

// CreateCommandMetadataPipeline returns a pipeline that asks for command
// metadata (GET_COMMAND_METADATA); the reply is a count object then one
// CommandMetadata object per command, as PipelineOutput events.
func (p *ClientPool) CreateCommandMetadataPipeline(spec CommandMetadataSpec) (*ClientPipeline, error) {
	pl, err := p.newPipeline("ClientPool.CreateCommandMetadataPipeline")
	if err != nil {
		return nil, err
	}
	names := make([]clixml.Value, len(spec.Names))
	for i, n := range spec.Names {
		names[i] = n
	}
	ct := spec.CommandType
	if ct == 0 {
		ct = 511
	}
	var ns, args clixml.Value
	if spec.Namespace != nil {
		items := make([]clixml.Value, len(spec.Namespace))
		for i, n := range spec.Namespace {
			items[i] = n
		}
		ns = arrayObject(tnObjectArray, items)
	}
	if spec.ArgumentList != nil {
		args = arrayObject(tnObjectArray, spec.ArgumentList)
	}
	pl.create = MsgGetCommandMetadata
	pl.body = msObject(
		prop("Name", arrayObject(tnStringArray, names)),
		prop("CommandType", ct),
		prop("Namespace", ns),
		prop("ArgumentList", args),
	)
	pl.noInput = true
	return pl, nil
}

// AttachPipeline returns a pipeline object for a command that already runs
// on the server (after Connect or Reconnect, MS-PSRP 3.1.4.11), in state
// Running. The transport then connects to and receives from its command.
func (p *ClientPool) AttachPipeline(pid clixml.GUID) (*ClientPipeline, error) {
	if err := guardPool("ClientPool.AttachPipeline", p.core.state, PoolOpened, PoolConnecting); err != nil {
		return nil, err
	}
	if pid == (clixml.GUID{}) {
		return nil, fmt.Errorf("psrp: AttachPipeline: zero pipeline id")
	}
	if pl := p.pipelines[pid]; pl != nil {
		return pl, nil
	}
	pl := &ClientPipeline{pool: p, id: pid, state: PipelineRunning, noInput: true, ended: true, hostCalls: make(map[int64]HostMethodID)}
	p.pipelines[pid] = pl
	return pl, nil
}

func (p *ClientPool) createPipelineBody(spec PipelineSpec) *clixml.Object {
	var extra clixml.Value
	if len(spec.ExtraStatements) > 0 {
		stmts := make([]clixml.Value, len(spec.ExtraStatements))
		for i, s := range spec.ExtraStatements {
			stmts[i] = msObject(prop("Cmds", p.commandList(s)))
		}
		extra = listObject(tnPSObjectList, stmts)
	}
	opts := spec.RemoteStreamOptions
	optName := "0"
	if opts == remoteStreamAddInvInfo {
		optName = "AddInvocationInfo"
	} else if opts != 0 {
		optName = fmt.Sprint(opts)
	}
	return msObject(
		prop("NoInput", spec.NoInput),
		prop("ApartmentState", enumObject(tnApartmentState, "UNKNOWN", apartmentStateUnknown)),
		prop("RemoteStreamOptions", enumObject(tnRemoteStreamOptions, optName, opts)),
		prop("AddToHistory", spec.AddToHistory),
		prop("HostInfo", spec.HostInfo),
		prop("PowerShell", msObject(
			prop("IsNested", spec.IsNested),
			prop("ExtraCmds", extra),
			prop("Cmds", p.commandList(spec.Commands)),
			prop("History", nil),
			prop("RedirectShellErrorOutputPipe", spec.RedirectShellErrorOutputPipe),
		)),
		prop("IsNested", spec.IsNested),
	)
}

func resultTypeObject(t PipelineResultType) *clixml.Object {
	return enumObject(tnPipelineResultTypes, t.String(), int32(t))
}

// commandList encodes commands (MS-PSRP 2.2.3.12), leaving out the merge
// fields the server's protocol version does not know.
func (p *ClientPool) commandList(cmds []Command) *clixml.Object {
	list := make([]clixml.Value, len(cmds))
	for i, c := range cmds {
		args := make([]clixml.Value, len(c.Args))
		for j, a := range c.Args {
			var name clixml.Value
			if a.Name != "" {
				name = a.Name
			}
			args[j] = msObject(prop("N", name), prop("V", a.Value))
		}
		var scope clixml.Value
		if c.UseLocalScope != nil {
			scope = *c.UseLocalScope
		}
		o := msObject(
			prop("Cmd", c.Cmd),
			prop("IsScript", c.IsScript),
			prop("UseLocalScope", scope),
			prop("MergeMyResult", resultTypeObject(c.MergeMyResult)),
			prop("MergeToResult", resultTypeObject(c.MergeToResult)),
			prop("MergePreviousResults", resultTypeObject(c.MergePreviousResults)),
			prop("Args", listObject(tnPSObjectList, args)),
		)
		if p.serverAtLeast(2, 2) {
			o.Members = append(o.Members,
				prop("MergeError", resultTypeObject(c.MergeError)),
				prop("MergeWarning", resultTypeObject(c.MergeWarning)),
				prop("MergeVerbose", resultTypeObject(c.MergeVerbose)),
				prop("MergeDebug", resultTypeObject(c.MergeDebug)))
		}
		if p.serverAtLeast(2, 3) {
			o.Members = append(o.Members, prop("MergeInformation", resultTypeObject(c.MergeInformation)))
		}
		list[i] = o
	}
	return listObject(tnPSObjectList, list)
}

// ID returns the pipeline id (PID, = WSMan CommandId).
func (pl *ClientPipeline) ID() clixml.GUID { return pl.id }

// State returns the pipeline state.
func (pl *ClientPipeline) State() PipelineState { return pl.state }

// Start queues CREATE_PIPELINE (or GET_COMMAND_METADATA) and moves to
// Running. The transport sends the next packet with this pipeline's id as
// the WSMan Command arguments (the message never shares it with others).
func (pl *ClientPipeline) Start() error {
	if err := guardPipeline("ClientPipeline.Start", pl.state, PipelineNotStarted); err != nil {
		return err
	}
	if err := guardPool("ClientPipeline.Start", pl.pool.core.state, PoolOpened); err != nil {
		return err
	}
	data, err := encodeBody(pl.body)
	if err != nil {
		return fmt.Errorf("psrp: encode pipeline: %w", err)
	}
	pl.pool.core.queueRaw(pl.create, pl.id, data, StreamDefault, true)
	pl.pool.pipelines[pl.id] = pl
	pl.body = nil
	pl.setState(PipelineRunning, nil)
	return nil
}

// Send queues one input object (PIPELINE_INPUT, MS-PSRP 2.2.2.17).
func (pl *ClientPipeline) Send(v clixml.Value) error {
	if err := pl.guardInput("ClientPipeline.Send"); err != nil {
		return err
	}
	return pl.pool.core.queue(MsgPipelineInput, pl.id, v, StreamDefault)
}

// EndInput queues END_OF_PIPELINE_INPUT (MS-PSRP 2.2.2.18).
func (pl *ClientPipeline) EndInput() error {
	if err := pl.guardInput("ClientPipeline.EndInput"); err != nil {
		return err
	}
	pl.pool.core.queueRaw(MsgEndOfPipelineInput, pl.id, nil, StreamDefault, false)
	pl.ended = true
	return nil
}

func (pl *ClientPipeline) guardInput(op string) error {
	if err := guardPipeline(op, pl.state, PipelineRunning); err != nil {
		return err
	}
	if pl.noInput || pl.ended {
		return fmt.Errorf("psrp: %s: pipeline %s takes no more input", op, pl.id)
	}
	return nil
}

// HostResponse answers the pipeline host call ci (PIPELINE_HOST_RESPONSE on
// the `pr` stream). A SecureString result must be encrypted with the
// pool's EncryptSecureString.
func (pl *ClientPipeline) HostResponse(ci int64, result clixml.Value, errRecord *clixml.Object) error {
	if err := guardPipeline("ClientPipeline.HostResponse", pl.state, PipelineRunning); err != nil {
		return err
	}
	mi, ok := pl.hostCalls[ci]
	if !ok {
		return fmt.Errorf("psrp: no pending host call %d on pipeline %s", ci, pl.id)
	}
	if err := pl.pool.core.queue(MsgPipelineHostResponse, pl.id, hostResponseBody(ci, mi, result, errRecord), StreamPromptResponse); err != nil {
		return err
	}
	delete(pl.hostCalls, ci)
	return nil
}

// BeginStop moves Running → Stopping. The transport then sends the WSMan
// Signal powershell/signal/crtl_c for this pipeline's id and keeps
// receiving until PIPELINE_STATE Stopped arrives.
func (pl *ClientPipeline) BeginStop() error {
	if err := guardPipeline("ClientPipeline.BeginStop", pl.state, PipelineRunning); err != nil {
		return err
	}
	pl.setState(PipelineStopping, nil)
	return nil
}

func (pl *ClientPipeline) setState(s PipelineState, rec *clixml.Object) {
	if !pipelineTransition(pl.state, s) || pl.state == s {
		return
	}
	pl.state = s
	pl.pool.core.emit(PipelineStateChanged{PipelineID: pl.id, State: s, Error: rec})
}

func decodeRecord(c *poolCore, m Message) (*clixml.Object, error) {
	v, err := c.decodeData(m)
	if err != nil {
		return nil, err
	}
	o, ok := v.(*clixml.Object)
	if !ok {
		return nil, &bodyError{msg: m.Type.String(), field: "(body)", got: v}
	}
	return o, nil
}

func (pl *ClientPipeline) handle(m Message) error {
	switch m.Type {
	case MsgPipelineOutput:
		v, err := pl.pool.core.decodeData(m)
		if err != nil {
			return err
		}
		pl.pool.core.emit(PipelineOutput{PipelineID: pl.id, Value: v})
		return nil
	case MsgPipelineState:
		v, err := pl.pool.core.decodeData(m)
		if err != nil {
			return err
		}
		r := newReader("PIPELINE_STATE", v)
		s := PipelineState(r.int32("PipelineState"))
		rec := r.object("ExceptionAsErrorRecord")
		if r.err != nil {
			return r.err
		}
		switch s {
		case PipelineRunning, PipelineStopping:
			// psrpcore's server announces Running; nothing to do.
			return nil
		case PipelineCompleted, PipelineFailed, PipelineStopped:
			if pl.state.Terminal() {
				return &UnexpectedMessageError{Type: m.Type, PipelineID: pl.id, Reason: fmt.Sprintf("state %s after %s", s, pl.state)}
			}
			pl.setState(s, rec)
			return nil
		}
		return &UnexpectedMessageError{Type: m.Type, PipelineID: pl.id, Reason: fmt.Sprintf("server sent pipeline state %s", s)}
	case MsgPipelineHostCall:
		call, err := decodeHostCall(&pl.pool.core, m)
		if err != nil {
			return err
		}
		if call.CallID != VoidCallID {
			pl.hostCalls[call.CallID] = call.Method
		}
		pl.pool.core.emit(PipelineHostCall{PipelineID: pl.id, Call: call})
		return nil
	}
	rec, err := decodeRecord(&pl.pool.core, m)
	if err != nil {
		return err
	}
	switch m.Type {
	case MsgErrorRecord:
		pl.pool.core.emit(PipelineErrorRecord{PipelineID: pl.id, Record: rec})
	case MsgDebugRecord:
		pl.pool.core.emit(PipelineDebugRecord{PipelineID: pl.id, Record: rec})
	case MsgVerboseRecord:
		pl.pool.core.emit(PipelineVerboseRecord{PipelineID: pl.id, Record: rec})
	case MsgWarningRecord:
		pl.pool.core.emit(PipelineWarningRecord{PipelineID: pl.id, Record: rec})
	case MsgProgressRecord:
		pl.pool.core.emit(PipelineProgressRecord{PipelineID: pl.id, Record: rec})
	case MsgInformationRecord:
		pl.pool.core.emit(PipelineInformationRecord{PipelineID: pl.id, Record: rec})
	default:
		return &UnexpectedMessageError{Type: m.Type, PipelineID: pl.id, Reason: "not a client pipeline message"}
	}
	return nil
}
