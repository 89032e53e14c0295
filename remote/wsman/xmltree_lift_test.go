package wsman

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestParseTreeLiftedText checks that long base64 runs, lifted out of
// the document before decoding, come back as the same element text.
func TestParseTreeLiftedText(t *testing.T) {
	long := strings.Repeat("QUJD", 200) + "=="
	tests := []struct {
		name string
		doc  string
		want []string // text of the root's children
	}{
		{"one run", `<r><s>` + long + `</s></r>`, []string{long}},
		{"two runs and a short one", `<r><s>` + long + `</s><s>AB</s><s>` + long + "x" + `</s></r>`, []string{long, "AB", long + "x"}},
		{"run followed by an entity", `<r><s>` + long + `&amp;</s></r>`, []string{long + "&"}},
		{"marker already in the document", "<r><s>\uE0000\uE000</s><s>" + long + `</s></r>`, []string{"\uE0000\uE000", long}},
		{"cdata", `<r><s><![CDATA[>` + long + `<]]></s></r>`, []string{">" + long + "<"}},
		{"comment", `<r><s><!-- >` + long + `< -->x</s></r>`, []string{"x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := parseTree([]byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range n.Children {
				got = append(got, c.Text)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Error(d)
			}
		})
	}
}

// FuzzLiftBase64 checks that lifting long base64 runs never changes the
// parsed tree or the error.
func FuzzLiftBase64(f *testing.F) {
	long := strings.Repeat("QUJD", 70)
	for _, doc := range []string{
		`<r><s>` + long + `</s></r>`,
		`<r a=">` + long + `"><s>` + long + `&amp;</s>` + long + `<s/></r>`,
		"<r><s>\uE0000\uE000</s><s>" + long + `</s></r>`,
		`<r><s><![CDATA[>` + long + `<]]></s></r>`,
		`<?xml version="1.0"?>` + long + `<r>` + long + `</r>`,
	} {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		want, werr := parseTreeLift(doc, false)
		got, gerr := parseTreeLift(doc, true)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("error without lifting %v, with %v", werr, gerr)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Fatal(d)
		}
	})
}
