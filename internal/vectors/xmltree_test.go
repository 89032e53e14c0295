package vectors

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseXML(t *testing.T) {
	const doc = `<e:Env xmlns:e="urn:e" xmlns:r="urn:r"><e:Body><r:S Name="a">one</r:S><r:T><r:S Name="b">two</r:S></r:T></e:Body></e:Env>`
	root, err := ParseXML([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range root.Find("urn:r", "S") {
		got = append(got, s.Attr("Name")+"="+s.Text)
	}
	if d := cmp.Diff([]string{"a=one", "b=two"}, got); d != "" {
		t.Errorf("Find (-want +got):\n%s", d)
	}
	if f := root.First("urn:e", "Body"); f == nil || len(f.Children) != 2 {
		t.Errorf("First(Body) = %+v", f)
	}
	if f := root.First("urn:x", "S"); f != nil {
		t.Errorf("First in another namespace = %+v", f)
	}
	if got := root.Attr("missing"); got != "" {
		t.Errorf("Attr(missing) = %q", got)
	}
	if len(root.Find("urn:e", "Env")) != 0 {
		t.Error("Find returned the node itself")
	}
}

func TestParseXMLErrors(t *testing.T) {
	for _, tc := range []struct{ name, doc string }{
		{"empty", ""},
		{"text only", "hello"},
		{"unclosed", "<a><b></a>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if n, err := ParseXML([]byte(tc.doc)); err == nil {
				t.Fatalf("ParseXML(%q) = %+v, want an error", tc.doc, n)
			}
		})
	}
}
