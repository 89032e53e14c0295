package clixml

import (
	"encoding/base64"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
)

// Encode encodes v as one PSRP message body, the way Windows PowerShell
// writes it: RefId and TN ids count from 0 within the message, a repeated
// type-name list becomes <TNRef>, a repeated *Object becomes <Ref>, and N
// comes before RefId. No BOM or XML declaration is written.
func Encode(v Value) ([]byte, error) {
	return AppendValue(nil, "", v)
}

// EncodeObject is Encode for an *Object.
func EncodeObject(o *Object) ([]byte, error) {
	return AppendValue(nil, "", o)
}

// AppendValue appends the encoding of v to dst, as Encode does, with an N
// attribute when name is not empty. Each call starts fresh RefId and TN
// counters, as for a new message.
func AppendValue(dst []byte, name string, v Value) ([]byte, error) {
	var e encoder
	return e.value(dst, name, name != "", v)
}

// EncodeAll encodes values as an Export-Clixml document: an <Objs> root
// with the PowerShell namespace, one child per value, RefIds shared by the
// whole document.
func EncodeAll(values []Value) ([]byte, error) {
	var e encoder
	dst := []byte(`<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">`)
	for _, v := range values {
		var err error
		if dst, err = e.value(dst, "", false, v); err != nil {
			return nil, err
		}
	}
	return append(dst, "</Objs>"...), nil
}

// UnsupportedTypeError is returned when a Value has a dynamic type outside
// the set documented on Value.
type UnsupportedTypeError struct {
	Value any
}

func (e *UnsupportedTypeError) Error() string {
	return fmt.Sprintf("clixml: cannot encode a value of type %T", e.Value)
}

// maxEncodeDepth bounds object nesting when encoding (cycles are written as
// <Ref>, so this only stops absurdly deep Go-built values).
const maxEncodeDepth = 4 * DefaultMaxDepth

type encoder struct {
	objs   map[*Object]int
	nobjs  int
	tns    map[string]int
	ntns   int
	depth  int
	keyBuf []byte
}

// appendText appends s as XML character data; escape applies
// EncodeString's _xHHHH_ escaping as well.
func appendText(dst []byte, s string, escape, attr bool) []byte {
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && plainText[s[j]] {
			j++
		}
		dst = append(dst, s[i:j]...)
		if i = j; i == len(s) {
			break
		}
		c := s[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			switch {
			case r == utf8.RuneError && n == 1:
				dst = append(dst, "\uFFFD"...)
			case escape && r <= 0x9F:
				dst = appendEscape(dst, uint16(r))
			case escape && r > 0xFFFF:
				hi, lo := r>>10+0xD800-(0x10000>>10), r&0x3FF+0xDC00
				dst = appendEscape(dst, uint16(hi))
				dst = appendEscape(dst, uint16(lo))
			default:
				dst = append(dst, s[i:i+n]...)
			}
			i += n
			continue
		}
		switch {
		case c == '&':
			dst = append(dst, "&amp;"...)
		case c == '<':
			dst = append(dst, "&lt;"...)
		case c == '>':
			dst = append(dst, "&gt;"...)
		case c == '"' && attr:
			dst = append(dst, "&quot;"...)
		case escape && (c < 0x20 || c == 0x7F):
			dst = appendEscape(dst, uint16(c))
		case escape && c == '_' && i+1 < len(s) && (s[i+1] == 'x' || s[i+1] == 'X'):
			dst = appendEscape(dst, '_')
		case c < 0x20 && c != '\t' && c != '\n' && c != '\r':
			// Not representable in XML 1.0 without escaping.
			dst = append(dst, "\uFFFD"...)
		case c == '\r' || (attr && (c == '\n' || c == '\t')):
			dst = append(dst, "&#x"...)
			dst = append(dst, hexUpper[c>>4], hexUpper[c&0xF], ';')
		default:
			dst = append(dst, c)
		}
		i++
	}
	return dst
}

