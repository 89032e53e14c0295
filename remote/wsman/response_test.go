package wsman

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// checkFragments checks that b is a sequence of whole PSRP fragments
// (MS-PSRP 2.2.4: ObjectId 8, FragmentId 8, flags 1, length 4 big-endian,
// then the data), the unit every PSRP stream element carries.
func checkFragments(b []byte) error {
	if len(b) == 0 {
		return errors.New("no fragments")
	}
	for len(b) > 0 {
		if len(b) < 21 {
			return fmt.Errorf("%d trailing bytes, shorter than a fragment header", len(b))
		}
		n := int(binary.BigEndian.Uint32(b[17:21]))
		if n > len(b)-21 {
			return fmt.Errorf("fragment length %d beyond the %d bytes left", n, len(b)-21)
		}
		b = b[21+n:]
	}
	return nil
}

// TestResponsesParse decodes every recorded Windows response with the
// accessor for its request's operation and checks what the request
// predicts: RelatesTo, ids, fragment framing, fault codes.
func TestResponsesParse(t *testing.T) {
	counts := map[string]int{}
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			for i, m := range v.Messages {
				where := fmt.Sprintf("%s message %d", v.Name, i)
				if m.HTTPError {
					continue // no SOAP response was recorded
				}
				req := readRequest(t, where, m.Request)
				psrp := strings.HasPrefix(req.header.ResourceURI, ResourcePowerShellPrefix)
				resp, err := ParseResponse([]byte(m.Response))
				var f *Fault
				if errors.As(err, &f) {
					counts["fault"]++
					if f.Code == 0 || f.Message == "" || f.Reason == "" || f.Subcode == "" || f.Machine == "" {
						t.Errorf("%s: incomplete fault %+v", where, f)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s: %v", where, err)
				}
				if m.TransportError != nil {
					t.Errorf("%s: HTTP %d response parsed without a fault", where, m.TransportError.Code)
				}
				if resp.RelatesTo != req.messageID {
					t.Errorf("%s: RelatesTo %q, want %q", where, resp.RelatesTo, req.messageID)
				}
				if resp.Action != req.action+"Response" {
					t.Errorf("%s: action %q for request %q", where, resp.Action, req.action)
				}
				counts[req.action]++
				switch req.action {
				case ActionCreate:
					c, err := resp.Create()
					if err != nil {
						t.Fatalf("%s: %v", where, err)
					}
					if id := req.body.attr("ShellId"); id != "" && c.ShellID != id {
						t.Errorf("%s: ShellId %q, want %q", where, c.ShellID, id)
					}
					if c.ShellID == "" || c.Shell.ShellID != c.ShellID || c.ResourceURI != req.header.ResourceURI || c.Shell.Owner == "" {
						t.Errorf("%s: created %+v", where, c)
					}
				case ActionCommand:
					id, err := resp.CommandID()
					if err != nil {
						t.Fatalf("%s: %v", where, err)
					}
					if want := req.body.attr("CommandId"); want != "" && id != want {
						t.Errorf("%s: CommandId %q, want %q", where, id, want)
					}
				case ActionReceive:
					r, err := resp.Receive()
					if err != nil {
						t.Fatalf("%s: %v", where, err)
					}
					want := req.body.child(NsShell, "DesiredStream").attr("CommandId")
					for _, s := range r.Streams {
						// A command's Receive may carry streams of
						// another command of the shell (observed in
						// test_client_copy_file_warning.yml): only the
						// pool/command scope is fixed.
						if (s.CommandID == "") != (want == "") {
							t.Errorf("%s: stream CommandId %q for a receive on %q", where, s.CommandID, want)
						}
						if psrp {
							if err := checkFragments(s.Data); err != nil {
								t.Errorf("%s: stream %s: %v", where, s.Name, err)
							}
						}
					}
					if r.State != nil && (r.State.CommandID != want || r.State.State == "") {
						t.Errorf("%s: command state %+v for command %q", where, r.State, want)
					}
					if r.Done() {
						counts["done"]++
					}
				case ActionConnect:
					c, err := resp.Connect()
					if err != nil {
						t.Fatalf("%s: %v", where, err)
					}
					if err := checkFragments(c.ConnectResponseXML); err != nil {
						t.Errorf("%s: connectResponseXml: %v", where, err)
					}
				case ActionGet:
					if req.header.ResourceURI == ResourceConfig {
						if _, err := resp.Config(); err != nil {
							t.Fatalf("%s: %v", where, err)
						}
						break
					}
					s, err := resp.Shell()
					if err != nil {
						t.Fatalf("%s: %v", where, err)
					}
					if s.ShellID != req.shellID || s.State == "" {
						t.Errorf("%s: shell %+v", where, s)
					}
				case ActionEnumerate:
					if _, err := resp.Enumerate(); err != nil {
						t.Fatalf("%s: %v", where, err)
					}
				default:
					if err := resp.Empty(req.action + "Response"); err != nil {
						t.Errorf("%s: %v", where, err)
					}
				}
			}
		})
	}
	for _, k := range []string{ActionCreate, ActionCommand, ActionReceive, ActionSend, ActionSignal, ActionDelete,
		ActionConnect, ActionGet, ActionEnumerate, ActionDisconnect, ActionReconnect, "fault", "done"} {
		if counts[k] == 0 {
			t.Errorf("no recorded response of kind %s was checked", k)
		}
	}
}

