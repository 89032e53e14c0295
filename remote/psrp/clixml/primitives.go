package clixml

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// DateTime is a <DT> value (.NET System.DateTime).
//
// Text is the wire text the value was decoded from (for example
// "2018-06-13T23:46:28.00516+00:00"); when it is non-empty the encoder writes
// it verbatim, so a decode→encode round trip reproduces Windows' bytes.
// Leave Text empty for values built in Go: the encoder then formats Time the
// way .NET's round-trip format does (up to 7 fractional digits, trailing
// zeros trimmed, numeric offset).
type DateTime struct {
	Time time.Time
	Text string
}

// NewDateTime returns a DateTime for t with no preserved wire text.
func NewDateTime(t time.Time) DateTime { return DateTime{Time: t} }

// String returns the wire text of d.
func (d DateTime) String() string {
	if d.Text != "" {
		return d.Text
	}
	return formatDateTime(d.Time)
}

func formatDateTime(t time.Time) string {
	return t.Format("2006-01-02T15:04:05.9999999-07:00")
}

// ParseDateTime parses the xs:dateTime text of a <DT> (as .NET
// XmlConvert.ToDateTime with RoundtripKind accepts it). A value without an
// offset (.NET DateTimeKind.Unspecified) is returned in UTC. The returned
// DateTime keeps s as its Text.
func ParseDateTime(s string) (DateTime, error) {
	t, err := parseDateTime(strings.TrimSpace(s))
	if err != nil {
		return DateTime{}, err
	}
	return DateTime{Time: t, Text: s}, nil
}

var dateTimeLayouts = [...]string{
	"2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"2006-01-02Z07:00",
	"2006-01-02",
}

func parseDateTime(s string) (time.Time, error) {
	for _, l := range dateTimeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("clixml: invalid DateTime %q", s)
}

// Duration is a <TS> value (.NET System.TimeSpan) in 100-nanosecond ticks,
// the unit and range of .NET. Text, when non-empty, is the wire text the
// value was decoded from and is written back verbatim.
type Duration struct {
	Ticks int64
	Text  string
}

// NewDuration returns the Duration closest to d (TimeSpan has 100 ns
// resolution).
func NewDuration(d time.Duration) Duration { return Duration{Ticks: int64(d / 100)} }

// Duration converts d to a time.Duration, saturating at its range.
func (d Duration) Duration() time.Duration {
	const maxTicks = int64(1<<63-1) / 100
	switch {
	case d.Ticks > maxTicks:
		return time.Duration(1<<63 - 1)
	case d.Ticks < -maxTicks:
		return time.Duration(-1 << 63)
	}
	return time.Duration(d.Ticks * 100)
}

// String returns the xs:duration wire text of d.
func (d Duration) String() string {
	if d.Text != "" {
		return d.Text
	}
	return formatDuration(d.Ticks)
}

const (
	ticksPerSecond = 10_000_000
	ticksPerMinute = 60 * ticksPerSecond
	ticksPerHour   = 60 * ticksPerMinute
	ticksPerDay    = 24 * ticksPerHour
)

// formatDuration writes ticks like .NET XmlConvert.ToString(TimeSpan).
func formatDuration(ticks int64) string {
	var b []byte
	u := uint64(ticks)
	if ticks < 0 {
		b = append(b, '-')
		u = uint64(-ticks) // -MinInt64 wraps to itself, which is its magnitude as uint64
	}
	b = append(b, 'P')
	days, rest := u/ticksPerDay, u%ticksPerDay
	if days != 0 {
		b = strconv.AppendUint(b, days, 10)
		b = append(b, 'D')
	}
	if rest != 0 || days == 0 {
		b = append(b, 'T')
		h := rest / ticksPerHour
		rest %= ticksPerHour
		m := rest / ticksPerMinute
		rest %= ticksPerMinute
		if h != 0 {
			b = strconv.AppendUint(b, h, 10)
			b = append(b, 'H')
		}
		if m != 0 {
			b = strconv.AppendUint(b, m, 10)
			b = append(b, 'M')
		}
		if rest != 0 || (h == 0 && m == 0) {
			b = strconv.AppendUint(b, rest/ticksPerSecond, 10)
			if f := rest % ticksPerSecond; f != 0 {
				frac := []byte(fmt.Sprintf("%07d", f))
				for frac[len(frac)-1] == '0' {
					frac = frac[:len(frac)-1]
				}
				b = append(b, '.')
				b = append(b, frac...)
			}
			b = append(b, 'S')
		}
	}
	return string(b)
}

