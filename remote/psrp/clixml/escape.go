package clixml

import (
	"unicode/utf16"
	"unicode/utf8"
)

// EncodeString applies PowerShell's CLIXML string escaping (serialization.cs
// EncodeString; shared/PROTOCOL.md §3.2): every UTF-16 code unit in
// 0x00-0x1F and 0x7F-0x9F, each half of a surrogate pair (so a non-BMP rune
// becomes two escapes) and a '_' followed by 'x' or 'X' are written as
// _xHHHH_ with four upper-case hex digits. Invalid UTF-8 bytes are replaced
// by U+FFFD. It does not apply XML escaping.
func EncodeString(s string) string {
	if !needsEscape(s) {
		return s
	}
	return string(appendEscaped(nil, s))
}

// needsEscape reports whether s holds anything EncodeString changes.
func needsEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c < 0x20 || c == 0x7F:
			return true
		case c == '_':
			if i+1 < len(s) && (s[i+1] == 'x' || s[i+1] == 'X') {
				return true
			}
		case c >= 0x80:
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 || r >= 0x80 && r <= 0x9F || r > 0xFFFF {
				return true
			}
			i += n - 1
		}
	}
	return false
}

const hexUpper = "0123456789ABCDEF"

func appendEscape(dst []byte, u uint16) []byte {
	return append(dst, '_', 'x', hexUpper[u>>12], hexUpper[u>>8&0xF], hexUpper[u>>4&0xF], hexUpper[u&0xF], '_')
}

// appendEscaped appends EncodeString(s) to dst without XML escaping.
func appendEscaped(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c < 0x20 || c == 0x7F:
				dst = appendEscape(dst, uint16(c))
			case c == '_' && i+1 < len(s) && (s[i+1] == 'x' || s[i+1] == 'X'):
				dst = appendEscape(dst, '_')
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			dst = append(dst, "\uFFFD"...)
		case r <= 0x9F:
			dst = appendEscape(dst, uint16(r))
		case r > 0xFFFF:
			hi, lo := utf16.EncodeRune(r)
			dst = appendEscape(dst, uint16(hi))
			dst = appendEscape(dst, uint16(lo))
		default:
			dst = append(dst, s[i:i+n]...)
		}
		i += n
	}
	return dst
}

// DecodeString reverses EncodeString with the semantics of .NET
// XmlConvert.DecodeName: _xHHHH_ and _xHHHHHHHH_ are decoded with hex digits
// of either case (the 'x' too), a high/low surrogate pair of escapes becomes
// one rune, and anything that is not a valid escape (including a lone
// surrogate) stays literal.
func DecodeString(s string) string {
	i := indexEscape(s, 0)
	if i < 0 {
		return s
	}
	return string(appendUnescaped(make([]byte, 0, len(s)), s, i))
}

// indexEscape returns the index of the first "_x"/"_X" at or after from, or -1.
func indexEscape(s string, from int) int {
	for i := from; i+1 < len(s); i++ {
		if s[i] == '_' && (s[i+1] == 'x' || s[i+1] == 'X') {
			return i
		}
	}
	return -1
}

func hexVal(c byte) (uint32, bool) {
	switch {
	case c >= '0' && c <= '9':
		return uint32(c - '0'), true
	case c >= 'a' && c <= 'f':
		return uint32(c-'a') + 10, true
	case c >= 'A' && c <= 'F':
		return uint32(c-'A') + 10, true
	}
	return 0, false
}

// escapeAt parses an escape of n hex digits at s[i:] ("_x" + n digits + "_").
func escapeAt(s string, i, n int) (uint32, bool) {
	if i+n+3 > len(s) || s[i] != '_' || (s[i+1] != 'x' && s[i+1] != 'X') || s[i+n+2] != '_' {
		return 0, false
	}
	var v uint32
	for _, c := range []byte(s[i+2 : i+2+n]) {
		h, ok := hexVal(c)
		if !ok {
			return 0, false
		}
		v = v<<4 | h
	}
	return v, true
}

// appendUnescaped appends the decoded form of s to dst; first is the index of
// the first candidate escape.
func appendUnescaped(dst []byte, s string, first int) []byte {
	dst = append(dst, s[:first]...)
	i := first
	for i < len(s) {
		j := indexEscape(s, i)
		if j < 0 {
			return append(dst, s[i:]...)
		}
		dst = append(dst, s[i:j]...)
		i = j
		if v, ok := escapeAt(s, i, 4); ok {
			switch {
			case v >= 0xD800 && v <= 0xDBFF:
				if lo, ok := escapeAt(s, i+7, 4); ok && lo >= 0xDC00 && lo <= 0xDFFF {
					dst = utf8.AppendRune(dst, utf16.DecodeRune(rune(v), rune(lo)))
					i += 14
					continue
				}
			case v >= 0xDC00 && v <= 0xDFFF:
			default:
				dst = utf8.AppendRune(dst, rune(v))
				i += 7
				continue
			}
		} else if v, ok := escapeAt(s, i, 8); ok && v <= utf8.MaxRune && (v < 0xD800 || v > 0xDFFF) {
			dst = utf8.AppendRune(dst, rune(v))
			i += 11
			continue
		}
		// Not an escape: keep "_x" literally and go on after it.
		dst = append(dst, s[i], s[i+1])
		i += 2
	}
	return dst
}
