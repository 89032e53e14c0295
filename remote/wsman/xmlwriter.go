package wsman

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
)

// xmlWriter writes an XML document element by element. Names are
// compile-time constants of this package; every attribute value and text
// node is escaped, so peer or user data can never change the structure.
type xmlWriter struct {
	buf   bytes.Buffer
	stack []string
	open  bool // the last start tag is not yet closed with '>'
}

// start opens element name with attributes given as name, value pairs.
func (w *xmlWriter) start(name string, attrs ...string) {
	w.closeTag()
	w.buf.WriteByte('<')
	w.buf.WriteString(name)
	for i := 0; i+1 < len(attrs); i += 2 {
		w.buf.WriteByte(' ')
		w.buf.WriteString(attrs[i])
		w.buf.WriteString(`="`)
		escape(&w.buf, attrs[i+1])
		w.buf.WriteByte('"')
	}
	w.stack = append(w.stack, name)
	w.open = true
}

func (w *xmlWriter) closeTag() {
	if w.open {
		w.buf.WriteByte('>')
		w.open = false
	}
}

// text writes escaped character data inside the current element.
func (w *xmlWriter) text(s string) {
	w.closeTag()
	escape(&w.buf, s)
}

// base64 writes data base64-encoded inside the current element; the
// base64 alphabet needs no escaping.
func (w *xmlWriter) base64(data []byte) {
	w.closeTag()
	n := base64.StdEncoding.EncodedLen(len(data))
	w.buf.Grow(n)
	b := w.buf.AvailableBuffer()[:n]
	base64.StdEncoding.Encode(b, data)
	w.buf.Write(b)
}

// elemBase64 writes <name attrs...>base64(data)</name>.
func (w *xmlWriter) elemBase64(name string, data []byte, attrs ...string) {
	w.start(name, attrs...)
	if len(data) > 0 {
		w.base64(data)
	}
	w.end()
}

// end closes the innermost open element (as an empty-element tag when it
// has no content).
func (w *xmlWriter) end() {
	name := w.stack[len(w.stack)-1]
	w.stack = w.stack[:len(w.stack)-1]
	if w.open {
		w.buf.WriteString("/>")
		w.open = false
		return
	}
	w.buf.WriteString("</")
	w.buf.WriteString(name)
	w.buf.WriteByte('>')
}

// elem writes <name attrs...>text</name>.
func (w *xmlWriter) elem(name, text string, attrs ...string) {
	w.start(name, attrs...)
	if text != "" {
		w.text(text)
	}
	w.end()
}

func (w *xmlWriter) bytes() []byte {
	for len(w.stack) > 0 {
		w.end()
	}
	return w.buf.Bytes()
}

// escape writes s with XML escaping; characters not allowed in XML are
// replaced with U+FFFD by encoding/xml.
func escape(b *bytes.Buffer, s string) {
	if !needsEscape(s) {
		b.WriteString(s) // the common case: header values, names, GUIDs
		return
	}
	_ = xml.EscapeText(b, []byte(s)) // writing to a bytes.Buffer cannot fail
}

// needsEscape reports whether s has a byte xml.EscapeText would change
// or check: markup characters, controls and anything outside ASCII.
func needsEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c >= 0x7f, c == '<', c == '>', c == '&', c == '\'', c == '"':
			return true
		}
	}
	return false
}
