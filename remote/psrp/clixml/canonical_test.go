package clixml

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCanonicalize(t *testing.T) {
	tests := []struct {
		name string
		a, b string // must canonicalize equal
	}{
		{"self-closing", `<Nil N="a" />`, `<Nil N="a"></Nil>`},
		{"attribute order", `<Obj RefId="1" N="x"></Obj>`, `<Obj N="x" RefId="1"/>`},
		{"quotes", `<S N='a'>x</S>`, `<S N="a">x</S>`},
		{"entities", `<S>&#60;a&gt; &apos;&#x26;</S>`, `<S>&lt;a&gt; '&amp;</S>`},
		{"bom and declaration", "\xEF\xBB\xBF<?xml version=\"1.0\"?>\n<S>a</S>\n", `<S>a</S>`},
		{"whitespace between elements", "<Obj RefId=\"0\">\n  <MS>\n    <S N=\"a\">x</S>\n  </MS>\n</Obj>", `<Obj RefId="0"><MS><S N="a">x</S></MS></Obj>`},
		{"comments", `<S>a<!-- c --></S>`, `<S>a</S>`},
		{"cdata", `<S><![CDATA[<&>]]></S>`, `<S>&lt;&amp;&gt;</S>`},
		{"prefixes kept", `<p:a xmlns:p="u" x="1"/>`, `<p:a x="1" xmlns:p="u"></p:a>`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := Canonicalize([]byte(tc.a))
			if err != nil {
				t.Fatal(err)
			}
			b, err := Canonicalize([]byte(tc.b))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(b), string(a)); diff != "" {
				t.Errorf("(-b +a):\n%s", diff)
			}
		})
	}
	differ := []struct{ name, a, b string }{
		{"text", `<S>a</S>`, `<S>b</S>`},
		{"significant whitespace", `<S> </S>`, `<S></S>`},
		{"attribute value", `<S N="a">x</S>`, `<S N="b">x</S>`},
		{"escapes are not decoded", `<S>_x000A_</S>`, "<S>\n</S>"},
		{"child order", `<MS><S N="a"/><S N="b"/></MS>`, `<MS><S N="b"/><S N="a"/></MS>`},
	}
	for _, tc := range differ {
		t.Run("differ "+tc.name, func(t *testing.T) {
			a, err := Canonicalize([]byte(tc.a))
			if err != nil {
				t.Fatal(err)
			}
			b, err := Canonicalize([]byte(tc.b))
			if err != nil {
				t.Fatal(err)
			}
			if string(a) == string(b) {
				t.Errorf("both canonicalize to %s", a)
			}
		})
	}
	for _, bad := range []string{`<S>`, `<S></T>`, `</S>`, `<S>&bogus;</S>`} {
		if _, err := Canonicalize([]byte(bad)); err == nil {
			t.Errorf("Canonicalize(%q) succeeded", bad)
		}
	}
}