// ParseDuration parses the xs:duration text of a <TS>. Years count as 365
// days and months as 30 days, as .NET does. The result keeps s as its Text.
func ParseDuration(s string) (Duration, error) {
	t, ok := parseDuration(strings.TrimSpace(s))
	if !ok {
		return Duration{}, fmt.Errorf("clixml: invalid TimeSpan %q", s)
	}
	return Duration{Ticks: t, Text: s}, nil
}

func parseDuration(s string) (int64, bool) {
	neg := false
	if strings.HasPrefix(s, "-") {
		neg = true
		s = s[1:]
	}
	if !strings.HasPrefix(s, "P") || len(s) < 2 {
		return 0, false
	}
	s = s[1:]
	var total uint64
	inTime, any := false, false
	order := 0 // enforces Y M D T H M S order
	add := func(n, unit uint64) bool {
		if unit != 0 && n > (1<<63)/unit {
			return false
		}
		v := n * unit
		if total+v < total || total+v > 1<<63 {
			return false
		}
		total += v
		return true
	}
	for len(s) > 0 {
		if s[0] == 'T' {
			if inTime {
				return 0, false
			}
			inTime = true
			s = s[1:]
			if len(s) == 0 {
				return 0, false
			}
			continue
		}
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 || i > 19 {
			return 0, false
		}
		n, err := strconv.ParseUint(s[:i], 10, 64)
		if err != nil {
			return 0, false
		}
		var frac uint64
		if i < len(s) && s[i] == '.' {
			if !inTime {
				return 0, false
			}
			j := i + 1
			digits := 0
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				if digits < 7 {
					frac = frac*10 + uint64(s[j]-'0')
					digits++
				}
				j++
			}
			if j == i+1 || j >= len(s) || s[j] != 'S' {
				return 0, false
			}
			for ; digits < 7; digits++ {
				frac *= 10
			}
			i = j
		}
		if i >= len(s) {
			return 0, false
		}
		var unit uint64
		var pos int
		switch c := s[i]; {
		case !inTime && c == 'Y':
			unit, pos = 365*ticksPerDay, 1
		case !inTime && c == 'M':
			unit, pos = 30*ticksPerDay, 2
		case !inTime && c == 'D':
			unit, pos = ticksPerDay, 3
		case inTime && c == 'H':
			unit, pos = ticksPerHour, 4
		case inTime && c == 'M':
			unit, pos = ticksPerMinute, 5
		case inTime && c == 'S':
			unit, pos = ticksPerSecond, 6
		default:
			return 0, false
		}
		if pos <= order {
			return 0, false
		}
		order = pos
		if !add(n, unit) || !add(frac, 1) {
			return 0, false
		}
		any = true
		s = s[i+1:]
	}
	if !any {
		return 0, false
	}
	if neg {
		return -int64(total), true
	}
	if total > 1<<63-1 {
		return 0, false
	}
	return int64(total), true
}

// GUID is a <G> value. The bytes are in the order of the text form
// (00112233-4455-6677-8899-aabbccddeeff), not .NET's ToByteArray layout;
// see BytesLE and GUIDFromBytesLE for that.
type GUID [16]byte

// String returns the lower-case 8-4-4-4-12 form, as .NET writes it.
func (g GUID) String() string {
	var b [36]byte
	hex.Encode(b[0:8], g[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], g[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], g[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], g[8:10])
	b[23] = '-'
	hex.Encode(b[24:36], g[10:16])
	return string(b[:])
}

// BytesLE returns g in .NET Guid.ToByteArray order (first three groups
// little-endian), the layout of PSRP message headers (MS-PSRP 2.2.1).
func (g GUID) BytesLE() [16]byte {
	b := g
	b[0], b[1], b[2], b[3] = g[3], g[2], g[1], g[0]
	b[4], b[5] = g[5], g[4]
	b[6], b[7] = g[7], g[6]
	return b
}

// GUIDFromBytesLE is the inverse of BytesLE.
func GUIDFromBytesLE(b [16]byte) GUID { return GUID(GUID(b).BytesLE()) }

