package wsman

import (
	"strings"
	"testing"
)

// maxFuzzSeed keeps the seed corpus small enough for fast fuzzing; the
// large file-copy responses add nothing the small ones lack.
const maxFuzzSeed = 4 << 10

func addVectorSeeds(f *testing.F, keep func(m vectorMessage) bool) {
	for _, v := range loadVectors(f) {
		for _, m := range v.Messages {
			if m.Response != "" && len(m.Response) <= maxFuzzSeed && keep(m) {
				f.Add([]byte(m.Response))
			}
		}
	}
}

// FuzzParseResponse feeds any body to every decoder: none may panic, and
// a body that parses must canonicalise.
func FuzzParseResponse(f *testing.F) {
	addVectorSeeds(f, func(vectorMessage) bool { return true })
	f.Add([]byte(`<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration"><s:Body><n:PullResponse><n:EnumerationContext>c</n:EnumerationContext><n:Items/></n:PullResponse></s:Body></s:Envelope>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if _, err := CanonicalXML(body); err != nil {
			return
		}
		r, err := ParseResponse(body)
		if err != nil {
			return
		}
		_, _ = r.Create()
		_, _ = r.Shell()
		_, _ = r.CommandID()
		_, _ = r.Receive()
		_, _ = r.Connect()
		_, _ = r.Enumerate()
		_, _ = r.Pull()
		_, _ = r.Config()
		_ = r.Empty(ActionSendResponse)
	})
}

// FuzzParseFault: any body gives a fault or an error, never a panic; a
// parsed fault renders its texts.
func FuzzParseFault(f *testing.F) {
	addVectorSeeds(f, func(m vectorMessage) bool { return strings.Contains(m.Response, "Fault") })
	f.Fuzz(func(t *testing.T, body []byte) {
		flt, err := ParseFault(body)
		if err != nil {
			return
		}
		if !strings.HasPrefix(flt.Error(), "wsman: fault") || flt.Friendly() == "" {
			t.Fatalf("fault texts %q / %q", flt.Error(), flt.Friendly())
		}
		_ = IsOperationTimeout(flt)
		_ = IsShellNotFound(flt)
	})
}

// FuzzParseDuration: no panic; what parses re-renders and parses to the
// same value at millisecond precision.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"PT20S", "PT7200.000S", "PT2147483.647S", "P0DT0H1M2S", "-PT1S", "P1D", "PT", "P", "PT1.5.5S", "PT99999999999999999999S"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			return
		}
		back, err := ParseDuration(FormatDuration(d))
		if err != nil {
			t.Fatalf("%q -> %v -> %q: %v", s, d, FormatDuration(d), err)
		}
		if diff := back - d.Truncate(1e6); diff > 1e6 || diff < -1e6 {
			t.Fatalf("%q -> %v -> %v", s, d, back)
		}
	})
}
