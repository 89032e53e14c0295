package wsman

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const vectorURL = "https://127.0.0.1:55986/wsman"

// replay is a Transport that plays back one recorded Windows exchange: it
// checks each envelope the Client sends against the recorded request
// (canonical XML, normalised as in TestRequestsMatchRecordings) and answers
// with the recorded response, its RelatesTo pointed at our MessageID.
type replay struct {
	t    *testing.T
	file string
	mu   sync.Mutex
	msgs []vectorMessage
	next int
}

func newReplay(t *testing.T, file string) *replay {
	return &replay{t: t, file: file, msgs: loadVector(t, file).Messages}
}

// req returns recorded request i, for the parameters a step passes.
func (r *replay) req(i int) recorded {
	return readRequest(r.t, fmt.Sprintf("%s message %d", r.file, i), r.msgs[i].Request)
}

func (r *replay) Post(ctx context.Context, env []byte) (int, []byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.next >= len(r.msgs) {
		return 0, nil, errors.New("replay: no more recorded messages")
	}
	i := r.next
	m := r.msgs[i]
	r.next++
	where := fmt.Sprintf("%s message %d", r.file, i)
	want, err := CanonicalXML([]byte(m.Request))
	if err != nil {
		r.t.Fatalf("%s: %v", where, err)
	}
	got, err := CanonicalXML(env)
	if err != nil {
		r.t.Fatalf("%s: our envelope: %v", where, err)
	}
	if d := lineDiff(clientNormalise(want), clientNormalise(got)); d != "" {
		r.t.Errorf("%s: client envelope differs (-recorded +ours):\n%s", where, d)
	}
	ours := readRequest(r.t, where+" (ours)", string(env)).messageID
	body := strings.ReplaceAll(m.Response, r.req(i).messageID, ours)
	if m.TransportError != nil {
		return m.TransportError.Code, []byte(body), nil
	}
	return 200, []byte(body), nil
}

// clientNormalise is normalise plus one deliberate difference: Command
// sends the command text or, like PowerShell, a single space, where
// pypsrp sent an empty rsp:Command.
func clientNormalise(canon string) string {
	canon = normalise(canon)
	return strings.ReplaceAll(canon, "{"+NsShell+"}Command text=\" \"", "{"+NsShell+"}Command")
}

func (r *replay) done() {
	r.t.Helper()
	if r.next != len(r.msgs) {
		r.t.Errorf("%s: %d of %d recorded messages were used", r.file, r.next, len(r.msgs))
	}
}

func replayClient(rp *replay, timeout time.Duration) *Client {
	c := NewClient(rp, vectorURL)
	c.OperationTimeout = timeout
	return c
}

func (r *replay) create(ctx context.Context, c *Client, i int) *Shell {
	r.t.Helper()
	q := r.req(i)
	s, err := c.Create(ctx, CreateRequest{
		ShellID:     q.body.attr("ShellId"),
		IdleTimeout: duration(r.t, q.body.child(NsShell, "IdleTimeOut")),
		CreationXML: b64(r.t, q.body.child(NsPowerShell, "creationXml")),
	})
	if err != nil {
		r.t.Fatal(err)
	}
	return s
}

// openPool runs the n pool Receives of a runspace pool open. The first
// one carries the server's SESSION_CAPABILITY (protocol 2.3), after which
// the caller raises the envelope size, as pypsrp did in the recordings.
func (r *replay) openPool(ctx context.Context, c *Client, shellID string, n int) {
	r.t.Helper()
	for i := 0; i < n; i++ {
		if _, err := c.Receive(ctx, shellID, ""); err != nil {
			r.t.Fatal(err)
		}
		if i == 0 {
			c.SetMaxEnvelopeSize(MaxEnvelopeSize22)
		}
	}
}

func (r *replay) command(ctx context.Context, c *Client, i int) string {
	r.t.Helper()
	q := r.req(i)
	id, err := c.Command(ctx, q.shellID, q.body.attr("CommandId"), "", b64(r.t, q.body.child(NsShell, "Arguments")))
	if err != nil {
		r.t.Fatal(err)
	}
	return id
}

