package clixml

import (
	"bytes"
	"encoding/base64"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Decode decodes one PSRP message body (MS-PSRP 2.2.5): a single CLIXML
// element such as <Obj>…</Obj> or <S>…</S>, without an <Objs> root or
// namespace, optionally preceded by a UTF-8 BOM and an XML declaration. An
// empty (or whitespace-only) body, such as END_OF_PIPELINE_INPUT carries,
// decodes to nil. The default Limits apply.
func Decode(data []byte) (Value, error) {
	return DecodeWithLimits(data, Limits{})
}

// DecodeWithLimits is Decode with explicit limits.
func DecodeWithLimits(data []byte, l Limits) (Value, error) {
	if len(data) <= l.withDefaults().MaxBytes {
		if s, ok := fastString(data); ok {
			return s, nil
		}
	}
	return decodeFull(data, l)
}

// decodeFull is DecodeWithLimits without the fastString shortcut.
func decodeFull(data []byte, l Limits) (Value, error) {
	var d decoder
	if err := d.init(data, l); err != nil {
		return nil, err
	}
	if err := d.skipMisc(); err != nil {
		return nil, err
	}
	if d.pos == len(d.data) {
		return nil, nil
	}
	t, err := d.startTag()
	if err != nil {
		return nil, err
	}
	if string(t.name) == "Objs" {
		return nil, d.errAt(t.off, "unexpected <Objs> root in a message body (use DecodeAll)")
	}
	v, err := d.value(t)
	if err != nil {
		return nil, err
	}
	if err := d.end(); err != nil {
		return nil, err
	}
	return v, nil
}

// DecodeObject decodes a message body that must be an <Obj>.
func DecodeObject(data []byte) (*Object, error) {
	v, err := Decode(data)
	if err != nil {
		return nil, err
	}
	o, ok := v.(*Object)
	if !ok {
		return nil, &SyntaxError{Offset: 0, Msg: "message body is not an <Obj>"}
	}
	return o, nil
}

// DecodeAll decodes an Export-Clixml style document: an <Objs> root (any
// attributes, such as Version and xmlns, are accepted) whose children are
// values. RefIds and TN ids are shared by the whole document. A document
// that is a single value without <Objs> decodes to a one-element slice, and
// an empty one to an empty slice.
func DecodeAll(data []byte) ([]Value, error) {
	return DecodeAllWithLimits(data, Limits{})
}

// DecodeAllWithLimits is DecodeAll with explicit limits.
func DecodeAllWithLimits(data []byte, l Limits) ([]Value, error) {
	var d decoder
	if err := d.init(data, l); err != nil {
		return nil, err
	}
	if err := d.skipMisc(); err != nil {
		return nil, err
	}
	if d.pos == len(d.data) {
		return nil, nil
	}
	t, err := d.startTag()
	if err != nil {
		return nil, err
	}
	var out []Value
	if string(t.name) != "Objs" {
		v, err := d.value(t)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	} else if !t.empty {
		if err := d.enter(t.off); err != nil {
			return nil, err
		}
		for {
			ct, done, err := d.child(t)
			if err != nil {
				return nil, err
			}
			if done {
				break
			}
			v, err := d.value(ct)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		d.depth--
	}
	if err := d.end(); err != nil {
		return nil, err
	}
	return out, nil
}

// decoder is a scanner for the restricted XML that CLIXML uses: elements,
// attributes, character data with the five predefined entities and
// character references, CDATA sections, comments and processing
// instructions. DTDs are rejected.
type decoder struct {
	data  []byte
	pos   int
	lim   Limits
	depth int
	elems int
	objs  refTable[*Object]  // RefId → Obj of this message
	tns   refTable[[]string] // TN RefId → type names of this message
	buf   []byte             // scratch for character data that needs rewriting

	// Scratch stacks: children are collected here and copied out once into
	// an exactly sized slice when their parent ends.
	props []Property
	vals  []Value
	names []string
}

// refTable maps RefId attribute values to what they name. Windows numbers
// them 0, 1, 2… so decimal ids close to the ones already seen index a
// slice (memory stays proportional to the ids used); anything else goes to
// a map keyed by the attribute text, as PowerShell's own table is.
type refTable[T any] struct {
	byIndex []T
	set     []bool
	other   map[string]T
}

func smallRef(id []byte) (int, bool) {
	if len(id) == 0 || len(id) > 9 || (len(id) > 1 && id[0] == '0') {
		return 0, false
	}
	n := 0
	for _, c := range id {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func (t *refTable[T]) put(id []byte, v T) {
	if n, ok := smallRef(id); ok && n < len(t.byIndex)+64 {
		for len(t.byIndex) <= n {
			var zero T
			t.byIndex = append(t.byIndex, zero)
			t.set = append(t.set, false)
		}
		t.byIndex[n], t.set[n] = v, true
		return
	}
	if t.other == nil {
		t.other = make(map[string]T)
	}
	t.other[string(id)] = v
}

func (t *refTable[T]) get(id []byte) (T, bool) {
	if n, ok := smallRef(id); ok && n < len(t.byIndex) && t.set[n] {
		return t.byIndex[n], true
	}
	v, ok := t.other[string(id)]
	return v, ok
}

func (d *decoder) init(data []byte, l Limits) error {
	l = l.withDefaults()
	if len(data) > l.MaxBytes {
		return &LimitError{Limit: "MaxBytes", Max: l.MaxBytes, Offset: l.MaxBytes}
	}
	*d = decoder{data: data, lim: l}
	if bytes.HasPrefix(data, []byte("\xEF\xBB\xBF")) {
		d.pos = 3
	}
	if !utf8.Valid(data) {
		off := 0
		for off < len(data) {
			r, n := utf8.DecodeRune(data[off:])
			if r == utf8.RuneError && n == 1 {
				break
			}
			off += n
		}
		return &SyntaxError{Offset: off, Msg: "invalid UTF-8"}
	}
	return nil
}

func (d *decoder) errAt(off int, msg string) error { return &SyntaxError{Offset: off, Msg: msg} }

func (d *decoder) eof() error { return d.errAt(len(d.data), "unexpected end of input") }

// enter accounts for one more level of element nesting.
func (d *decoder) enter(off int) error {
	d.depth++
	if d.depth > d.lim.MaxDepth {
		return &LimitError{Limit: "MaxDepth", Max: d.lim.MaxDepth, Offset: off}
	}
	return nil
}

// end checks that only whitespace, comments and PIs follow the root.
func (d *decoder) end() error {
	if err := d.skipMisc(); err != nil {
		return err
	}
	if d.pos != len(d.data) {
		return d.errAt(d.pos, "content after the root element")
	}
	return nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func (d *decoder) skipSpace() bool {
	start := d.pos
	for d.pos < len(d.data) && isSpace(d.data[d.pos]) {
		d.pos++
	}
	return d.pos > start
}

// skipMisc skips whitespace, comments and processing instructions (which
// includes the XML declaration). It stops at anything else.
func (d *decoder) skipMisc() error {
	for {
		d.skipSpace()
		rest := d.data[d.pos:]
		if len(rest) < 2 || rest[0] != '<' || (rest[1] != '!' && rest[1] != '?') {
			return nil
		}
		switch {
		case bytes.HasPrefix(rest, []byte("<!--")):
			if err := d.skipComment(); err != nil {
				return err
			}
		case bytes.HasPrefix(rest, []byte("<?")):
			if err := d.skipPI(); err != nil {
				return err
			}
		case bytes.HasPrefix(rest, []byte("<!")):
			return d.errAt(d.pos, "DTDs and other declarations are not allowed")
		default:
			return nil
		}
	}
}

func (d *decoder) skipComment() error {
	i := bytes.Index(d.data[d.pos+4:], []byte("--"))
	if i < 0 {
		return d.eof()
	}
	end := d.pos + 4 + i
	if end+2 >= len(d.data) || d.data[end+2] != '>' {
		return d.errAt(end, "'--' inside a comment")
	}
	if err := d.checkChars(d.data[d.pos+4:end], d.pos+4); err != nil {
		return err
	}
	d.pos = end + 3
	return nil
}

func (d *decoder) skipPI() error {
	i := bytes.Index(d.data[d.pos+2:], []byte("?>"))
	if i < 0 {
		return d.eof()
	}
	start := d.pos + 2
	n := nameLen(d.data[start:])
	if n == 0 {
		return d.errAt(start, "processing instruction without a target")
	}
	if err := d.checkChars(d.data[start:start+i], start); err != nil {
		return err
	}
	d.pos = start + i + 2
	return nil
}

// checkChars rejects control characters XML 1.0 forbids.
func (d *decoder) checkChars(b []byte, off int) error {
	for i, c := range b {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
			return d.errAt(off+i, "control character not allowed in XML")
		}
	}
	return nil
}

func isNameByte(c byte, first bool) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c == ':', c >= 0x80:
		return true
	case c >= '0' && c <= '9', c == '.', c == '-':
		return !first
	}
	return false
}

func nameLen(b []byte) int {
	i := 0
	for i < len(b) && isNameByte(b[i], i == 0) {
		i++
	}
	return i
}

// tag is a parsed start tag. Only the attributes CLIXML gives meaning to
// are kept; others (xmlns, Version on <Objs>) are checked for syntax only.
type tag struct {
	name     []byte
	nameAttr []byte // raw N attribute value
	refID    []byte // raw RefId attribute value
	hasName  bool
	hasRefID bool
	empty    bool // <x/>
	off      int
}

const maxAttrs = 16

// startTag parses a start tag at d.pos, which must be '<'.
func (d *decoder) startTag() (tag, error) {
	var t tag
	t.off = d.pos
	d.elems++
	if d.elems > d.lim.MaxElements {
		return t, &LimitError{Limit: "MaxElements", Max: d.lim.MaxElements, Offset: d.pos}
	}
	if d.pos >= len(d.data) || d.data[d.pos] != '<' {
		return t, d.errAt(d.pos, "expected an element")
	}
	d.pos++
	n := nameLen(d.data[d.pos:])
	if n == 0 {
		return t, d.errAt(d.pos, "expected an element name")
	}
	t.name = d.data[d.pos : d.pos+n]
	d.pos += n
	var seen [maxAttrs][]byte
	nseen := 0
	for {
		sp := d.skipSpace()
		if d.pos >= len(d.data) {
			return t, d.eof()
		}
		switch d.data[d.pos] {
		case '>':
			d.pos++
			return t, nil
		case '/':
			if d.pos+1 < len(d.data) && d.data[d.pos+1] == '>' {
				d.pos += 2
				t.empty = true
				return t, nil
			}
			return t, d.errAt(d.pos, "expected '/>'")
		}
		if !sp {
			return t, d.errAt(d.pos, "expected whitespace before an attribute")
		}
		aoff := d.pos
		an := nameLen(d.data[d.pos:])
		if an == 0 {
			return t, d.errAt(d.pos, "expected an attribute name")
		}
		aname := d.data[d.pos : d.pos+an]
		d.pos += an
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != '=' {
			return t, d.errAt(d.pos, "expected '=' after an attribute name")
		}
		d.pos++
		d.skipSpace()
		if d.pos >= len(d.data) {
			return t, d.eof()
		}
		q := d.data[d.pos]
		if q != '"' && q != '\'' {
			return t, d.errAt(d.pos, "expected a quoted attribute value")
		}
		d.pos++
		i := bytes.IndexByte(d.data[d.pos:], q)
		if i < 0 {
			return t, d.eof()
		}
		val := d.data[d.pos : d.pos+i]
		if j := bytes.IndexByte(val, '<'); j >= 0 {
			return t, d.errAt(d.pos+j, "'<' in an attribute value")
		}
		if bytes.IndexByte(val, '&') >= 0 {
			// Validate entities now; the value is decoded when used.
			if _, err := d.appendCharData(nil, val, d.pos, true); err != nil {
				return t, err
			}
		} else if err := d.checkChars(val, d.pos); err != nil {
			return t, err
		}
		d.pos += i + 1
		for _, s := range seen[:nseen] {
			if bytes.Equal(s, aname) {
				return t, d.errAt(aoff, "duplicate attribute "+string(aname))
			}
		}
		if nseen == maxAttrs {
			return t, d.errAt(aoff, "too many attributes")
		}
		seen[nseen] = aname
		nseen++
		switch string(aname) {
		case "N":
			t.nameAttr, t.hasName = val, true
		case "RefId":
			t.refID, t.hasRefID = val, true
		}
	}
}

// endTag parses "</name>" at d.pos.
func (d *decoder) endTag(name []byte) error {
	p := d.pos
	if !bytes.HasPrefix(d.data[p:], []byte("</")) {
		return d.errAt(p, "expected an end tag")
	}
	p += 2
	n := nameLen(d.data[p:])
	if !bytes.Equal(d.data[p:p+n], name) {
		return d.errAt(p, "end tag does not match <"+string(name)+">")
	}
	p += n
	for p < len(d.data) && isSpace(d.data[p]) {
		p++
	}
	if p >= len(d.data) {
		return d.eof()
	}
	if d.data[p] != '>' {
		return d.errAt(p, "expected '>'")
	}
	d.pos = p + 1
	return nil
}

// child moves to the next child element of parent. It returns done=true
// after consuming parent's end tag. Only whitespace, comments and PIs may
// appear between children.
func (d *decoder) child(parent tag) (tag, bool, error) {
	if err := d.skipMisc(); err != nil {
		return tag{}, false, err
	}
	if d.pos >= len(d.data) {
		return tag{}, false, d.eof()
	}
	if d.data[d.pos] != '<' {
		return tag{}, false, d.errAt(d.pos, "unexpected text in <"+string(parent.name)+">")
	}
	if d.pos+1 < len(d.data) && d.data[d.pos+1] == '/' {
		return tag{}, true, d.endTag(parent.name)
	}
	if bytes.HasPrefix(d.data[d.pos:], []byte("<![CDATA[")) {
		return tag{}, false, d.errAt(d.pos, "unexpected text in <"+string(parent.name)+">")
	}
	t, err := d.startTag()
	return t, false, err
}

// special marks bytes that keep character data off the fast path.
var special = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = c != '\t' && c != '\n'
	}
	t['&'] = true
	t['>'] = true
	return t
}()

