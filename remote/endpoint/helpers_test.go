package endpoint

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pssession/pssession/internal/vectors"
	"github.com/pssession/pssession/remote/wsman/transport"
)

// fakeClock is a Clock the test advances by hand.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []fakeWaiter
	added   chan struct{} // receives when a timer is registered
}

type fakeWaiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), added: make(chan struct{}, 100)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) (<-chan time.Time, func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := fakeWaiter{at: c.now.Add(d), ch: make(chan time.Time, 1)}
	c.waiters = append(c.waiters, w)
	select {
	case c.added <- struct{}{}:
	default:
	}
	return w.ch, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		for i, x := range c.waiters {
			if x.ch == w.ch {
				c.waiters = append(c.waiters[:i], c.waiters[i+1:]...)
				return
			}
		}
	}
}

// Advance moves the clock and fires the timers that are due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(c.now) {
			w.ch <- c.now
		} else {
			kept = append(kept, w)
		}
	}
	c.waiters = kept
}

// testUserHeader names the caller in tests that need several users.
const testUserHeader = "X-Test-User"

// newTestServer serves a Handler for cfg on loopback HTTP.
func newTestServer(t testing.TB, cfg Config) (*Handler, *httptest.Server) {
	t.Helper()
	if cfg.User == nil {
		cfg.User = func(r *http.Request) string { return r.Header.Get(testUserHeader) }
	}
	h := New(cfg)
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		h.Close()
	})
	return h, srv
}

