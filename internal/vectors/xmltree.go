package vectors

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
)

// Node is one element of a parsed XML document, enough to pick values out
// of the recorded SOAP envelopes and of responses under test.
type Node struct {
	Name     xml.Name
	Attrs    []xml.Attr
	Children []*Node
	Text     string // character data directly inside the element
}

// ParseXML parses a whole document into its root element.
func ParseXML(data []byte) (*Node, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	var root *Node
	var stack []*Node
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("vectors: %w", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			n := &Node{Name: tok.Name, Attrs: tok.Attr}
			if len(stack) > 0 {
				top := stack[len(stack)-1]
				top.Children = append(top.Children, n)
			} else {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].Text += string(tok)
			}
		}
	}
	if root == nil {
		return nil, errors.New("vectors: empty document")
	}
	return root, nil
}

// Find returns the descendants of n (not n itself) named {space}local, in
// document order.
func (n *Node) Find(space, local string) []*Node {
	var out []*Node
	var walk func(*Node)
	walk = func(m *Node) {
		for _, c := range m.Children {
			if c.Name.Space == space && c.Name.Local == local {
				out = append(out, c)
			}
			walk(c)
		}
	}
	walk(n)
	return out
}

// First returns the first descendant named {space}local, or nil.
func (n *Node) First(space, local string) *Node {
	if f := n.Find(space, local); len(f) > 0 {
		return f[0]
	}
	return nil
}

// Attr returns the value of the attribute with the given local name, or
// "" when there is none.
func (n *Node) Attr(local string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}