// ParseGUID parses a GUID in the forms .NET accepts most often:
// 32 hex digits, 8-4-4-4-12, and the latter in braces or parentheses.
// Hex digits are case-insensitive.
func ParseGUID(s string) (GUID, error) {
	var g GUID
	t := strings.TrimSpace(s)
	if len(t) == 38 && (t[0] == '{' && t[37] == '}' || t[0] == '(' && t[37] == ')') {
		t = t[1:37]
	}
	var h string
	switch len(t) {
	case 32:
		h = t
	case 36:
		if t[8] != '-' || t[13] != '-' || t[18] != '-' || t[23] != '-' {
			return g, fmt.Errorf("clixml: invalid GUID %q", s)
		}
		h = t[0:8] + t[9:13] + t[14:18] + t[19:23] + t[24:36]
	default:
		return g, fmt.Errorf("clixml: invalid GUID %q", s)
	}
	if _, err := hex.Decode(g[:], []byte(h)); err != nil {
		return GUID{}, fmt.Errorf("clixml: invalid GUID %q", s)
	}
	return g, nil
}

// Version is a <Version> value (.NET System.Version). Build and Revision are
// -1 when absent, as in .NET ("2.3" has Build = Revision = -1).
type Version struct {
	Major, Minor, Build, Revision int32
}

// NewVersion returns a Version from 2 to 4 components.
func NewVersion(parts ...int32) Version {
	v := Version{Build: -1, Revision: -1}
	for i, p := range parts {
		switch i {
		case 0:
			v.Major = p
		case 1:
			v.Minor = p
		case 2:
			v.Build = p
		case 3:
			v.Revision = p
		}
	}
	return v
}

// String returns the dotted form with the defined components.
func (v Version) String() string {
	b := strconv.AppendInt(nil, int64(v.Major), 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, int64(v.Minor), 10)
	if v.Build >= 0 {
		b = append(b, '.')
		b = strconv.AppendInt(b, int64(v.Build), 10)
		if v.Revision >= 0 {
			b = append(b, '.')
			b = strconv.AppendInt(b, int64(v.Revision), 10)
		}
	}
	return string(b)
}

// Compare returns -1, 0 or +1 comparing v and w as .NET does (an absent
// component sorts before 0).
func (v Version) Compare(w Version) int {
	a := [4]int32{v.Major, v.Minor, v.Build, v.Revision}
	b := [4]int32{w.Major, w.Minor, w.Build, w.Revision}
	for i := range a {
		switch {
		case a[i] < b[i]:
			return -1
		case a[i] > b[i]:
			return 1
		}
	}
	return 0
}

// ParseVersion parses "major.minor[.build[.revision]]" with non-negative
// decimal components, as .NET's Version(string) does.
func ParseVersion(s string) (Version, error) {
	parts := strings.Split(strings.TrimSpace(s), ".")
	if len(parts) < 2 || len(parts) > 4 {
		return Version{}, fmt.Errorf("clixml: invalid Version %q", s)
	}
	var c [4]int32
	c[2], c[3] = -1, -1
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" || p[0] == '+' || p[0] == '-' {
			return Version{}, fmt.Errorf("clixml: invalid Version %q", s)
		}
		n, err := strconv.ParseInt(p, 10, 32)
		if err != nil {
			return Version{}, fmt.Errorf("clixml: invalid Version %q", s)
		}
		c[i] = int32(n)
	}
	return Version{c[0], c[1], c[2], c[3]}, nil
}

type primKind uint8

const (
	pkChar primKind = iota + 1
	pkBool
	pkDateTime
	pkDuration
	pkU8
	pkI8
	pkU16
	pkI16
	pkU32
	pkI32
	pkU64
	pkI64
	pkF32
	pkF64
	pkDecimal
	pkBytes
	pkGUID
	pkURI
	pkVersion
	pkXML
	pkScript
	pkSecure
)

// primitiveTags are the primitive elements other than S and Nil
// (MS-PSRP 2.2.5.1).
var primitiveTags = map[string]primKind{
	"C": pkChar, "B": pkBool, "DT": pkDateTime, "TS": pkDuration,
	"By": pkU8, "SB": pkI8, "U16": pkU16, "I16": pkI16, "U32": pkU32, "I32": pkI32,
	"U64": pkU64, "I64": pkI64, "Sg": pkF32, "Db": pkF64, "D": pkDecimal,
	"BA": pkBytes, "G": pkGUID, "URI": pkURI, "Version": pkVersion,
	"XD": pkXML, "SBK": pkScript, "SS": pkSecure,
}

func trimSpace(b []byte) []byte { return bytes.Trim(b, " \t\r\n") }

