package endpoint

import (
	"bytes"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pssession/pssession/internal/vectors"
	"github.com/pssession/pssession/remote/wsman"
)

func TestFaults(t *testing.T) {
	clock := newFakeClock()
	_, srv := newTestServer(t, Config{Clock: clock})
	c := winrsClient{t: t, srv: srv, user: "alice"}
	shell := c.create("")
	for _, tc := range []struct {
		name    string
		o       reqOpts
		raw     string // sent as is instead of o
		code    string
		subcode string
	}{
		{name: "unknown shell", code: "2150858843", subcode: "w:InvalidSelectors",
			o: reqOpts{action: actionGet, resource: resourceShell, shellID: "00000000-0000-0000-0000-000000000000", user: "alice"}},
		{name: "no ShellId selector", code: "2150858843", subcode: "w:InvalidSelectors",
			o: reqOpts{action: actionDelete, resource: resourceCmd, user: "alice"}},
		{name: "unknown command", code: "2150858843", subcode: "w:InvalidSelectors",
			o: reqOpts{action: actionReceive, resource: resourceCmd, shellID: shell, user: "alice",
				body: `<rsp:Receive><rsp:DesiredStream CommandId="11111111-1111-1111-1111-111111111111">stdout stderr</rsp:DesiredStream></rsp:Receive>`}},
		{name: "another user's shell", code: "5", subcode: "w:AccessDenied",
			o: reqOpts{action: actionGet, resource: resourceShell, shellID: shell, user: "mallory"}},
		{name: "unknown action", code: "2150858771", subcode: "a:ActionNotSupported",
			o: reqOpts{action: "http://example.com/NoSuchAction", resource: resourceCmd, shellID: shell, user: "alice"}},
		{name: "MustComply option not understood", code: "2150858809", subcode: "w:InvalidOptions",
			o: reqOpts{action: actionGet, resource: resourceShell, shellID: shell, user: "alice",
				options: map[string]string{"!NO_SUCH_OPTION": "1"}}},
		{name: "unknown optional option is ignored", code: "",
			o: reqOpts{action: actionGet, resource: resourceShell, shellID: shell, user: "alice",
				options: map[string]string{"NO_SUCH_OPTION": "1"}}},
		{name: "negative OperationTimeout", code: "2150858767", subcode: "a:InvalidMessageInformationHeader",
			o: reqOpts{action: actionGet, resource: resourceShell, shellID: shell, user: "alice", timeout: "PT-1S"}},
		{name: "missing MessageID", code: "2150858767", subcode: "a:InvalidMessageInformationHeader",
			raw: `<s:Envelope xmlns:s="` + nsSOAP + `" xmlns:a="` + nsAddressing + `"><s:Header><a:Action>` + actionGet + `</a:Action></s:Header><s:Body/></s:Envelope>`},
		{name: "malformed XML", code: "2150858817", subcode: "w:SchemaValidationError",
			raw: `<s:Envelope xmlns:s="` + nsSOAP + `"><s:Header>`},
		{name: "not a SOAP envelope", code: "2150858817", subcode: "w:SchemaValidationError",
			raw: `<Envelope/>`},
		{name: "unknown resource on Create", code: "2150858811", subcode: "w:InvalidResourceURI",
			o: reqOpts{action: actionCreate, resource: "http://schemas.microsoft.com/powershell/NoSuchConfig", user: "alice",
				body: `<rsp:Shell><rsp:InputStreams>stdin pr</rsp:InputStreams></rsp:Shell>`}},
		{name: "Command without a body", code: "2150858817", subcode: "w:SchemaValidationError",
			o: reqOpts{action: actionCommand, resource: resourceCmd, shellID: shell, user: "alice"}},
		{name: "config Get", code: "",
			o: reqOpts{action: actionGet, resource: resourceConfig, user: "alice"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r result
			if tc.raw != "" {
				r = postRaw(t, srv.URL, []byte(tc.raw))
			} else {
				tc.o.messageID = "uuid:" + newGUID()
				r = post(t, srv, tc.o)
			}
			if got := r.faultCode(); got != tc.code {
				t.Fatalf("fault code %q, want %q\n%s", got, tc.code, r.raw)
			}
			if tc.code == "" {
				if r.status != http.StatusOK {
					t.Fatalf("status %d", r.status)
				}
				return
			}
			if r.status != http.StatusInternalServerError {
				t.Errorf("status %d, want 500", r.status)
			}
			sub := r.root.First(nsSOAP, "Subcode")
			if sub == nil || strings.TrimSpace(sub.First(nsSOAP, "Value").Text) != tc.subcode {
				t.Errorf("subcode %v, want %s\n%s", sub, tc.subcode, r.raw)
			}
			for _, el := range []string{"Reason", "Detail"} {
				if r.root.First(nsSOAP, el) == nil {
					t.Errorf("fault has no s:%s", el)
				}
			}
			if f := r.root.First(nsFault, "WSManFault"); f.Attr("Machine") == "" || f.First(nsFault, "Message") == nil {
				t.Errorf("WSManFault lacks Machine or f:Message\n%s", r.raw)
			}
		})
	}
}

