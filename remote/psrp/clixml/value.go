// Package clixml is the PowerShell object model and its CLIXML serialization
// as used inside MS-PSRP messages (MS-PSRP 2.2.5; shared/PROTOCOL.md §3).
// It is part of the sans-IO protocol core: it imports no net or os, starts
// no goroutine and never sleeps.
//
// Decode turns one message body into a Value with a bounded hand-written
// scanner (Limits; *SyntaxError and *LimitError carry the offset); Encode
// writes a Value back the way Windows PowerShell does, byte for byte for
// everything recorded from Windows. EncodeString/DecodeString are the
// _xHHHH_ string escaping (§3.2). Typed views (ErrorRecord,
// InformationalRecord, InformationRecord, ProgressRecord, HostInfo,
// RemoteHostCall, RemoteHostResponse, PSPrimitiveDictionary, PSCredential,
// Enum) parse an *Object with shape errors and build the Windows wire form.
// SecureString holds <SS> text; EncryptSecureString/Decrypt apply the
// session key (§3.4). Canonicalize compares XML in tests.
package clixml

import "strconv"

// Value is one CLIXML value. Its dynamic type is exactly one of:
//
//	nil            <Nil/>
//	string         <S>
//	Char           <C>   (a UTF-16 code unit)
//	bool           <B>
//	DateTime       <DT>
//	Duration       <TS>
//	uint8          <By>
//	int8           <SB>
//	uint16         <U16>
//	int16          <I16>
//	uint32         <U32>
//	int32          <I32>
//	uint64         <U64>
//	int64          <I64>
//	float32        <Sg>
//	float64        <Db>
//	Decimal        <D>
//	[]byte         <BA>
//	GUID           <G>
//	URI            <URI>
//	Version        <Version>
//	XMLDocument    <XD>
//	ScriptBlock    <SBK>
//	SecureString   <SS>  (still encrypted; see SecureString)
//	*Object        <Obj> (and <Ref>, resolved to the same *Object)
type Value = any

// Char is a <C> value: one UTF-16 code unit.
type Char uint16

// Decimal is a <D> value kept as its invariant-culture text (.NET decimal
// has 96-bit precision that no Go type holds exactly).
type Decimal string

// URI is a <URI> value.
type URI string

// XMLDocument is an <XD> value: the document's text.
type XMLDocument string

// ScriptBlock is an <SBK> value: the script text.
type ScriptBlock string

// SecureString is an <SS> value as it travels: the base64 text of the
// encrypted UTF-16LE string. Decrypt it with a session key (securestring.go).
type SecureString string

// Property is one named member of an object (<Props> or <MS>), or a
// named value inside a message body.
type Property struct {
	Name  string
	Value Value
}

// Content says which content element, if any, an Obj carries besides its
// properties.
type Content int

// Content kinds of an Obj (MS-PSRP 2.2.5.2.6).
const (
	ContentNone       Content = iota // properties only
	ContentPrimitive                 // a primitive (enum value, boxed value) or a wrapped <Obj>: Object.Value
	ContentList                      // <LST>: Object.Items
	ContentEnumerable                // <IE>: Object.Items
	ContentQueue                     // <QUE>: Object.Items
	ContentStack                     // <STK>: Object.Items
	ContentDict                      // <DCT>: Object.Entries
)

// String returns the element name of the content ("LST", "DCT", ...),
// "primitive" or "none".
func (c Content) String() string {
	switch c {
	case ContentNone:
		return "none"
	case ContentPrimitive:
		return "primitive"
	case ContentList:
		return "LST"
	case ContentEnumerable:
		return "IE"
	case ContentQueue:
		return "QUE"
	case ContentStack:
		return "STK"
	case ContentDict:
		return "DCT"
	}
	return "Content(" + strconv.Itoa(int(c)) + ")"
}

// DictEntry is one <En> of a <DCT>.
type DictEntry struct {
	Key   Value
	Value Value
}

// Object is an <Obj>: a PSObject with type names, an optional ToString,
// adapted properties (<Props>), extended properties (<MS>) and at most one
// content element. The zero value is an empty object with no type names.
type Object struct {
	TypeNames   []string // most-derived first; empty when the Obj has no <TN>
	ToString    string
	HasToString bool
	Props       []Property // adapted properties, in wire order
	Members     []Property // extended properties (<MS>), in wire order
	Content     Content
	Value       Value       // ContentPrimitive
	Items       []Value     // ContentList, ContentEnumerable, ContentQueue, ContentStack
	Entries     []DictEntry // ContentDict
}
