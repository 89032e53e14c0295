package clixml

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Member returns the value of the member called name, looking in the
// extended members (<MS>) first and then the adapted properties (<Props>),
// as PowerShell's member lookup does. Names match exactly first, then
// case-insensitively (PowerShell member names are case-insensitive).
func (o *Object) Member(name string) (Value, bool) {
	if o == nil {
		return nil, false
	}
	if v, ok := lookup(o.Members, name); ok {
		return v, true
	}
	return lookup(o.Props, name)
}

// Prop returns the adapted property (<Props>) called name.
func (o *Object) Prop(name string) (Value, bool) {
	if o == nil {
		return nil, false
	}
	return lookup(o.Props, name)
}

func lookup(props []Property, name string) (Value, bool) {
	for _, p := range props {
		if p.Name == name {
			return p.Value, true
		}
	}
	for _, p := range props {
		if strings.EqualFold(p.Name, name) {
			return p.Value, true
		}
	}
	return nil, false
}

// TypeName returns the most-derived type name, or "" when there is none.
func (o *Object) TypeName() string {
	if o == nil || len(o.TypeNames) == 0 {
		return ""
	}
	return o.TypeNames[0]
}

// IsType reports whether typeName (with or without the "Deserialized."
// prefix receivers add) is among the object's type names.
func (o *Object) IsType(typeName string) bool {
	if o == nil {
		return false
	}
	typeName = strings.TrimPrefix(typeName, "Deserialized.")
	for _, t := range o.TypeNames {
		if strings.TrimPrefix(t, "Deserialized.") == typeName {
			return true
		}
	}
	return false
}

// ToDisplayString returns what PowerShell's ToString gives for v, with the
// invariant culture: strings as they are, booleans True/False, numbers in
// invariant form, an Obj's <ToString> when it has one, otherwise its
// content's string, else its first type name; a property bag without type
// names renders as @{Name=value; ...} like a PSCustomObject in a string.
// Nesting and total length are bounded (peer objects may share members
// through <Ref>), so the result is at most about 64 KiB.
func ToDisplayString(v Value) string {
	b := &displayBuilder{budget: maxDisplayLen}
	b.value(v, 0)
	return b.String()
}

const (
	maxDisplayLen   = 64 << 10
	maxDisplayDepth = 8
)

type displayBuilder struct {
	strings.Builder
	budget int
}

func (b *displayBuilder) add(s string) {
	if b.budget <= 0 {
		return
	}
	if len(s) > b.budget {
		s = s[:b.budget] + "..."
	}
	b.budget -= len(s)
	b.WriteString(s)
}

func (b *displayBuilder) value(v Value, depth int) {
	if o, ok := v.(*Object); ok {
		b.object(o, depth)
		return
	}
	b.add(primitiveString(v))
}

func primitiveString(v Value) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		if x {
			return "True"
		}
		return "False"
	case Char:
		return string(rune(x))
	case int8:
		return strconv.FormatInt(int64(x), 10)
	case int16:
		return strconv.FormatInt(int64(x), 10)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case int64:
		return strconv.FormatInt(x, 10)
	case uint8:
		return strconv.FormatUint(uint64(x), 10)
	case uint16:
		return strconv.FormatUint(uint64(x), 10)
	case uint32:
		return strconv.FormatUint(uint64(x), 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case float32:
		return floatString(float64(x), 32)
	case float64:
		return floatString(x, 64)
	case Decimal:
		return string(x)
	case DateTime:
		// DateTime.ToString() with the invariant culture.
		return x.Time.Format("01/02/2006 15:04:05")
	case Duration:
		return timeSpanString(x.Ticks)
	case []byte:
		return "System.Byte[]"
	case GUID:
		return x.String()
	case URI:
		return string(x)
	case Version:
		return x.String()
	case XMLDocument:
		return "System.Xml.XmlDocument"
	case ScriptBlock:
		return string(x)
	case SecureString:
		return "System.Security.SecureString"
	}
	return fmt.Sprint(v)
}

func (b *displayBuilder) object(o *Object, depth int) {
	switch {
	case o == nil:
	case o.HasToString:
		b.add(o.ToString)
	case o.Content == ContentPrimitive:
		if depth < maxDisplayDepth {
			b.value(o.Value, depth+1)
		}
	case len(o.TypeNames) > 0:
		b.add(o.TypeNames[0])
	case o.Content == ContentNone && len(o.Members)+len(o.Props) > 0:
		if depth >= maxDisplayDepth {
			b.add("...")
			return
		}
		b.add("@{")
		for i, p := range append(append([]Property(nil), o.Props...), o.Members...) {
			if b.budget <= 0 {
				break
			}
			if i > 0 {
				b.add("; ")
			}
			b.add(p.Name)
			b.add("=")
			b.value(p.Value, depth+1)
		}
		b.add("}")
	}
}

// timeSpanString is TimeSpan.ToString(): [-][d.]hh:mm:ss[.fffffff].
func timeSpanString(ticks int64) string {
	var b []byte
	u := uint64(ticks)
	if ticks < 0 {
		b = append(b, '-')
		u = uint64(-ticks)
	}
	if d := u / ticksPerDay; d > 0 {
		b = strconv.AppendUint(b, d, 10)
		b = append(b, '.')
	}
	two := func(n uint64) {
		b = append(b, byte('0'+n/10), byte('0'+n%10))
	}
	two(u % ticksPerDay / ticksPerHour)
	b = append(b, ':')
	two(u % ticksPerHour / ticksPerMinute)
	b = append(b, ':')
	two(u % ticksPerMinute / ticksPerSecond)
	if f := u % ticksPerSecond; f > 0 {
		b = append(b, fmt.Sprintf(".%07d", f)...)
	}
	return string(b)
}

