package psrp

import (
	"fmt"
	"math"
	"strings"

	"github.com/pssession/pssession/remote/psrp/clixml"
)

// Body is the typed content of one PSRP message (MS-PSRP 2.2.2). Its
// dynamic type is one of the *Body structs of this package, one per
// message type; switch on it.
type Body interface {
	// MessageType returns the type of the messages that carry the body.
	MessageType() MessageType
	// Value returns the body as a CLIXML value, shaped as Windows
	// PowerShell writes it.
	Value() clixml.Value
}

// EncodeBody returns the CLIXML data of a message body (without BOM).
func EncodeBody(b Body) ([]byte, error) { return appendBody([]byte{}, b) }

// appendBody is EncodeBody appending to dst (END_OF_PIPELINE_INPUT has no
// data).
func appendBody(dst []byte, b Body) ([]byte, error) {
	if _, ok := b.(*EndOfPipelineInputBody); ok {
		return dst, nil
	}
	data, err := clixml.AppendValue(dst, "", b.Value())
	if err != nil {
		return nil, fmt.Errorf("psrp: encode %v: %w", b.MessageType(), err)
	}
	return data, nil
}

// NewMessage builds a message carrying b. Set BOM on the result to write
// the byte-order mark as Windows does.
func NewMessage(dest Destination, rpid, pid clixml.GUID, b Body) (Message, error) {
	data, err := EncodeBody(b)
	if err != nil {
		return Message{}, err
	}
	return Message{Destination: dest, Type: b.MessageType(), RPID: rpid, PID: pid, Data: data}, nil
}

// DecodeBody decodes the data of a message of type t into its typed body.
// The CLIXML decoding is bounded by lim. Unknown message types give a
// *BodyError.
func DecodeBody(t MessageType, data []byte, lim clixml.Limits) (Body, error) {
	if t == MsgEndOfPipelineInput {
		return &EndOfPipelineInputBody{}, nil
	}
	if !t.Known() {
		return nil, &BodyError{Type: t, Reason: "unknown message type"}
	}
	v, err := clixml.DecodeWithLimits(data, lim)
	if err != nil {
		return nil, &BodyError{Type: t, Reason: "invalid CLIXML", Err: err}
	}
	return BodyFromValue(t, v)
}

// DecodeBody decodes the message's data into its typed body.
func (m *Message) DecodeBody(lim clixml.Limits) (Body, error) {
	return DecodeBody(m.Type, m.Data, lim)
}

// BodyFromValue reads the typed body of a message of type t from its
// decoded CLIXML value. Property names match case-insensitively, as .NET
// matches them.
func BodyFromValue(t MessageType, v clixml.Value) (Body, error) {
	var b interface {
		Body
		fromValue(v clixml.Value) error
	}
	switch t {
	case MsgSessionCapability:
		b = &SessionCapabilityBody{}
	case MsgInitRunspacePool:
		b = &InitRunspacePoolBody{}
	case MsgPublicKey:
		b = &PublicKeyBody{}
	case MsgEncryptedSessionKey:
		b = &EncryptedSessionKeyBody{}
	case MsgPublicKeyRequest:
		b = &PublicKeyRequestBody{}
	case MsgConnectRunspacePool:
		b = &ConnectRunspacePoolBody{}
	case MsgRunspacePoolInitData:
		b = &RunspacePoolInitDataBody{}
	case MsgResetRunspaceState:
		b = &ResetRunspaceStateBody{}
	case MsgSetMaxRunspaces:
		b = &SetMaxRunspacesBody{}
	case MsgSetMinRunspaces:
		b = &SetMinRunspacesBody{}
	case MsgRunspaceAvailability:
		b = &RunspaceAvailabilityBody{}
	case MsgRunspacePoolState:
		b = &RunspacePoolStateBody{}
	case MsgCreatePipeline:
		b = &CreatePipelineBody{}
	case MsgGetAvailableRunspaces:
		b = &GetAvailableRunspacesBody{}
	case MsgUserEvent:
		b = &UserEventBody{}
	case MsgApplicationPrivateData:
		b = &ApplicationPrivateDataBody{}
	case MsgGetCommandMetadata:
		b = &GetCommandMetadataBody{}
	case MsgRunspacePoolHostCall:
		b = &RunspacePoolHostCallBody{}
	case MsgRunspacePoolHostResponse:
		b = &RunspacePoolHostResponseBody{}
	case MsgPipelineInput:
		b = &PipelineInputBody{}
	case MsgEndOfPipelineInput:
		b = &EndOfPipelineInputBody{}
	case MsgPipelineOutput:
		b = &PipelineOutputBody{}
	case MsgErrorRecord:
		b = &ErrorRecordBody{}
	case MsgPipelineState:
		b = &PipelineStateBody{}
	case MsgDebugRecord:
		b = &DebugRecordBody{}
	case MsgVerboseRecord:
		b = &VerboseRecordBody{}
	case MsgWarningRecord:
		b = &WarningRecordBody{}
	case MsgProgressRecord:
		b = &ProgressRecordBody{}
	case MsgInformationRecord:
		b = &InformationRecordBody{}
	case MsgPipelineHostCall:
		b = &PipelineHostCallBody{}
	case MsgPipelineHostResponse:
		b = &PipelineHostResponseBody{}
	default:
		return nil, &BodyError{Type: t, Reason: "unknown message type"}
	}
	if err := b.fromValue(v); err != nil {
		return nil, err
	}
	return b, nil
}