// TestClientReceiveRetriesTimeouts replays test_psrp_long_running_cmdlet:
// the command's Receive gets two w:TimedOut faults (one with HTTP 200,
// one with HTTP 500) and then output; the Client re-issues the Receive
// transparently and returns the output.
func TestClientReceiveRetriesTimeouts(t *testing.T) {
	ctx := context.Background()
	rp := newReplay(t, "test_psrp_long_running_cmdlet.yml")
	c := replayClient(rp, 5*time.Second)
	sh := rp.create(ctx, c, 0)
	rp.openPool(ctx, c, sh.ShellID, 2)
	cmd := rp.command(ctx, c, 3)
	out, err := c.Receive(ctx, sh.ShellID, cmd)
	if err != nil {
		t.Fatal(err)
	}
	if rp.next != 7 {
		t.Errorf("Receive used messages up to %d, want 7 (two timeouts, then output)", rp.next)
	}
	if !out.Done() || len(out.Streams) == 0 || out.Streams[0].CommandID != cmd {
		t.Errorf("receive %+v", out)
	}
	if err := c.Delete(ctx, sh.ShellID); err != nil {
		t.Fatal(err)
	}
	rp.done()
}

// timeoutTransport answers every Receive with the recorded TimedOut fault
// and cancels the context after limit posts.
type timeoutTransport struct {
	fault  string
	cancel context.CancelFunc
	limit  int
	posts  int
}

func (tt *timeoutTransport) Post(ctx context.Context, env []byte) (int, []byte, error) {
	tt.posts++
	if tt.posts == tt.limit {
		tt.cancel()
	}
	return 500, []byte(tt.fault), nil
}

func TestClientReceiveStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	v := loadVector(t, "test_psrp_long_running_cmdlet.yml")
	tr := &timeoutTransport{fault: v.Messages[5].Response, cancel: cancel, limit: 3}
	c := NewClient(tr, vectorURL)
	_, err := c.Receive(ctx, "S", "C")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if tr.posts != 3 {
		t.Errorf("posts = %d, want 3", tr.posts)
	}
}

// TestClientDisconnectConnect replays test_psrp_disconnect_runspaces:
// Disconnect, Reconnect, a second pool, shell and command enumeration,
// Connect with connectXml from a "new client", Delete.
func TestClientDisconnectConnect(t *testing.T) {
	ctx := context.Background()
	rp := newReplay(t, "test_psrp_disconnect_runspaces.yml")
	c := replayClient(rp, 20*time.Second)
	a := rp.create(ctx, c, 0)
	rp.openPool(ctx, c, a.ShellID, 3)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.Disconnect(ctx, a.ShellID, 0, ""))
	must(c.Reconnect(ctx, a.ShellID))
	must(c.Disconnect(ctx, a.ShellID, 0, ""))
	b := rp.create(ctx, c, 7)
	rp.openPool(ctx, c, b.ShellID, 2)
	must(c.Disconnect(ctx, b.ShellID, 0, ""))

	// A new client (new process) finds and connects the shells; it
	// starts at the default envelope size until the connect response
	// proves protocol 2.3.
	c = replayClient(rp, 20*time.Second)

	shells, err := c.EnumerateShells(ctx)
	must(err)
	var ids []string
	for _, s := range shells {
		ids = append(ids, s.ShellID+" "+s.State)
	}
	if d := cmp.Diff([]string{a.ShellID + " Disconnected", b.ShellID + " Disconnected"}, ids); d != "" {
		t.Error(d)
	}
	for _, s := range shells {
		cmds, err := c.EnumerateCommands(ctx, s.ShellID)
		must(err)
		if len(cmds) != 0 {
			t.Errorf("commands of %s: %+v", s.ShellID, cmds)
		}
	}
	for _, i := range []int{14, 16} {
		q := rp.req(i)
		resp, err := c.Connect(ctx, q.shellID, b64(t, q.body.child(NsPowerShell, "connectXml")))
		must(err)
		if err := checkFragments(resp); err != nil {
			t.Errorf("connectResponseXml: %v", err)
		}
		c.SetMaxEnvelopeSize(MaxEnvelopeSize22)
		if _, err := c.Receive(ctx, q.shellID, ""); err != nil {
			t.Fatal(err)
		}
	}
	must(c.Delete(ctx, a.ShellID))
	must(c.Delete(ctx, b.ShellID))
	rp.done()
}

