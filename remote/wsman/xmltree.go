package wsman

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Limits on the XML this package parses; every response goes through
// parseTree, so these hold for all peer data.
const (
	// maxXMLDepth bounds element nesting (Windows nests about 8 deep).
	maxXMLDepth = 64
	// maxXMLElements bounds the number of elements of one document.
	maxXMLElements = 200000
)

// node is an element of a parsed document, identified by namespace URI
// and local name (prefixes are resolved by encoding/xml and dropped).
type node struct {
	Space, Local string
	Attrs        []xml.Attr // without namespace declarations
	Children     []*node
	Text         string // character data directly inside the element
}

// parseTree parses a whole document into nodes, with the limits above.
func parseTree(b []byte) (*node, error) { return parseTreeLift(b, true) }

// parseTreeLift is parseTree, with lifting of long base64 text (see
// liftBase64) optional so that tests can compare both paths.
func parseTreeLift(b []byte, lift bool) (*node, error) {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	var lifted [][]byte
	if lift {
		b, lifted = liftBase64(b)
	}
	d := xml.NewDecoder(bytes.NewReader(b))
	var root *node
	var stack []*node
	var text [][]byte // character data of each open element
	count := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("wsman: malformed XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			count++
			if count > maxXMLElements {
				return nil, fmt.Errorf("wsman: XML has more than %d elements", maxXMLElements)
			}
			if len(stack) >= maxXMLDepth {
				return nil, fmt.Errorf("wsman: XML nested deeper than %d", maxXMLDepth)
			}
			n := &node{Space: t.Name.Space, Local: t.Name.Local}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
					continue
				}
				n.Attrs = append(n.Attrs, a)
			}
			if len(stack) == 0 {
				if root != nil {
					return nil, errors.New("wsman: malformed XML: more than one root element")
				}
				root = n
			} else {
				p := stack[len(stack)-1]
				p.Children = append(p.Children, n)
			}
			stack = append(stack, n)
			text = append(text, nil)
		case xml.EndElement:
			n := stack[len(stack)-1]
			n.Text = string(unlift(text[len(text)-1], lifted))
			stack = stack[:len(stack)-1]
			text = text[:len(text)-1]
		case xml.CharData:
			if len(text) > 0 {
				text[len(text)-1] = append(text[len(text)-1], t...)
			} else if len(bytes.TrimSpace(t)) > 0 {
				return nil, errors.New("wsman: malformed XML: text outside the root element")
			}
		case xml.Directive:
			return nil, errors.New("wsman: malformed XML: directives (DOCTYPE) are not allowed")
		}
	}
	if root == nil {
		return nil, errors.New("wsman: empty XML document")
	}
	return root, nil
}

// Long base64 text (the rsp:Stream payloads of a Receive, up to the
// envelope size) is the bulk of a response, and encoding/xml reads
// character data one byte at a time. liftBase64 takes such runs out of
// the document before decoding, leaving a marker; unlift puts them back.
// Base64 holds no '&' or '<', so the text is the same either way.
const (
	liftMin    = 256         // shorter runs stay in the document
	liftMarker = "\uE000"    // private-use character around a run's index
	liftGuard  = "<![CDATA[" // documents with CDATA or comments are left whole
)

// liftBase64 returns b with every run of at least liftMin base64
// characters between '>' and '<' replaced by liftMarker+index+liftMarker,
// and the runs. It returns b unchanged when b already holds the marker,
// CDATA or a comment, or has no long run.
func liftBase64(b []byte) ([]byte, [][]byte) {
	if len(b) < liftMin || bytes.Contains(b, []byte(liftMarker)) || bytes.Contains(b, []byte(liftGuard)) || bytes.Contains(b, []byte("<!--")) {
		return b, nil
	}
	var out []byte
	var runs [][]byte
	last := 0
	for i := 0; i < len(b); {
		j := bytes.IndexByte(b[i:], '>')
		if j < 0 {
			break
		}
		start := i + j + 1
		end := start
		for end < len(b) && isBase64(b[end]) {
			end++
		}
		if end-start >= liftMin && end < len(b) && b[end] == '<' {
			if out == nil {
				out = make([]byte, 0, len(b)/8)
			}
			out = append(out, b[last:start]...)
			out = append(out, liftMarker...)
			out = fmt.Appendf(out, "%d", len(runs))
			out = append(out, liftMarker...)
			runs = append(runs, b[start:end])
			last = end
		}
		i = max(end, start)
	}
	if runs == nil {
		return b, nil
	}
	return append(out, b[last:]...), runs
}

