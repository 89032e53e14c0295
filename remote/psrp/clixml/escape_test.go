package clixml

import "testing"

func TestEncodeString(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "hello world", "hello world"},
		{"empty", "", ""},
		{"newlines and tab", "a\r\nb\tc", "a_x000D__x000A_b_x0009_c"},
		{"NUL", "\x00", "_x0000_"},
		{"DEL and C1", "\x7f\u0085\u009f\u00a0", "_x007F__x0085__x009F_\u00a0"},
		{"underscore before x", "_x_X_y", "_x005F_x_x005F_X_y"},
		{"underscore at end", "a_", "a_"},
		{"looks like an escape", "_x0041_", "_x005F_x0041_"},
		{"non-BMP", "a😀b", "a_xD83D__xDE00_b"},
		{"BMP kept", "é✓中", "é✓中"},
		{"xml specials untouched", `<&>"'`, `<&>"'`},
		{"invalid utf8 replaced", "a\xffb", "a\uFFFDb"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := EncodeString(tc.in); got != tc.want {
				t.Errorf("EncodeString(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestDecodeString(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "hello", "hello"},
		{"upper", "_x000D__x000A_", "\r\n"},
		{"lower hex and x", "_x000d__X000a_", "\r\n"},
		{"underscore", "_x005F_x", "_x"},
		{"pair", "_xD83D__xDE00_", "😀"},
		{"pair lower", "_xd83d__xde00_", "😀"},
		{"eight digits", "_x0001F600_", "😀"},
		{"lone high surrogate", "a_xD83D_b", "a_xD83D_b"},
		{"lone low surrogate", "_xDE00_", "_xDE00_"},
		{"high then non-low", "_xD83D__x0041_", "_xD83D_A"},
		{"short", "_x41_", "_x41_"},
		{"non-hex", "_x00G0_", "_x00G0_"},
		{"unterminated", "_x0041", "_x0041"},
		{"trailing underscore x", "a_x", "a_x"},
		{"adjacent", "_x0041__x0042_", "AB"},
		{"NUL", "_x0000_", "\x00"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := DecodeString(tc.in); got != tc.want {
				t.Errorf("DecodeString(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