// plainText marks the bytes appendText copies without looking at them.
var plainText = func() (t [256]bool) {
	for c := 0x20; c < 0x7F; c++ {
		t[c] = true
	}
	t['&'], t['<'], t['>'], t['"'], t['_'] = false, false, false, false, false
	return t
}()

// openTag appends "<tag" plus the N attribute.
func openTag(dst []byte, tag, name string, hasName bool) []byte {
	dst = append(dst, '<')
	dst = append(dst, tag...)
	if hasName {
		dst = append(dst, ` N="`...)
		dst = appendText(dst, name, true, true)
		dst = append(dst, '"')
	}
	return dst
}

func simple(dst []byte, tag, name string, hasName bool, text string) []byte {
	dst = openTag(dst, tag, name, hasName)
	dst = append(dst, '>')
	dst = append(dst, text...)
	dst = append(dst, "</"...)
	dst = append(dst, tag...)
	return append(dst, '>')
}

func simpleBytes(dst []byte, tag, name string, hasName bool, f func([]byte) []byte) []byte {
	dst = openTag(dst, tag, name, hasName)
	dst = append(dst, '>')
	dst = f(dst)
	dst = append(dst, "</"...)
	dst = append(dst, tag...)
	return append(dst, '>')
}

func escapedElem(dst []byte, tag, name string, hasName bool, s string, escape bool) []byte {
	dst = openTag(dst, tag, name, hasName)
	dst = append(dst, '>')
	dst = appendText(dst, s, escape, false)
	dst = append(dst, "</"...)
	dst = append(dst, tag...)
	return append(dst, '>')
}

func (e *encoder) value(dst []byte, name string, hasName bool, v Value) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		dst = openTag(dst, "Nil", name, hasName)
		return append(dst, " />"...), nil
	case string:
		return escapedElem(dst, "S", name, hasName, x, true), nil
	case *Object:
		if x == nil {
			dst = openTag(dst, "Nil", name, hasName)
			return append(dst, " />"...), nil
		}
		return e.object(dst, name, hasName, x)
	case bool:
		if x {
			return simple(dst, "B", name, hasName, "true"), nil
		}
		return simple(dst, "B", name, hasName, "false"), nil
	case int32:
		return simpleBytes(dst, "I32", name, hasName, func(b []byte) []byte { return strconv.AppendInt(b, int64(x), 10) }), nil
	case int64:
		return simpleBytes(dst, "I64", name, hasName, func(b []byte) []byte { return strconv.AppendInt(b, x, 10) }), nil
	case uint32:
		return simpleBytes(dst, "U32", name, hasName, func(b []byte) []byte { return strconv.AppendUint(b, uint64(x), 10) }), nil
	case uint64:
		return simpleBytes(dst, "U64", name, hasName, func(b []byte) []byte { return strconv.AppendUint(b, x, 10) }), nil
	case int16:
		return simpleBytes(dst, "I16", name, hasName, func(b []byte) []byte { return strconv.AppendInt(b, int64(x), 10) }), nil
	case uint16:
		return simpleBytes(dst, "U16", name, hasName, func(b []byte) []byte { return strconv.AppendUint(b, uint64(x), 10) }), nil
	case int8:
		return simpleBytes(dst, "SB", name, hasName, func(b []byte) []byte { return strconv.AppendInt(b, int64(x), 10) }), nil
	case uint8:
		return simpleBytes(dst, "By", name, hasName, func(b []byte) []byte { return strconv.AppendUint(b, uint64(x), 10) }), nil
	case Char:
		return simpleBytes(dst, "C", name, hasName, func(b []byte) []byte { return strconv.AppendUint(b, uint64(x), 10) }), nil
	case float32:
		return simpleBytes(dst, "Sg", name, hasName, func(b []byte) []byte { return AppendFloat(b, float64(x), 32) }), nil
	case float64:
		return simpleBytes(dst, "Db", name, hasName, func(b []byte) []byte { return AppendFloat(b, x, 64) }), nil
	case Decimal:
		return escapedElem(dst, "D", name, hasName, string(x), false), nil
	case DateTime:
		return escapedElem(dst, "DT", name, hasName, x.String(), false), nil
	case Duration:
		return escapedElem(dst, "TS", name, hasName, x.String(), false), nil
	case []byte:
		return simpleBytes(dst, "BA", name, hasName, func(b []byte) []byte { return base64.StdEncoding.AppendEncode(b, x) }), nil
	case GUID:
		return simple(dst, "G", name, hasName, x.String()), nil
	case URI:
		return escapedElem(dst, "URI", name, hasName, string(x), true), nil
	case Version:
		return simple(dst, "Version", name, hasName, x.String()), nil
	case XMLDocument:
		return escapedElem(dst, "XD", name, hasName, string(x), true), nil
	case ScriptBlock:
		return escapedElem(dst, "SBK", name, hasName, string(x), true), nil
	case SecureString:
		return escapedElem(dst, "SS", name, hasName, string(x), false), nil
	}
	return nil, &UnsupportedTypeError{Value: v}
}

