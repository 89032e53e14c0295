package psrp

import "github.com/pssession/pssession/remote/psrp/clixml"

// Event is something a pool learned from its peer, returned by NextEvent.
// Its dynamic type is one of the event structs below; switch on it.
type Event interface {
	// PoolEvent marks event types; it does nothing.
	PoolEvent()
}

// PoolStateChanged: the runspace pool changed state. Error is the
// ExceptionAsErrorRecord of a Broken pool, or nil.
type PoolStateChanged struct {
	State RunspacePoolState
	Error *clixml.Object
}

// SessionCapabilityReceived: the peer's SESSION_CAPABILITY (MS-PSRP
// 2.2.2.1). TimeZone is the optional serialized time zone (nil if absent).
type SessionCapabilityReceived struct {
	ProtocolVersion      clixml.Version
	PSVersion            clixml.Version
	SerializationVersion clixml.Version
	TimeZone             []byte
}

// ApplicationPrivateDataReceived (client): APPLICATION_PRIVATE_DATA
// (MS-PSRP 2.2.2.13). Data is the PSPrimitiveDictionary object (nil when
// the server sent none).
type ApplicationPrivateDataReceived struct {
	Data *clixml.Object
}

// SessionKeyReady: the session key exchange finished; SecureStrings can
// now be encrypted and decrypted with the pool's SessionKey.
type SessionKeyReady struct{}

// RunspaceAvailabilityReceived (client): RUNSPACE_AVAILABILITY (MS-PSRP
// 2.2.2.8) answering the request with CallID. Value is a bool for
// SetMaxRunspaces, SetMinRunspaces and ResetRunspaceState, an integer
// count for GetAvailableRunspaces.
type RunspaceAvailabilityReceived struct {
	CallID  int64
	Request AvailabilityRequest
	Value   clixml.Value
}

// AvailabilityRequest names the request a RUNSPACE_AVAILABILITY answers.
type AvailabilityRequest int

// Requests answered by RUNSPACE_AVAILABILITY.
const (
	RequestSetMaxRunspaces AvailabilityRequest = iota + 1
	RequestSetMinRunspaces
	RequestGetAvailableRunspaces
	RequestResetRunspaceState
)

var availabilityRequestNames = [...]string{"", "SetMaxRunspaces", "SetMinRunspaces", "GetAvailableRunspaces", "ResetRunspaceState"}

func (r AvailabilityRequest) String() string {
	if r > 0 && int(r) < len(availabilityRequestNames) {
		return availabilityRequestNames[r]
	}
	return "AvailabilityRequest(?)"
}

// UserEventReceived (client): USER_EVENT (MS-PSRP 2.2.2.12).
type UserEventReceived struct {
	Event UserEventBody
}

// RunspacePoolInitDataReceived (client): RUNSPACEPOOL_INIT_DATA after
// Connect (MS-PSRP 2.2.2.27).
type RunspacePoolInitDataReceived struct {
	MinRunspaces, MaxRunspaces int32
}

// PoolHostCall (client): RUNSPACEPOOL_HOST_CALL (MS-PSRP 2.2.2.15).
// Answer non-void calls with ClientPool.HostResponse.
type PoolHostCall struct {
	Call HostCall
}

// HostCall is one remote host method invocation (MS-PSRP 2.2.2.27).
// CallID is VoidCallID for methods that expect no answer.
type HostCall struct {
	CallID int64
	Method HostMethodID
	Params []clixml.Value
}

// PipelineOutput (client): PIPELINE_OUTPUT, one object written to the
// output stream (MS-PSRP 2.2.2.20); also the reply objects of
// GET_COMMAND_METADATA.
type PipelineOutput struct {
	PipelineID clixml.GUID
	Value      clixml.Value
}

// PipelineErrorRecord (client): ERROR_RECORD (MS-PSRP 2.2.2.21).
type PipelineErrorRecord struct {
	PipelineID clixml.GUID
	Record     *clixml.Object
}

// PipelineDebugRecord (client): DEBUG_RECORD (MS-PSRP 2.2.2.22).
type PipelineDebugRecord struct {
	PipelineID clixml.GUID
	Record     *clixml.Object
}

// PipelineVerboseRecord (client): VERBOSE_RECORD (MS-PSRP 2.2.2.23).
type PipelineVerboseRecord struct {
	PipelineID clixml.GUID
	Record     *clixml.Object
}

// PipelineWarningRecord (client): WARNING_RECORD (MS-PSRP 2.2.2.24).
// PipelineID is zero for a warning sent at pool scope.
type PipelineWarningRecord struct {
	PipelineID clixml.GUID
	Record     *clixml.Object
}

// PipelineProgressRecord (client): PROGRESS_RECORD (MS-PSRP 2.2.2.25).
type PipelineProgressRecord struct {
	PipelineID clixml.GUID
	Record     *clixml.Object
}

// PipelineInformationRecord (client): INFORMATION_RECORD (MS-PSRP
// 2.2.2.26, protocol 2.3).
type PipelineInformationRecord struct {
	PipelineID clixml.GUID
	Record     *clixml.Object
}

// PipelineHostCall (client): PIPELINE_HOST_CALL (MS-PSRP 2.2.2.27).
// Answer non-void calls with ClientPipeline.HostResponse.
type PipelineHostCall struct {
	PipelineID clixml.GUID
	Call       HostCall
}

