package psrp

import (
	"encoding/base64"

	"github.com/pssession/pssession/remote/psrp/clixml"
)

// SessionCapabilityBody is SESSION_CAPABILITY (MS-PSRP 2.2.2.1), sent by
// both sides.
type SessionCapabilityBody struct {
	ProtocolVersion      clixml.Version // "protocolversion", e.g. 2.3
	PSVersion            clixml.Version // e.g. 2.0
	SerializationVersion clixml.Version // e.g. 1.1.0.1
	TimeZone             []byte         // optional serialized time zone; nil when absent
}

func (*SessionCapabilityBody) MessageType() MessageType { return MsgSessionCapability }

func (b *SessionCapabilityBody) Value() clixml.Value {
	o := newMS(
		clixml.Property{Name: "protocolversion", Value: b.ProtocolVersion},
		clixml.Property{Name: "PSVersion", Value: b.PSVersion},
		clixml.Property{Name: "SerializationVersion", Value: b.SerializationVersion},
	)
	if b.TimeZone != nil {
		o.Members = append(o.Members, clixml.Property{Name: "TimeZone", Value: b.TimeZone})
	}
	return o
}

func (b *SessionCapabilityBody) fromValue(v clixml.Value) error {
	r := newFieldReader(MsgSessionCapability, v)
	b.ProtocolVersion = r.version("protocolversion")
	b.PSVersion = r.version("PSVersion")
	b.SerializationVersion = r.version("SerializationVersion")
	if tz, ok := r.optional("TimeZone"); ok && tz != nil {
		ba, isBA := tz.([]byte)
		if !isBA {
			r.fail("TimeZone", "is "+describe(tz)+", want a byte array")
		}
		b.TimeZone = ba
	}
	return r.done()
}

// InitRunspacePoolBody is INIT_RUNSPACEPOOL (MS-PSRP 2.2.2.2).
type InitRunspacePoolBody struct {
	MinRunspaces, MaxRunspaces int32
	ThreadOptions              PSThreadOptions
	ApartmentState             ApartmentState
	HostInfo                   *clixml.Object // HostInfo (MS-PSRP 2.2.3.14)
	ApplicationArguments       *clixml.Object // PSPrimitiveDictionary, or nil for Nil
}

func (*InitRunspacePoolBody) MessageType() MessageType { return MsgInitRunspacePool }

func (b *InitRunspacePoolBody) Value() clixml.Value {
	return newMS(
		clixml.Property{Name: "MinRunspaces", Value: b.MinRunspaces},
		clixml.Property{Name: "MaxRunspaces", Value: b.MaxRunspaces},
		clixml.Property{Name: "PSThreadOptions", Value: newEnum(typeNamePSThreadOptions, int32(b.ThreadOptions), b.ThreadOptions.String())},
		clixml.Property{Name: "ApartmentState", Value: newEnum(typeNameApartmentState, int32(b.ApartmentState), b.ApartmentState.String())},
		clixml.Property{Name: "HostInfo", Value: objectOrNil(b.HostInfo)},
		clixml.Property{Name: "ApplicationArguments", Value: objectOrNil(b.ApplicationArguments)},
	)
}

func (b *InitRunspacePoolBody) fromValue(v clixml.Value) error {
	r := newFieldReader(MsgInitRunspacePool, v)
	b.MinRunspaces = r.int32("MinRunspaces")
	b.MaxRunspaces = r.int32("MaxRunspaces")
	b.ThreadOptions = PSThreadOptions(r.int32("PSThreadOptions"))
	b.ApartmentState = ApartmentState(r.int32("ApartmentState"))
	b.HostInfo = r.object("HostInfo", false)
	b.ApplicationArguments = r.object("ApplicationArguments", false)
	return r.done()
}

// objectOrNil keeps a nil *clixml.Object a nil Value (written <Nil/>).
func objectOrNil(o *clixml.Object) clixml.Value {
	if o == nil {
		return nil
	}
	return o
}

// PublicKeyBody is PUBLIC_KEY (MS-PSRP 2.2.2.3): the client's RSA key as a
// CAPI PUBLICKEYBLOB, base64 on the wire.
type PublicKeyBody struct {
	PublicKey []byte
}

func (*PublicKeyBody) MessageType() MessageType { return MsgPublicKey }

func (b *PublicKeyBody) Value() clixml.Value {
	return newMS(clixml.Property{Name: "PublicKey", Value: base64.StdEncoding.EncodeToString(b.PublicKey)})
}

