package clixml

import (
	"bytes"
	"strconv"
	"unicode/utf8"
)

// The XML subset CLIXML uses, scanned by hand (decode.go builds values on
// top): elements, attributes, character data with the five predefined
// entities and character references, CDATA sections, comments and
// processing instructions. DTDs are rejected.

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
