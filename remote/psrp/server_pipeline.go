package psrp

import (
	"fmt"

	"github.com/pssession/pssession/remote/psrp/clixml"
)

// ServerPipeline is the server side of one pipeline (MS-PSRP 3.2.5.3.5). It
// is created Running by CREATE_PIPELINE or GET_COMMAND_METADATA; the
// endpoint runs Spec (or answers Metadata) and writes its results.
type ServerPipeline struct {
	pool  *ServerPool
	id    clixml.GUID
	state PipelineState

	// Spec is the parsed CREATE_PIPELINE (for GET_COMMAND_METADATA only
	// NoInput is set).
	Spec PipelineSpec
	// Metadata is the parsed GET_COMMAND_METADATA, or nil.
	Metadata *CommandMetadataSpec

	inputEnded bool
	nextCallID int64
	hostCalls  map[int64]HostMethodID
}

// Error categories and HResults used in server-made error records
// (MS-PSRP 2.2.3.2; .NET ErrorCategory).
const (
	errorCategoryInvalidOperation = 7
	errorCategoryOperationStopped = 14
	// hresultSystemException is 0x80131501 (COR_E_SYSTEM), the HResult of
	// PowerShell's RuntimeException family, PipelineStoppedException included.
	hresultSystemException = -2146233087
)

// ID returns the pipeline id (PID, = WSMan CommandId).
func (pl *ServerPipeline) ID() clixml.GUID { return pl.id }

// State returns the pipeline state.
func (pl *ServerPipeline) State() PipelineState { return pl.state }

// InputEnded reports whether END_OF_PIPELINE_INPUT arrived (always true
// for a NoInput pipeline).
func (pl *ServerPipeline) InputEnded() bool { return pl.inputEnded || pl.Spec.NoInput }

func (pl *ServerPipeline) guard(op string) error {
	if err := guardPipeline(op, pl.state, PipelineRunning, PipelineStopping); err != nil {
		return err
	}
	return guardPool(op, pl.pool.core.state, PoolOpened)
}

func (pl *ServerPipeline) write(op string, mt MessageType, v clixml.Value) error {
	if err := pl.guard(op); err != nil {
		return err
	}
	return pl.pool.core.queue(mt, pl.id, v, StreamDefault)
}

// WriteOutput queues PIPELINE_OUTPUT with one object.
func (pl *ServerPipeline) WriteOutput(v clixml.Value) error {
	return pl.write("ServerPipeline.WriteOutput", MsgPipelineOutput, v)
}

// WriteError queues ERROR_RECORD with an ErrorRecord object.
func (pl *ServerPipeline) WriteError(rec *clixml.Object) error {
	return pl.write("ServerPipeline.WriteError", MsgErrorRecord, rec)
}

// WriteDebug queues DEBUG_RECORD with a DebugRecord for msg.
func (pl *ServerPipeline) WriteDebug(msg string) error {
	return pl.write("ServerPipeline.WriteDebug", MsgDebugRecord, informationalRecord("DebugRecord", msg))
}

// WriteVerbose queues VERBOSE_RECORD with a VerboseRecord for msg.
func (pl *ServerPipeline) WriteVerbose(msg string) error {
	return pl.write("ServerPipeline.WriteVerbose", MsgVerboseRecord, informationalRecord("VerboseRecord", msg))
}

// WriteWarning queues WARNING_RECORD with a WarningRecord for msg.
func (pl *ServerPipeline) WriteWarning(msg string) error {
	return pl.write("ServerPipeline.WriteWarning", MsgWarningRecord, informationalRecord("WarningRecord", msg))
}

// WriteInformation queues INFORMATION_RECORD with an InformationRecord
// object (MS-PSRP 2.2.2.26; shared/PROTOCOL.md §3.3).
func (pl *ServerPipeline) WriteInformation(rec *clixml.Object) error {
	return pl.write("ServerPipeline.WriteInformation", MsgInformationRecord, rec)
}