// text reads the character content of the element t (whose start tag has
// been read) up to and including its end tag. The result aliases the input
// when clean is true; otherwise it is in d.buf (valid until the next call).
// Child elements are an error.
func (d *decoder) text(t tag) (b []byte, clean bool, err error) {
	if t.empty {
		return nil, true, nil
	}
	start := d.pos
	i := bytes.IndexByte(d.data[start:], '<')
	if i < 0 {
		return nil, false, d.eof()
	}
	seg := d.data[start : start+i]
	clean = true
	for _, c := range seg {
		if special[c] {
			clean = false
			break
		}
	}
	if clean {
		d.pos = start + i
		if d.pos+1 < len(d.data) && d.data[d.pos+1] == '/' {
			if err := d.endTag(t.name); err != nil {
				return nil, false, err
			}
			return seg, true, nil
		}
		d.pos = start
	}
	buf := d.buf[:0]
	for {
		i := bytes.IndexByte(d.data[d.pos:], '<')
		if i < 0 {
			return nil, false, d.eof()
		}
		buf, err = d.appendCharData(buf, d.data[d.pos:d.pos+i], d.pos, false)
		if err != nil {
			return nil, false, err
		}
		d.pos += i
		rest := d.data[d.pos:]
		switch {
		case bytes.HasPrefix(rest, []byte("</")):
			if err := d.endTag(t.name); err != nil {
				return nil, false, err
			}
			d.buf = buf
			return buf, false, nil
		case bytes.HasPrefix(rest, []byte("<![CDATA[")):
			j := bytes.Index(rest[9:], []byte("]]>"))
			if j < 0 {
				return nil, false, d.eof()
			}
			cd := rest[9 : 9+j]
			if err := d.checkChars(cd, d.pos+9); err != nil {
				return nil, false, err
			}
			buf = appendNewlines(buf, cd, false)
			d.pos += 9 + j + 3
		case bytes.HasPrefix(rest, []byte("<!--")):
			if err := d.skipComment(); err != nil {
				return nil, false, err
			}
		case bytes.HasPrefix(rest, []byte("<?")):
			if err := d.skipPI(); err != nil {
				return nil, false, err
			}
		default:
			return nil, false, d.errAt(d.pos, "unexpected element inside <"+string(t.name)+">")
		}
	}
}