func TestClientSignalAndGet(t *testing.T) {
	ctx := context.Background()
	rp := newReplay(t, "test_psrp_multiple_invocations.yml")
	c := replayClient(rp, 20*time.Second)
	sh := rp.create(ctx, c, 0)
	rp.openPool(ctx, c, sh.ShellID, 2)
	for _, i := range []int{3, 6} {
		cmd := rp.command(ctx, c, i)
		out, err := c.Receive(ctx, sh.ShellID, cmd)
		if err != nil || !out.Done() {
			t.Fatalf("receive %+v, %v", out, err)
		}
		if err := c.Signal(ctx, sh.ShellID, cmd, SignalTerminate); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Delete(ctx, sh.ShellID); err != nil {
		t.Fatal(err)
	}
	rp.done()

	rp = newReplay(t, "test_psrp_is_alive_state_disconnected.yml")
	c = replayClient(rp, 20*time.Second)
	sh = rp.create(ctx, c, 0)
	rp.openPool(ctx, c, sh.ShellID, 2)
	var states []string
	for i := 0; i < 2; i++ {
		s, err := c.Get(ctx, sh.ShellID)
		if err != nil {
			t.Fatal(err)
		}
		states = append(states, s.State)
	}
	if d := cmp.Diff([]string{ShellStateConnected, ShellStateDisconnected}, states); d != "" {
		t.Error(d)
	}
	rp.done()
}

func TestClientShellNotFound(t *testing.T) {
	ctx := context.Background()
	rp := newReplay(t, "test_psrp_is_alive_invalid_selectors.yml")
	c := replayClient(rp, 20*time.Second)
	sh := rp.create(ctx, c, 0)
	rp.openPool(ctx, c, sh.ShellID, 2)
	if _, err := c.Get(ctx, sh.ShellID); err != nil {
		t.Fatal(err)
	}
	_, err := c.Get(ctx, rp.req(4).shellID)
	var f *Fault
	if !errors.As(err, &f) || !IsShellNotFound(err) || f.HTTPStatus != 500 {
		t.Fatalf("err = %#v, want shell-not-found fault with HTTP 500", err)
	}
	rp.done()
}

func TestClientGetMaxEnvelopeSize(t *testing.T) {
	tests := []struct {
		file string
		want int
	}{
		{"test_wsman_update_envelope_size_150.yml", 150 * 1024},
		{"test_wsman_update_envelope_size_500.yml", 500 * 1024},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			rp := newReplay(t, tt.file)
			rp.msgs = rp.msgs[:1]
			c := replayClient(rp, 20*time.Second)
			got, err := c.GetMaxEnvelopeSize(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
			rp.done()
		})
	}
}

// transportFunc adapts a function to Transport, to feed the Client
// (status, body) pairs it must classify.
type transportFunc func(ctx context.Context, env []byte) (int, []byte, error)

func (f transportFunc) Post(ctx context.Context, env []byte) (int, []byte, error) { return f(ctx, env) }

// echoRelatesTo answers with body after pointing its RelatesTo (written
// as RELATES) at the request's MessageID.
func echoRelatesTo(t *testing.T, status int, body string) transportFunc {
	return func(ctx context.Context, env []byte) (int, []byte, error) {
		id := readRequest(t, "request", string(env)).messageID
		return status, []byte(strings.ReplaceAll(body, "RELATES", id)), nil
	}
}

