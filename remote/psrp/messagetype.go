package psrp

import "fmt"

// MessageType identifies a PSRP message (MS-PSRP 2.2.1; the table in
// shared/PROTOCOL.md §2.3).
type MessageType uint32

// Message types (MS-PSRP 2.2.1).
const (
	MsgSessionCapability        MessageType = 0x00010002 // 2.2.2.1
	MsgInitRunspacePool         MessageType = 0x00010004 // 2.2.2.2
	MsgPublicKey                MessageType = 0x00010005 // 2.2.2.3
	MsgEncryptedSessionKey      MessageType = 0x00010006 // 2.2.2.4
	MsgPublicKeyRequest         MessageType = 0x00010007 // 2.2.2.5
	MsgConnectRunspacePool      MessageType = 0x00010008 // 2.2.2.29
	MsgRunspacePoolInitData     MessageType = 0x0002100B // 2.2.2.30
	MsgResetRunspaceState       MessageType = 0x0002100C // 2.2.2.31
	MsgSetMaxRunspaces          MessageType = 0x00021002 // 2.2.2.6
	MsgSetMinRunspaces          MessageType = 0x00021003 // 2.2.2.7
	MsgRunspaceAvailability     MessageType = 0x00021004 // 2.2.2.8
	MsgRunspacePoolState        MessageType = 0x00021005 // 2.2.2.9
	MsgCreatePipeline           MessageType = 0x00021006 // 2.2.2.10
	MsgGetAvailableRunspaces    MessageType = 0x00021007 // 2.2.2.11
	MsgUserEvent                MessageType = 0x00021008 // 2.2.2.12
	MsgApplicationPrivateData   MessageType = 0x00021009 // 2.2.2.13
	MsgGetCommandMetadata       MessageType = 0x0002100A // 2.2.2.14
	MsgRunspacePoolHostCall     MessageType = 0x00021100 // 2.2.2.15
	MsgRunspacePoolHostResponse MessageType = 0x00021101 // 2.2.2.16
	MsgPipelineInput            MessageType = 0x00041002 // 2.2.2.17
	MsgEndOfPipelineInput       MessageType = 0x00041003 // 2.2.2.18
	MsgPipelineOutput           MessageType = 0x00041004 // 2.2.2.19
	MsgErrorRecord              MessageType = 0x00041005 // 2.2.2.20
	MsgPipelineState            MessageType = 0x00041006 // 2.2.2.21
	MsgDebugRecord              MessageType = 0x00041007 // 2.2.2.22
	MsgVerboseRecord            MessageType = 0x00041008 // 2.2.2.23
	MsgWarningRecord            MessageType = 0x00041009 // 2.2.2.24
	MsgProgressRecord           MessageType = 0x00041010 // 2.2.2.25
	MsgInformationRecord        MessageType = 0x00041011 // 2.2.2.26
	MsgPipelineHostCall         MessageType = 0x00041100 // 2.2.2.27
	MsgPipelineHostResponse     MessageType = 0x00041101 // 2.2.2.28
)

// messageTypeNames are the spec names of the message types.
var messageTypeNames = map[MessageType]string{
	MsgSessionCapability:        "SESSION_CAPABILITY",
	MsgInitRunspacePool:         "INIT_RUNSPACEPOOL",
	MsgPublicKey:                "PUBLIC_KEY",
	MsgEncryptedSessionKey:      "ENCRYPTED_SESSION_KEY",
	MsgPublicKeyRequest:         "PUBLIC_KEY_REQUEST",
	MsgConnectRunspacePool:      "CONNECT_RUNSPACEPOOL",
	MsgRunspacePoolInitData:     "RUNSPACEPOOL_INIT_DATA",
	MsgResetRunspaceState:       "RESET_RUNSPACE_STATE",
	MsgSetMaxRunspaces:          "SET_MAX_RUNSPACES",
	MsgSetMinRunspaces:          "SET_MIN_RUNSPACES",
	MsgRunspaceAvailability:     "RUNSPACE_AVAILABILITY",
	MsgRunspacePoolState:        "RUNSPACEPOOL_STATE",
	MsgCreatePipeline:           "CREATE_PIPELINE",
	MsgGetAvailableRunspaces:    "GET_AVAILABLE_RUNSPACES",
	MsgUserEvent:                "USER_EVENT",
	MsgApplicationPrivateData:   "APPLICATION_PRIVATE_DATA",
	MsgGetCommandMetadata:       "GET_COMMAND_METADATA",
	MsgRunspacePoolHostCall:     "RUNSPACEPOOL_HOST_CALL",
	MsgRunspacePoolHostResponse: "RUNSPACEPOOL_HOST_RESPONSE",
	MsgPipelineInput:            "PIPELINE_INPUT",
	MsgEndOfPipelineInput:       "END_OF_PIPELINE_INPUT",
	MsgPipelineOutput:           "PIPELINE_OUTPUT",
	MsgErrorRecord:              "ERROR_RECORD",
	MsgPipelineState:            "PIPELINE_STATE",
	MsgDebugRecord:              "DEBUG_RECORD",
	MsgVerboseRecord:            "VERBOSE_RECORD",
	MsgWarningRecord:            "WARNING_RECORD",
	MsgProgressRecord:           "PROGRESS_RECORD",
	MsgInformationRecord:        "INFORMATION_RECORD",
	MsgPipelineHostCall:         "PIPELINE_HOST_CALL",
	MsgPipelineHostResponse:     "PIPELINE_HOST_RESPONSE",
}

// String returns the spec name, e.g. "SESSION_CAPABILITY", or the hex
// value of an unknown type.
func (t MessageType) String() string {
	if s, ok := messageTypeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("MessageType(0x%08X)", uint32(t))
}

// Known reports whether t is one of the message types of MS-PSRP 2.2.1.
func (t MessageType) Known() bool {
	_, ok := messageTypeNames[t]
	return ok
}

// PipelineScoped reports whether messages of type t belong to a pipeline
// (carry a non-zero PID). WARNING_RECORD is pipeline-scoped here although
// servers may also send it at pool scope.
func (t MessageType) PipelineScoped() bool {
	switch t {
	case MsgCreatePipeline, MsgGetCommandMetadata:
		return true
	}
	return uint32(t)&0x00040000 != 0
}
