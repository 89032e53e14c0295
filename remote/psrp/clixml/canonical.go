package clixml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Canonicalize rewrites an XML document into a canonical form so that two
// documents that mean the same to an XML reader compare equal byte for
// byte: the BOM, XML declaration, comments and processing instructions are
// dropped, whitespace-only text next to child elements is dropped,
// attributes are sorted by name, empty elements are written as <x></x>, and
// text and attribute values are re-escaped uniformly. Names keep their
// prefixes; _xHHHH_ escapes are left as they are.
func Canonicalize(data []byte) ([]byte, error) {
	data = bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	type elem struct {
		name     string
		attrs    []xml.Attr
		children []any // *elem or string
	}
	var root []any
	var stack []*elem
	add := func(n any) {
		if len(stack) == 0 {
			root = append(root, n)
			return
		}
		top := stack[len(stack)-1]
		top.children = append(top.children, n)
	}
	for {
		tok, err := dec.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("clixml: canonicalize: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			e := &elem{name: qname(t.Name), attrs: slices.Clone(t.Attr)}
			add(e)
			stack = append(stack, e)
		case xml.EndElement:
			if len(stack) == 0 || stack[len(stack)-1].name != qname(t.Name) {
				return nil, fmt.Errorf("clixml: canonicalize: unbalanced </%s>", qname(t.Name))
			}
			stack = stack[:len(stack)-1]
		case xml.CharData:
			add(string(t))
		}
	}
	if len(stack) != 0 {
		return nil, fmt.Errorf("clixml: canonicalize: unclosed <%s>", stack[len(stack)-1].name)
	}
	var out []byte
	var write func(nodes []any)
	write = func(nodes []any) {
		hasElem := false
		for _, n := range nodes {
			if _, ok := n.(*elem); ok {
				hasElem = true
				break
			}
		}
		for _, n := range nodes {
			switch n := n.(type) {
			case string:
				if hasElem && strings.TrimSpace(n) == "" {
					continue
				}
				out = appendText(out, n, false, false)
			case *elem:
				out = append(out, '<')
				out = append(out, n.name...)
				slices.SortFunc(n.attrs, func(a, b xml.Attr) int { return strings.Compare(qname(a.Name), qname(b.Name)) })
				for _, a := range n.attrs {
					out = append(out, ' ')
					out = append(out, qname(a.Name)...)
					out = append(out, '=', '"')
					out = appendText(out, a.Value, false, true)
					out = append(out, '"')
				}
				out = append(out, '>')
				write(n.children)
				out = append(out, "</"...)
				out = append(out, n.name...)
				out = append(out, '>')
			}
		}
	}
	write(root)
	return out, nil
}

func qname(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}
