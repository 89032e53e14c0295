package wsman

import (
	"bytes"
	"encoding/base64"
	"strconv"
	"strings"
)

// scanReceive is the fast path for decoding a ReceiveResponse envelope:
// bulk output arrives as hundreds of rsp:Stream elements per response,
// and tokenising them with encoding/xml (parseTree) was a fifth of the
// client's CPU. It reads the document directly, resolving namespace
// prefixes by URI, and returns the wsa:RelatesTo of the header and the
// decoded body.
//
// It accepts only a conservative subset of XML and declines (ok false)
// anything else: comments, CDATA, processing instructions other than an
// XML declaration of version 1.0 in UTF-8, DOCTYPE, entity references
// other than the five predefined ones, non-ASCII text or names, unknown
// prefixes, a SOAP fault, a body without rsp:ReceiveResponse, base64 that
// does not decode without help, a non-numeric ExitCode, and documents
// over parseTree's limits. The caller then decodes with ParseResponse,
// which gives the same result whenever the scanner accepts
// (FuzzReceiveScanner).
func scanReceive(b []byte) (relatesTo string, out *Received, ok bool) {
	s := rxScanner{b: bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))}
	defer func() {
		if !ok {
			relatesTo, out = "", nil
		}
	}()
	if !s.prolog() {
		return "", nil, false
	}
	s.skipSpace()
	root, ok := s.start()
	if !ok || root.space != NsSOAP || string(root.local) != "Envelope" || root.empty {
		return "", nil, false
	}
	var sawHeader, sawBody bool
	for {
		if !s.text(nil) {
			return "", nil, false
		}
		end, ok := s.endOrChild(root)
		if !ok {
			return "", nil, false
		}
		if end {
			break
		}
		c, ok := s.start()
		if !ok {
			return "", nil, false
		}
		switch {
		case c.space == NsSOAP && string(c.local) == "Header":
			if sawHeader {
				return "", nil, false
			}
			sawHeader = true
			if relatesTo, ok = s.header(c); !ok {
				return "", nil, false
			}
		case c.space == NsSOAP && string(c.local) == "Body":
			if sawBody {
				return "", nil, false
			}
			sawBody = true
			if out, ok = s.body(c); !ok {
				return "", nil, false
			}
		default:
			if !s.skip(c) {
				return "", nil, false
			}
		}
	}
	s.skipSpace()
	if s.i != len(s.b) || out == nil {
		return "", nil, false
	}
	return relatesTo, out, true
}

// rxScanner walks one document; b[i:] is what is left.
type rxScanner struct {
	b     []byte
	i     int
	ns    []rxBinding // in-scope namespace declarations, innermost last
	depth int         // open elements
	count int         // elements seen
	attrs []rxAttr    // unqualified attributes of the last start tag only
	last  string      // last CommandId attribute value, reused when equal
}

type rxBinding struct {
	prefix []byte // empty for the default namespace
	uri    string
}

type rxAttr struct {
	name  []byte
	value []byte // raw, between the quotes
}

// rxTag is a parsed start tag.
type rxTag struct {
	qname []byte // as written, for the end tag
	space string // namespace URI
	local []byte
	empty bool     // <x/>
	mark  int      // len(ns) before this element's declarations
	attrs []rxAttr // valid until the next start tag is read
}

func isXMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func (s *rxScanner) skipSpace() {
	for s.i < len(s.b) && isXMLSpace(s.b[s.i]) {
		s.i++
	}
}

// prolog accepts an optional <?xml version="1.0" encoding="utf-8"?>.
func (s *rxScanner) prolog() bool {
	if !bytes.HasPrefix(s.b, []byte("<?xml")) {
		return true
	}
	if len(s.b) < 6 || !isXMLSpace(s.b[5]) {
		return false
	}
	s.i = 5
	version := false
	for {
		sp := s.i
		s.skipSpace()
		if bytes.HasPrefix(s.b[s.i:], []byte("?>")) {
			s.i += 2
			return version
		}
		if s.i == sp {
			return false
		}
		name, value, ok := s.attr()
		if !ok {
			return false
		}
		switch string(name) {
		case "version":
			if version || string(value) != "1.0" {
				return false
			}
			version = true
		case "encoding":
			if !strings.EqualFold(string(value), "utf-8") {
				return false
			}
		default:
			return false
		}
	}
}

func isNameStart(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_'
}

func isNameByte(c byte) bool {
	return isNameStart(c) || '0' <= c && c <= '9' || c == '-' || c == '.'
}

