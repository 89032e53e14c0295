package wsman

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// slowReceive decodes a Receive response the general way (encoding/xml).
func slowReceive(b []byte) (string, *Received, error) {
	r, err := ParseResponse(b)
	if err != nil {
		return "", nil, err
	}
	rec, err := r.Receive()
	if err != nil {
		return "", nil, err
	}
	return r.RelatesTo, rec, nil
}

// checkScan runs the scanner on b and, when it accepts, requires the same
// result as the encoding/xml decoder. It reports whether it accepted.
func checkScan(t *testing.T, b []byte) bool {
	t.Helper()
	relFast, fast, ok := scanReceive(b)
	if !ok {
		if fast != nil || relFast != "" {
			t.Fatalf("declined with a result: %q %+v", relFast, fast)
		}
		return false
	}
	relSlow, slow, err := slowReceive(b)
	if err != nil {
		t.Fatalf("scanner accepted what ParseResponse rejects (%v):\n%q", err, b)
	}
	if relFast != relSlow {
		t.Fatalf("RelatesTo %q, encoding/xml %q:\n%q", relFast, relSlow, b)
	}
	if d := cmp.Diff(slow, fast); d != "" {
		t.Fatalf("scanner differs from encoding/xml (-slow +fast):\n%s\n%q", d, b)
	}
	return true
}

const (
	scanHead = `<?xml version="1.0" encoding="utf-8"?><s:Envelope xml:lang="en-US" xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell"><s:Header><a:Action>http://schemas.microsoft.com/wbem/wsman/1/windows/shell/ReceiveResponse</a:Action><a:MessageID>uuid:1</a:MessageID><a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To><a:RelatesTo>uuid:AB</a:RelatesTo></s:Header><s:Body>`
	scanTail = `</s:Body></s:Envelope>`
)

func TestReceiveScanner(t *testing.T) {
	tests := []struct {
		name   string
		doc    string
		accept bool
	}{
		{"windows shape", scanHead + `<rsp:ReceiveResponse><rsp:Stream Name="stdout" CommandId="C1">AAEC</rsp:Stream><rsp:Stream Name="stdout" CommandId="C1" End="true"></rsp:Stream><rsp:CommandState CommandId="C1" State="http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Done"><rsp:ExitCode>0</rsp:ExitCode></rsp:CommandState></rsp:ReceiveResponse>` + scanTail, true},
		{"no prolog, other prefixes", `<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Header xmlns:w="http://schemas.xmlsoap.org/ws/2004/08/addressing"><w:RelatesTo> uuid:x </w:RelatesTo></env:Header><env:Body><x:ReceiveResponse xmlns:x="http://schemas.microsoft.com/wbem/wsman/1/windows/shell"><x:Stream Name='stdout' CommandId='c'>QUJD
REVG</x:Stream></x:ReceiveResponse></env:Body></env:Envelope>`, true},
		{"default namespaces", `<Envelope xmlns="http://www.w3.org/2003/05/soap-envelope"><Body><ReceiveResponse xmlns="http://schemas.microsoft.com/wbem/wsman/1/windows/shell"><Stream Name="stdout">QQ==</Stream><CommandState State="Running"/></ReceiveResponse></Body></Envelope>`, true},
		{"prefix rebound inside", scanHead + `<rsp:ReceiveResponse><rsp:Stream xmlns:rsp="urn:other" Name="stdout">QQ==</rsp:Stream><rsp:Stream Name="stderr">Qg==</rsp:Stream></rsp:ReceiveResponse>` + scanTail, true},
		{"entities and CRLF in attributes", scanHead + `<rsp:ReceiveResponse><rsp:Stream Name="a&amp;b&lt;&quot;&apos;&gt;" CommandId="x&#13;y">QQ==</rsp:Stream></rsp:ReceiveResponse>` + scanTail, false},
		{"five entities", scanHead + `<rsp:ReceiveResponse><rsp:Stream Name="a&amp;b&lt;&quot;&apos;&gt;" CommandId="x` + "\r\n" + `y">QQ==</rsp:Stream></rsp:ReceiveResponse>` + scanTail, true},
		{"empty stream, exit code spaces", scanHead + `<rsp:ReceiveResponse><rsp:Stream Name="stdout" End="TRUE"/><rsp:CommandState State="Done"><rsp:ExitCode> -5 </rsp:ExitCode><rsp:ExitCode>7</rsp:ExitCode></rsp:CommandState><rsp:CommandState State="second"/></rsp:ReceiveResponse>` + scanTail, true},
		{"unknown elements skipped", scanHead + `<rsp:ReceiveResponse><o:X xmlns:o="urn:o" o:a="1"><o:Y>t &amp; u</o:Y></o:X><rsp:Stream Name="stdout">QQ==</rsp:Stream></rsp:ReceiveResponse><o:After xmlns:o="urn:o"/>` + scanTail, true},
		{"no header", `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><r:ReceiveResponse xmlns:r="http://schemas.microsoft.com/wbem/wsman/1/windows/shell"/></s:Body></s:Envelope>`, true},
		{"BOM and trailing space", "\xef\xbb\xbf" + scanHead + `<rsp:ReceiveResponse/>` + scanTail + "\r\n", true},
		{"fault", scanHead + `<s:Fault><s:Code><s:Value>s:Receiver</s:Value></s:Code></s:Fault>` + scanTail, false},
		{"fault after receive", scanHead + `<rsp:ReceiveResponse/><s:Fault/>` + scanTail, false},
		{"no receive response", scanHead + `<rsp:CommandResponse/>` + scanTail, false},
		{"CDATA", scanHead + `<rsp:ReceiveResponse><rsp:Stream Name="stdout"><![CDATA[QQ==]]></rsp:Stream></rsp:ReceiveResponse>` + scanTail, false},
		{"comment", scanHead + `<rsp:ReceiveResponse><!-- c --></rsp:ReceiveResponse>` + scanTail, false},
		{"spaces in base64", scanHead + `<rsp:ReceiveResponse><rsp:Stream Name="stdout">QU JD</rsp:Stream></rsp:ReceiveResponse>` + scanTail, false},
		{"bad base64", scanHead + `<rsp:ReceiveResponse><rsp:Stream Name="stdout">Q</rsp:Stream></rsp:ReceiveResponse>` + scanTail, false},
		{"child in stream", scanHead + `<rsp:ReceiveResponse><rsp:Stream Name="stdout">QQ==<x/></rsp:Stream></rsp:ReceiveResponse>` + scanTail, false},
		{"unknown prefix", scanHead + `<rsp:ReceiveResponse><q:Stream Name="stdout">QQ==</q:Stream></rsp:ReceiveResponse>` + scanTail, false},
		{"mismatched end tag", scanHead + `<rsp:ReceiveResponse><rsp:Stream Name="stdout">QQ==</rsp:Streams></rsp:ReceiveResponse>` + scanTail, false},
		{"unknown entity", scanHead + `<rsp:ReceiveResponse><rsp:Stream Name="&nbsp;">QQ==</rsp:Stream></rsp:ReceiveResponse>` + scanTail, false},
		{"non-numeric exit code", scanHead + `<rsp:ReceiveResponse><rsp:CommandState State="Done"><rsp:ExitCode>x</rsp:ExitCode></rsp:CommandState></rsp:ReceiveResponse>` + scanTail, false},
		{"unescaped lt in attribute", scanHead + `<rsp:ReceiveResponse><rsp:Stream Name="<">QQ==</rsp:Stream></rsp:ReceiveResponse>` + scanTail, false},
		{"two roots", scanHead + `<rsp:ReceiveResponse/>` + scanTail + `<x/>`, false},
		{"latin-1 declaration", `<?xml version="1.0" encoding="iso-8859-1"?>` + strings.TrimPrefix(scanHead, `<?xml version="1.0" encoding="utf-8"?>`) + `<rsp:ReceiveResponse/>` + scanTail, false},
		{"truncated", scanHead + `<rsp:ReceiveResponse><rsp:Stream Name="stdout">QQ==`, false},
		{"empty prefix declaration", scanHead + `<rsp:ReceiveResponse xmlns:p=""><rsp:Stream p:Name="x">QQ==</rsp:Stream></rsp:ReceiveResponse>` + scanTail, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := checkScan(t, []byte(tt.doc)); got != tt.accept {
				_, _, err := slowReceive([]byte(tt.doc))
				t.Fatalf("accepted %v, want %v (encoding/xml: %v)", got, tt.accept, err)
			}
		})
	}
}