// appendNewlines appends b with XML end-of-line handling (CR LF and lone CR
// become LF); in attribute values TAB, CR and LF then become spaces.
func appendNewlines(dst, b []byte, attr bool) []byte {
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch c {
		case '\r':
			if i+1 < len(b) && b[i+1] == '\n' {
				i++
			}
			c = '\n'
		}
		if attr && (c == '\n' || c == '\t') {
			c = ' '
		}
		dst = append(dst, c)
	}
	return dst
}

// appendCharData appends character data seg (at input offset off) to dst,
// expanding entity and character references and normalising newlines.
func (d *decoder) appendCharData(dst, seg []byte, off int, attr bool) ([]byte, error) {
	for len(seg) > 0 {
		i := 0
		for i < len(seg) && seg[i] != '&' {
			c := seg[i]
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return nil, d.errAt(off+i, "control character not allowed in XML")
			}
			if c == '>' && !attr && i >= 2 && seg[i-1] == ']' && seg[i-2] == ']' {
				return nil, d.errAt(off+i, "']]>' not allowed in character data")
			}
			i++
		}
		dst = appendNewlines(dst, seg[:i], attr)
		if i == len(seg) {
			break
		}
		j := bytes.IndexByte(seg[i:], ';')
		if j < 0 || j > 12 {
			return nil, d.errAt(off+i, "unterminated entity reference")
		}
		ref := seg[i+1 : i+j]
		switch string(ref) {
		case "lt":
			dst = append(dst, '<')
		case "gt":
			dst = append(dst, '>')
		case "amp":
			dst = append(dst, '&')
		case "quot":
			dst = append(dst, '"')
		case "apos":
			dst = append(dst, '\'')
		default:
			r, ok := charRef(ref)
			if !ok {
				return nil, d.errAt(off+i, "invalid entity reference &"+string(ref)+";")
			}
			dst = utf8.AppendRune(dst, r)
		}
		seg = seg[i+j+1:]
		off += i + j + 1
	}
	return dst, nil
}