// name reads an ASCII name with at most one interior colon, each part
// starting with a letter or '_'.
func (s *rxScanner) name() (qname []byte, colon int, ok bool) {
	start := s.i
	colon = -1
	if s.i >= len(s.b) || !isNameStart(s.b[s.i]) {
		return nil, 0, false
	}
	s.i++
	for s.i < len(s.b) {
		c := s.b[s.i]
		if c == ':' {
			if colon >= 0 || s.i+1 >= len(s.b) || !isNameStart(s.b[s.i+1]) {
				return nil, 0, false
			}
			colon = s.i - start
			s.i++
			continue
		}
		if !isNameByte(c) {
			break
		}
		s.i++
	}
	return s.b[start:s.i], colon, true
}

// attr reads name="value" (either quote); the value is raw and checked
// by checkText.
func (s *rxScanner) attr() (name, value []byte, ok bool) {
	name, _, ok = s.name()
	if !ok {
		return nil, nil, false
	}
	s.skipSpace()
	if s.i >= len(s.b) || s.b[s.i] != '=' {
		return nil, nil, false
	}
	s.i++
	s.skipSpace()
	if s.i >= len(s.b) || (s.b[s.i] != '"' && s.b[s.i] != '\'') {
		return nil, nil, false
	}
	q := s.b[s.i]
	s.i++
	j := bytes.IndexByte(s.b[s.i:], q)
	if j < 0 {
		return nil, nil, false
	}
	value = s.b[s.i : s.i+j]
	if !checkText(value) || bytes.IndexByte(value, '<') >= 0 {
		return nil, nil, false
	}
	s.i += j + 1
	return name, value, true
}

// checkText reports whether raw character data is in the subset the
// scanner decodes: ASCII without control characters other than tab, CR
// and LF, no "]]>", and only the five predefined entities.
func checkText(t []byte) bool {
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case c >= 0x80:
			return false
		case c < 0x20 && c != '\t' && c != '\n' && c != '\r':
			return false
		case c == ']':
			if bytes.HasPrefix(t[i:], []byte("]]>")) {
				return false
			}
		case c == '&':
			n := entityLen(t[i:])
			if n == 0 {
				return false
			}
			i += n - 1
		}
	}
	return true
}

var xmlEntities = [...]struct {
	ref string
	c   byte
}{{"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&apos;", '\''}, {"&quot;", '"'}}

// entityLen returns the length of the predefined entity t starts with, or 0.
func entityLen(t []byte) int {
	for _, e := range xmlEntities {
		if bytes.HasPrefix(t, []byte(e.ref)) {
			return len(e.ref)
		}
	}
	return 0
}

// textValue decodes checked character data as encoding/xml does: the
// five entities, and CR LF or a lone CR as LF.
func textValue(t []byte) string {
	if bytes.IndexByte(t, '&') < 0 && bytes.IndexByte(t, '\r') < 0 {
		return string(t)
	}
	out := make([]byte, 0, len(t))
	for i := 0; i < len(t); i++ {
		switch c := t[i]; c {
		case '&':
			for _, e := range xmlEntities {
				if bytes.HasPrefix(t[i:], []byte(e.ref)) {
					out = append(out, e.c)
					i += len(e.ref) - 1
					break
				}
			}
		case '\r':
			out = append(out, '\n')
			if i+1 < len(t) && t[i+1] == '\n' {
				i++
			}
		default:
			out = append(out, c)
		}
	}
	return string(out)
}

// start reads a start tag at b[i] == '<' (not "</", "<!" or "<?"),
// pushes its namespace declarations and resolves its name.
func (s *rxScanner) start() (rxTag, bool) {
	var t rxTag
	if s.i >= len(s.b) || s.b[s.i] != '<' {
		return t, false
	}
	s.count++
	if s.depth >= maxXMLDepth-4 || s.count > maxXMLElements {
		return t, false
	}
	s.i++
	qname, colon, ok := s.name()
	if !ok {
		return t, false
	}
	t.qname = qname
	t.mark = len(s.ns)
	s.attrs = s.attrs[:0] // the previous tag's attributes were read already
	for {
		sp := s.i
		s.skipSpace()
		if s.i >= len(s.b) {
			return t, false
		}
		if s.b[s.i] == '>' {
			s.i++
			break
		}
		if s.b[s.i] == '/' {
			if s.i+1 >= len(s.b) || s.b[s.i+1] != '>' {
				return t, false
			}
			s.i += 2
			t.empty = true
			break
		}
		if s.i == sp {
			return t, false // attributes must be separated by space
		}
		an, av, ok := s.attr()
		if !ok {
			return t, false
		}
		switch {
		case string(an) == "xmlns":
			s.ns = append(s.ns, rxBinding{uri: textValue(av)})
		case bytes.HasPrefix(an, []byte("xmlns:")):
			p := an[len("xmlns:"):]
			if len(av) == 0 || string(p) == "xml" || string(p) == "xmlns" {
				return t, false
			}
			s.ns = append(s.ns, rxBinding{prefix: p, uri: textValue(av)})
		case bytes.IndexByte(an, ':') < 0:
			s.attrs = append(s.attrs, rxAttr{name: an, value: av})
		}
	}
	t.attrs = s.attrs
	var prefix []byte
	t.local = qname
	if colon >= 0 {
		prefix, t.local = qname[:colon], qname[colon+1:]
		if string(prefix) == "xml" || string(prefix) == "xmlns" {
			return t, false
		}
	}
	uri, ok := s.lookup(prefix)
	if !ok {
		return t, false
	}
	t.space = uri
	if t.empty {
		s.ns = s.ns[:t.mark]
	} else {
		s.depth++
	}
	return t, true
}

