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
// shared/PROTOCOL.md §2.7), as the client states it and the server reads
// it.
type PipelineSpec struct {
	// Commands is the pipeline (the first statement).
	Commands []Command
	// ExtraStatements holds the further statements of a multi-statement
	// batch. On the wire every statement then travels in ExtraCmds, the
	// first one repeated in Cmds, as pypsrp sends it.
	ExtraStatements [][]Command
	NoInput         bool
	AddToHistory    bool
	IsNested        bool
	// HostInfo for the pipeline; nil means the pool's.
	HostInfo *clixml.Object
	// RemoteStreamOptions (MS-PSRP 2.2.3.30); StreamOptionsAddInvocationInfo
	// adds invocation info to every record.
	RemoteStreamOptions RemoteStreamOptions
	// RedirectShellErrorOutputPipe (MS-PSRP 2.2.3.11).
	RedirectShellErrorOutputPipe bool
}

// body returns the CREATE_PIPELINE body, leaving out the merge fields a
// server older than protocol 2.2 (2.3 for Information) does not know.
func (s *PipelineSpec) body(serverAtLeast func(major, minor int32) bool) *CreatePipelineBody {
	b := &CreatePipelineBody{
		NoInput:             s.NoInput,
		ApartmentState:      ApartmentUnknown,
		RemoteStreamOptions: s.RemoteStreamOptions,
		AddToHistory:        s.AddToHistory,
		HostInfo:            s.HostInfo,
		IsNested:            s.IsNested,
		PowerShell: PowerShellData{
			IsNested:                     s.IsNested,
			Cmds:                         s.Commands,
			RedirectShellErrorOutputPipe: s.RedirectShellErrorOutputPipe,
			OmitStreamMerges:             !serverAtLeast(2, 2),
			OmitInformationMerge:         !serverAtLeast(2, 3),
		},
	}
	if len(s.ExtraStatements) > 0 {
		b.PowerShell.ExtraCmds = append([][]Command{s.Commands}, s.ExtraStatements...)
	}
	return b
}

// specFromBody reads a PipelineSpec from a CREATE_PIPELINE body.
func specFromBody(b *CreatePipelineBody) PipelineSpec {
	s := PipelineSpec{
		Commands:                     b.PowerShell.Cmds,
		NoInput:                      b.NoInput,
		AddToHistory:                 b.AddToHistory,
		IsNested:                     b.IsNested,
		HostInfo:                     b.HostInfo,
		RemoteStreamOptions:          b.RemoteStreamOptions,
		RedirectShellErrorOutputPipe: b.PowerShell.RedirectShellErrorOutputPipe,
	}
	if len(b.PowerShell.ExtraCmds) > 0 {
		s.Commands = b.PowerShell.ExtraCmds[0]
		s.ExtraStatements = b.PowerShell.ExtraCmds[1:]
	}
	return s
}

// ClientPipeline is the client side of one pipeline (MS-PSRP 3.1.4.3). It
// shares its pool's outgoing queue and event queue.
type ClientPipeline struct {
	pool      *ClientPool
	id        clixml.GUID
	state     PipelineState
	body      Body // CREATE_PIPELINE or GET_COMMAND_METADATA, until Start
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
	pl.body = spec.body(p.serverAtLeast)
	pl.noInput = spec.NoInput
	return pl, nil
}

// CreateCommandMetadataPipeline returns a pipeline that asks for command
// metadata (GET_COMMAND_METADATA, MS-PSRP 2.2.2.14); the reply is a count
// object then one CommandMetadata object per command, as PipelineOutput
// events. A zero CommandType means All (511).
func (p *ClientPool) CreateCommandMetadataPipeline(req GetCommandMetadataBody) (*ClientPipeline, error) {
	pl, err := p.newPipeline("ClientPool.CreateCommandMetadataPipeline")
	if err != nil {
		return nil, err
	}
	if req.CommandType == 0 {
		req.CommandType = 511
	}
	pl.body = &req
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
	if err := pl.pool.core.send(pl.id, pl.body, StreamDefault, true); err != nil {
		return err
	}
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
	return pl.pool.core.send(pl.id, &PipelineInputBody{Data: v}, StreamDefault, false)
}

// EndInput queues END_OF_PIPELINE_INPUT (MS-PSRP 2.2.2.18).
func (pl *ClientPipeline) EndInput() error {
	if err := pl.guardInput("ClientPipeline.EndInput"); err != nil {
		return err
	}
	if err := pl.pool.core.send(pl.id, &EndOfPipelineInputBody{}, StreamDefault, false); err != nil {
		return err
	}
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
	if err := pl.pool.core.send(pl.id, &PipelineHostResponseBody{hostResponse(ci, mi, result, errRecord)}, StreamPromptResponse, false); err != nil {
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

func (pl *ClientPipeline) handle(m Message, b Body) error {
	id := pl.id
	switch b := b.(type) {
	case *PipelineOutputBody:
		pl.pool.core.emit(PipelineOutput{PipelineID: id, Value: b.Data})
	case *PipelineStateBody:
		switch b.State {
		case PipelineRunning, PipelineStopping:
			// psrpcore's server announces Running; nothing to do.
		case PipelineCompleted, PipelineFailed, PipelineStopped:
			if pl.state.Terminal() {
				return &UnexpectedMessageError{Type: m.Type, PipelineID: id, Reason: fmt.Sprintf("state %s after %s", b.State, pl.state)}
			}
			pl.setState(b.State, b.Error)
		default:
			return &UnexpectedMessageError{Type: m.Type, PipelineID: id, Reason: fmt.Sprintf("server sent pipeline state %s", b.State)}
		}
	case *PipelineHostCallBody:
		if b.CallID != VoidCallID {
			pl.hostCalls[b.CallID] = b.Method
		}
		pl.pool.core.emit(PipelineHostCall{PipelineID: id, Call: b.HostCall})
	case *ErrorRecordBody:
		pl.pool.core.emit(PipelineErrorRecord{PipelineID: id, Record: b.Record})
	case *DebugRecordBody:
		pl.pool.core.emit(PipelineDebugRecord{PipelineID: id, Record: b.Record})
	case *VerboseRecordBody:
		pl.pool.core.emit(PipelineVerboseRecord{PipelineID: id, Record: b.Record})
	case *WarningRecordBody:
		pl.pool.core.emit(PipelineWarningRecord{PipelineID: id, Record: b.Record})
	case *ProgressRecordBody:
		pl.pool.core.emit(PipelineProgressRecord{PipelineID: id, Record: b.Record})
	case *InformationRecordBody:
		pl.pool.core.emit(PipelineInformationRecord{PipelineID: id, Record: b.Record})
	default:
		return &UnexpectedMessageError{Type: m.Type, PipelineID: id, Reason: "not a client pipeline message"}
	}
	return nil
}