// charRef parses the body of &#N; or &#xH; and checks that it is an XML Char.
func charRef(ref []byte) (rune, bool) {
	if len(ref) < 2 || ref[0] != '#' {
		return 0, false
	}
	var v uint64
	var err error
	if ref[1] == 'x' {
		if len(ref) < 3 {
			return 0, false
		}
		for _, c := range ref[2:] {
			if _, ok := hexVal(c); !ok {
				return 0, false
			}
		}
		v, err = strconv.ParseUint(string(ref[2:]), 16, 32)
	} else {
		for _, c := range ref[1:] {
			if c < '0' || c > '9' {
				return 0, false
			}
		}
		v, err = strconv.ParseUint(string(ref[1:]), 10, 32)
	}
	if err != nil {
		return 0, false
	}
	r := rune(v)
	switch {
	case r == '\t' || r == '\n' || r == '\r',
		r >= 0x20 && r <= 0xD7FF,
		r >= 0xE000 && r <= 0xFFFD,
		r >= 0x10000 && r <= utf8.MaxRune:
		return r, true
	}
	return 0, false
}

// decodedString returns the _xHHHH_-decoded string of character data b.
func decodedString(b []byte) string {
	for i := 0; ; i++ {
		j := bytes.IndexByte(b[i:], '_')
		if j < 0 || i+j+1 >= len(b) {
			return string(b)
		}
		i += j
		if b[i+1] == 'x' || b[i+1] == 'X' {
			return DecodeString(string(b))
		}
	}
}