// lookup resolves a prefix (empty: the default namespace, "" unless
// declared).
func (s *rxScanner) lookup(prefix []byte) (string, bool) {
	for k := len(s.ns) - 1; k >= 0; k-- {
		if bytes.Equal(s.ns[k].prefix, prefix) {
			return s.ns[k].uri, true
		}
	}
	return "", len(prefix) == 0
}

// attrValue returns the first unqualified attribute name of t, decoded.
func (t *rxTag) attrValue(name string) string { return textValue(t.attrRaw(name)) }

// attrRaw returns the first unqualified attribute name of t as written.
func (t *rxTag) attrRaw(name string) []byte {
	for _, a := range t.attrs {
		if string(a.name) == name {
			return a.value
		}
	}
	return nil
}

// plainValue reports whether raw attribute text decodes to itself.
func plainValue(raw []byte) bool {
	return bytes.IndexByte(raw, '&') < 0 && bytes.IndexByte(raw, '\r') < 0
}

// text skips checked character data up to the next '<', storing its
// decoded value in *dst when dst is not nil.
func (s *rxScanner) text(dst *string) bool {
	j := bytes.IndexByte(s.b[s.i:], '<')
	if j < 0 {
		return false
	}
	t := s.b[s.i : s.i+j]
	if !checkText(t) {
		return false
	}
	if dst != nil {
		*dst = textValue(t)
	}
	s.i += j
	return true
}

// endOrChild looks at b[i] == '<': it consumes the end tag of t and
// reports true, or reports false for a child start tag (left unread);
// anything else (comments, CDATA, PIs, a wrong end tag) declines.
func (s *rxScanner) endOrChild(t rxTag) (end, ok bool) {
	rest := s.b[s.i:]
	if len(rest) < 2 || rest[0] != '<' {
		return false, false
	}
	switch rest[1] {
	case '!', '?':
		return false, false
	case '/':
	default:
		return false, true
	}
	s.i += 2
	if !bytes.HasPrefix(s.b[s.i:], t.qname) {
		return false, false
	}
	s.i += len(t.qname)
	s.skipSpace()
	if s.i >= len(s.b) || s.b[s.i] != '>' {
		return false, false
	}
	s.i++
	s.ns = s.ns[:t.mark]
	s.depth--
	return true, true
}

// skip checks and skips the content and end tag of t.
func (s *rxScanner) skip(t rxTag) bool {
	if t.empty {
		return true
	}
	for {
		if !s.text(nil) {
			return false
		}
		end, ok := s.endOrChild(t)
		if !ok {
			return false
		}
		if end {
			return true
		}
		c, ok := s.start()
		if !ok || !s.skip(c) {
			return false
		}
	}
}

// leaf reads the text of t, which must have no child elements.
func (s *rxScanner) leaf(t rxTag) (string, bool) {
	if t.empty {
		return "", true
	}
	var v string
	if !s.text(&v) {
		return "", false
	}
	end, ok := s.endOrChild(t)
	return v, ok && end
}

// header returns the text of the first wsa:RelatesTo.
func (s *rxScanner) header(h rxTag) (relatesTo string, ok bool) {
	if h.empty {
		return "", true
	}
	seen := false
	for {
		if !s.text(nil) {
			return "", false
		}
		end, ok := s.endOrChild(h)
		if !ok {
			return "", false
		}
		if end {
			return strings.TrimSpace(relatesTo), true
		}
		c, ok := s.start()
		if !ok {
			return "", false
		}
		if !seen && c.space == NsAddressing && string(c.local) == "RelatesTo" {
			seen = true
			if relatesTo, ok = s.leaf(c); !ok {
				return "", false
			}
			continue
		}
		if !s.skip(c) {
			return "", false
		}
	}
}