// PipelineStateChanged: the pipeline changed state. Error is the
// ExceptionAsErrorRecord of a Failed or Stopped pipeline, or nil.
type PipelineStateChanged struct {
	PipelineID clixml.GUID
	State      PipelineState
	Error      *clixml.Object
}

// RunspacePoolInitReceived (server): INIT_RUNSPACEPOOL (MS-PSRP 2.2.2.2).
// The endpoint answers with ServerPool.Open.
type RunspacePoolInitReceived struct {
	MinRunspaces, MaxRunspaces int32
	HostInfo                   *clixml.Object
	ApplicationArguments       *clixml.Object // PSPrimitiveDictionary, or nil
}

// ConnectReceived (server): a new client sent CONNECT_RUNSPACEPOOL
// (MS-PSRP 2.2.2.28) and the pool queued the connect response. Min and Max
// are the requested runspace limits, nil when absent.
type ConnectReceived struct {
	MinRunspaces, MaxRunspaces *int32
}

// AvailabilityRequested (server): SET_MAX_RUNSPACES, SET_MIN_RUNSPACES,
// GET_AVAILABLE_RUNSPACES or RESET_RUNSPACE_STATE (MS-PSRP 2.2.2.5-7, 2.2.2.30).
// Count is the requested limit for the Set requests. Answer with
// ServerPool.RespondAvailability(CallID, value).
type AvailabilityRequested struct {
	CallID  int64
	Request AvailabilityRequest
	Count   int32
}

// PipelineCreated (server): CREATE_PIPELINE or GET_COMMAND_METADATA
// arrived; Pipeline is the new server-side pipeline with its parsed spec.
type PipelineCreated struct {
	Pipeline *ServerPipeline
}

// PipelineInputReceived (server): PIPELINE_INPUT (MS-PSRP 2.2.2.17).
type PipelineInputReceived struct {
	PipelineID clixml.GUID
	Value      clixml.Value
}

// PipelineEndOfInput (server): END_OF_PIPELINE_INPUT (MS-PSRP 2.2.2.18).
type PipelineEndOfInput struct {
	PipelineID clixml.GUID
}

// HostResponseReceived (server): RUNSPACEPOOL_HOST_RESPONSE (PipelineID
// zero) or PIPELINE_HOST_RESPONSE (MS-PSRP 2.2.2.16, 2.2.2.28) for the call
// CallID. Error is the `me` ErrorRecord when the client host threw.
type HostResponseReceived struct {
	PipelineID clixml.GUID
	CallID     int64
	Method     HostMethodID
	Result     clixml.Value
	Error      *clixml.Object
}

// ProtocolErrorReceived: a message from the peer could not be handled
// (unknown type, malformed body, unexpected in this state). The pool keeps
// going; the caller decides whether to break it.
type ProtocolErrorReceived struct {
	Err error
}

func (PoolStateChanged) PoolEvent()               {}
func (SessionCapabilityReceived) PoolEvent()      {}
func (ApplicationPrivateDataReceived) PoolEvent() {}
func (SessionKeyReady) PoolEvent()                {}
func (RunspaceAvailabilityReceived) PoolEvent()   {}
func (UserEventReceived) PoolEvent()              {}
func (RunspacePoolInitDataReceived) PoolEvent()   {}
func (PoolHostCall) PoolEvent()                   {}
func (PipelineOutput) PoolEvent()                 {}
func (PipelineErrorRecord) PoolEvent()            {}
func (PipelineDebugRecord) PoolEvent()            {}
func (PipelineVerboseRecord) PoolEvent()          {}
func (PipelineWarningRecord) PoolEvent()          {}
func (PipelineProgressRecord) PoolEvent()         {}
func (PipelineInformationRecord) PoolEvent()      {}
func (PipelineHostCall) PoolEvent()               {}
func (PipelineStateChanged) PoolEvent()           {}
func (RunspacePoolInitReceived) PoolEvent()       {}
func (ConnectReceived) PoolEvent()                {}
func (AvailabilityRequested) PoolEvent()          {}
func (PipelineCreated) PoolEvent()                {}
func (PipelineInputReceived) PoolEvent()          {}
func (PipelineEndOfInput) PoolEvent()             {}
func (HostResponseReceived) PoolEvent()           {}
func (ProtocolErrorReceived) PoolEvent()          {}

// PipelineEvent is implemented by the events that belong to one pipeline;
// Pipeline returns its id (zero for a pool-level warning).
type PipelineEvent interface {
	Event
	Pipeline() clixml.GUID
}

func (e PipelineOutput) Pipeline() clixml.GUID            { return e.PipelineID }
func (e PipelineErrorRecord) Pipeline() clixml.GUID       { return e.PipelineID }
func (e PipelineDebugRecord) Pipeline() clixml.GUID       { return e.PipelineID }
func (e PipelineVerboseRecord) Pipeline() clixml.GUID     { return e.PipelineID }
func (e PipelineWarningRecord) Pipeline() clixml.GUID     { return e.PipelineID }
func (e PipelineProgressRecord) Pipeline() clixml.GUID    { return e.PipelineID }
func (e PipelineInformationRecord) Pipeline() clixml.GUID { return e.PipelineID }
func (e PipelineHostCall) Pipeline() clixml.GUID          { return e.PipelineID }
func (e PipelineStateChanged) Pipeline() clixml.GUID      { return e.PipelineID }