func appendRefID(dst []byte, id int) []byte {
	dst = append(dst, ` RefId="`...)
	dst = strconv.AppendInt(dst, int64(id), 10)
	return append(dst, '"')
}

func (e *encoder) object(dst []byte, name string, hasName bool, o *Object) ([]byte, error) {
	if id, ok := e.objs[o]; ok {
		dst = openTag(dst, "Ref", name, hasName)
		dst = appendRefID(dst, id)
		return append(dst, " />"...), nil
	}
	if e.objs == nil {
		e.objs = make(map[*Object]int)
	}
	id := e.nobjs
	e.nobjs++
	e.objs[o] = id
	e.depth++
	defer func() { e.depth-- }()
	if e.depth > maxEncodeDepth {
		return nil, fmt.Errorf("clixml: object nesting deeper than %d", maxEncodeDepth)
	}
	dst = openTag(dst, "Obj", name, hasName)
	dst = appendRefID(dst, id)
	if len(o.TypeNames) == 0 && !o.HasToString && len(o.Props) == 0 && len(o.Members) == 0 && o.Content == ContentNone {
		return append(dst, " />"...), nil
	}
	dst = append(dst, '>')
	if len(o.TypeNames) > 0 {
		e.keyBuf = e.keyBuf[:0]
		for _, t := range o.TypeNames {
			e.keyBuf = append(e.keyBuf, t...)
			e.keyBuf = append(e.keyBuf, 0)
		}
		if tid, ok := e.tns[string(e.keyBuf)]; ok {
			dst = append(dst, "<TNRef"...)
			dst = appendRefID(dst, tid)
			dst = append(dst, " />"...)
		} else {
			if e.tns == nil {
				e.tns = make(map[string]int)
			}
			tid := e.ntns
			e.ntns++
			e.tns[string(e.keyBuf)] = tid
			dst = append(dst, "<TN"...)
			dst = appendRefID(dst, tid)
			dst = append(dst, '>')
			for _, t := range o.TypeNames {
				dst = escapedElem(dst, "T", "", false, t, true)
			}
			dst = append(dst, "</TN>"...)
		}
	}
	if o.HasToString {
		dst = escapedElem(dst, "ToString", "", false, o.ToString, true)
	}
	var err error
	switch o.Content {
	case ContentNone:
	case ContentPrimitive:
		if dst, err = e.value(dst, "", false, o.Value); err != nil {
			return nil, err
		}
	case ContentList, ContentEnumerable, ContentQueue, ContentStack:
		tag := [...]string{ContentList: "LST", ContentEnumerable: "IE", ContentQueue: "QUE", ContentStack: "STK"}[o.Content]
		if len(o.Items) == 0 {
			dst = append(dst, '<')
			dst = append(dst, tag...)
			dst = append(dst, " />"...)
			break
		}
		dst = append(dst, '<')
		dst = append(dst, tag...)
		dst = append(dst, '>')
		for _, it := range o.Items {
			if dst, err = e.value(dst, "", false, it); err != nil {
				return nil, err
			}
		}
		dst = append(dst, "</"...)
		dst = append(dst, tag...)
		dst = append(dst, '>')
	case ContentDict:
		if len(o.Entries) == 0 {
			dst = append(dst, "<DCT />"...)
			break
		}
		dst = append(dst, "<DCT>"...)
		for _, en := range o.Entries {
			dst = append(dst, "<En>"...)
			if dst, err = e.value(dst, "Key", true, en.Key); err != nil {
				return nil, err
			}
			if dst, err = e.value(dst, "Value", true, en.Value); err != nil {
				return nil, err
			}
			dst = append(dst, "</En>"...)
		}
		dst = append(dst, "</DCT>"...)
	default:
		return nil, fmt.Errorf("clixml: invalid Content %d", o.Content)
	}
	if len(o.Props) > 0 {
		if dst, err = e.props(dst, "Props", o.Props); err != nil {
			return nil, err
		}
	}
	if len(o.Members) > 0 {
		if dst, err = e.props(dst, "MS", o.Members); err != nil {
			return nil, err
		}
	}
	return append(dst, "</Obj>"...), nil
}

