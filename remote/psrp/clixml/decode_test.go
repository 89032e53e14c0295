package clixml

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestDecodePrimitives(t *testing.T) {
	utc := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct {
		name string
		in   string
		want Value
	}{
		{"string", `<S>a</S>`, "a"},
		{"string with BOM", "\xEF\xBB\xBF<S>a</S>", "a"},
		{"string with declaration", `<?xml version="1.0" encoding="utf-8"?><S>a</S>`, "a"},
		{"empty string self-closing", `<S />`, ""},
		{"empty string", `<S></S>`, ""},
		{"string entities", `<S>&lt;a&gt; &amp; &quot;&apos; &#65;&#x42;</S>`, `<a> & "' AB`},
		{"string escapes", `<S>a_x000D__x000A_b_x005F_x_x0009_</S>`, "a\r\nb_x\t"},
		{"string escape lower case", `<S>_x000d__X000A_</S>`, "\r\n"},
		{"string surrogate pair", `<S>_xD83D__xDE00_</S>`, "😀"},
		{"string lone surrogate stays literal", `<S>_xD83D_</S>`, "_xD83D_"},
		{"string invalid escape stays literal", `<S>_x12G4_</S>`, "_x12G4_"},
		{"string CDATA", `<S>a<![CDATA[<b>&]]>c</S>`, "a<b>&c"},
		{"string CRLF normalised", "<S>a\r\nb\rc</S>", "a\nb\nc"},
		{"string char ref CR kept", `<S>a&#13;b</S>`, "a\rb"},
		{"string utf8", `<S>héllo wörld ✓</S>`, "héllo wörld ✓"},
		{"string comment", `<S>a<!-- x -->b</S>`, "ab"},
		{"nil", `<Nil />`, nil},
		{"char", `<C>97</C>`, Char('a')},
		{"bool true", `<B>true</B>`, true},
		{"bool false", `<B>false</B>`, false},
		{"bool 1", `<B> 1 </B>`, true},
		{"byte", `<By>255</By>`, uint8(255)},
		{"sbyte", `<SB>-128</SB>`, int8(-128)},
		{"u16", `<U16>65535</U16>`, uint16(65535)},
		{"i16", `<I16>-32768</I16>`, int16(-32768)},
		{"u32", `<U32>4294967295</U32>`, uint32(4294967295)},
		{"i32", `<I32>-2146233087</I32>`, int32(-2146233087)},
		{"u64", `<U64>18446744073709551615</U64>`, uint64(math.MaxUint64)},
		{"i64", `<I64>-100</I64>`, int64(-100)},
		{"single", `<Sg>1.5</Sg>`, float32(1.5)},
		{"double", `<Db>1E+20</Db>`, 1e20},
		{"double INF", `<Db>INF</Db>`, math.Inf(1)},
		{"double -Infinity", `<Db>-Infinity</Db>`, math.Inf(-1)},
		{"decimal", `<D>79228162514264337593543950335</D>`, Decimal("79228162514264337593543950335")},
		{"bytes", `<BA>AQID</BA>`, []byte{1, 2, 3}},
		{"empty bytes", `<BA></BA>`, []byte{}},
		{"guid", `<G>3D0A8B1C-2E3F-4A5B-8C9D-0E1F2A3B4C5D</G>`, GUID{0x3d, 0x0a, 0x8b, 0x1c, 0x2e, 0x3f, 0x4a, 0x5b, 0x8c, 0x9d, 0x0e, 0x1f, 0x2a, 0x3b, 0x4c, 0x5d}},
		{"uri", `<URI>http://a/b?c=1&amp;d=2</URI>`, URI("http://a/b?c=1&d=2")},
		{"version 2", `<Version>2.3</Version>`, Version{2, 3, -1, -1}},
		{"version 4", `<Version>5.1.17763.1971</Version>`, Version{5, 1, 17763, 1971}},
		{"xml document", `<XD>&lt;a&gt;x&lt;/a&gt;</XD>`, XMLDocument("<a>x</a>")},
		{"script block", `<SBK>Get-Date_x000A_</SBK>`, ScriptBlock("Get-Date\n")},
		{"secure string", `<SS>AAEC</SS>`, SecureString("AAEC")},
		{"datetime", `<DT>2018-06-13T23:46:28.00516+00:00</DT>`, DateTime{Time: utc("2018-06-13T23:46:28.00516Z"), Text: "2018-06-13T23:46:28.00516+00:00"}},
		{"datetime Z", `<DT>2020-01-02T03:04:05Z</DT>`, DateTime{Time: utc("2020-01-02T03:04:05Z"), Text: "2020-01-02T03:04:05Z"}},
		{"timespan", `<TS>PT9.026S</TS>`, Duration{Ticks: 90260000, Text: "PT9.026S"}},
		{"timespan days", `<TS>-P1DT2H3M</TS>`, Duration{Ticks: -(ticksPerDay + 2*ticksPerHour + 3*ticksPerMinute), Text: "-P1DT2H3M"}},
		{"single quotes and spaces in tags", `<S  N = 'x' >a</S >`, "a"},
		{"trailing whitespace", "<S>a</S>\r\n  ", "a"},
		{"empty body", ``, nil},
		{"whitespace body", "\xEF\xBB\xBF \n", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateNaNs()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeObjects(t *testing.T) {
	enum := []string{"System.Management.Automation.ProgressRecordType", "System.Enum", "System.ValueType", "System.Object"}
	shared := &Object{TypeNames: []string{"A", "System.Object"}, ToString: "a", HasToString: true}
	tests := []struct {
		name string
		in   string
		want Value
	}{
		{
			name: "message object",
			in:   `<Obj RefId="0"><MS><I32 N="PipelineState">4</I32><Nil N="x_x005F_y" /></MS></Obj>`,
			want: &Object{Members: []Property{{"PipelineState", int32(4)}, {"x_y", nil}}},
		},
		{
			name: "enum with TNRef",
			in: `<Obj RefId="0"><MS><Obj N="A" RefId="1"><TN RefId="0"><T>System.Management.Automation.ProgressRecordType</T><T>System.Enum</T><T>System.ValueType</T><T>System.Object</T></TN><ToString>Completed</ToString><I32>1</I32></Obj>` +
				`<Obj N="B" RefId="2"><TNRef RefId="0" /><ToString>Processing</ToString><I32>0</I32></Obj></MS></Obj>`,
			want: &Object{Members: []Property{
				{"A", &Object{TypeNames: enum, ToString: "Completed", HasToString: true, Content: ContentPrimitive, Value: int32(1)}},
				{"B", &Object{TypeNames: enum, ToString: "Processing", HasToString: true, Content: ContentPrimitive, Value: int32(0)}},
			}},
		},
		{
			name: "list, queue, stack, enumerable",
			in: `<Obj RefId="0"><MS><Obj N="l" RefId="1"><LST><S>a</S><I32>1</I32></LST></Obj><Obj N="q" RefId="2"><QUE><S>q</S></QUE></Obj>` +
				`<Obj N="s" RefId="3"><STK /></Obj><Obj N="e" RefId="4"><IE><Nil /></IE></Obj></MS></Obj>`,
			want: &Object{Members: []Property{
				{"l", &Object{Content: ContentList, Items: []Value{"a", int32(1)}}},
				{"q", &Object{Content: ContentQueue, Items: []Value{"q"}}},
				{"s", &Object{Content: ContentStack}},
				{"e", &Object{Content: ContentEnumerable, Items: []Value{nil}}},
			}},
		},
		{
			name: "dictionary",
			in:   `<Obj RefId="0"><TN RefId="0"><T>System.Collections.Hashtable</T></TN><DCT><En><S N="Key">a</S><I32 N="Value">1</I32></En><En><I32 N="key">2</I32><Nil N="value" /></En></DCT></Obj>`,
			want: &Object{TypeNames: []string{"System.Collections.Hashtable"}, Content: ContentDict, Entries: []DictEntry{{"a", int32(1)}, {int32(2), nil}}},
		},
		{
			name: "props and members",
			in:   `<Obj RefId="0"><TN RefId="0"><T>X</T></TN><ToString>x</ToString><Props><S N="P">p</S></Props><MS><B N="M">true</B></MS></Obj>`,
			want: &Object{TypeNames: []string{"X"}, ToString: "x", HasToString: true, Props: []Property{{"P", "p"}}, Members: []Property{{"M", true}}},
		},
		{
			name: "wrapped object",
			in:   `<Obj RefId="0"><Obj RefId="1"><S></S></Obj></Obj>`,
			want: &Object{Content: ContentPrimitive, Value: &Object{Content: ContentPrimitive, Value: ""}},
		},
		{
			name: "ref resolves to the same object",
			in:   `<Obj RefId="0"><LST><Obj RefId="1"><TN RefId="0"><T>A</T><T>System.Object</T></TN><ToString>a</ToString></Obj><Ref RefId="1" /></LST></Obj>`,
			want: &Object{Content: ContentList, Items: []Value{shared, shared}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeRefIsSamePointer(t *testing.T) {
	v, err := Decode([]byte(`<Obj RefId="0"><MS><Obj N="Used" RefId="4"><S></S></Obj><Ref N="Free" RefId="4" /></MS></Obj>`))
	if err != nil {
		t.Fatal(err)
	}
	o := v.(*Object)
	if o.Members[0].Value.(*Object) != o.Members[1].Value.(*Object) {
		t.Error("Ref did not resolve to the same *Object")
	}
	// A self reference is a cycle, which the encoder writes back as a Ref.
	v, err = Decode([]byte(`<Obj RefId="0"><MS><Ref N="self" RefId="0" /></MS></Obj>`))
	if err != nil {
		t.Fatal(err)
	}
	o = v.(*Object)
	if o.Members[0].Value.(*Object) != o {
		t.Error("self Ref did not resolve to its object")
	}
	enc, err := Encode(o)
	if err != nil {
		t.Fatal(err)
	}
	if want := `<Obj RefId="0"><MS><Ref N="self" RefId="0" /></MS></Obj>`; string(enc) != want {
		t.Errorf("got %s, want %s", enc, want)
	}
}

func TestDecodeObject(t *testing.T) {
	if _, err := DecodeObject([]byte(`<S>a</S>`)); err == nil {
		t.Error("DecodeObject accepted a string body")
	}
	o, err := DecodeObject([]byte(`<Obj RefId="0"><MS><S N="a">b</S></MS></Obj>`))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&Object{Members: []Property{{"a", "b"}}}, o); diff != "" {
		t.Error(diff)
	}
}

func TestDecodeAll(t *testing.T) {
	in := "\xEF\xBB\xBF<?xml version=\"1.0\"?>\r\n<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\">\r\n" +
		"  <Obj RefId=\"0\"><TN RefId=\"0\"><T>A</T></TN><ToString>a</ToString></Obj>\r\n" +
		"  <Obj RefId=\"1\"><TNRef RefId=\"0\" /><ToString>b</ToString></Obj>\r\n  <Ref RefId=\"0\" />\r\n  <S>x</S>\r\n</Objs>"
	got, err := DecodeAll([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	a := &Object{TypeNames: []string{"A"}, ToString: "a", HasToString: true}
	want := []Value{a, &Object{TypeNames: []string{"A"}, ToString: "b", HasToString: true}, a, "x"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got[0] != got[2] {
		t.Error("document-wide Ref not resolved to the same object")
	}
	enc, err := EncodeAll(got)
	if err != nil {
		t.Fatal(err)
	}
	again, err := DecodeAll(enc)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, again); diff != "" {
		t.Errorf("EncodeAll round trip (-want +got):\n%s", diff)
	}
	single, err := DecodeAll([]byte(`<S>a</S>`))
	if err != nil || len(single) != 1 || single[0] != "a" {
		t.Errorf("DecodeAll of a bare value = %v, %v", single, err)
	}
	if _, err := Decode([]byte(in)); err == nil {
		t.Error("Decode accepted an <Objs> document")
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{"unclosed", `<S>a`},
		{"mismatched end", `<S>a</I32>`},
		{"unknown element", `<Foo>a</Foo>`},
		{"child in primitive", `<S><S>a</S></S>`},
		{"bad entity", `<S>&foo;</S>`},
		{"unterminated entity", `<S>&amp</S>`},
		{"char ref to NUL", `<S>&#0;</S>`},
		{"char ref to control", `<S>&#1;</S>`},
		{"char ref to surrogate", `<S>&#xD800;</S>`},
		{"raw control char", "<S>a\x01b</S>"},
		{"bare ampersand", `<S>a & b</S>`},
		{"cdata end in text", `<S>a]]>b</S>`},
		{"invalid utf8", "<S>\xff</S>"},
		{"two roots", `<S>a</S><S>b</S>`},
		{"text after root", `<S>a</S>b`},
		{"text in Obj", `<Obj RefId="0">x</Obj>`},
		{"dtd", `<!DOCTYPE S><S>a</S>`},
		{"bad int", `<I32>12x</I32>`},
		{"int overflow", `<I32>2147483648</I32>`},
		{"negative unsigned", `<U32>-1</U32>`},
		{"bad bool", `<B>yes</B>`},
		{"bad double", `<Db>0x10</Db>`},
		{"bad base64", `<BA>!!</BA>`},
		{"bad guid", `<G>xyz</G>`},
		{"bad version", `<Version>1</Version>`},
		{"bad datetime", `<DT>yesterday</DT>`},
		{"bad timespan", `<TS>P1X</TS>`},
		{"bad decimal", `<D>1e5</D>`},
		{"nil with content", `<Nil>x</Nil>`},
		{"unknown ref", `<Obj RefId="0"><MS><Ref N="a" RefId="9" /></MS></Obj>`},
		{"unknown TNRef", `<Obj RefId="0"><TNRef RefId="3" /></Obj>`},
		{"property without name", `<Obj RefId="0"><MS><S>a</S></MS></Obj>`},
		{"nested member set", `<Obj RefId="0"><MS><MS N="x"></MS></MS></Obj>`},
		{"two content elements", `<Obj RefId="0"><I32>1</I32><LST /></Obj>`},
		{"duplicate TN", `<Obj RefId="0"><TN RefId="0"><T>a</T></TN><TN RefId="1"><T>a</T></TN></Obj>`},
		{"duplicate attribute", `<S N="a" N="b">x</S>`},
		{"unquoted attribute", `<S N=a>x</S>`},
		{"attribute without space", `<Obj N="a"RefId="0" />`},
		{"lt in attribute", `<S N="a<b">x</S>`},
		{"dict entry without value", `<Obj RefId="0"><DCT><En><S N="Key">a</S></En></DCT></Obj>`},
		{"dict entry wrong names", `<Obj RefId="0"><DCT><En><S N="K">a</S><S N="V">b</S></En></DCT></Obj>`},
		{"dict entry extra", `<Obj RefId="0"><DCT><En><S N="Key">a</S><S N="Value">b</S><S N="x">c</S></En></DCT></Obj>`},
		{"TN with other child", `<Obj RefId="0"><TN RefId="0"><S>a</S></TN></Obj>`},
		{"objs in message", `<Objs><S>a</S></Objs>`},
		{"lone lt", `<`},
		{"end tag first", `</S>`},
		{"unterminated comment", `<!-- x`},
		{"double dash in comment", `<!-- a -- b --><S/>`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := Decode([]byte(tc.in))
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Decode = %#v, %v; want a *SyntaxError", v, err)
			}
			if se.Offset < 0 || se.Offset > len(tc.in) {
				t.Errorf("offset %d outside the input", se.Offset)
			}
			if !strings.HasPrefix(err.Error(), "clixml: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestDecodeLimits(t *testing.T) {
	deep := strings.Repeat(`<Obj RefId="0"><LST>`, 30) + strings.Repeat(`</LST></Obj>`, 30)
	many := `<Obj RefId="0"><LST>` + strings.Repeat(`<I32>1</I32>`, 100) + `</LST></Obj>`
	tests := []struct {
		name   string
		in     string
		limits Limits
		limit  string // "" = must succeed
	}{
		{"depth within default", deep, Limits{}, ""},
		{"depth over MaxDepth", deep, Limits{MaxDepth: 59}, "MaxDepth"},
		{"depth exactly MaxDepth", deep, Limits{MaxDepth: 60}, ""},
		{"depth over default", strings.Repeat(`<Obj RefId="0"><LST>`, 33) + strings.Repeat(`</LST></Obj>`, 33), Limits{}, "MaxDepth"},
		{"bytes over MaxBytes", `<S>abcdef</S>`, Limits{MaxBytes: 12}, "MaxBytes"},
		{"bytes exactly MaxBytes", `<S>abcdef</S>`, Limits{MaxBytes: 13}, ""},
		{"elements over MaxElements", many, Limits{MaxElements: 101}, "MaxElements"},
		{"elements exactly MaxElements", many, Limits{MaxElements: 102}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeWithLimits([]byte(tc.in), tc.limits)
			if tc.limit == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var le *LimitError
			if !errors.As(err, &le) {
				t.Fatalf("err = %v, want a *LimitError", err)
			}
			if le.Limit != tc.limit {
				t.Errorf("limit %q, want %q", le.Limit, tc.limit)
			}
		})
	}
}

// TestDecodeNeverPanicsOnTruncation cuts real messages at every offset.
func TestDecodeNeverPanicsOnTruncation(t *testing.T) {
	data := vectorErrorRecord(t)
	for i := range data {
		if _, err := Decode(data[:i]); err == nil && i > 3 {
			t.Fatalf("truncation at %d decoded without error", i)
		}
	}
}

func TestDecodeRefIDs(t *testing.T) {
	// Sparse, large, zero-padded and non-numeric RefIds all resolve, each
	// to its own object ("7" and "07" are different ids, as in PowerShell).
	in := `<Obj RefId="0"><LST>` +
		`<Obj RefId="7"><ToString>seven</ToString></Obj>` +
		`<Obj RefId="07"><ToString>zero-seven</ToString></Obj>` +
		`<Obj RefId="99999999999"><ToString>big</ToString></Obj>` +
		`<Obj RefId="abc"><ToString>abc</ToString></Obj>` +
		`<Obj RefId="70"><ToString>seventy</ToString></Obj>` +
		`<Ref RefId="7" /><Ref RefId="07" /><Ref RefId="99999999999" /><Ref RefId="abc" /><Ref RefId="70" /></LST></Obj>`
	v, err := Decode([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	items := v.(*Object).Items
	var got []string
	for i, it := range items[5:] {
		if it != items[i] {
			t.Errorf("Ref %d is not the object it names", i)
		}
		got = append(got, it.(*Object).ToString)
	}
	if diff := cmp.Diff([]string{"seven", "zero-seven", "big", "abc", "seventy"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := Decode([]byte(`<Obj RefId="0"><LST><Ref RefId="1" /></LST></Obj>`)); err == nil {
		t.Error("Ref to an id never defined accepted")
	}
}