func TestClientResponseClassification(t *testing.T) {
	faultBody := loadVector(t, "test_psrp_receive_failure.yml").Messages[3].Response
	deleteOK := `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"><s:Header><a:Action>http://schemas.xmlsoap.org/ws/2004/09/transfer/DeleteResponse</a:Action><a:RelatesTo>RELATES</a:RelatesTo></s:Header><s:Body/></s:Envelope>`
	netErr := errors.New("connection refused")
	tests := []struct {
		name   string
		tr     Transport
		want   string // substring of the error; "" = success
		fault  int    // expected Fault.HTTPStatus, 0 = not a fault
		target error  // errors.Is target
	}{
		{"ok", echoRelatesTo(t, 200, deleteOK), "", 0, nil},
		{"404 empty", echoRelatesTo(t, 404, ""), "wsman: HTTP 404 from " + vectorURL + ": not a WinRM endpoint?", 0, nil},
		{"401", echoRelatesTo(t, 401, ""), "HTTP 401", 0, nil},
		{"500 html", echoRelatesTo(t, 500, "<html>oops</html>"), "server error without a WS-Management fault", 0, nil},
		{"200 html", echoRelatesTo(t, 200, "<html><body>IIS</body></html>"), "invalid response from " + vectorURL, 0, nil},
		{"200 garbage", echoRelatesTo(t, 200, "\x00\xffgarbage"), "malformed XML", 0, nil},
		{"500 fault", echoRelatesTo(t, 500, faultBody), "wsman: fault 2150858843", 500, nil},
		{"200 fault", echoRelatesTo(t, 200, faultBody), "wsman: fault 2150858843", 200, nil},
		{"wrong RelatesTo", echoRelatesTo(t, 200, strings.ReplaceAll(deleteOK, "RELATES", "uuid:00000000-0000-0000-0000-000000000001")), "relates to", 0, nil},
		{"too large", echoRelatesTo(t, 200, deleteOK+strings.Repeat(" ", 2*DefaultMaxEnvelopeSize+64<<10)), "over the", 0, nil},
		{"transport error", transportFunc(func(context.Context, []byte) (int, []byte, error) { return 0, nil, netErr }), "connection refused", 0, netErr},
		{"wrong response", echoRelatesTo(t, 200, strings.ReplaceAll(deleteOK, "transfer/DeleteResponse", "transfer/GetResponse")), "want", 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewClient(tt.tr, vectorURL)
			err := c.Delete(context.Background(), "76056A84-51DC-4F24-9262-CA2A55464B2B")
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
			var f *Fault
			if got := errors.As(err, &f); got != (tt.fault != 0) || got && f.HTTPStatus != tt.fault {
				t.Errorf("fault = %v (%+v), want HTTP status %d", got, f, tt.fault)
			}
			if tt.target != nil && !errors.Is(err, tt.target) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.target)
			}
		})
	}
	if _, err := (&Client{}).Get(context.Background(), "x"); err == nil {
		t.Error("a client without transport succeeded")
	}
}

func TestClientMaxPayload(t *testing.T) {
	id := NewGUID()
	for _, size := range []int{DefaultMaxEnvelopeSize, MaxEnvelopeSize22} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			var sent []byte
			c := NewClient(transportFunc(func(ctx context.Context, env []byte) (int, []byte, error) {
				sent = env
				return 0, nil, errors.New("stop")
			}), "https://a-rather-long-host-name.example.com:5986/wsman?PSVersion=7.4.0")
			c.SetMaxEnvelopeSize(size)
			p := c.MaxPayload()
			_ = c.Send(context.Background(), id, id, StreamStdin, make([]byte, p))
			if len(sent) > size || size-len(sent) > 4096 {
				t.Errorf("Send of MaxPayload() = %d bytes is a %d-byte envelope for a %d limit", p, len(sent), size)
			}
			if !strings.Contains(string(sent), fmt.Sprintf(">%d</wsman:MaxEnvelopeSize>", size)) {
				t.Error("MaxEnvelopeSize header not sent")
			}
			// Worst case for Command: 256 characters that escape to 5 bytes.
			_, _ = c.Command(context.Background(), id, id, strings.Repeat("<", 300), make([]byte, p))
			if len(sent) > size {
				t.Errorf("Command of MaxPayload() bytes is a %d-byte envelope for a %d limit", len(sent), size)
			}
		})
	}
	c := &Client{}
	if c.MaxEnvelopeSize() != DefaultMaxEnvelopeSize {
		t.Errorf("zero Client envelope size %d", c.MaxEnvelopeSize())
	}
	c.SetMaxEnvelopeSize(10)
	if c.MaxEnvelopeSize() != minEnvelopeSize || c.MaxPayload() <= 0 {
		t.Errorf("tiny envelope size gives %d / payload %d", c.MaxEnvelopeSize(), c.MaxPayload())
	}
}