// response returns the parsed response of message i of a vector file.
func response(t *testing.T, file string, i int) *Response {
	t.Helper()
	v := loadVector(t, file)
	r, err := ParseResponse([]byte(v.Messages[i].Response))
	if err != nil {
		t.Fatalf("%s message %d: %v", file, i, err)
	}
	return r
}

func TestCreateResponseContent(t *testing.T) {
	got, err := response(t, "test_psrp_open_runspace.yml", 0).Create()
	if err != nil {
		t.Fatal(err)
	}
	want := &Created{
		ShellID:     "76056A84-51DC-4F24-9262-CA2A55464B2B",
		ResourceURI: ResourcePowerShell,
		Address:     "https://127.0.0.1:55986/wsman",
		Shell: Shell{
			ShellID:         "76056A84-51DC-4F24-9262-CA2A55464B2B",
			ResourceURI:     ResourcePowerShell,
			Owner:           `WIN-NNMU24VVKJ0\vagrant`,
			ClientIP:        "10.0.2.2",
			ProcessID:       1868,
			IdleTimeout:     7200 * time.Second,
			InputStreams:    "stdin pr",
			OutputStreams:   "stdout",
			MaxIdleTimeout:  2147483647 * time.Millisecond,
			Locale:          "en-US",
			DataLocale:      "en-US",
			CompressionMode: "NoCompression",
			ProfileLoaded:   "Yes",
			Encoding:        "UTF8",
			BufferMode:      BufferModeBlock,
			State:           ShellStateConnected,
		},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Error(d)
	}
}

func TestCreateCmdResponseContent(t *testing.T) {
	got, err := response(t, "test_winrs_environment.yml", 0).Create()
	if err != nil {
		t.Fatal(err)
	}
	if got.ResourceURI != ResourceCmd || got.ShellID == "" {
		t.Errorf("created %+v", got)
	}
	// Windows echoes the variable name without its backslash.
	want := []EnvVar{{"env1", "var1"}, {"1234", "5678"}, {`_-(){}[]<>*+-/?"!@#$^&|;:i,.` + "`~0", `_-(){}[]<>*+-/\?"!@#$^&|;:i,.` + "`~0"}}
	if d := cmp.Diff(want, got.Shell.Environment); d != "" {
		t.Error(d)
	}
}

func TestGetShellDisconnected(t *testing.T) {
	tests := []struct {
		name     string
		msg      int
		state    string
		inactive time.Duration
		memory   string
	}{
		{"connected", 3, ShellStateConnected, 0, "58MB"},
		{"after disconnect", 4, ShellStateDisconnected, 62 * time.Second, "57MB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := response(t, "test_psrp_is_alive_state_disconnected.yml", tt.msg).Shell()
			if err != nil {
				t.Fatal(err)
			}
			got := []any{s.ShellID, s.State, s.ShellInactivity, s.MemoryUsed, s.ChildProcesses, s.IdleTimeout, s.ClientIP, s.ProcessID}
			want := []any{"12FC74F8-639A-45D8-88FF-3E494804563A", tt.state, tt.inactive, tt.memory, 0, 60 * time.Second, "fdc3:d46:8e06:cfa8:f075:80ff:fe33:2fc8", 2852}
			if d := cmp.Diff(want, got); d != "" {
				t.Error(d)
			}
		})
	}
}