// WriteProgress queues PROGRESS_RECORD with a ProgressRecord object.
func (pl *ServerPipeline) WriteProgress(rec *clixml.Object) error {
	return pl.write("ServerPipeline.WriteProgress", MsgProgressRecord, rec)
}

// HostCall queues PIPELINE_HOST_CALL and returns its call id: VoidCallID
// for void methods (never answered), otherwise a HostResponseReceived
// event with this pipeline's id answers it.
func (pl *ServerPipeline) HostCall(method HostMethodID, params ...clixml.Value) (int64, error) {
	if err := pl.guard("ServerPipeline.HostCall"); err != nil {
		return 0, err
	}
	ci := VoidCallID
	if !method.Void() {
		ci = pl.nextCallID
	}
	if err := pl.pool.core.queue(MsgPipelineHostCall, pl.id, hostCallBody(ci, method, params), StreamDefault); err != nil {
		return 0, err
	}
	if ci != VoidCallID {
		pl.nextCallID++
		pl.hostCalls[ci] = method
	}
	return ci, nil
}

func (pl *ServerPipeline) finish(op string, st PipelineState, rec *clixml.Object) error {
	if err := pl.guard(op); err != nil {
		return err
	}
	body := msObject(prop("PipelineState", int32(st)))
	if rec != nil {
		body.Members = append(body.Members, prop("ExceptionAsErrorRecord", rec))
	}
	if err := pl.pool.core.queue(MsgPipelineState, pl.id, body, StreamDefault); err != nil {
		return err
	}
	pl.state = st
	return nil
}

// Complete queues PIPELINE_STATE Completed.
func (pl *ServerPipeline) Complete() error {
	return pl.finish("ServerPipeline.Complete", PipelineCompleted, nil)
}

// Fail queues PIPELINE_STATE Failed with rec as ExceptionAsErrorRecord.
func (pl *ServerPipeline) Fail(rec *clixml.Object) error {
	return pl.finish("ServerPipeline.Fail", PipelineFailed, rec)
}

// Stop queues PIPELINE_STATE Stopped with the PipelineStoppedException
// error record PowerShell sends (shared/PROTOCOL.md §2.5); the endpoint
// calls it when the client signals crtl_c.
func (pl *ServerPipeline) Stop() error {
	return pl.finish("ServerPipeline.Stop", PipelineStopped, PipelineStoppedErrorRecord())
}

// PipelineStoppedErrorRecord returns the ErrorRecord of a stopped pipeline:
// PipelineStoppedException, FullyQualifiedErrorId PipelineStopped,
// category OperationStopped, HResult -2146233087.
func PipelineStoppedErrorRecord() *clixml.Object {
	return errorRecordObject("The pipeline has been stopped.",
		"System.Management.Automation.PipelineStoppedException", "PipelineStopped",
		errorCategoryOperationStopped, "PipelineStoppedException", hresultSystemException)
}

func (pl *ServerPipeline) handle(m Message) error {
	if pl.state.Terminal() {
		return &UnexpectedMessageError{Type: m.Type, PipelineID: pl.id, Reason: "pipeline is " + pl.state.String()}
	}
	switch m.Type {
	case MsgPipelineInput, MsgEndOfPipelineInput:
		if pl.Spec.NoInput || pl.inputEnded {
			return &UnexpectedMessageError{Type: m.Type, PipelineID: pl.id, Reason: "pipeline takes no input"}
		}
		if m.Type == MsgEndOfPipelineInput {
			pl.inputEnded = true
			pl.pool.core.emit(PipelineEndOfInput{PipelineID: pl.id})
			return nil
		}
		v, err := pl.pool.core.decodeData(m)
		if err != nil {
			return err
		}
		pl.pool.core.emit(PipelineInputReceived{PipelineID: pl.id, Value: v})
		return nil
	default: // MsgPipelineHostResponse
		resp, err := decodeHostResponse(&pl.pool.core, m)
		if err != nil {
			return err
		}
		if _, ok := pl.hostCalls[resp.CallID]; !ok {
			return &UnexpectedMessageError{Type: m.Type, PipelineID: pl.id, Reason: fmt.Sprintf("no pending host call %d", resp.CallID)}
		}
		delete(pl.hostCalls, resp.CallID)
		pl.pool.core.emit(resp)
		return nil
	}
}