func (b *PublicKeyBody) fromValue(v clixml.Value) error {
	r := newFieldReader(MsgPublicKey, v)
	b.PublicKey = r.base64("PublicKey")
	return r.done()
}

// EncryptedSessionKeyBody is ENCRYPTED_SESSION_KEY (MS-PSRP 2.2.2.4): the
// session key as a CAPI SIMPLEBLOB, base64 on the wire.
type EncryptedSessionKeyBody struct {
	EncryptedSessionKey []byte
}

func (*EncryptedSessionKeyBody) MessageType() MessageType { return MsgEncryptedSessionKey }

func (b *EncryptedSessionKeyBody) Value() clixml.Value {
	return newMS(clixml.Property{Name: "EncryptedSessionKey", Value: base64.StdEncoding.EncodeToString(b.EncryptedSessionKey)})
}

func (b *EncryptedSessionKeyBody) fromValue(v clixml.Value) error {
	r := newFieldReader(MsgEncryptedSessionKey, v)
	b.EncryptedSessionKey = r.base64("EncryptedSessionKey")
	return r.done()
}

func (r *fieldReader) base64(name string) []byte {
	s := r.string(name)
	if r.err != nil {
		return nil
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		r.fail(name, "invalid base64")
		return nil
	}
	return b
}

// PublicKeyRequestBody is PUBLIC_KEY_REQUEST (MS-PSRP 2.2.2.5): an empty
// string.
type PublicKeyRequestBody struct{}

func (*PublicKeyRequestBody) MessageType() MessageType { return MsgPublicKeyRequest }

func (*PublicKeyRequestBody) Value() clixml.Value { return "" }

func (*PublicKeyRequestBody) fromValue(v clixml.Value) error {
	if s, ok := v.(string); !ok || s != "" {
		return &BodyError{Type: MsgPublicKeyRequest, Reason: "body is " + describe(v) + ", want an empty string"}
	}
	return nil
}

// ConnectRunspacePoolBody is CONNECT_RUNSPACEPOOL (MS-PSRP 2.2.2.29). With
// neither limit set the body is an empty string, as pypsrp sends it.
type ConnectRunspacePoolBody struct {
	MinRunspaces, MaxRunspaces *int32 // nil: not specified
}

func (*ConnectRunspacePoolBody) MessageType() MessageType { return MsgConnectRunspacePool }

func (b *ConnectRunspacePoolBody) Value() clixml.Value {
	if b.MinRunspaces == nil && b.MaxRunspaces == nil {
		return ""
	}
	o := newMS()
	if b.MinRunspaces != nil {
		o.Members = append(o.Members, clixml.Property{Name: "MinRunspaces", Value: *b.MinRunspaces})
	}
	if b.MaxRunspaces != nil {
		o.Members = append(o.Members, clixml.Property{Name: "MaxRunspaces", Value: *b.MaxRunspaces})
	}
	return o
}

func (b *ConnectRunspacePoolBody) fromValue(v clixml.Value) error {
	if s, ok := v.(string); ok && s == "" {
		*b = ConnectRunspacePoolBody{}
		return nil
	}
	r := newFieldReader(MsgConnectRunspacePool, v)
	b.MinRunspaces = r.optInt32("MinRunspaces")
	b.MaxRunspaces = r.optInt32("MaxRunspaces")
	return r.done()
}

// RunspacePoolInitDataBody is RUNSPACEPOOL_INIT_DATA (MS-PSRP 2.2.2.30),
// the server's answer to CONNECT_RUNSPACEPOOL.
type RunspacePoolInitDataBody struct {
	MinRunspaces, MaxRunspaces int32
}

func (*RunspacePoolInitDataBody) MessageType() MessageType { return MsgRunspacePoolInitData }

func (b *RunspacePoolInitDataBody) Value() clixml.Value {
	return newMS(
		clixml.Property{Name: "MinRunspaces", Value: b.MinRunspaces},
		clixml.Property{Name: "MaxRunspaces", Value: b.MaxRunspaces},
	)
}

func (b *RunspacePoolInitDataBody) fromValue(v clixml.Value) error {
	r := newFieldReader(MsgRunspacePoolInitData, v)
	b.MinRunspaces = r.int32("MinRunspaces")
	b.MaxRunspaces = r.int32("MaxRunspaces")
	return r.done()
}

// ResetRunspaceStateBody is RESET_RUNSPACE_STATE (MS-PSRP 2.2.2.31,
// protocol 2.3).
type ResetRunspaceStateBody struct {
	CallID int64
	// CallIDName is the call id's property name as received ("ci", or
	// pypsrp's "CI"); empty writes "ci".
	CallIDName string
}