// TestClientMaxPayloadCached: MaxPayload measures its overhead once per
// header; a changed envelope size or URL is measured again, and the answer
// always equals a fresh client's.
func TestClientMaxPayloadCached(t *testing.T) {
	fresh := func(url string, size int) int {
		c := NewClient(nil, url)
		c.SetMaxEnvelopeSize(size)
		return c.MaxPayload()
	}
	c := NewClient(nil, "http://h:5985/wsman")
	steps := []struct {
		url  string
		size int
	}{
		{"http://h:5985/wsman", DefaultMaxEnvelopeSize},
		{"http://h:5985/wsman", MaxEnvelopeSize22},
		{"http://a-much-longer-host-name.example.com:5985/wsman", MaxEnvelopeSize22},
		{"http://h:5985/wsman", 9999},
	}
	for _, st := range steps {
		c.URL = st.url
		c.SetMaxEnvelopeSize(st.size)
		if got, want := c.MaxPayload(), fresh(st.url, st.size); got != want {
			t.Errorf("%s %d: cached MaxPayload %d, fresh client %d", st.url, st.size, got, want)
		}
	}
	c.MaxPayload()
	if n := testing.AllocsPerRun(20, func() { c.MaxPayload() }); n != 0 {
		t.Errorf("MaxPayload with an unchanged header: %.0f allocations, want 0", n)
	}
}

func TestNewGUID(t *testing.T) {
	a, b := NewGUID(), NewGUID()
	if a == b || !guidRE.MatchString(a) || strings.ToUpper(a) != a || a[14] != '4' {
		t.Errorf("NewGUID() = %q, %q", a, b)
	}
	if id := NewMessageID(); !strings.HasPrefix(id, "uuid:") || len(id) != 41 {
		t.Errorf("NewMessageID() = %q", id)
	}
}

// A server that never ends an enumeration is cut off after maxPulls.
func TestClientPullLimit(t *testing.T) {
	const enum = `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration"><s:Body><n:%[1]s><n:EnumerationContext>again</n:EnumerationContext></n:%[1]s></s:Body></s:Envelope>`
	posts := 0
	c := NewClient(transportFunc(func(ctx context.Context, env []byte) (int, []byte, error) {
		posts++
		if posts == 1 {
			return 200, []byte(fmt.Sprintf(enum, "EnumerateResponse")), nil
		}
		return 200, []byte(fmt.Sprintf(enum, "PullResponse")), nil
	}), vectorURL)
	_, err := c.EnumerateShells(context.Background())
	if err == nil || !strings.Contains(err.Error(), "did not end") {
		t.Fatalf("err = %v", err)
	}
	if posts != 1+maxPulls {
		t.Errorf("posts = %d, want %d", posts, 1+maxPulls)
	}
}

func TestClientErrorsRedactURL(t *testing.T) {
	c := NewClient(echoRelatesTo(t, 404, ""), "https://user:secret@host:5986/wsman")
	err := c.Delete(context.Background(), "S")
	if err == nil || strings.Contains(err.Error(), "secret") || !strings.Contains(err.Error(), "host:5986") {
		t.Errorf("err = %v", err)
	}
}