// ShapeError reports an object that does not have the shape a typed view
// (ErrorRecord, HostInfo, ...) expects.
type ShapeError struct {
	View   string // the typed view, e.g. "ErrorRecord"
	Member string // the member at fault, "" for the object itself
	Reason string
}

func (e *ShapeError) Error() string {
	if e.Member == "" {
		return fmt.Sprintf("clixml: %s: %s", e.View, e.Reason)
	}
	return fmt.Sprintf("clixml: %s: member %s: %s", e.View, e.Member, e.Reason)
}

// asObject returns v as a non-nil *Object or a ShapeError.
func asObject(view string, v Value) (*Object, error) {
	o, ok := v.(*Object)
	if !ok || o == nil {
		return nil, &ShapeError{View: view, Reason: fmt.Sprintf("want an <Obj>, got %s", kindName(v))}
	}
	return o, nil
}

// kindName names the CLIXML kind of v for error messages.
func kindName(v Value) string {
	switch v.(type) {
	case nil:
		return "Nil"
	case *Object:
		return "Obj"
	case string:
		return "S"
	}
	return fmt.Sprintf("%T", v)
}

// reader extracts typed members from an object; the first error sticks.
type reader struct {
	view string
	o    *Object
	err  error
}

func (r *reader) fail(member, reason string) {
	if r.err == nil {
		r.err = &ShapeError{View: r.view, Member: member, Reason: reason}
	}
}

// get returns the member; missing required members are an error.
func (r *reader) get(name string, required bool) (Value, bool) {
	v, ok := r.o.Member(name)
	if !ok && required {
		r.fail(name, "missing")
	}
	return v, ok
}

func (r *reader) str(name string, required bool) string {
	v, ok := r.get(name, required)
	if !ok || v == nil {
		return ""
	}
	s, isStr := v.(string)
	if !isStr {
		r.fail(name, "want S, got "+kindName(v))
	}
	return s
}

func (r *reader) boolean(name string, required bool) bool {
	v, ok := r.get(name, required)
	if !ok || v == nil {
		return false
	}
	b, isBool := v.(bool)
	if !isBool {
		r.fail(name, "want B, got "+kindName(v))
	}
	return b
}

// integer accepts any integer kind (and an enum Obj) that fits in int64.
func (r *reader) integer(name string, required bool) int64 {
	v, ok := r.get(name, required)
	if !ok || v == nil {
		return 0
	}
	n, isInt := integerValue(v)
	if !isInt {
		r.fail(name, "want an integer, got "+kindName(v))
	}
	return n
}

func (r *reader) i32(name string, required bool) int32 {
	n := r.integer(name, required)
	if n != int64(int32(n)) {
		r.fail(name, "out of Int32 range")
	}
	return int32(n)
}

func (r *reader) u32(name string, required bool) uint32 {
	n := r.integer(name, required)
	if n < 0 || n > 1<<32-1 {
		r.fail(name, "out of UInt32 range")
	}
	return uint32(n)
}

func (r *reader) object(name string, required bool) *Object {
	v, ok := r.get(name, required)
	if !ok || v == nil {
		return nil
	}
	o, isObj := v.(*Object)
	if !isObj {
		r.fail(name, "want Obj, got "+kindName(v))
	}
	return o
}

// integerValue converts any integer kind, or an enum/boxed Obj holding one,
// to int64.
func integerValue(v Value) (int64, bool) {
	switch x := v.(type) {
	case int8:
		return int64(x), true
	case int16:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case uint8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint64:
		if x > 1<<63-1 {
			return 0, false
		}
		return int64(x), true
	case *Object:
		if x != nil && x.Content == ContentPrimitive {
			if _, nested := x.Value.(*Object); !nested {
				return integerValue(x.Value)
			}
		}
	}
	return 0, false
}

// stringList reads a list of strings (LST of S), e.g. InformationRecord Tags.
func stringList(view, member string, v Value) ([]string, error) {
	if v == nil {
		return nil, nil
	}
	o, ok := v.(*Object)
	if !ok || o == nil || (o.Content != ContentList && o.Content != ContentEnumerable && o.Content != ContentNone) {
		return nil, &ShapeError{View: view, Member: member, Reason: "want a list of strings"}
	}
	var out []string
	for _, it := range o.Items {
		s, ok := it.(string)
		if !ok {
			return nil, &ShapeError{View: view, Member: member, Reason: "list item is " + kindName(it) + ", not S"}
		}
		out = append(out, s)
	}
	return out, nil
}

// ms builds a TN-less property bag, the shape of PSRP message bodies.
func ms(props ...Property) *Object { return &Object{Members: props} }

// nilIfEmpty returns nil for "" so that optional strings travel as <Nil />.
func nilIfEmpty(s string) Value {
	if s == "" {
		return nil
	}
	return s
}

// floatString is Double.ToString() with the invariant culture, which
// differs from the wire form only for the infinities.
func floatString(f float64, bits int) string {
	switch {
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return string(AppendFloat(nil, f, bits))
}