// informationalRecord builds a Debug/Verbose/WarningRecord (MS-PSRP
// 2.2.3.16; shared/PROTOCOL.md §3.3).
func informationalRecord(kind, msg string) *clixml.Object {
	return &clixml.Object{
		TypeNames:   []string{"System.Management.Automation." + kind, "System.Management.Automation.InformationalRecord", "System.Object"},
		ToString:    msg,
		HasToString: true,
		Members: []clixml.Property{
			prop("InformationalRecord_Message", msg),
			prop("InformationalRecord_SerializeInvocationInfo", false),
		},
	}
}

// errorRecordObject builds a minimal ErrorRecord (MS-PSRP 2.2.3.15).
func errorRecordObject(msg, exceptionType, errorID string, category int32, reason string, hresult int32) *clixml.Object {
	exc := &clixml.Object{
		TypeNames:   []string{exceptionType, "System.SystemException", "System.Exception", "System.Object"},
		ToString:    msg,
		HasToString: true,
		Props: []clixml.Property{
			prop("Message", msg),
			prop("Data", &clixml.Object{TypeNames: []string{"System.Collections.ListDictionaryInternal", "System.Object"}, Content: clixml.ContentDict, Entries: []clixml.DictEntry{}}),
			prop("InnerException", nil),
			prop("TargetSite", nil),
			prop("StackTrace", nil),
			prop("HelpLink", nil),
			prop("Source", nil),
			prop("HResult", hresult),
		},
	}
	names := [...]string{7: "InvalidOperation", 14: "OperationStopped"}
	catName := "NotSpecified"
	if int(category) < len(names) && names[category] != "" {
		catName = names[category]
	}
	return &clixml.Object{
		TypeNames:   []string{"System.Management.Automation.ErrorRecord", "System.Object"},
		ToString:    msg,
		HasToString: true,
		Members: []clixml.Property{
			prop("Exception", exc),
			prop("TargetObject", nil),
			prop("FullyQualifiedErrorId", errorID),
			prop("InvocationInfo", nil),
			prop("ErrorCategory_Category", category),
			prop("ErrorCategory_Activity", ""),
			prop("ErrorCategory_Reason", reason),
			prop("ErrorCategory_TargetName", ""),
			prop("ErrorCategory_TargetType", ""),
			prop("ErrorCategory_Message", fmt.Sprintf("%s: (:) [], %s", catName, reason)),
			prop("SerializeExtendedInfo", false),
		},
	}
}

// parsePipelineSpec reads CREATE_PIPELINE (MS-PSRP 2.2.2.10).
func parsePipelineSpec(v clixml.Value) (PipelineSpec, error) {
	r := newReader("CREATE_PIPELINE", v)
	spec := PipelineSpec{
		NoInput:      r.bool("NoInput"),
		AddToHistory: r.optBool("AddToHistory", false),
		IsNested:     r.optBool("IsNested", false),
		HostInfo:     r.object("HostInfo"),
	}
	if o, ok := r.optional("RemoteStreamOptions"); ok && o != nil {
		n, ok := asInt64(o)
		if !ok {
			r.fail("RemoteStreamOptions", o)
		}
		spec.RemoteStreamOptions = int32(n)
	}
	ps := r.object("PowerShell")
	if r.err != nil {
		return PipelineSpec{}, r.err
	}
	if ps == nil {
		return PipelineSpec{}, &bodyError{msg: "CREATE_PIPELINE", field: "PowerShell", got: nil}
	}
	pr := newReader("CREATE_PIPELINE PowerShell", ps)
	spec.RedirectShellErrorOutputPipe = pr.optBool("RedirectShellErrorOutputPipe", false)
	cmds, err := parseCommands(pr.object("Cmds"))
	if err != nil {
		return PipelineSpec{}, err
	}
	spec.Commands = cmds
	if extra := pr.object("ExtraCmds"); extra != nil {
		stmts, ok := items(extra)
		if !ok {
			return PipelineSpec{}, &bodyError{msg: "CREATE_PIPELINE", field: "ExtraCmds", got: extra}
		}
		for _, st := range stmts {
			sr := newReader("CREATE_PIPELINE ExtraCmds", st)
			c, err := parseCommands(sr.object("Cmds"))
			if sr.err != nil {
				return PipelineSpec{}, sr.err
			}
			if err != nil {
				return PipelineSpec{}, err
			}
			spec.ExtraStatements = append(spec.ExtraStatements, c)
		}
	}
	return spec, pr.err
}