func (e *encoder) props(dst []byte, tag string, props []Property) ([]byte, error) {
	dst = append(dst, '<')
	dst = append(dst, tag...)
	dst = append(dst, '>')
	var err error
	for _, p := range props {
		if dst, err = e.value(dst, p.Name, true, p.Value); err != nil {
			return nil, err
		}
	}
	dst = append(dst, "</"...)
	dst = append(dst, tag...)
	return append(dst, '>'), nil
}

// AppendFloat appends f the way PowerShell writes <Db> and <Sg>
// (serialization.cs WriteDouble/WriteSingle use XmlConvert.ToString, i.e.
// the invariant "R" round-trip format with XML Schema infinities): the
// shortest digits that round-trip, scientific notation ("1E+20", "1E-05")
// when the decimal exponent is above max(digits, 15) (7 for float32) or
// below -4, and "NaN", "INF", "-INF".
func AppendFloat(dst []byte, f float64, bitSize int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "INF"...)
	case math.IsInf(f, -1):
		return append(dst, "-INF"...)
	case f == 0:
		if math.Signbit(f) {
			return append(dst, "-0"...)
		}
		return append(dst, '0')
	}
	var tmp [32]byte
	s := strconv.AppendFloat(tmp[:0], f, 'e', -1, bitSize) // [-]d[.ddd]e±XX
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	ei := 0
	for ei < len(s) && s[ei] != 'e' {
		ei++
	}
	mant := s[:ei]
	exp, _ := strconv.Atoi(string(s[ei+1:]))
	var digits [24]byte
	nd := 0
	for _, c := range mant {
		if c != '.' {
			digits[nd] = c
			nd++
		}
	}
	dp := exp + 1 // position of the decimal point relative to the digits
	maxDigits := 15
	if bitSize == 32 {
		maxDigits = 7
	}
	if nd > maxDigits {
		maxDigits = nd
	}
	if neg {
		dst = append(dst, '-')
	}
	if dp > maxDigits || dp < -3 {
		dst = append(dst, digits[0])
		if nd > 1 {
			dst = append(dst, '.')
			dst = append(dst, digits[1:nd]...)
		}
		dst = append(dst, 'E')
		e := dp - 1
		if e < 0 {
			dst = append(dst, '-')
			e = -e
		} else {
			dst = append(dst, '+')
		}
		if e < 10 {
			dst = append(dst, '0')
		}
		return strconv.AppendInt(dst, int64(e), 10)
	}
	switch {
	case dp <= 0:
		dst = append(dst, '0', '.')
		for i := 0; i < -dp; i++ {
			dst = append(dst, '0')
		}
		dst = append(dst, digits[:nd]...)
	case dp >= nd:
		dst = append(dst, digits[:nd]...)
		for i := nd; i < dp; i++ {
			dst = append(dst, '0')
		}
	default:
		dst = append(dst, digits[:dp]...)
		dst = append(dst, '.')
		dst = append(dst, digits[dp:nd]...)
	}
	return dst
}