// internedString is decodedString that returns well-known strings (type
// and property names) without allocating.
func internedString(b []byte) string {
	if s, ok := wellKnown[string(b)]; ok {
		return s
	}
	return decodedString(b)
}

// attrString decodes an attribute value (entities, then _xHHHH_).
func (d *decoder) attrString(raw []byte, off int) (string, error) {
	if bytes.IndexByte(raw, '&') < 0 && bytes.IndexByte(raw, '\r') < 0 &&
		bytes.IndexByte(raw, '\n') < 0 && bytes.IndexByte(raw, '\t') < 0 {
		return internedString(raw), nil
	}
	b, err := d.appendCharData(nil, raw, off, true)
	if err != nil {
		return "", err
	}
	return decodedString(b), nil
}

// value decodes the element whose start tag is t.
func (d *decoder) value(t tag) (Value, error) {
	switch string(t.name) {
	case "S":
		b, _, err := d.text(t)
		if err != nil {
			return nil, err
		}
		return decodedString(b), nil
	case "Obj":
		return d.object(t)
	case "Ref":
		return d.ref(t)
	case "Nil":
		b, _, err := d.text(t)
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimLeft(b, " \t\r\n")) != 0 {
			return nil, d.errAt(t.off, "<Nil> with content")
		}
		return nil, nil
	}
	kind, ok := primitiveTags[string(t.name)]
	if !ok {
		return nil, d.errAt(t.off, "unknown element <"+string(t.name)+">")
	}
	b, _, err := d.text(t)
	if err != nil {
		return nil, err
	}
	v, perr := parsePrimitive(kind, b)
	if perr != "" {
		return nil, d.errAt(t.off, "invalid <"+string(t.name)+"> value: "+perr)
	}
	return v, nil
}

type primKind uint8

const (
	pkChar primKind = iota + 1
	pkBool
	pkDateTime
	pkDuration
	pkU8
	pkI8
	pkU16
	pkI16
	pkU32
	pkI32
	pkU64
	pkI64
	pkF32
	pkF64
	pkDecimal
	pkBytes
	pkGUID
	pkURI
	pkVersion
	pkXML
	pkScript
	pkSecure
)

// primitiveTags are the primitive elements other than S and Nil
// (MS-PSRP 2.2.5.1).
var primitiveTags = map[string]primKind{
	"C": pkChar, "B": pkBool, "DT": pkDateTime, "TS": pkDuration,
	"By": pkU8, "SB": pkI8, "U16": pkU16, "I16": pkI16, "U32": pkU32, "I32": pkI32,
	"U64": pkU64, "I64": pkI64, "Sg": pkF32, "Db": pkF64, "D": pkDecimal,
	"BA": pkBytes, "G": pkGUID, "URI": pkURI, "Version": pkVersion,
	"XD": pkXML, "SBK": pkScript, "SS": pkSecure,
}