func parseCommands(list *clixml.Object) ([]Command, error) {
	its, ok := items(list)
	if !ok {
		return nil, &bodyError{msg: "CREATE_PIPELINE", field: "Cmds", got: list}
	}
	cmds := make([]Command, 0, len(its))
	for _, it := range its {
		r := newReader("CREATE_PIPELINE command", it)
		c := Command{Cmd: r.string("Cmd"), IsScript: r.bool("IsScript")}
		if v, ok := r.optional("UseLocalScope"); ok && v != nil {
			b, ok := v.(bool)
			if !ok {
				r.fail("UseLocalScope", v)
			}
			c.UseLocalScope = &b
		}
		merge := func(name string) PipelineResultType {
			v, ok := r.optional(name)
			if !ok || v == nil {
				return ResultNone
			}
			n, ok := asInt64(v)
			if !ok {
				r.fail(name, v)
			}
			return PipelineResultType(n)
		}
		c.MergeMyResult = merge("MergeMyResult")
		c.MergeToResult = merge("MergeToResult")
		c.MergePreviousResults = merge("MergePreviousResults")
		c.MergeError = merge("MergeError")
		c.MergeWarning = merge("MergeWarning")
		c.MergeVerbose = merge("MergeVerbose")
		c.MergeDebug = merge("MergeDebug")
		c.MergeInformation = merge("MergeInformation")
		if args := r.object("Args"); args != nil {
			argItems, ok := items(args)
			if !ok {
				r.fail("Args", args)
			}
			for _, a := range argItems {
				ar := newReader("CREATE_PIPELINE argument", a)
				var arg Argument
				if n, ok := ar.optional("N"); ok && n != nil {
					s, ok := n.(string)
					if !ok {
						ar.fail("N", n)
					}
					arg.Name = s
				}
				arg.Value, _ = ar.optional("V")
				if ar.err != nil {
					return nil, ar.err
				}
				c.Args = append(c.Args, arg)
			}
		}
		if r.err != nil {
			return nil, r.err
		}
		cmds = append(cmds, c)
	}
	return cmds, nil
}

// parseCommandMetadata reads GET_COMMAND_METADATA (MS-PSRP 2.2.2.14).
func parseCommandMetadata(v clixml.Value) (CommandMetadataSpec, error) {
	r := newReader("GET_COMMAND_METADATA", v)
	var md CommandMetadataSpec
	strs := func(field string) []string {
		o := r.object(field)
		if o == nil {
			return nil
		}
		its, ok := items(o)
		if !ok {
			r.fail(field, o)
			return nil
		}
		out := make([]string, 0, len(its))
		for _, it := range its {
			s, ok := it.(string)
			if !ok {
				r.fail(field, it)
				return nil
			}
			out = append(out, s)
		}
		return out
	}
	md.Names = strs("Name")
	md.CommandType = r.int32("CommandType")
	md.Namespace = strs("Namespace")
	if o := r.object("ArgumentList"); o != nil {
		its, ok := items(o)
		if !ok {
			r.fail("ArgumentList", o)
		}
		md.ArgumentList = its
	}
	return md, r.err
}