func (*ResetRunspaceStateBody) MessageType() MessageType { return MsgResetRunspaceState }

func (b *ResetRunspaceStateBody) Value() clixml.Value {
	return newMS(clixml.Property{Name: callIDName(b.CallIDName), Value: b.CallID})
}

func (b *ResetRunspaceStateBody) fromValue(v clixml.Value) error {
	r := newFieldReader(MsgResetRunspaceState, v)
	b.CallID, b.CallIDName = r.callID()
	return r.done()
}

// SetMaxRunspacesBody is SET_MAX_RUNSPACES (MS-PSRP 2.2.2.6).
type SetMaxRunspacesBody struct {
	MaxRunspaces int32
	CallID       int64
	CallIDName   string // as in ResetRunspaceStateBody
}

func (*SetMaxRunspacesBody) MessageType() MessageType { return MsgSetMaxRunspaces }

func (b *SetMaxRunspacesBody) Value() clixml.Value {
	return newMS(
		clixml.Property{Name: "MaxRunspaces", Value: b.MaxRunspaces},
		clixml.Property{Name: callIDName(b.CallIDName), Value: b.CallID},
	)
}

func (b *SetMaxRunspacesBody) fromValue(v clixml.Value) error {
	r := newFieldReader(MsgSetMaxRunspaces, v)
	b.MaxRunspaces = r.int32("MaxRunspaces")
	b.CallID, b.CallIDName = r.callID()
	return r.done()
}

// SetMinRunspacesBody is SET_MIN_RUNSPACES (MS-PSRP 2.2.2.7).
type SetMinRunspacesBody struct {
	MinRunspaces int32
	CallID       int64
	CallIDName   string // as in ResetRunspaceStateBody
}

func (*SetMinRunspacesBody) MessageType() MessageType { return MsgSetMinRunspaces }

func (b *SetMinRunspacesBody) Value() clixml.Value {
	return newMS(
		clixml.Property{Name: "MinRunspaces", Value: b.MinRunspaces},
		clixml.Property{Name: callIDName(b.CallIDName), Value: b.CallID},
	)
}

func (b *SetMinRunspacesBody) fromValue(v clixml.Value) error {
	r := newFieldReader(MsgSetMinRunspaces, v)
	b.MinRunspaces = r.int32("MinRunspaces")
	b.CallID, b.CallIDName = r.callID()
	return r.done()
}

// GetAvailableRunspacesBody is GET_AVAILABLE_RUNSPACES (MS-PSRP 2.2.2.11).
type GetAvailableRunspacesBody struct {
	CallID     int64
	CallIDName string // as in ResetRunspaceStateBody
}

func (*GetAvailableRunspacesBody) MessageType() MessageType { return MsgGetAvailableRunspaces }

func (b *GetAvailableRunspacesBody) Value() clixml.Value {
	return newMS(clixml.Property{Name: callIDName(b.CallIDName), Value: b.CallID})
}

func (b *GetAvailableRunspacesBody) fromValue(v clixml.Value) error {
	r := newFieldReader(MsgGetAvailableRunspaces, v)
	b.CallID, b.CallIDName = r.callID()
	return r.done()
}

// RunspaceAvailabilityBody is RUNSPACE_AVAILABILITY (MS-PSRP 2.2.2.8).
// Response is a bool answering SET_MAX_RUNSPACES, SET_MIN_RUNSPACES and
// RESET_RUNSPACE_STATE, or an integer count (Windows sends I32, the spec
// I64) answering GET_AVAILABLE_RUNSPACES.
type RunspaceAvailabilityBody struct {
	Response clixml.Value // bool, int32 or int64
	CallID   int64
}

func (*RunspaceAvailabilityBody) MessageType() MessageType { return MsgRunspaceAvailability }

func (b *RunspaceAvailabilityBody) Value() clixml.Value {
	return newMS(
		clixml.Property{Name: "SetMinMaxRunspacesResponse", Value: b.Response},
		clixml.Property{Name: "ci", Value: b.CallID},
	)
}

func (b *RunspaceAvailabilityBody) fromValue(v clixml.Value) error {
	r := newFieldReader(MsgRunspaceAvailability, v)
	resp := r.value("SetMinMaxRunspacesResponse")
	if r.err == nil {
		switch resp.(type) {
		case bool, int32, int64:
		default:
			r.fail("SetMinMaxRunspacesResponse", "is "+describe(resp)+", want a bool or an integer")
		}
	}
	b.Response = resp
	b.CallID, _ = r.callID()
	return r.done()
}