func trimSpace(b []byte) []byte { return bytes.Trim(b, " \t\r\n") }

// parsePrimitive converts character data to the Go value of kind. It
// returns a non-empty reason on failure.
func parsePrimitive(kind primKind, b []byte) (Value, string) {
	switch kind {
	case pkURI:
		return URI(decodedString(b)), ""
	case pkXML:
		return XMLDocument(decodedString(b)), ""
	case pkScript:
		return ScriptBlock(decodedString(b)), ""
	case pkSecure:
		return SecureString(string(trimSpace(b))), ""
	}
	s := trimSpace(b)
	switch kind {
	case pkBool:
		switch string(s) {
		case "true", "1":
			return true, ""
		case "false", "0":
			return false, ""
		}
		return nil, "not a boolean"
	case pkChar:
		n, err := strconv.ParseUint(string(s), 10, 16)
		if err != nil {
			return nil, "not a UTF-16 code unit"
		}
		return Char(n), ""
	case pkU8, pkU16, pkU32, pkU64:
		bits := intBits(kind)
		n, err := strconv.ParseUint(strings.TrimPrefix(string(s), "+"), 10, bits)
		if err != nil || len(s) > 0 && s[0] == '-' {
			return nil, "not an unsigned integer of its size"
		}
		switch kind {
		case pkU8:
			return uint8(n), ""
		case pkU16:
			return uint16(n), ""
		case pkU32:
			return uint32(n), ""
		}
		return n, ""
	case pkI8, pkI16, pkI32, pkI64:
		bits := intBits(kind)
		n, err := strconv.ParseInt(string(s), 10, bits)
		if err != nil {
			return nil, "not an integer of its size"
		}
		switch kind {
		case pkI8:
			return int8(n), ""
		case pkI16:
			return int16(n), ""
		case pkI32:
			return int32(n), ""
		}
		return n, ""
	case pkF32:
		f, ok := parseFloat(string(s), 32)
		if !ok {
			return nil, "not a number"
		}
		return float32(f), ""
	case pkF64:
		f, ok := parseFloat(string(s), 64)
		if !ok {
			return nil, "not a number"
		}
		return f, ""
	case pkDecimal:
		if !validDecimal(s) {
			return nil, "not a decimal"
		}
		return Decimal(string(s)), ""
	case pkBytes:
		clean := make([]byte, 0, len(s))
		for _, c := range s {
			if !isSpace(c) {
				clean = append(clean, c)
			}
		}
		out := make([]byte, base64.StdEncoding.DecodedLen(len(clean)))
		n, err := base64.StdEncoding.Strict().Decode(out, clean)
		if err != nil {
			return nil, "not base64"
		}
		return out[:n], ""
	case pkGUID:
		g, err := ParseGUID(string(s))
		if err != nil {
			return nil, "not a GUID"
		}
		return g, ""
	case pkVersion:
		v, err := ParseVersion(string(s))
		if err != nil {
			return nil, "not a version"
		}
		return v, ""
	case pkDateTime:
		t, err := parseDateTime(string(s))
		if err != nil {
			return nil, "not a date-time"
		}
		return DateTime{Time: t, Text: string(b)}, ""
	case pkDuration:
		ticks, ok := parseDuration(string(s))
		if !ok {
			return nil, "not a duration"
		}
		return Duration{Ticks: ticks, Text: string(b)}, ""
	}
	return nil, "unknown kind"
}

// parseFloat accepts what .NET XmlConvert.ToDouble/ToSingle and the
// invariant "R" format produce: decimal and exponent forms, INF, -INF,
// Infinity, -Infinity and NaN.
func parseFloat(s string, bits int) (float64, bool) {
	switch s {
	case "INF", "Infinity", "+Infinity", "∞":
		return math.Inf(1), true
	case "-INF", "-Infinity", "-∞":
		return math.Inf(-1), true
	case "NaN":
		return math.NaN(), true
	}
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(s, bits)
	if err != nil {
		return 0, false
	}
	return f, true
}

// validDecimal checks the invariant decimal text [-+]digits[.digits].
func validDecimal(s []byte) bool {
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		s = s[1:]
	}
	digits, dot := 0, false
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot:
			dot = true
		default:
			return false
		}
	}
	return digits > 0 && digits <= 64
}

