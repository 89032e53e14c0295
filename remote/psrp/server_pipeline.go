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
	Metadata *GetCommandMetadataBody

	inputEnded bool
	nextCallID int64
	hostCalls  map[int64]HostMethodID
}

// Error categories and HResults used in server-made error records
// (MS-PSRP 2.2.3.2; .NET ErrorCategory).
const (
	errorCategoryInvalidOperation clixml.ErrorCategory = 7
	errorCategoryOperationStopped clixml.ErrorCategory = 14
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

func (pl *ServerPipeline) write(op string, b Body) error {
	if err := pl.guard(op); err != nil {
		return err
	}
	return pl.pool.core.send(pl.id, b, StreamDefault, false)
}

func newInformationalRecord(typeName, msg string) *clixml.Object {
	return (&clixml.InformationalRecord{TypeName: typeName, Message: msg}).Object()
}

// WriteOutput queues PIPELINE_OUTPUT with one object.
func (pl *ServerPipeline) WriteOutput(v clixml.Value) error {
	return pl.write("ServerPipeline.WriteOutput", &PipelineOutputBody{Data: v})
}

// WriteError queues ERROR_RECORD with an ErrorRecord object.
func (pl *ServerPipeline) WriteError(rec *clixml.Object) error {
	return pl.write("ServerPipeline.WriteError", &ErrorRecordBody{Record: rec})
}

// WriteDebug queues DEBUG_RECORD with a DebugRecord for msg.
func (pl *ServerPipeline) WriteDebug(msg string) error {
	return pl.write("ServerPipeline.WriteDebug", &DebugRecordBody{Record: newInformationalRecord(clixml.TypeDebugRecord, msg)})
}

// WriteVerbose queues VERBOSE_RECORD with a VerboseRecord for msg.
func (pl *ServerPipeline) WriteVerbose(msg string) error {
	return pl.write("ServerPipeline.WriteVerbose", &VerboseRecordBody{Record: newInformationalRecord(clixml.TypeVerboseRecord, msg)})
}

// WriteWarning queues WARNING_RECORD with a WarningRecord for msg.
func (pl *ServerPipeline) WriteWarning(msg string) error {
	return pl.write("ServerPipeline.WriteWarning", &WarningRecordBody{Record: newInformationalRecord(clixml.TypeWarningRecord, msg)})
}

// WriteInformation queues INFORMATION_RECORD with an InformationRecord
// object (MS-PSRP 2.2.2.26; shared/PROTOCOL.md §3.3).
func (pl *ServerPipeline) WriteInformation(rec *clixml.Object) error {
	return pl.write("ServerPipeline.WriteInformation", &InformationRecordBody{Record: rec})
}

// WriteProgress queues PROGRESS_RECORD with a ProgressRecord object.
func (pl *ServerPipeline) WriteProgress(rec *clixml.Object) error {
	return pl.write("ServerPipeline.WriteProgress", &ProgressRecordBody{Record: rec})
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
	if err := pl.pool.core.send(pl.id, &PipelineHostCallBody{HostCall{CallID: ci, Method: method, Params: params}}, StreamDefault, false); err != nil {
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
	if err := pl.pool.core.send(pl.id, &PipelineStateBody{State: st, Error: rec}, StreamDefault, false); err != nil {
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
	return (&clixml.ErrorRecord{
		Message:               "The pipeline has been stopped.",
		FullyQualifiedErrorID: "PipelineStopped",
		Category:              clixml.ErrorCategoryInfo{Category: errorCategoryOperationStopped, Reason: "PipelineStoppedException"},
		Exception: clixml.ExceptionInfo{
			TypeNames: []string{"System.Management.Automation.PipelineStoppedException", "System.Management.Automation.RuntimeException", "System.SystemException", "System.Exception", "System.Object"},
			Message:   "The pipeline has been stopped.",
			HResult:   hresultSystemException,
		},
	}).Object()
}

func (pl *ServerPipeline) handle(m Message, b Body) error {
	if pl.state.Terminal() {
		return &UnexpectedMessageError{Type: m.Type, PipelineID: pl.id, Reason: "pipeline is " + pl.state.String()}
	}
	switch b := b.(type) {
	case *PipelineHostResponseBody:
		if _, ok := pl.hostCalls[b.CallID]; !ok {
			return &UnexpectedMessageError{Type: m.Type, PipelineID: pl.id, Reason: fmt.Sprintf("no pending host call %d", b.CallID)}
		}
		delete(pl.hostCalls, b.CallID)
		pl.pool.core.emit(hostResponseReceived(pl.id, &b.HostResponseData))
		return nil
	case *PipelineInputBody, *EndOfPipelineInputBody:
		if pl.Spec.NoInput || pl.inputEnded {
			return &UnexpectedMessageError{Type: m.Type, PipelineID: pl.id, Reason: "pipeline takes no input"}
		}
		if in, ok := b.(*PipelineInputBody); ok {
			pl.pool.core.emit(PipelineInputReceived{PipelineID: pl.id, Value: in.Data})
			return nil
		}
		pl.inputEnded = true
		pl.pool.core.emit(PipelineEndOfInput{PipelineID: pl.id})
		return nil
	}
	return &UnexpectedMessageError{Type: m.Type, PipelineID: pl.id, Reason: "not a server pipeline message"}
}