func postRaw(t *testing.T, url string, data []byte) result {
	t.Helper()
	resp, err := http.Post(url+"/wsman", "application/soap+xml;charset=UTF-8", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	root, err := vectors.ParseXML(buf.Bytes())
	if err != nil {
		t.Fatalf("response does not parse: %v\n%s", err, buf.Bytes())
	}
	return result{status: resp.StatusCode, root: root, raw: buf.String()}
}

func TestRequestTooLarge(t *testing.T) {
	_, srv := newTestServer(t, Config{})
	big := buildEnvelope(reqOpts{action: actionGet, resource: resourceConfig, body: strings.Repeat("<x/>", MaxRequestBytes/4+1)})
	r := postRaw(t, srv.URL, []byte(big))
	if got := r.faultCode(); got != "2150858790" {
		t.Fatalf("fault %q, want 2150858790\n%.500s", got, r.raw)
	}
}

func TestReceiveTimesOut(t *testing.T) {
	clock := newFakeClock()
	_, srv := newTestServer(t, Config{Clock: clock})
	c := winrsClient{t: t, srv: srv}
	shell := c.create("")
	id := c.command(shell, "sleep 300")
	done := make(chan result, 1)
	go func() {
		done <- post(t, srv, reqOpts{action: actionReceive, resource: resourceCmd, shellID: shell, timeout: "PT5S",
			body: `<rsp:Receive><rsp:DesiredStream CommandId="` + id + `">stdout stderr</rsp:DesiredStream></rsp:Receive>`})
	}()
	<-clock.added
	clock.Advance(4 * time.Second)
	select {
	case r := <-done:
		t.Fatalf("Receive returned before its OperationTimeout:\n%s", r.raw)
	default:
	}
	clock.Advance(time.Second)
	r := <-done
	if r.faultCode() != "2150858793" || r.status != 500 {
		t.Fatalf("fault %q status %d, want 2150858793 TimedOut\n%s", r.faultCode(), r.status, r.raw)
	}
	if sub := r.root.First(nsSOAP, "Subcode").First(nsSOAP, "Value").Text; sub != "w:TimedOut" {
		t.Errorf("subcode %s", sub)
	}
}

func TestIdleTimeoutExpiresShells(t *testing.T) {
	clock := newFakeClock()
	_, srv := newTestServer(t, Config{Clock: clock, MaxIdleTimeout: 90 * time.Second})
	c := winrsClient{t: t, srv: srv}
	short := c.create("<rsp:IdleTimeOut>PT60S</rsp:IdleTimeOut>")
	capped := c.create("<rsp:IdleTimeOut>PT600S</rsp:IdleTimeOut>")
	get := func(id string) result {
		return post(t, srv, reqOpts{action: actionGet, resource: resourceShell, shellID: id})
	}
	if it := mustOK(t, get(capped)).root.First(nsShell, "IdleTimeOut").Text; it != "PT90.000S" {
		t.Errorf("capped IdleTimeOut %s, want PT90.000S", it)
	}
	clock.Advance(59 * time.Second)
	mustOK(t, get(short)) // activity resets the idle clock
	clock.Advance(61 * time.Second)
	if code := get(short).faultCode(); code != "2150858843" {
		t.Errorf("idle shell still there (fault %q)", code)
	}
	if code := get(capped).faultCode(); code != "2150858843" {
		t.Errorf("shell idle beyond MaxIdleTimeOut still there (fault %q)", code)
	}
}

func TestDefaultIdleTimeout(t *testing.T) {
	clock := newFakeClock()
	_, srv := newTestServer(t, Config{Clock: clock})
	c := winrsClient{t: t, srv: srv}
	id := c.create("")
	r := mustOK(t, post(t, srv, reqOpts{action: actionGet, resource: resourceShell, shellID: id}))
	if it := r.root.First(nsShell, "IdleTimeOut").Text; it != "PT7200.000S" {
		t.Fatalf("IdleTimeOut %s", it)
	}
	clock.Advance(7201 * time.Second)
	if code := post(t, srv, reqOpts{action: actionGet, resource: resourceShell, shellID: id}).faultCode(); code != "2150858843" {
		t.Fatalf("fault %q", code)
	}
}

// FuzzParseRequest feeds request envelopes (seeded with every request of
// the recorded Windows exchanges) to the parser: it must never panic.
func FuzzParseRequest(f *testing.F) {
	var files []string
	if dir, err := vectors.Dir(); err == nil {
		files, _ = filepath.Glob(filepath.Join(dir, "*.yml"))
	}
	seen := map[string]bool{}
	for _, file := range files {
		v, err := vectors.Load(file)
		if err != nil {
			continue
		}
		for _, m := range v.Messages {
			// One seed per action and resource keeps the baseline quick.
			key := actionRE.FindString(m.Request) + resourceRE.FindString(m.Request)
			if len(m.Request) < 8192 && !seen[key] {
				seen[key] = true
				f.Add([]byte(m.Request))
			}
		}
	}
	f.Add([]byte(buildEnvelope(reqOpts{action: actionCreate, resource: resourceCmd, body: "<rsp:Shell/>"})))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, fault := parseRequest(data)
		if fault == nil {
			_ = r.envelopeSize()
			_ = r.operationTimeout(time.Second)
			_ = r.checkOptions()
		}
	})
}

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{in: "PT20S", want: 20 * time.Second},
		{in: "PT60.000S", want: 60 * time.Second},
		{in: "P0DT1H2M3.5S", want: time.Hour + 2*time.Minute + 3500*time.Millisecond},
		{in: "P1D", want: 24 * time.Hour},
		{in: "PT-1S", bad: true},
		{in: "P", bad: true},
		{in: "PT", bad: true},
		{in: "20S", bad: true},
		{in: "P1Y", bad: true},
		{in: "PT99999999999999999999S", bad: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := wsman.ParseDuration(tc.in)
			if (err != nil) != tc.bad || got != tc.want && !tc.bad {
				t.Fatalf("wsman.ParseDuration(%q) = %v, %v", tc.in, got, err)
			}
		})
	}
	if got := formatSeconds(7200 * time.Second); got != "PT7200.000S" {
		t.Errorf("formatSeconds = %s", got)
	}
	if got := formatDHMS(62 * time.Second); got != "P0DT0H1M2S" {
		t.Errorf("formatDHMS = %s", got)
	}
}
