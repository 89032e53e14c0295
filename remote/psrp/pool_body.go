package psrp

import (
	"fmt"
	"strings"

	"github.com/pssession/pssession/remote/psrp/clixml"
)

// Helpers to build and read message bodies as clixml objects (MS-PSRP
// 2.2.2, 2.2.3; shared/PROTOCOL.md §2.4-2.9).

// Enum and collection type names used in message bodies (MS-PSRP 2.2.3).
const (
	tnPSThreadOptions      = "System.Management.Automation.Runspaces.PSThreadOptions"
	tnApartmentState       = "System.Management.Automation.Runspaces.ApartmentState"
	tnRemoteStreamOptions  = "System.Management.Automation.Runspaces.RemoteStreamOptions"
	tnPipelineResultTypes  = "System.Management.Automation.Runspaces.PipelineResultTypes"
	tnRemoteHostMethodID   = "System.Management.Automation.Remoting.RemoteHostMethodId"
	tnCommandTypes         = "System.Management.Automation.CommandTypes"
	tnPSObjectList         = "System.Collections.Generic.List`1[[System.Management.Automation.PSObject, System.Management.Automation, Version=1.0.0.0, Culture=neutral, PublicKeyToken=31bf3856ad364e35]]"
	tnArrayList            = "System.Collections.ArrayList"
	tnStringArray          = "System.String[]"
	tnObjectArray          = "System.Object[]"
	tnPSPrimitiveDict      = "System.Management.Automation.PSPrimitiveDictionary"
	tnHashtable            = "System.Collections.Hashtable"
	apartmentStateUnknown  = 2
	remoteStreamAddInvInfo = 15
)

func prop(name string, v clixml.Value) clixml.Property { return clixml.Property{Name: name, Value: v} }

// msObject returns an object with extended properties only, the shape of
// every message body.
func msObject(props ...clixml.Property) *clixml.Object { return &clixml.Object{Members: props} }

// enumObject returns an enum value (MS-PSRP 2.2.5.2.7).
func enumObject(typeName, name string, value int32) *clixml.Object {
	return &clixml.Object{
		TypeNames:   []string{typeName, "System.Enum", "System.ValueType", "System.Object"},
		ToString:    name,
		HasToString: true,
		Content:     clixml.ContentPrimitive,
		Value:       value,
	}
}

func listObject(typeName string, items []clixml.Value) *clixml.Object {
	if items == nil {
		items = []clixml.Value{}
	}
	return &clixml.Object{TypeNames: []string{typeName, "System.Object"}, Content: clixml.ContentList, Items: items}
}

func arrayObject(typeName string, items []clixml.Value) *clixml.Object {
	return &clixml.Object{TypeNames: []string{typeName, "System.Array", "System.Object"}, Content: clixml.ContentList, Items: items}
}

// emptyPrimitiveDictionary returns an empty PSPrimitiveDictionary.
func emptyPrimitiveDictionary() *clixml.Object {
	return &clixml.Object{
		TypeNames: []string{tnPSPrimitiveDict, tnHashtable, "System.Object"},
		Content:   clixml.ContentDict,
		Entries:   []clixml.DictEntry{},
	}
}

// NoHostInfo returns the HostInfo object of a client without a host
// (MS-PSRP 2.2.3.14): the server then uses its own null host.
func NoHostInfo() *clixml.Object {
	return msObject(
		prop("_isHostNull", true),
		prop("_isHostUINull", true),
		prop("_isHostRawUINull", true),
		prop("_useRunspaceHost", true),
	)
}

// member returns the named extended (or adapted) property of a body,
// matching names case-insensitively as .NET does.
func member(o *clixml.Object, name string) (clixml.Value, bool) {
	if o == nil {
		return nil, false
	}
	for _, p := range o.Members {
		if strings.EqualFold(p.Name, name) {
			return p.Value, true
		}
	}
	for _, p := range o.Props {
		if strings.EqualFold(p.Name, name) {
			return p.Value, true
		}
	}
	return nil, false
}

// bodyError reports a message body that lacks a field or has the wrong
// type in it.
type bodyError struct {
	msg   string
	field string
	got   clixml.Value
}

func (e *bodyError) Error() string {
	return fmt.Sprintf("psrp: %s: field %s: unexpected %T", e.msg, e.field, e.got)
}

// reader reads typed fields from a body object, remembering the first
// error.
type reader struct {
	msg string
	obj *clixml.Object
	err error
}

func newReader(msg string, v clixml.Value) *reader {
	r := &reader{msg: msg}
	o, ok := v.(*clixml.Object)
	if !ok {
		r.err = &bodyError{msg: msg, field: "(body)", got: v}
	}
	r.obj = o
	return r
}

func (r *reader) fail(field string, got clixml.Value) {
	if r.err == nil {
		r.err = &bodyError{msg: r.msg, field: field, got: got}
	}
}

func (r *reader) value(field string) (clixml.Value, bool) {
	if r.err != nil {
		return nil, false
	}
	v, ok := member(r.obj, field)
	if !ok {
		r.fail(field, nil)
	}
	return v, ok
}

func (r *reader) optional(field string) (clixml.Value, bool) {
	if r.err != nil {
		return nil, false
	}
	return member(r.obj, field)
}

// int64 reads an integer field of any width (or an enum object).
func (r *reader) int64(field string) int64 {
	v, ok := r.value(field)
	if !ok {
		return 0
	}
	n, ok := asInt64(v)
	if !ok {
		r.fail(field, v)
	}
	return n
}

func (r *reader) int32(field string) int32 {
	n := r.int64(field)
	if n != int64(int32(n)) {
		r.fail(field, n)
	}
	return int32(n)
}

func (r *reader) bool(field string) bool {
	v, ok := r.value(field)
	if !ok {
		return false
	}
	b, ok := v.(bool)
	if !ok {
		r.fail(field, v)
	}
	return b
}

func (r *reader) optBool(field string, def bool) bool {
	v, ok := r.optional(field)
	if !ok || v == nil {
		return def
	}
	b, ok := v.(bool)
	if !ok {
		r.fail(field, v)
	}
	return b
}

func (r *reader) string(field string) string {
	v, ok := r.value(field)
	if !ok {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		r.fail(field, v)
	}
	return s
}

func (r *reader) version(field string) clixml.Version {
	v, ok := r.value(field)
	if !ok {
		return clixml.Version{}
	}
	ver, ok := v.(clixml.Version)
	if !ok {
		r.fail(field, v)
	}
	return ver
}

// object reads an Obj field; Nil gives nil.
func (r *reader) object(field string) *clixml.Object {
	v, ok := r.optional(field)
	if !ok || v == nil {
		return nil
	}
	o, ok := v.(*clixml.Object)
	if !ok {
		r.fail(field, v)
	}
	return o
}

// asInt64 converts any CLIXML integer, or an enum object, to int64.
func asInt64(v clixml.Value) (int64, bool) {
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
		if n > 1<<63-1 {
			return 0, false
		}
		return int64(n), true
	case *clixml.Object:
		if n != nil && n.Content == clixml.ContentPrimitive {
			return asInt64(n.Value)
		}
	}
	return 0, false
}

// items returns the items of a list-like object (LST, IE, QUE, STK).
func items(o *clixml.Object) ([]clixml.Value, bool) {
	if o == nil {
		return nil, false
	}
	switch o.Content {
	case clixml.ContentList, clixml.ContentEnumerable, clixml.ContentQueue, clixml.ContentStack:
		return o.Items, true
	}
	return nil, false
}