// newAuthServer serves a default Handler behind transport.NewServerAuth
// with auth on loopback, over TLS when useTLS.
func newAuthServer(t testing.TB, auth transport.ServerConfig, useTLS bool) *httptest.Server {
	t.Helper()
	h := New(Config{})
	sa, err := transport.NewServerAuth(h, auth)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(sa)
	srv.Config.ConnContext = sa.ConnContext
	if useTLS {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(func() {
		srv.Close()
		h.Close()
	})
	return srv
}

// node is an element of a parsed response (vectors.ParseXML).
type node = vectors.Node

// reqOpts describes a request envelope built by the tests the way pypsrp
// and pywinrm build theirs.
type reqOpts struct {
	action, resource string
	shellID          string
	options          map[string]string // name -> value (MustComply when name starts with '!')
	timeout          string
	envelopeSize     int
	body             string
	messageID        string
	user             string
}

func buildEnvelope(o reqOpts) string {
	var b strings.Builder
	b.WriteString(`<s:Envelope xmlns:s="` + nsSOAP + `" xmlns:wsa="` + nsAddressing + `" xmlns:wsman="` + nsWSMan +
		`" xmlns:wsmv="` + nsWSMV + `" xmlns:rsp="` + nsShell + `" xmlns:wsen="` + nsEnum + `"><s:Header>`)
	b.WriteString(`<wsa:Action s:mustUnderstand="true">` + o.action + `</wsa:Action>`)
	size := o.envelopeSize
	if size == 0 {
		size = 153600
	}
	fmt.Fprintf(&b, `<wsman:MaxEnvelopeSize s:mustUnderstand="true">%d</wsman:MaxEnvelopeSize>`, size)
	id := o.messageID
	if id == "" {
		id = "uuid:" + newGUID()
	}
	b.WriteString(`<wsa:MessageID>` + id + `</wsa:MessageID>`)
	timeout := o.timeout
	if timeout == "" {
		timeout = "PT20S"
	}
	b.WriteString(`<wsman:OperationTimeout>` + timeout + `</wsman:OperationTimeout>`)
	b.WriteString(`<wsa:ReplyTo><wsa:Address s:mustUnderstand="true">` + addressAnonymous + `</wsa:Address></wsa:ReplyTo>`)
	if o.resource != "" {
		b.WriteString(`<wsman:ResourceURI s:mustUnderstand="true">` + o.resource + `</wsman:ResourceURI>`)
	}
	b.WriteString(`<wsa:To>http://127.0.0.1/wsman</wsa:To>`)
	if len(o.options) > 0 {
		b.WriteString(`<wsman:OptionSet s:mustUnderstand="true">`)
		for k, v := range o.options {
			must := ""
			if strings.HasPrefix(k, "!") {
				k, must = k[1:], ` MustComply="true"`
			}
			b.WriteString(`<wsman:Option Name="` + k + `"` + must + `>` + v + `</wsman:Option>`)
		}
		b.WriteString(`</wsman:OptionSet>`)
	}
	if o.shellID != "" {
		b.WriteString(`<wsman:SelectorSet><wsman:Selector Name="ShellId">` + o.shellID + `</wsman:Selector></wsman:SelectorSet>`)
	}
	b.WriteString(`</s:Header><s:Body>` + o.body + `</s:Body></s:Envelope>`)
	return b.String()
}

// result is a parsed response.
type result struct {
	status int
	root   *node
	raw    string
}

// faultCode returns the WSManFault Code, or "" for a non-fault.
func (r result) faultCode() string {
	if f := r.root.First(nsFault, "WSManFault"); f != nil {
		return f.Attr("Code")
	}
	return ""
}

func post(t testing.TB, srv *httptest.Server, o reqOpts) result {
	t.Helper()
	env := buildEnvelope(o)
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/wsman?PSVersion=5.1.17763.316", strings.NewReader(env))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/soap+xml;charset=UTF-8")
	if o.user != "" {
		req.Header.Set(testUserHeader, o.user)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", shortAction(o.action), err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	root, err := vectors.ParseXML(data)
	if err != nil {
		t.Fatalf("%s response does not parse: %v\n%s", shortAction(o.action), err, data)
	}
	// Every response relates to its request.
	if rel := root.First(nsAddressing, "RelatesTo"); o.messageID != "" && (rel == nil || rel.Text != o.messageID) {
		t.Errorf("RelatesTo = %v, want %s", rel, o.messageID)
	}
	return result{status: resp.StatusCode, root: root, raw: string(data)}
}

// mustOK fails the test unless r is a 200 non-fault response.
func mustOK(t testing.TB, r result) result {
	t.Helper()
	if r.status != http.StatusOK || r.faultCode() != "" {
		t.Fatalf("status %d fault %s\n%s", r.status, r.faultCode(), r.raw)
	}
	return r
}

// winrsClient drives the cmd resource.
type winrsClient struct {
	t    testing.TB
	srv  *httptest.Server
	user string
}

func (c winrsClient) create(body string) string {
	c.t.Helper()
	r := mustOK(c.t, post(c.t, c.srv, reqOpts{action: actionCreate, resource: resourceCmd, user: c.user,
		options: map[string]string{"WINRS_NOPROFILE": "FALSE", "WINRS_CODEPAGE": "437"},
		body:    `<rsp:Shell><rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr</rsp:OutputStreams>` + body + `</rsp:Shell>`}))
	sel := r.root.First(nsWSMan, "Selector")
	if sel == nil || sel.Attr("Name") != "ShellId" {
		c.t.Fatalf("no ShellId selector in\n%s", r.raw)
	}
	return sel.Text
}

func (c winrsClient) command(shell, cmd string, args ...string) string {
	c.t.Helper()
	body := `<rsp:CommandLine><rsp:Command>` + esc(cmd) + `</rsp:Command>`
	for _, a := range args {
		body += `<rsp:Arguments>` + esc(a) + `</rsp:Arguments>`
	}
	body += `</rsp:CommandLine>`
	r := mustOK(c.t, post(c.t, c.srv, reqOpts{action: actionCommand, resource: resourceCmd, shellID: shell, user: c.user,
		options: map[string]string{"WINRS_SKIP_CMD_SHELL": "False"}, body: body}))
	return r.root.First(nsShell, "CommandId").Text
}

// output receives until Done and returns stdout, stderr and the exit code.
func (c winrsClient) output(shell, id string) (stdout, stderr string, code string) {
	c.t.Helper()
	for range 1000 {
		r := mustOK(c.t, post(c.t, c.srv, reqOpts{action: actionReceive, resource: resourceCmd, shellID: shell, user: c.user,
			options: map[string]string{"WSMAN_CMDSHELL_OPTION_KEEPALIVE": "True"},
			body:    `<rsp:Receive><rsp:DesiredStream CommandId="` + id + `">stdout stderr</rsp:DesiredStream></rsp:Receive>`}))
		for _, s := range r.root.Find(nsShell, "Stream") {
			d, err := base64.StdEncoding.DecodeString(s.Text)
			if err != nil {
				c.t.Fatal(err)
			}
			if s.Attr("Name") == "stdout" {
				stdout += string(d)
			} else {
				stderr += string(d)
			}
		}
		st := r.root.First(nsShell, "CommandState")
		if st != nil && st.Attr("State") == commandStateDone {
			return stdout, stderr, st.First(nsShell, "ExitCode").Text
		}
	}
	c.t.Fatal("command never finished")
	return
}

func (c winrsClient) signal(shell, id, code string) result {
	c.t.Helper()
	return post(c.t, c.srv, reqOpts{action: actionSignal, resource: resourceCmd, shellID: shell, user: c.user,
		body: `<rsp:Signal CommandId="` + id + `"><rsp:Code>` + code + `</rsp:Code></rsp:Signal>`})
}

func (c winrsClient) delete(shell string) result {
	c.t.Helper()
	return post(c.t, c.srv, reqOpts{action: actionDelete, resource: resourceCmd, shellID: shell, user: c.user})
}
