package clixml

import (
	"errors"
	"math"
	"testing"
	"time"
)

func TestEncodeValues(t *testing.T) {
	loc := time.FixedZone("", -7*3600)
	tests := []struct {
		name string
		in   Value
		want string
	}{
		{"nil", nil, `<Nil />`},
		{"string", "a<b>&\"c\"\r\n", `<S>a&lt;b&gt;&amp;"c"_x000D__x000A_</S>`},
		{"empty string", "", `<S></S>`},
		{"char", Char('a'), `<C>97</C>`},
		{"bool", true, `<B>true</B>`},
		{"byte", uint8(7), `<By>7</By>`},
		{"sbyte", int8(-7), `<SB>-7</SB>`},
		{"u16", uint16(7), `<U16>7</U16>`},
		{"i16", int16(-7), `<I16>-7</I16>`},
		{"u32", uint32(7), `<U32>7</U32>`},
		{"i32", int32(-7), `<I32>-7</I32>`},
		{"u64", uint64(math.MaxUint64), `<U64>18446744073709551615</U64>`},
		{"i64", int64(math.MinInt64), `<I64>-9223372036854775808</I64>`},
		{"single", float32(0.1), `<Sg>0.1</Sg>`},
		{"double", 0.1, `<Db>0.1</Db>`},
		{"double big", 1e20, `<Db>1E+20</Db>`},
		{"double NaN", math.NaN(), `<Db>NaN</Db>`},
		{"double -Inf", math.Inf(-1), `<Db>-INF</Db>`},
		{"single Inf", float32(math.Inf(1)), `<Sg>INF</Sg>`},
		{"decimal", Decimal("1.50"), `<D>1.50</D>`},
		{"bytes", []byte{1, 2, 3}, `<BA>AQID</BA>`},
		{"guid", GUID{0xAB, 15: 1}, `<G>ab000000-0000-0000-0000-000000000001</G>`},
		{"uri", URI("http://a/?b&c"), `<URI>http://a/?b&amp;c</URI>`},
		{"version", NewVersion(2, 3), `<Version>2.3</Version>`},
		{"xml document", XMLDocument("<a/>"), `<XD>&lt;a/&gt;</XD>`},
		{"script block", ScriptBlock("{ $_x }\n"), `<SBK>{ $_x005F_x }_x000A_</SBK>`},
		{"secure string", SecureString("AAEC"), `<SS>AAEC</SS>`},
		{"datetime built", NewDateTime(time.Date(2018, 6, 13, 23, 46, 27, 927028800, loc)), `<DT>2018-06-13T23:46:27.9270288-07:00</DT>`},
		{"datetime whole second", NewDateTime(time.Date(2018, 6, 13, 23, 46, 27, 0, time.UTC)), `<DT>2018-06-13T23:46:27+00:00</DT>`},
		{"datetime decoded text kept", DateTime{Time: time.Unix(0, 0), Text: "2018-06-13T23:46:28.00516+00:00"}, `<DT>2018-06-13T23:46:28.00516+00:00</DT>`},
		{"timespan built", NewDuration(9026 * time.Millisecond), `<TS>PT9.026S</TS>`},
		{"timespan text kept", Duration{Ticks: 1, Text: "PT0.0000001S"}, `<TS>PT0.0000001S</TS>`},
		{"empty object", &Object{}, `<Obj RefId="0" />`},
		{
			"enum",
			NewEnum("System.Management.Automation.ProgressRecordType", "Completed", 1),
			`<Obj RefId="0"><TN RefId="0"><T>System.Management.Automation.ProgressRecordType</T><T>System.Enum</T><T>System.ValueType</T><T>System.Object</T></TN><ToString>Completed</ToString><I32>1</I32></Obj>`,
		},
		{
			"member names escaped",
			&Object{Members: []Property{{"a\tb", nil}, {`"q"`, int32(1)}}},
			`<Obj RefId="0"><MS><Nil N="a_x0009_b" /><I32 N="&quot;q&quot;">1</I32></MS></Obj>`,
		},
		{
			"tnref and ref",
			func() Value {
				a := &Object{TypeNames: []string{"A"}}
				return &Object{Content: ContentList, Items: []Value{a, &Object{TypeNames: []string{"A"}}, a}}
			}(),
			`<Obj RefId="0"><LST><Obj RefId="1"><TN RefId="0"><T>A</T></TN></Obj><Obj RefId="2"><TNRef RefId="0" /></Obj><Ref RefId="1" /></LST></Obj>`,
		},
		{
			"dictionary and empty containers",
			&Object{Members: []Property{
				{"d", &Object{Content: ContentDict, Entries: []DictEntry{{"k", int32(1)}}}},
				{"e", &Object{Content: ContentDict}},
				{"q", &Object{Content: ContentQueue}},
			}},
			`<Obj RefId="0"><MS><Obj N="d" RefId="1"><DCT><En><S N="Key">k</S><I32 N="Value">1</I32></En></DCT></Obj><Obj N="e" RefId="2"><DCT /></Obj><Obj N="q" RefId="3"><QUE /></Obj></MS></Obj>`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Encode(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestAppendValueName(t *testing.T) {
	got, err := AppendValue([]byte("x"), "Key", "v")
	if err != nil {
		t.Fatal(err)
	}
	if want := `x<S N="Key">v</S>`; string(got) != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestEncodeUnsupported(t *testing.T) {
	for _, v := range []Value{42, []string{"a"}, struct{}{}, &Object{Members: []Property{{"x", 1.5i}}}} {
		_, err := Encode(v)
		var ue *UnsupportedTypeError
		if !errors.As(err, &ue) {
			t.Errorf("Encode(%#v) error = %v, want *UnsupportedTypeError", v, err)
		}
	}
}

func TestAppendFloat(t *testing.T) {
	tests := []struct {
		f    float64
		bits int
		want string
	}{
		{1, 64, "1"},
		{-1.5, 64, "-1.5"},
		{1e14, 64, "100000000000000"},
		{1e15, 64, "1E+15"},
		{123456789012345678, 64, "1.2345678901234568E+17"},
		{0.0001, 64, "0.0001"},
		{0.00001, 64, "1E-05"},
		{1.7976931348623157e308, 64, "1.7976931348623157E+308"},
		{5e-324, 64, "5E-324"},
		{math.Pi, 64, "3.141592653589793"},
		{1234567, 32, "1234567"},
		{1e7, 32, "1E+07"},
		{float64(float32(0.1)), 32, "0.1"},
		{math.Copysign(0, -1), 64, "-0"},
		{0, 64, "0"},
	}
	for _, tc := range tests {
		if got := string(AppendFloat(nil, tc.f, tc.bits)); got != tc.want {
			t.Errorf("AppendFloat(%v, %d) = %q, want %q", tc.f, tc.bits, got, tc.want)
		}
	}
}

func TestDurationFormatAndParse(t *testing.T) {
	tests := []struct {
		ticks int64
		text  string
	}{
		{0, "PT0S"},
		{90260000, "PT9.026S"},
		{ticksPerDay, "P1D"},
		{ticksPerDay + 1, "P1DT0.0000001S"},
		{-(2*ticksPerHour + 3*ticksPerMinute), "-PT2H3M"},
		{math.MaxInt64, "P10675199DT2H48M5.4775807S"},
		{math.MinInt64 + 1, "-P10675199DT2H48M5.4775807S"},
	}
	for _, tc := range tests {
		if got := formatDuration(tc.ticks); got != tc.text {
			t.Errorf("formatDuration(%d) = %q, want %q", tc.ticks, got, tc.text)
		}
		d, err := ParseDuration(tc.text)
		if err != nil || d.Ticks != tc.ticks {
			t.Errorf("ParseDuration(%q) = %d, %v; want %d", tc.text, d.Ticks, err, tc.ticks)
		}
	}
	for _, bad := range []string{"", "P", "PT", "1S", "P1S", "PT1D", "P1DT", "PT1.S", "PT.5S", "PT1H2H", "P99999999999999999999D", "P1M1Y"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) succeeded", bad)
		}
	}
	if d, err := ParseDuration("P1Y2M"); err != nil || d.Ticks != 425*ticksPerDay {
		t.Errorf("P1Y2M = %d, %v", d.Ticks, err)
	}
	if got := NewDuration(time.Hour).Duration(); got != time.Hour {
		t.Errorf("Duration() = %v", got)
	}
	if got := (Duration{Ticks: math.MaxInt64}).Duration(); got != time.Duration(math.MaxInt64) {
		t.Errorf("saturation: %v", got)
	}
}

func TestGUIDAndVersion(t *testing.T) {
	g, err := ParseGUID("{76056A84-51DC-4F24-9262-CA2A55464B2B}")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := g.String(), "76056a84-51dc-4f24-9262-ca2a55464b2b"; got != want {
		t.Errorf("String() = %s, want %s", got, want)
	}
	le := g.BytesLE()
	if le[0] != 0x84 || le[3] != 0x76 || le[4] != 0xDC || le[6] != 0x24 || le[8] != 0x92 {
		t.Errorf("BytesLE = % x", le)
	}
	if GUIDFromBytesLE(le) != g {
		t.Error("GUIDFromBytesLE(BytesLE) differs")
	}
	if n, err := ParseGUID("76056a8451dc4f249262ca2a55464b2b"); err != nil || n != g {
		t.Errorf("32-digit form: %v %v", n, err)
	}
	for _, bad := range []string{"", "76056a84-51dc-4f24-9262-ca2a55464b2", "76056a84_51dc-4f24-9262-ca2a55464b2b", "z6056a84-51dc-4f24-9262-ca2a55464b2b"} {
		if _, err := ParseGUID(bad); err == nil {
			t.Errorf("ParseGUID(%q) succeeded", bad)
		}
	}
	v, err := ParseVersion("5.1.14393.2248")
	if err != nil || v != (Version{5, 1, 14393, 2248}) || v.String() != "5.1.14393.2248" {
		t.Errorf("ParseVersion = %v %v", v, err)
	}
	if NewVersion(2, 3).Compare(NewVersion(2, 2)) != 1 || NewVersion(2, 3).Compare(NewVersion(2, 3, 0)) != -1 || NewVersion(2, 3).Compare(NewVersion(2, 3)) != 0 {
		t.Error("Compare")
	}
	for _, bad := range []string{"1", "1.2.3.4.5", "1.-2", "a.b", "1..2", "2147483648.0"} {
		if _, err := ParseVersion(bad); err == nil {
			t.Errorf("ParseVersion(%q) succeeded", bad)
		}
	}
}
