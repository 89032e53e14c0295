package wsman

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Values that come from users or peers are escaped: they can never add
// elements or attributes, and they read back unchanged.
func TestRequestEscaping(t *testing.T) {
	hostile := `a"b'c<d>e&f</rsp:Shell><x y="z">` + "\t\n"
	env := CreateCmdRequest{
		Name:             hostile,
		WorkingDirectory: `C:\Users\<me>`,
		Environment:      []EnvVar{{Name: hostile, Value: hostile}},
		Options:          []Option{{Name: hostile, Value: hostile}},
	}.Envelope(Header{To: "https://h/wsman?a=1&b=2", MessageID: "uuid:X", Locale: `en"US`, OperationTimeout: time.Second})
	r := readRequest(t, "escaped", string(env))
	if r.header.To != "https://h/wsman?a=1&b=2" || r.header.Locale != `en"US` {
		t.Errorf("header read back as %+v", r.header)
	}
	sh := r.body
	if n := len(sh.Children); n != 5 {
		t.Errorf("rsp:Shell has %d children, want 5", n)
	}
	v := sh.child(NsShell, "Environment").child(NsShell, "Variable")
	o := r.root.child(NsSOAP, "Header").child(NsWSMan, "OptionSet").child(NsWSMan, "Option")
	got := []string{sh.child(NsShell, "Name").Text, v.attr("Name"), v.Text, o.attr("Name"), o.Text, sh.child(NsShell, "WorkingDirectory").Text}
	want := []string{hostile, hostile, hostile, hostile, hostile, `C:\Users\<me>`}
	if d := cmp.Diff(want, got); d != "" {
		t.Error(d)
	}
	// Characters XML cannot carry become U+FFFD rather than breaking the
	// document.
	env = SignalRequest{ShellID: "S", Code: "a\x00b"}.Envelope(Header{MessageID: "uuid:X"})
	r = readRequest(t, "control", string(env))
	if c := r.body.child(NsShell, "Code").Text; c != "a\uFFFDb" {
		t.Errorf("code read back as %q", c)
	}
	if strings.Contains(string(env), "\x00") {
		t.Error("NUL written into the envelope")
	}
}

func TestPowerShellResourceURI(t *testing.T) {
	if got := PowerShellResourceURI(""); got != ResourcePowerShell {
		t.Errorf("default = %q", got)
	}
	if got := PowerShellResourceURI("JEARole"); got != "http://schemas.microsoft.com/powershell/JEARole" {
		t.Errorf("JEARole = %q", got)
	}
}

func TestOptionalBodyFields(t *testing.T) {
	h := Header{MessageID: "uuid:X", To: "u"}
	tests := []struct {
		name string
		req  Request
		want []string // substrings
	}{
		{"create with name, idle, no profile", CreateRequest{ShellID: "S", Name: "web", IdleTimeout: 90 * time.Second, NoProfile: true},
			[]string{`ShellId="S"`, "<rsp:IdleTimeOut>PT90S</rsp:IdleTimeOut><rsp:Name>web</rsp:Name><creationXml", `Name="WINRS_NOPROFILE" MustComply="true">TRUE<`, `Name="protocolversion" MustComply="true">2.3<`}},
		{"cmd codepage", CreateCmdRequest{Codepage: 65001}, []string{`Name="WINRS_CODEPAGE">65001<`, "<rsp:OutputStreams>stdout stderr<"}},
		{"disconnect with options", DisconnectRequest{ShellID: "S", IdleTimeout: time.Hour, BufferMode: BufferModeDrop},
			[]string{"<rsp:Disconnect><rsp:BufferMode>Drop</rsp:BufferMode><rsp:IdleTimeOut>PT3600S</rsp:IdleTimeOut></rsp:Disconnect>"}},
		{"command connect", ConnectRequest{ShellID: "S", CommandID: "C"}, []string{`<rsp:Connect CommandId="C"/>`}},
		{"pull", PullRequest{ResourceURI: ResourceShell, Context: "ctx", MaxElements: 10},
			[]string{"<wsen:Pull><wsen:EnumerationContext>ctx</wsen:EnumerationContext><wsen:MaxElements>10</wsen:MaxElements></wsen:Pull>"}},
		{"plain enumerate", EnumerateRequest{ResourceURI: ResourceShell}, []string{"<wsen:Enumerate/>"}},
		{"send end", SendRequest{ShellID: "S", Streams: []SendStream{{Name: "stdin", CommandID: "C", Data: []byte("hi"), End: new(bool)}}},
			[]string{`<rsp:Stream Name="stdin" CommandId="C" End="False">aGk=</rsp:Stream>`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := string(tt.req.Envelope(h))
			for _, w := range tt.want {
				if !strings.Contains(env, w) {
					t.Errorf("envelope lacks %s:\n%s", w, env)
				}
			}
			if _, err := CanonicalXML([]byte(env)); err != nil {
				t.Error(err)
			}
		})
	}
	// Connect for a command must not carry the protocolversion option.
	if env := string((ConnectRequest{ShellID: "S", CommandID: "C"}).Envelope(h)); strings.Contains(env, "protocolversion") {
		t.Error("per-command Connect carries protocolversion")
	}
}