// BodyError reports message data that does not have the shape its message
// type requires.
type BodyError struct {
	Type   MessageType
	Field  string // the property at fault, if any
	Reason string
	Err    error // the underlying error, if any
}

func (e *BodyError) Error() string {
	s := "psrp: " + e.Type.String()
	if e.Field != "" {
		s += " " + e.Field
	}
	s += ": " + e.Reason
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *BodyError) Unwrap() error { return e.Err }

// describe names the CLIXML kind of a value for error messages.
func describe(v clixml.Value) string {
	if v == nil {
		return "Nil"
	}
	if o, ok := v.(*clixml.Object); ok && len(o.TypeNames) > 0 {
		return "object " + o.TypeNames[0]
	}
	return fmt.Sprintf("%T", v)
}

// newMS returns an object with extended properties only: the shape of
// every message body that is an object.
func newMS(props ...clixml.Property) *clixml.Object { return &clixml.Object{Members: props} }

// newEnum returns an enum value (MS-PSRP 2.2.5.2.7).
func newEnum(typeName string, v int32, name string) *clixml.Object {
	return &clixml.Object{
		TypeNames:   []string{typeName, "System.Enum", "System.ValueType", "System.Object"},
		ToString:    name,
		HasToString: true,
		Content:     clixml.ContentPrimitive,
		Value:       v,
	}
}

// newList returns a <LST> object with the given type names.
func newList(items []clixml.Value, typeNames ...string) *clixml.Object {
	if items == nil {
		items = []clixml.Value{}
	}
	return &clixml.Object{TypeNames: typeNames, Content: clixml.ContentList, Items: items}
}

// intOf returns the integer in v: any CLIXML integer, or an enum object
// carrying one.
func intOf(v clixml.Value) (int64, bool) {
	switch n := v.(type) {
	case int32:
		return int64(n), true
	case int64:
		return n, true
	case int16:
		return int64(n), true
	case int8:
		return int64(n), true
	case uint8:
		return int64(n), true
	case uint16:
		return int64(n), true
	case uint32:
		return int64(n), true
	case uint64:
		if n > math.MaxInt64 {
			return 0, false
		}
		return int64(n), true
	case *clixml.Object:
		if n != nil && n.Content == clixml.ContentPrimitive {
			if _, nested := n.Value.(*clixml.Object); !nested {
				return intOf(n.Value)
			}
		}
	}
	return 0, false
}

// fieldReader reads the properties of a body object, keeping the first
// error.
type fieldReader struct {
	t   MessageType
	obj *clixml.Object
	err error
}

func newFieldReader(t MessageType, v clixml.Value) *fieldReader {
	r := &fieldReader{t: t}
	o, ok := v.(*clixml.Object)
	if !ok || o == nil {
		r.err = &BodyError{Type: t, Reason: "body is " + describe(v) + ", want an object"}
		return r
	}
	r.obj = o
	return r
}