// parsePrimitive converts character data to the Go value of kind. It
// returns a non-empty reason on failure.
func parsePrimitive(kind primKind, b []byte) (Value, string) {
	switch kind {
	case pkURI:
		return URI(decodedString(b)), ""
	case pkXML:
		return XMLDocument(decodedString(b)), ""
	case pkScript:
		return ScriptBlock(decodedString(b)), ""
	case pkSecure:
		return SecureString(string(trimSpace(b))), ""
	}
	s := trimSpace(b)
	switch kind {
	case pkBool:
		switch string(s) {
		case "true", "1":
			return true, ""
		case "false", "0":
			return false, ""
		}
		return nil, "not a boolean"
	case pkChar:
		n, err := strconv.ParseUint(string(s), 10, 16)
		if err != nil {
			return nil, "not a UTF-16 code unit"
		}
		return Char(n), ""
	case pkU8, pkU16, pkU32, pkU64:
		bits := intBits(kind)
		n, err := strconv.ParseUint(strings.TrimPrefix(string(s), "+"), 10, bits)
		if err != nil || len(s) > 0 && s[0] == '-' {
			return nil, "not an unsigned integer of its size"
		}
		switch kind {
		case pkU8:
			return uint8(n), ""
		case pkU16:
			return uint16(n), ""
		case pkU32:
			return uint32(n), ""
		}
		return n, ""
	case pkI8, pkI16, pkI32, pkI64:
		bits := intBits(kind)
		n, err := strconv.ParseInt(string(s), 10, bits)
		if err != nil {
			return nil, "not an integer of its size"
		}
		switch kind {
		case pkI8:
			return int8(n), ""
		case pkI16:
			return int16(n), ""
		case pkI32:
			return int32(n), ""
		}
		return n, ""
	case pkF32:
		f, ok := parseFloat(string(s), 32)
		if !ok {
			return nil, "not a number"
		}
		return float32(f), ""
	case pkF64:
		f, ok := parseFloat(string(s), 64)
		if !ok {
			return nil, "not a number"
		}
		return f, ""
	case pkDecimal:
		if !validDecimal(s) {
			return nil, "not a decimal"
		}
		return Decimal(string(s)), ""
	case pkBytes:
		clean := make([]byte, 0, len(s))
		for _, c := range s {
			if !isSpace(c) {
				clean = append(clean, c)
			}
		}
		out := make([]byte, base64.StdEncoding.DecodedLen(len(clean)))
		n, err := base64.StdEncoding.Strict().Decode(out, clean)
		if err != nil {
			return nil, "not base64"
		}
		return out[:n], ""
	case pkGUID:
		g, err := ParseGUID(string(s))
		if err != nil {
			return nil, "not a GUID"
		}
		return g, ""
	case pkVersion:
		v, err := ParseVersion(string(s))
		if err != nil {
			return nil, "not a version"
		}
		return v, ""
	case pkDateTime:
		t, err := parseDateTime(string(s))
		if err != nil {
			return nil, "not a date-time"
		}
		return DateTime{Time: t, Text: string(b)}, ""
	case pkDuration:
		ticks, ok := parseDuration(string(s))
		if !ok {
			return nil, "not a duration"
		}
		return Duration{Ticks: ticks, Text: string(b)}, ""
	}
	return nil, "unknown kind"
}

// parseFloat accepts what .NET XmlConvert.ToDouble/ToSingle and the
// invariant "R" format produce: decimal and exponent forms, INF, -INF,
// Infinity, -Infinity and NaN.
func parseFloat(s string, bits int) (float64, bool) {
	switch s {
	case "INF", "Infinity", "+Infinity", "∞":
		return math.Inf(1), true
	case "-INF", "-Infinity", "-∞":
		return math.Inf(-1), true
	case "NaN":
		return math.NaN(), true
	}
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(s, bits)
	if err != nil {
		return 0, false
	}
	return f, true
}

// validDecimal checks the invariant decimal text [-+]digits[.digits].
func validDecimal(s []byte) bool {
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		s = s[1:]
	}
	digits, dot := 0, false
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot:
			dot = true
		default:
			return false
		}
	}
	return digits > 0 && digits <= 64
}

func intBits(k primKind) int {
	switch k {
	case pkU8, pkI8:
		return 8
	case pkU16, pkI16:
		return 16
	case pkU32, pkI32:
		return 32
	}
	return 64
}