func TestEnumerateContent(t *testing.T) {
	shells, err := response(t, "test_psrp_disconnect_runspaces.yml", 11).Enumerate()
	if err != nil {
		t.Fatal(err)
	}
	var ids, states []string
	for _, s := range shells.Shells {
		ids = append(ids, s.ShellID)
		states = append(states, s.State)
		if !s.IsPowerShell() || s.MemoryUsed != "46MB" {
			t.Errorf("shell %+v", s)
		}
	}
	if d := cmp.Diff([]string{"B6631D8E-65A0-49F2-9053-A1B156C95777", "01AA3E43-9E21-424B-A7FC-BC16AA34F4CE"}, ids); d != "" {
		t.Error(d)
	}
	if d := cmp.Diff([]string{ShellStateDisconnected, ShellStateDisconnected}, states); d != "" {
		t.Error(d)
	}
	if !shells.EndOfSequence || shells.Context != "" || len(shells.Commands) != 0 {
		t.Errorf("enumeration %+v", shells)
	}

	cmds, err := response(t, "test_psrp_disconnect_runspaces.yml", 12).Enumerate()
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(&Enumeration{EndOfSequence: true}, cmds); d != "" {
		t.Error(d)
	}
}

// Pull and command items are not in the recordings; these envelopes
// follow the Windows shapes of shared/PROTOCOL.md §1.4 (items in the wsen
// namespace in a PullResponse).
func TestPullAndCommandItems(t *testing.T) {
	const pull = `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"><s:Header><a:Action>http://schemas.xmlsoap.org/ws/2004/09/enumeration/PullResponse</a:Action></s:Header><s:Body><n:PullResponse><n:EnumerationContext>ctx-2</n:EnumerationContext><n:Items><rsp:Command xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell"><rsp:CommandId>3B5D3D44-2C6A-4A6E-8E54-7C2E3E7E2F10</rsp:CommandId><rsp:CommandLine>Start-Sleep 60</rsp:CommandLine><rsp:CommandState>Running</rsp:CommandState></rsp:Command></n:Items></n:PullResponse></s:Body></s:Envelope>`
	r, err := ParseResponse([]byte(pull))
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.Pull()
	if err != nil {
		t.Fatal(err)
	}
	want := &Enumeration{Context: "ctx-2", Commands: []CommandInfo{{CommandID: "3B5D3D44-2C6A-4A6E-8E54-7C2E3E7E2F10", CommandLine: "Start-Sleep 60", CommandState: "Running"}}}
	if d := cmp.Diff(want, got); d != "" {
		t.Error(d)
	}
	if _, err := r.Enumerate(); err == nil {
		t.Error("a PullResponse decoded as an EnumerateResponse")
	}
}

func TestReceiveContent(t *testing.T) {
	// WinRS: stderr and stdout with End, exit code 1.
	v := loadVector(t, "test_winrs_stderr_rc.yml")
	var last *Received
	for i, m := range v.Messages {
		r, err := ParseResponse([]byte(m.Response))
		if err != nil || r.Action != ActionReceiveResponse {
			continue
		}
		if last, err = r.Receive(); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	if last == nil || !last.Done() || last.State.ExitCode == nil || *last.State.ExitCode != 1 {
		t.Fatalf("last receive %+v", last)
	}
	var names []string
	for _, s := range last.Streams {
		if s.End {
			names = append(names, s.Name)
		}
	}
	if d := cmp.Diff([]string{"stdout", "stderr"}, names); d != "" {
		t.Errorf("streams with End: %s", d)
	}

	// PSRP pool receive: capability + application private data.
	r, err := response(t, "test_psrp_open_runspace.yml", 1).Receive()
	if err != nil {
		t.Fatal(err)
	}
	if r.State != nil || len(r.Streams) == 0 || r.Streams[0].Name != StreamStdout || r.Streams[0].CommandID != "" {
		t.Errorf("pool receive %+v", r)
	}
}

func TestConnectResponseContent(t *testing.T) {
	c, err := response(t, "test_psrp_disconnect_runspaces.yml", 14).Connect()
	if err != nil {
		t.Fatal(err)
	}
	if c.InputStreams != "stdin pr" || c.OutputStreams != StreamStdout {
		t.Errorf("streams %q %q", c.InputStreams, c.OutputStreams)
	}
	// Two fragments: SESSION_CAPABILITY (0x00010002) and
	// RUNSPACEPOOL_INIT_DATA (0x0002100B), message type at byte 4 of each
	// message (little-endian).
	b := c.ConnectResponseXML
	var types []uint32
	for len(b) >= 21 {
		n := int(binary.BigEndian.Uint32(b[17:21]))
		types = append(types, binary.LittleEndian.Uint32(b[21+4:21+8]))
		b = b[21+n:]
	}
	if d := cmp.Diff([]uint32{0x00010002, 0x0002100B}, types); d != "" {
		t.Error(d)
	}
}

func TestConfigContent(t *testing.T) {
	tests := []struct {
		file string
		kb   int
	}{
		{"test_wsman_update_envelope_size_150.yml", 150},
		{"test_wsman_update_envelope_size_500.yml", 500},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			c, err := response(t, tt.file, 0).Config()
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(&Config{MaxEnvelopeSizeKB: tt.kb, MaxTimeoutMS: 60000, MaxBatchItems: 32000}, c); d != "" {
				t.Error(d)
			}
		})
	}
}

