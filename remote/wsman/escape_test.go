package wsman

import (
	"bytes"
	"encoding/xml"
	"testing"
)

// TestEscapeMatchesEncodingXML: the fast path writes exactly what
// xml.EscapeText writes.
func TestEscapeMatchesEncodingXML(t *testing.T) {
	for _, s := range []string{"", "plain text 123", "uuid:0A1B-C2", "http://schemas/x?a=b;c", "a<b", "a>b", "a&b", `a"b`, "a'b",
		"tab\there", "line\nbreak", "cr\r", "caf\u00e9", "\x00nul", "\x7fdel", "\uFFFE", "emoji \U0001F600"} {
		var got, want bytes.Buffer
		escape(&got, s)
		_ = xml.EscapeText(&want, []byte(s))
		if got.String() != want.String() {
			t.Errorf("escape(%q) = %q, want %q", s, got.String(), want.String())
		}
	}
}

func TestOpName(t *testing.T) {
	tests := []struct{ env, want string }{
		{`<s:Envelope><wsa:Action s:mustUnderstand="true">http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Receive</wsa:Action></s:Envelope>`, "Receive"},
		{`<wsa:Action s:mustUnderstand="true">Create</wsa:Action>`, "Create"},
		{`<s:Envelope/>`, "request"},
	}
	for _, tt := range tests {
		if got := opName([]byte(tt.env)); got != tt.want {
			t.Errorf("opName(%q) = %q, want %q", tt.env, got, tt.want)
		}
	}
}
