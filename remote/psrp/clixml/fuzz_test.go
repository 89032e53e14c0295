package clixml

import (
	"bytes"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// fuzzSeeds are hand-written edge cases for FuzzDecode.
var fuzzSeeds = []string{
	``,
	`<S>a</S>`,
	"\xEF\xBB\xBF<S>a_x000D__x000A_b</S>",
	`<S />`,
	`<Nil />`,
	`<?xml version="1.0"?><!-- c --><S>x<![CDATA[<y>]]></S>`,
	`<S>&lt;&#x1F600;&#65;_xD83D__xDE00__xD800_</S>`,
	`<Obj RefId="0"><MS><Ref N="self" RefId="0" /></MS></Obj>`,
	`<Obj RefId="0"><TN RefId="0"><T>A</T></TN><LST><Obj RefId="1"><TNRef RefId="0" /><ToString>b</ToString><I32>1</I32></Obj><Ref RefId="1" /></LST></Obj>`,
	`<Obj RefId="0"><DCT><En><S N="Key">k</S><Obj N="Value" RefId="1"><QUE><Db>NaN</Db><Sg>-0</Sg></QUE></Obj></En></DCT></Obj>`,
	`<Obj RefId="0"><Props><DT N="d">2018-06-13T23:46:28.00516+00:00</DT><TS N="t">-P1DT2H3M4.5S</TS><G N="g">3D0A8B1C-2E3F-4A5B-8C9D-0E1F2A3B4C5D</G></Props></Obj>`,
	`<Obj RefId="0"><MS><BA N="b">AQID</BA><Version N="v">1.2.3.4</Version><D N="d">-1.5</D><C N="c">65</C><SS N="s">AA==</SS><URI N="u">a_x0020_b</URI><XD N="x">&lt;a/&gt;</XD><SBK N="k">{}</SBK></MS></Obj>`,
	`<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04"><S>a</S></Objs>`,
	`<Obj RefId="0"><Obj RefId="1"><S></S></Obj></Obj>`,
}

func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	seen := map[string]bool{}
	for _, m := range vectorBodies() {
		if !seen[string(m)] {
			seen[string(m)] = true
			f.Add(m)
		}
	}
	opts := []cmp.Option{cmpopts.EquateNaNs()}
	f.Fuzz(func(t *testing.T, data []byte) {
		l := Limits{MaxBytes: 1 << 20, MaxElements: 1 << 14}
		v, err := DecodeWithLimits(data, l)
		if s, ok := fastString(data); ok {
			full, ferr := decodeFull(data, l)
			if ferr != nil || full != s {
				t.Fatalf("fast path gave %q, full decoder %q, %v", s, full, ferr)
			}
		}
		if err != nil {
			return
		}
		enc, err := Encode(v)
		if err != nil {
			t.Fatalf("encode of a decoded value: %v", err)
		}
		v2, err := DecodeWithLimits(enc, Limits{MaxElements: 1 << 16})
		if err != nil {
			t.Fatalf("decode of re-encoding: %v\n%s", err, enc)
		}
		if diff := cmp.Diff(v, v2, opts...); diff != "" {
			t.Fatalf("round trip changed the value (-first +second):\n%s\n%s", diff, enc)
		}
		// The encoding is canonical: encoding again gives the same bytes.
		enc2, err := Encode(v2)
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("re-encoding not stable: %v\n%s\n%s", err, enc, enc2)
		}
	})
}

func FuzzEscape(f *testing.F) {
	for _, s := range []string{"", "a", "_x", "_x0041_", "_X005f_", "\x00\r\n\t", "\u0085\u009f", "😀", "_xD83D_", "_xD83D__xDE00_", "a\xffb", "_x0001F600_"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		enc := EncodeString(s)
		want := string([]rune(s)) // invalid UTF-8 bytes become U+FFFD
		if got := DecodeString(enc); got != want {
			t.Fatalf("DecodeString(EncodeString(%q)) = %q (encoded %q)", s, got, enc)
		}
		for i := 0; i < len(enc); i++ {
			if c := enc[i]; c < 0x20 || c == 0x7f {
				t.Fatalf("EncodeString(%q) = %q keeps a control character", s, enc)
			}
		}
		// Decoding arbitrary text never fails and re-escapes faithfully.
		d := DecodeString(s)
		if !utf8.ValidString(s) {
			return
		}
		if got := DecodeString(EncodeString(d)); got != d {
			t.Fatalf("escape round trip of DecodeString(%q) = %q, want %q", s, got, d)
		}
		// Inside an <S> element the encoder's XML escaping agrees.
		v, err := Decode(append(appendText([]byte("<S>"), s, true, false), "</S>"...))
		if err != nil {
			t.Fatalf("<S> of %q: %v", s, err)
		}
		if v != s {
			t.Fatalf("<S> of %q decoded to %q", s, v)
		}
	})
}

// vectorBodies returns every non-empty message body of the vectors, or
// nil when they are not available.
func vectorBodies() [][]byte {
	dir := findVectorsDir()
	if dir == "" {
		return nil
	}
	msgs, err := cachedVectorMessages(dir)
	if err != nil {
		return nil
	}
	var out [][]byte
	for _, m := range msgs {
		if len(m.Data) > 0 {
			out = append(out, m.Data)
		}
	}
	return out
}