// TestReceiveScannerVectors: every recorded Windows ReceiveResponse takes
// the fast path and decodes as encoding/xml decodes it.
func TestReceiveScannerVectors(t *testing.T) {
	n := 0
	for _, v := range loadVectors(t) {
		for i, m := range v.Messages {
			if !strings.Contains(m.Response, "ReceiveResponse") {
				continue
			}
			n++
			if !checkScan(t, []byte(m.Response)) {
				_, _, err := slowReceive([]byte(m.Response))
				t.Errorf("%s message %d: scanner declined a recorded ReceiveResponse (encoding/xml: %v)", v.Name, i, err)
			}
		}
	}
	if n == 0 {
		t.Fatal("no recorded ReceiveResponse in the vectors")
	}
	t.Logf("%d recorded ReceiveResponses", n)
}

// FuzzReceiveScanner: the scanner either declines or gives what
// encoding/xml gives.
func FuzzReceiveScanner(f *testing.F) {
	addVectorSeeds(f, func(m vectorMessage) bool { return strings.Contains(m.Response, "ReceiveResponse") })
	f.Add([]byte(scanHead + `<rsp:ReceiveResponse><rsp:Stream Name="stdout" CommandId="C1">AAEC</rsp:Stream><rsp:CommandState CommandId="C1" State="Done"><rsp:ExitCode>0</rsp:ExitCode></rsp:CommandState></rsp:ReceiveResponse>` + scanTail))
	f.Add([]byte(`<Envelope xmlns="http://www.w3.org/2003/05/soap-envelope"><Body><ReceiveResponse xmlns="http://schemas.microsoft.com/wbem/wsman/1/windows/shell"><Stream Name="a&amp;b">QQ==</Stream></ReceiveResponse></Body></Envelope>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		checkScan(t, b)
	})
}

// bulkReceiveResponse is a bulk-output ReceiveResponse as the endpoint
// sends it: one rsp:Stream per PSRP message of a 1000-character line.
func bulkReceiveResponse() []byte {
	msg := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("x", 1100)))
	var b strings.Builder
	b.WriteString(scanHead + `<rsp:ReceiveResponse>`)
	for range 200 {
		b.WriteString(`<rsp:Stream Name="stdout" CommandId="9A1E2F3C-0000-4000-8000-000000000001">` + msg + `</rsp:Stream>`)
	}
	b.WriteString(`</rsp:ReceiveResponse>` + scanTail)
	return []byte(b.String())
}

// BenchmarkReceiveDecode compares the scanner with encoding/xml on a
// 400 KB bulk Receive response.
func BenchmarkReceiveDecode(b *testing.B) {
	body := bulkReceiveResponse()
	b.Run("scanner", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			if _, _, ok := scanReceive(body); !ok {
				b.Fatal("declined")
			}
		}
	})
	b.Run("encoding-xml", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := slowReceive(body); err != nil {
				b.Fatal(err)
			}
		}
	})
}