func isBase64(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/' || c == '='
}

// unlift returns the run text stands for when it is exactly a marker.
func unlift(text []byte, runs [][]byte) []byte {
	if len(runs) == 0 || !bytes.HasPrefix(text, []byte(liftMarker)) || !bytes.HasSuffix(text, []byte(liftMarker)) || len(text) < 2*len(liftMarker)+1 {
		return text
	}
	idx := 0
	for _, c := range text[len(liftMarker) : len(text)-len(liftMarker)] {
		if c < '0' || c > '9' || idx > len(runs) {
			return text
		}
		idx = idx*10 + int(c-'0')
	}
	if idx >= len(runs) {
		return text
	}
	return runs[idx]
}

// is reports whether n is the element space:local.
func (n *node) is(space, local string) bool {
	return n != nil && n.Space == space && n.Local == local
}

// child returns the first child space:local, or nil.
func (n *node) child(space, local string) *node {
	if n == nil {
		return nil
	}
	for _, c := range n.Children {
		if c.Space == space && c.Local == local {
			return c
		}
	}
	return nil
}

// all returns the children space:local.
func (n *node) all(space, local string) []*node {
	if n == nil {
		return nil
	}
	var out []*node
	for _, c := range n.Children {
		if c.Space == space && c.Local == local {
			out = append(out, c)
		}
	}
	return out
}

// attr returns the value of attribute local (unqualified) or "".
func (n *node) attr(local string) string {
	if n == nil {
		return ""
	}
	for _, a := range n.Attrs {
		if a.Name.Local == local && a.Name.Space == "" {
			return a.Value
		}
	}
	return ""
}

// hasAttr reports whether the unqualified attribute local is present.
func (n *node) hasAttr(local string) bool {
	if n == nil {
		return false
	}
	for _, a := range n.Attrs {
		if a.Name.Local == local && a.Name.Space == "" {
			return true
		}
	}
	return false
}

// text returns the trimmed text of n ("" when n is nil).
func (n *node) text() string {
	if n == nil {
		return ""
	}
	return strings.TrimSpace(n.Text)
}

// CanonicalXML renders a document in a form where two envelopes that mean
// the same compare equal: names are {namespace}local (prefixes and
// namespace declarations dropped), attributes are sorted, whitespace-only
// text between elements is dropped, and the children of the SOAP Header
// are sorted (header order carries no meaning). One element per line, for
// readable diffs in tests.
func CanonicalXML(b []byte) (string, error) {
	root, err := parseTree(b)
	if err != nil {
		return "", err
	}
	return canon(root, 0), nil
}

func canonName(space, local string) string {
	if space == "" {
		return local
	}
	return "{" + space + "}" + local
}

// canon renders n and its subtree; each subtree is rendered once, so the
// cost stays linear in the document whatever the nesting.
func canon(n *node, depth int) string {
	var sb strings.Builder
	sb.WriteString(strings.Repeat("  ", depth))
	sb.WriteString(canonName(n.Space, n.Local))
	attrs := make([]string, 0, len(n.Attrs))
	for _, a := range n.Attrs {
		attrs = append(attrs, fmt.Sprintf(" %s=%q", canonName(a.Name.Space, a.Name.Local), a.Value))
	}
	sort.Strings(attrs)
	for _, a := range attrs {
		sb.WriteString(a)
	}
	if t := n.Text; strings.TrimSpace(t) != "" || len(n.Children) == 0 && t != "" {
		fmt.Fprintf(&sb, " text=%q", t)
	}
	sb.WriteByte('\n')
	children := make([]string, len(n.Children))
	for i, c := range n.Children {
		children[i] = canon(c, depth+1)
	}
	if n.is(NsSOAP, "Header") {
		sort.Strings(children)
	}
	for _, c := range children {
		sb.WriteString(c)
	}
	return sb.String()
}