func (d *decoder) ref(t tag) (Value, error) {
	if !t.hasRefID {
		return nil, d.errAt(t.off, "<Ref> without RefId")
	}
	o, ok := d.objs.get(t.refID)
	if !ok {
		return nil, d.errAt(t.off, "<Ref> to unknown RefId "+strconv.Quote(string(t.refID)))
	}
	if !t.empty {
		b, _, err := d.text(t)
		if err != nil {
			return nil, err
		}
		if len(trimSpace(b)) != 0 {
			return nil, d.errAt(t.off, "<Ref> with content")
		}
	}
	return o, nil
}

func (d *decoder) object(t tag) (*Object, error) {
	o := &Object{}
	if t.hasRefID {
		d.objs.put(t.refID, o)
	}
	if t.empty {
		return o, nil
	}
	if err := d.enter(t.off); err != nil {
		return nil, err
	}
	var seenTN, seenProps, seenMS bool
	for {
		ct, done, err := d.child(t)
		if err != nil {
			return nil, err
		}
		if done {
			break
		}
		dup := func() error { return d.errAt(ct.off, "duplicate <"+string(ct.name)+"> in <Obj>") }
		switch string(ct.name) {
		case "TN":
			if seenTN {
				return nil, dup()
			}
			seenTN = true
			names, err := d.typeNames(ct)
			if err != nil {
				return nil, err
			}
			o.TypeNames = names
		case "TNRef":
			if seenTN {
				return nil, dup()
			}
			seenTN = true
			if !ct.hasRefID {
				return nil, d.errAt(ct.off, "<TNRef> without RefId")
			}
			names, ok := d.tns.get(ct.refID)
			if !ok {
				return nil, d.errAt(ct.off, "<TNRef> to unknown RefId "+strconv.Quote(string(ct.refID)))
			}
			if b, _, err := d.text(ct); err != nil {
				return nil, err
			} else if len(trimSpace(b)) != 0 {
				return nil, d.errAt(ct.off, "<TNRef> with content")
			}
			o.TypeNames = names
		case "ToString":
			if o.HasToString {
				return nil, dup()
			}
			b, _, err := d.text(ct)
			if err != nil {
				return nil, err
			}
			o.ToString, o.HasToString = internedString(b), true
		case "Props":
			if seenProps {
				return nil, dup()
			}
			seenProps = true
			if o.Props, err = d.properties(ct); err != nil {
				return nil, err
			}
		case "MS":
			if seenMS {
				return nil, dup()
			}
			seenMS = true
			if o.Members, err = d.properties(ct); err != nil {
				return nil, err
			}
		case "LST", "IE", "QUE", "STK":
			if o.Content != ContentNone {
				return nil, d.errAt(ct.off, "second content element in <Obj>")
			}
			o.Content = listContent(ct.name)
			if o.Items, err = d.items(ct); err != nil {
				return nil, err
			}
		case "DCT":
			if o.Content != ContentNone {
				return nil, d.errAt(ct.off, "second content element in <Obj>")
			}
			o.Content = ContentDict
			if o.Entries, err = d.dict(ct); err != nil {
				return nil, err
			}
		default:
			if o.Content != ContentNone {
				return nil, d.errAt(ct.off, "second content element in <Obj>")
			}
			v, err := d.value(ct)
			if err != nil {
				return nil, err
			}
			o.Content, o.Value = ContentPrimitive, v
		}
	}
	d.depth--
	return o, nil
}

func (d *decoder) typeNames(t tag) ([]string, error) {
	var names []string
	base := len(d.names)
	defer func() { d.names = d.names[:base] }()
	if !t.empty {
		if err := d.enter(t.off); err != nil {
			return nil, err
		}
		for {
			ct, done, err := d.child(t)
			if err != nil {
				return nil, err
			}
			if done {
				break
			}
			if string(ct.name) != "T" {
				return nil, d.errAt(ct.off, "expected <T> in <TN>")
			}
			b, _, err := d.text(ct)
			if err != nil {
				return nil, err
			}
			d.names = append(d.names, internedString(b))
		}
		d.depth--
		if n := len(d.names) - base; n > 0 {
			names = make([]string, n)
			copy(names, d.names[base:])
		}
	}
	if t.hasRefID {
		d.tns.put(t.refID, names)
	}
	return names, nil
}

