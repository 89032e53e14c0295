package clixml

import (
	"bytes"
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

// decoder decodes one document: the XML scanning is in scan.go, the
// CLIXML semantics (values, objects, references) here.
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