// body decodes the first rsp:ReceiveResponse of the SOAP body and
// declines a fault.
func (s *rxScanner) body(b rxTag) (*Received, bool) {
	if b.empty {
		return nil, false
	}
	var out *Received
	for {
		if !s.text(nil) {
			return nil, false
		}
		end, ok := s.endOrChild(b)
		if !ok {
			return nil, false
		}
		if end {
			return out, out != nil
		}
		c, ok := s.start()
		if !ok || c.space == NsSOAP && string(c.local) == "Fault" {
			return nil, false
		}
		if out == nil && c.space == NsShell && string(c.local) == "ReceiveResponse" {
			if out, ok = s.receive(c); !ok {
				return nil, false
			}
			continue
		}
		if !s.skip(c) {
			return nil, false
		}
	}
}

// receive decodes rsp:ReceiveResponse: every rsp:Stream child and the
// first rsp:CommandState.
func (s *rxScanner) receive(r rxTag) (*Received, bool) {
	out := &Received{}
	if r.empty {
		return out, true
	}
	// One buffer for every stream's data: base64 never decodes to more
	// than three quarters of what is left of the document.
	var buf []byte
	for {
		if !s.text(nil) {
			return nil, false
		}
		end, ok := s.endOrChild(r)
		if !ok {
			return nil, false
		}
		if end {
			return out, true
		}
		c, ok := s.start()
		if !ok {
			return nil, false
		}
		switch {
		case c.space == NsShell && string(c.local) == "Stream":
			if buf == nil {
				buf = make([]byte, 0, base64.StdEncoding.DecodedLen(len(s.b)-s.i))
			}
			sd := StreamData{
				Name:      s.streamName(c.attrRaw("Name")),
				CommandID: s.commandID(c.attrRaw("CommandId")),
				End:       strings.EqualFold(c.attrValue("End"), "true"),
			}
			if buf, sd.Data, ok = s.streamData(c, buf); !ok {
				return nil, false
			}
			out.Streams = append(out.Streams, sd)
		case out.State == nil && c.space == NsShell && string(c.local) == "CommandState":
			if out.State, ok = s.commandState(c); !ok {
				return nil, false
			}
		default:
			if !s.skip(c) {
				return nil, false
			}
		}
	}
}

// streamName decodes a stream's Name without allocating the usual ones.
func (s *rxScanner) streamName(raw []byte) string {
	switch string(raw) {
	case StreamStdout:
		return StreamStdout
	case StreamPR:
		return StreamPR
	case StreamStderr:
		return StreamStderr
	}
	return textValue(raw)
}

// commandID decodes a CommandId, reusing the previous value when it is
// the same (every stream of a response names the same command).
func (s *rxScanner) commandID(raw []byte) string {
	if plainValue(raw) && string(raw) == s.last {
		return s.last
	}
	s.last = textValue(raw)
	return s.last
}

// streamData decodes the base64 text of stream t (no child elements)
// into the free end of buf and returns the decoded bytes.
func (s *rxScanner) streamData(t rxTag, buf []byte) ([]byte, []byte, bool) {
	if t.empty {
		return buf, []byte{}, true
	}
	j := bytes.IndexByte(s.b[s.i:], '<')
	if j < 0 {
		return nil, nil, false
	}
	raw := s.b[s.i : s.i+j]
	s.i += j
	free := buf[len(buf):cap(buf)]
	if len(free) < base64.StdEncoding.DecodedLen(len(raw)) {
		return nil, nil, false
	}
	// Decode skips CR and LF itself and rejects everything else that is
	// not base64 (entities, spaces): those documents take the slow path.
	n, err := base64.StdEncoding.Decode(free, raw)
	if err != nil {
		return nil, nil, false
	}
	end, ok := s.endOrChild(t)
	if !ok || !end {
		return nil, nil, false
	}
	return buf[:len(buf)+n], free[:n:n], true
}

// commandState decodes rsp:CommandState and its first rsp:ExitCode.
func (s *rxScanner) commandState(t rxTag) (*CommandState, bool) {
	st := &CommandState{CommandID: t.attrValue("CommandId"), State: t.attrValue("State")}
	if t.empty {
		return st, true
	}
	seen := false
	for {
		if !s.text(nil) {
			return nil, false
		}
		end, ok := s.endOrChild(t)
		if !ok {
			return nil, false
		}
		if end {
			return st, true
		}
		c, ok := s.start()
		if !ok {
			return nil, false
		}
		if !seen && c.space == NsShell && string(c.local) == "ExitCode" {
			seen = true
			v, ok := s.leaf(c)
			if !ok {
				return nil, false
			}
			code, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return nil, false
			}
			ec := int(code)
			st.ExitCode = &ec
			continue
		}
		if !s.skip(c) {
			return nil, false
		}
	}
}