// properties reads the named values of <Props> or <MS>.
func (d *decoder) properties(t tag) ([]Property, error) {
	if t.empty {
		return nil, nil
	}
	if err := d.enter(t.off); err != nil {
		return nil, err
	}
	if d.props == nil {
		d.props = make([]Property, 0, 64)
	}
	base := len(d.props)
	defer func() { d.props = d.props[:base] }()
	for {
		ct, done, err := d.child(t)
		if err != nil {
			return nil, err
		}
		if done {
			break
		}
		if !ct.hasName {
			if string(ct.name) == "MS" {
				return nil, d.errAt(ct.off, "nested member sets are not supported")
			}
			return nil, d.errAt(ct.off, "property without an N attribute in <"+string(t.name)+">")
		}
		if string(ct.name) == "MS" {
			return nil, d.errAt(ct.off, "nested member sets are not supported")
		}
		name, err := d.attrString(ct.nameAttr, ct.off)
		if err != nil {
			return nil, err
		}
		v, err := d.value(ct)
		if err != nil {
			return nil, err
		}
		d.props = append(d.props, Property{Name: name, Value: v})
	}
	d.depth--
	if len(d.props) == base {
		return nil, nil
	}
	return append([]Property(nil), d.props[base:]...), nil
}

func (d *decoder) items(t tag) ([]Value, error) {
	if t.empty {
		return nil, nil
	}
	if err := d.enter(t.off); err != nil {
		return nil, err
	}
	if d.vals == nil {
		d.vals = make([]Value, 0, 16)
	}
	base := len(d.vals)
	defer func() { d.vals = d.vals[:base] }()
	for {
		ct, done, err := d.child(t)
		if err != nil {
			return nil, err
		}
		if done {
			break
		}
		v, err := d.value(ct)
		if err != nil {
			return nil, err
		}
		d.vals = append(d.vals, v)
	}
	d.depth--
	if len(d.vals) == base {
		return nil, nil
	}
	return append([]Value(nil), d.vals[base:]...), nil
}

func (d *decoder) dict(t tag) ([]DictEntry, error) {
	if t.empty {
		return nil, nil
	}
	if err := d.enter(t.off); err != nil {
		return nil, err
	}
	var entries []DictEntry
	for {
		ct, done, err := d.child(t)
		if err != nil {
			return nil, err
		}
		if done {
			break
		}
		if string(ct.name) != "En" || ct.empty {
			return nil, d.errAt(ct.off, "expected <En> with a Key and a Value in <DCT>")
		}
		if err := d.enter(ct.off); err != nil {
			return nil, err
		}
		var e DictEntry
		for i, want := range [2]string{"key", "value"} {
			kt, done, err := d.child(ct)
			if err != nil {
				return nil, err
			}
			if done {
				return nil, d.errAt(ct.off, "<En> without a Key and a Value")
			}
			name, err := d.attrString(kt.nameAttr, kt.off)
			if err != nil {
				return nil, err
			}
			if !kt.hasName || !strings.EqualFold(name, want) {
				return nil, d.errAt(kt.off, "expected N=\""+[2]string{"Key", "Value"}[i]+"\" in <En>")
			}
			v, err := d.value(kt)
			if err != nil {
				return nil, err
			}
			if i == 0 {
				e.Key = v
			} else {
				e.Value = v
			}
		}
		if _, done, err := d.child(ct); err != nil {
			return nil, err
		} else if !done {
			return nil, d.errAt(ct.off, "<En> with more than a Key and a Value")
		}
		d.depth--
		entries = append(entries, e)
	}
	d.depth--
	return entries, nil
}

func intBits(k primKind) int {
	switch k {
	case pkU8, pkI8:
		return 8
	case pkU16, pkI16:
		return 16
	case pkU32, pkI32:
		return 32
	}
	return 64
}

func listContent(name []byte) Content {
	switch string(name) {
	case "LST":
		return ContentList
	case "IE":
		return ContentEnumerable
	case "QUE":
		return ContentQueue
	}
	return ContentStack
}

// fastReject marks the bytes fastString leaves to the full decoder.
var fastReject = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = c != '\t' && c != '\n'
	}
	for c := 0x80; c < 0x100; c++ {
		t[c] = true
	}
	t['&'], t['<'], t['>'], t['_'] = true, true, true, true
	return t
}()

// fastString decodes the most common message body, a plain <S>text</S>
// (PIPELINE_OUTPUT of Out-String -Stream), with one allocation. It reports
// false for anything that needs the full decoder.
func fastString(data []byte) (string, bool) {
	b := bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))
	if len(b) < 7 || string(b[:3]) != "<S>" || string(b[len(b)-4:]) != "</S>" {
		return "", false
	}
	mid := b[3 : len(b)-4]
	ascii := true
	for i, c := range mid {
		if !fastReject[c] {
			continue
		}
		switch {
		case c >= 0x80:
			ascii = false
		case c == '_':
			if i+1 < len(mid) && (mid[i+1] == 'x' || mid[i+1] == 'X') {
				return "", false
			}
		default:
			return "", false
		}
	}
	if !ascii && !utf8.Valid(mid) {
		return "", false
	}
	return string(mid), true
}