func TestResponseWrongAccessor(t *testing.T) {
	r := response(t, "test_psrp_open_runspace.yml", 0)
	if _, err := r.Receive(); err == nil {
		t.Error("CreateResponse decoded as a ReceiveResponse")
	}
	if _, err := r.CommandID(); err == nil {
		t.Error("CreateResponse decoded as a CommandResponse")
	}
	if err := r.Empty(ActionDeleteResponse); err == nil {
		t.Error("CreateResponse accepted as a DeleteResponse")
	}
}

func TestParseResponseErrors(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"html", "<html><body>It works</body></html>", "not a SOAP envelope"},
		{"garbage", "\x00\x01binary", "malformed XML"},
		{"empty", "", "empty XML document"},
		{"no body", `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header/></s:Envelope>`, "no SOAP body"},
		{"doctype", `<!DOCTYPE x [<!ENTITY a "b">]><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"/>`, "DOCTYPE"},
		{"two roots", `<a/><b/>`, "more than one root"},
		{"too deep", strings.Repeat("<a>", maxXMLDepth+1) + strings.Repeat("</a>", maxXMLDepth+1), "nested deeper"},
		{"too many elements", "<a>" + strings.Repeat("<b/>", maxXMLElements) + "</a>", "more than"},
		{"bad base64", receiveEnvelope(`<rsp:Stream Name="stdout">!!!</rsp:Stream>`), "illegal base64"},
		{"bad exit code", receiveEnvelope(`<rsp:CommandState CommandId="X" State="` + CommandStateDone + `"><rsp:ExitCode>x</rsp:ExitCode></rsp:CommandState>`), "not a number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseResponse([]byte(tt.body))
			if err == nil {
				_, err = r.Receive()
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func receiveEnvelope(inner string) string {
	return `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell"><s:Body><rsp:ReceiveResponse>` + inner + `</rsp:ReceiveResponse></s:Body></s:Envelope>`
}

func TestConfigLimits(t *testing.T) {
	for _, kb := range []string{"", "0", "-1", "x", "2097152"} {
		body := `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:c="http://schemas.microsoft.com/wbem/wsman/1/config"><s:Body><c:Config><c:MaxEnvelopeSizekb>` + kb + `</c:MaxEnvelopeSizekb></c:Config></s:Body></s:Envelope>`
		r, err := ParseResponse([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Config(); err == nil || !strings.Contains(err.Error(), "MaxEnvelopeSizekb") {
			t.Errorf("MaxEnvelopeSizekb %q: err = %v", kb, err)
		}
	}
}

func TestDecodeBase64Whitespace(t *testing.T) {
	tests := []struct{ in, want string }{
		{"aGVsbG8=", "hello"},
		{"aGVs\r\nbG8=", "hello"},
		{"aGVs\nbG8=\n", "hello"},
		{" aGVs bG8=\t", "hello"},
		{"aGVs\r\n\tbG8=", "hello"},
		{"", ""},
	}
	for _, tt := range tests {
		got, err := decodeBase64(tt.in)
		if err != nil || string(got) != tt.want {
			t.Errorf("decodeBase64(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	if _, err := decodeBase64("aGVs*bG8="); err == nil {
		t.Error("decodeBase64 accepted a non-base64 character")
	}
}