// lookup finds a property (extended first, then adapted) by name,
// case-insensitively, and returns its name as written.
func lookup(o *clixml.Object, name string) (clixml.Value, string, bool) {
	if o == nil {
		return nil, "", false
	}
	for _, p := range o.Members {
		if strings.EqualFold(p.Name, name) {
			return p.Value, p.Name, true
		}
	}
	for _, p := range o.Props {
		if strings.EqualFold(p.Name, name) {
			return p.Value, p.Name, true
		}
	}
	return nil, "", false
}

func (r *fieldReader) fail(field, reason string) {
	if r.err == nil {
		r.err = &BodyError{Type: r.t, Field: field, Reason: reason}
	}
}

func (r *fieldReader) has(name string) bool {
	if r.err != nil {
		return false
	}
	_, _, ok := lookup(r.obj, name)
	return ok
}

// value returns a required property.
func (r *fieldReader) value(name string) clixml.Value {
	if r.err != nil {
		return nil
	}
	v, _, ok := lookup(r.obj, name)
	if !ok {
		r.fail(name, "missing")
	}
	return v
}

// optional returns a property that may be absent.
func (r *fieldReader) optional(name string) (clixml.Value, bool) {
	if r.err != nil {
		return nil, false
	}
	v, _, ok := lookup(r.obj, name)
	return v, ok
}

func (r *fieldReader) int64(name string) int64 {
	v := r.value(name)
	if r.err != nil {
		return 0
	}
	n, ok := intOf(v)
	if !ok {
		r.fail(name, "is "+describe(v)+", want an integer")
	}
	return n
}

func (r *fieldReader) int32(name string) int32 {
	n := r.int64(name)
	if n < math.MinInt32 || n > math.MaxInt32 {
		r.fail(name, fmt.Sprintf("%d out of Int32 range", n))
		return 0
	}
	return int32(n)
}

// optInt32 returns nil when the property is absent or Nil.
func (r *fieldReader) optInt32(name string) *int32 {
	v, ok := r.optional(name)
	if !ok || v == nil {
		return nil
	}
	n := r.int32(name)
	return &n
}

func (r *fieldReader) bool(name string) bool {
	v := r.value(name)
	if r.err != nil {
		return false
	}
	b, ok := v.(bool)
	if !ok {
		r.fail(name, "is "+describe(v)+", want a bool")
	}
	return b
}

func (r *fieldReader) string(name string) string {
	v := r.value(name)
	if r.err != nil {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		r.fail(name, "is "+describe(v)+", want a string")
	}
	return s
}

func (r *fieldReader) version(name string) clixml.Version {
	v := r.value(name)
	if r.err != nil {
		return clixml.Version{}
	}
	ver, ok := v.(clixml.Version)
	if !ok {
		r.fail(name, "is "+describe(v)+", want a Version")
	}
	return ver
}

// object returns an object property, or nil when it is Nil or absent and
// optional.
func (r *fieldReader) object(name string, required bool) *clixml.Object {
	var v clixml.Value
	if required {
		v = r.value(name)
	} else {
		v, _ = r.optional(name)
	}
	if r.err != nil || v == nil {
		return nil
	}
	o, ok := v.(*clixml.Object)
	if !ok {
		r.fail(name, "is "+describe(v)+", want an object")
	}
	return o
}

// list returns the items of a list property (<LST>, <IE>…), or nil and
// false when the property is Nil.
func (r *fieldReader) list(name string) ([]clixml.Value, bool) {
	o := r.object(name, true)
	if r.err != nil || o == nil {
		return nil, false
	}
	switch o.Content {
	case clixml.ContentList, clixml.ContentEnumerable, clixml.ContentQueue, clixml.ContentStack:
		return o.Items, true
	}
	r.fail(name, "is not a list")
	return nil, false
}

// callID reads the call id property "ci" (pypsrp writes "CI") and
// returns the name as written.
func (r *fieldReader) callID() (int64, string) {
	if r.err != nil {
		return 0, ""
	}
	_, name, ok := lookup(r.obj, "ci")
	if !ok {
		r.fail("ci", "missing")
		return 0, ""
	}
	return r.int64(name), name
}

func (r *fieldReader) done() error { return r.err }

// callIDName returns the property name to write a call id under.
func callIDName(name string) string {
	if name == "" {
		return "ci"
	}
	return name
}