// RunspacePoolStateBody is RUNSPACEPOOL_STATE (MS-PSRP 2.2.2.9).
type RunspacePoolStateBody struct {
	State RunspacePoolState
	Error *clixml.Object // ExceptionAsErrorRecord, or nil
}

func (*RunspacePoolStateBody) MessageType() MessageType { return MsgRunspacePoolState }

func (b *RunspacePoolStateBody) Value() clixml.Value {
	o := newMS(clixml.Property{Name: "RunspaceState", Value: int32(b.State)})
	if b.Error != nil {
		o.Members = append(o.Members, clixml.Property{Name: "ExceptionAsErrorRecord", Value: b.Error})
	}
	return o
}

func (b *RunspacePoolStateBody) fromValue(v clixml.Value) error {
	r := newFieldReader(MsgRunspacePoolState, v)
	b.State = RunspacePoolState(r.int32("RunspaceState"))
	b.Error = r.object("ExceptionAsErrorRecord", false)
	return r.done()
}

// UserEventBody is USER_EVENT (MS-PSRP 2.2.2.12): a PowerShell event
// forwarded from the server.
type UserEventBody struct {
	EventIdentifier  int32
	SourceIdentifier string
	TimeGenerated    clixml.DateTime
	Sender           clixml.Value
	SourceArgs       clixml.Value
	MessageData      clixml.Value
	ComputerName     string
	RunspaceID       clixml.GUID
}

func (*UserEventBody) MessageType() MessageType { return MsgUserEvent }

func (b *UserEventBody) Value() clixml.Value {
	return newMS(
		clixml.Property{Name: "PSEventArgs.EventIdentifier", Value: b.EventIdentifier},
		clixml.Property{Name: "PSEventArgs.SourceIdentifier", Value: b.SourceIdentifier},
		clixml.Property{Name: "PSEventArgs.TimeGenerated", Value: b.TimeGenerated},
		clixml.Property{Name: "PSEventArgs.Sender", Value: b.Sender},
		clixml.Property{Name: "PSEventArgs.SourceArgs", Value: b.SourceArgs},
		clixml.Property{Name: "PSEventArgs.MessageData", Value: b.MessageData},
		clixml.Property{Name: "PSEventArgs.ComputerName", Value: b.ComputerName},
		clixml.Property{Name: "PSEventArgs.RunspaceId", Value: b.RunspaceID},
	)
}

func (b *UserEventBody) fromValue(v clixml.Value) error {
	r := newFieldReader(MsgUserEvent, v)
	b.EventIdentifier = r.int32("PSEventArgs.EventIdentifier")
	b.SourceIdentifier = r.string("PSEventArgs.SourceIdentifier")
	if t := r.value("PSEventArgs.TimeGenerated"); r.err == nil {
		dt, ok := t.(clixml.DateTime)
		if !ok {
			r.fail("PSEventArgs.TimeGenerated", "is "+describe(t)+", want a DateTime")
		}
		b.TimeGenerated = dt
	}
	b.Sender, _ = r.optional("PSEventArgs.Sender")
	b.SourceArgs, _ = r.optional("PSEventArgs.SourceArgs")
	b.MessageData, _ = r.optional("PSEventArgs.MessageData")
	if c, ok := r.optional("PSEventArgs.ComputerName"); ok && c != nil {
		b.ComputerName = r.string("PSEventArgs.ComputerName")
	}
	if g := r.value("PSEventArgs.RunspaceId"); r.err == nil {
		id, ok := g.(clixml.GUID)
		if !ok {
			r.fail("PSEventArgs.RunspaceId", "is "+describe(g)+", want a GUID")
		}
		b.RunspaceID = id
	}
	return r.done()
}

// ApplicationPrivateDataBody is APPLICATION_PRIVATE_DATA (MS-PSRP
// 2.2.2.13).
type ApplicationPrivateDataBody struct {
	Data *clixml.Object // PSPrimitiveDictionary, or nil for Nil
}

func (*ApplicationPrivateDataBody) MessageType() MessageType { return MsgApplicationPrivateData }

func (b *ApplicationPrivateDataBody) Value() clixml.Value {
	return newMS(clixml.Property{Name: "ApplicationPrivateData", Value: objectOrNil(b.Data)})
}

func (b *ApplicationPrivateDataBody) fromValue(v clixml.Value) error {
	r := newFieldReader(MsgApplicationPrivateData, v)
	b.Data = r.object("ApplicationPrivateData", true)
	return r.done()
}
