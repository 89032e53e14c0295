package clixml

import (
	"bytes"
	"math"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/pssession/pssession/internal/vectors"
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
		if !equalValue(v, v2, map[[2]*Object]bool{}) {
			t.Fatalf("round trip changed the value (-first +second):\n%s\n%s", cmp.Diff(v, v2, opts...), enc)
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
	dir, err := vectors.Dir()
	if err != nil {
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

// equalValue is a fast deep equality for decoded values (cmp.Diff is too
// slow to run on every fuzz input): NaNs are equal, floats compare by bits
// otherwise, objects compare structurally with cycles tracked in seen.
func equalValue(a, b Value, seen map[[2]*Object]bool) bool {
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		return ok && (math.Float64bits(x) == math.Float64bits(y) || x != x && y != y)
	case float32:
		y, ok := b.(float32)
		return ok && (math.Float32bits(x) == math.Float32bits(y) || x != x && y != y)
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y) && (x == nil) == (y == nil)
	case DateTime:
		y, ok := b.(DateTime)
		return ok && x.Text == y.Text && x.Time.Equal(y.Time)
	case *Object:
		y, ok := b.(*Object)
		if !ok || (x == nil) != (y == nil) {
			return false
		}
		if x == nil {
			return true
		}
		key := [2]*Object{x, y}
		if seen[key] {
			return true
		}
		seen[key] = true
		if !slices.Equal(x.TypeNames, y.TypeNames) || x.ToString != y.ToString || x.HasToString != y.HasToString ||
			x.Content != y.Content || len(x.Props) != len(y.Props) || len(x.Members) != len(y.Members) ||
			len(x.Items) != len(y.Items) || len(x.Entries) != len(y.Entries) || !equalValue(x.Value, y.Value, seen) {
			return false
		}
		for i := range x.Props {
			if x.Props[i].Name != y.Props[i].Name || !equalValue(x.Props[i].Value, y.Props[i].Value, seen) {
				return false
			}
		}
		for i := range x.Members {
			if x.Members[i].Name != y.Members[i].Name || !equalValue(x.Members[i].Value, y.Members[i].Value, seen) {
				return false
			}
		}
		for i := range x.Items {
			if !equalValue(x.Items[i], y.Items[i], seen) {
				return false
			}
		}
		for i := range x.Entries {
			if !equalValue(x.Entries[i].Key, y.Entries[i].Key, seen) || !equalValue(x.Entries[i].Value, y.Entries[i].Value, seen) {
				return false
			}
		}
		return (x.Items == nil) == (y.Items == nil) && (x.Entries == nil) == (y.Entries == nil)
	}
	return a == b
}

func TestEqualValue(t *testing.T) {
	self := &Object{}
	self.Members = []Property{{"self", self}}
	tests := []struct {
		name string
		a, b Value
		want bool
	}{
		{"strings", "a", "a", true},
		{"different strings", "a", "b", false},
		{"kinds", int32(1), int64(1), false},
		{"NaN", math.NaN(), math.NaN(), true},
		{"signed zero", 0.0, math.Copysign(0, -1), false},
		{"bytes", []byte{1}, []byte{1}, true},
		{"nil vs empty bytes", []byte{}, []byte(nil), false},
		{"datetime text", DateTime{Text: "a"}, DateTime{Text: "b"}, false},
		{"cycle", self, self, true},
		{"objects", &Object{TypeNames: []string{"A"}, Items: []Value{"x"}, Content: ContentList}, &Object{TypeNames: []string{"A"}, Items: []Value{"x"}, Content: ContentList}, true},
		{"object items", &Object{Items: []Value{"x"}, Content: ContentList}, &Object{Items: []Value{"y"}, Content: ContentList}, false},
		{"object members", ms(Property{"a", nil}), ms(Property{"b", nil}), false},
		{"object entries", &Object{Entries: []DictEntry{{"k", 1}}}, &Object{Entries: []DictEntry{{"k", 2}}}, false},
	}
	for _, tc := range tests {
		if got := equalValue(tc.a, tc.b, map[[2]*Object]bool{}); got != tc.want {
			t.Errorf("%s: equalValue = %v, want %v", tc.name, got, tc.want)
		}
	}
}
