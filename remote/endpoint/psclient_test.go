package endpoint

import (
	"encoding/base64"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pssession/pssession/remote/psrp"
	"github.com/pssession/pssession/remote/psrp/clixml"
)

const resourceMSPowerShell = "http://schemas.microsoft.com/powershell/Microsoft.PowerShell"

// psClient drives a PowerShell shell of the endpoint with psrp.ClientPool
// over loopback HTTP, the way pypsrp and PowerShell do.
type psClient struct {
	t       testing.TB
	srv     *httptest.Server
	pool    *psrp.ClientPool
	shellID string
	user    string
	// answer is called for non-void host calls.
	answer func(call psrp.HostCall) clixml.Value
}

// run is the result of one pipeline.
type run struct {
	Output   []string
	Errors   []string
	Warnings []string
	Verbose  []string
	Info     []string
	Host     []string
	Progress int
	Exit     *int32
	State    psrp.PipelineState
	Reason   string // message of a Failed/Stopped pipeline
}

func openPS(t testing.TB, srv *httptest.Server, body string) *psClient {
	t.Helper()
	pool, err := psrp.NewClientPool(psrp.ClientConfig{})
	if err != nil {
		t.Fatal(err)
	}
	c := &psClient{t: t, srv: srv, pool: pool, shellID: strings.ToUpper(pool.ID().String())}
	if err := pool.Open(); err != nil {
		t.Fatal(err)
	}
	d := pool.DataToSend(0)
	r := mustOK(t, post(t, srv, reqOpts{action: actionCreate, resource: resourceMSPowerShell,
		options: map[string]string{"!protocolversion": "2.3"},
		body: `<rsp:Shell ShellId="` + c.shellID + `"><rsp:InputStreams>stdin pr</rsp:InputStreams><rsp:OutputStreams>stdout</rsp:OutputStreams>` + body +
			`<creationXml xmlns="http://schemas.microsoft.com/powershell">` + base64.StdEncoding.EncodeToString(d.Data) + `</creationXml></rsp:Shell>`}))
	if got := r.root.First(nsShell, "ShellId").Text; got != c.shellID {
		t.Fatalf("ShellId %s, want %s", got, c.shellID)
	}
	c.waitOpened()
	return c
}

// waitOpened receives on the pool stream until the pool is Opened.
func (c *psClient) waitOpened() {
	c.t.Helper()
	c.untilPoolEvent(func(ev psrp.Event) bool {
		e, ok := ev.(psrp.PoolStateChanged)
		return ok && e.State == psrp.PoolOpened
	})
}

// receive does one Receive and feeds the streams to the pool; it reports
// whether CommandState Done came.
func (c *psClient) receive(cmdID string) bool {
	c.t.Helper()
	ds := `<rsp:DesiredStream>stdout</rsp:DesiredStream>`
	if cmdID != "" {
		ds = `<rsp:DesiredStream CommandId="` + cmdID + `">stdout</rsp:DesiredStream>`
	}
	r := mustOK(c.t, post(c.t, c.srv, reqOpts{action: actionReceive, resource: resourceMSPowerShell, shellID: c.shellID, user: c.user,
		options: map[string]string{"WSMAN_CMDSHELL_OPTION_KEEPALIVE": "True"}, body: `<rsp:Receive>` + ds + `</rsp:Receive>`}))
	for _, s := range r.root.Find(nsShell, "Stream") {
		if s.Attr("CommandId") != cmdID {
			c.t.Fatalf("stream for command %q on a receive for %q", s.Attr("CommandId"), cmdID)
		}
		data, err := base64.StdEncoding.DecodeString(s.Text)
		if err != nil {
			c.t.Fatal(err)
		}
		if err := c.pool.ReceiveData(data); err != nil {
			c.t.Fatalf("client ReceiveData: %v", err)
		}
	}
	st := r.root.First(nsShell, "CommandState")
	return st != nil && st.Attr("State") == commandStateDone
}

// start sends CREATE_PIPELINE for script and returns the pipeline.
func (c *psClient) start(script string) *psrp.ClientPipeline {
	c.t.Helper()
	return c.startSplit(script, 0)
}

// startSplit is start with CREATE_PIPELINE cut into packets of at most
// max bytes: the first goes with Command, the rest by Send on stdin with
// the CommandId (test_psrp_small_msg_size).
func (c *psClient) startSplit(script string, max int) *psrp.ClientPipeline {
	c.t.Helper()
	pl, err := c.pool.CreatePipeline(psrp.PipelineSpec{NoInput: true, Commands: []psrp.Command{{Cmd: script, IsScript: true}}})
	if err != nil {
		c.t.Fatal(err)
	}
	if err := pl.Start(); err != nil {
		c.t.Fatal(err)
	}
	id := strings.ToUpper(pl.ID().String())
	d := c.pool.DataToSend(max)
	mustOK(c.t, post(c.t, c.srv, reqOpts{action: actionCommand, resource: resourceMSPowerShell, shellID: c.shellID, user: c.user,
		body: `<rsp:CommandLine CommandId="` + id + `"><rsp:Command>` + esc(firstLine(script)) + `</rsp:Command><rsp:Arguments>` +
			base64.StdEncoding.EncodeToString(d.Data) + `</rsp:Arguments></rsp:CommandLine>`}))
	c.flush()
	return pl
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// flush sends whatever the client pool queued (host responses, input).
func (c *psClient) flush() {
	c.t.Helper()
	for {
		d := c.pool.DataToSend(100000)
		if d == nil {
			return
		}
		stream, attr := "stdin", ""
		if d.Stream == psrp.StreamPromptResponse {
			stream = "pr"
		}
		if d.PipelineID != (clixml.GUID{}) {
			attr = ` CommandId="` + strings.ToUpper(d.PipelineID.String()) + `"`
		}
		mustOK(c.t, post(c.t, c.srv, reqOpts{action: actionSend, resource: resourceMSPowerShell, shellID: c.shellID, user: c.user,
			body: `<rsp:Send><rsp:Stream Name="` + stream + `"` + attr + `>` + base64.StdEncoding.EncodeToString(d.Data) + `</rsp:Stream></rsp:Send>`}))
	}
}

// collect receives pl's output until Done.
func (c *psClient) collect(pl *psrp.ClientPipeline) run {
	c.t.Helper()
	id := strings.ToUpper(pl.ID().String())
	var res run
	for range 10000 {
		done := c.receive(id)
		c.events(&res, pl)
		c.flush()
		if done {
			if !res.State.Terminal() {
				c.t.Fatalf("CommandState Done before a final pipeline state (%v)", res.State)
			}
			return res
		}
	}
	c.t.Fatal("pipeline never finished")
	return res
}

func (c *psClient) events(res *run, pl *psrp.ClientPipeline) {
	c.t.Helper()
	for {
		ev, ok := c.pool.NextEvent()
		if !ok {
			return
		}
		switch e := ev.(type) {
		case psrp.PipelineOutput:
			res.Output = append(res.Output, valueText(e.Value))
		case psrp.PipelineErrorRecord:
			res.Errors = append(res.Errors, e.Record.ToString)
		case psrp.PipelineWarningRecord:
			res.Warnings = append(res.Warnings, e.Record.ToString)
		case psrp.PipelineVerboseRecord:
			res.Verbose = append(res.Verbose, e.Record.ToString)
		case psrp.PipelineInformationRecord:
			rec, err := clixml.ParseInformationRecord(e.Record)
			if err != nil {
				c.t.Fatalf("information record: %v", err)
			}
			if m, ok := rec.HostMessage(); ok {
				text := m.Message
				if m.ForegroundColor != clixml.NoColor || m.BackgroundColor != clixml.NoColor {
					text = m.ForegroundColor.String() + "/" + m.BackgroundColor.String() + ":" + text
				}
				if m.NoNewLine {
					text += "<no newline>"
				}
				res.Host = append(res.Host, text)
			} else {
				res.Info = append(res.Info, rec.Text())
			}
		case psrp.PipelineProgressRecord:
			res.Progress++
		case psrp.PipelineHostCall:
			call := e.Call
			switch call.Method {
			case psrp.HostWrite1, psrp.HostWriteLine2:
				res.Host = append(res.Host, valueText(call.Params[0]))
			case psrp.HostWrite2, psrp.HostWriteLine3:
				res.Host = append(res.Host, valueText(call.Params[0])+"/"+valueText(call.Params[1])+":"+valueText(call.Params[2]))
			case psrp.HostSetShouldExit:
				code := call.Params[0].(int32)
				res.Exit = &code
			default:
				if call.Method.Void() || c.answer == nil {
					c.t.Fatalf("unexpected host call %v", call.Method)
				}
				if err := pl.HostResponse(call.CallID, c.answer(call), nil); err != nil {
					c.t.Fatal(err)
				}
			}
		case psrp.PipelineStateChanged:
			res.State = e.State
			if e.Error != nil {
				res.Reason = e.Error.ToString
			}
		}
	}
}

func valueText(v clixml.Value) string {
	switch x := v.(type) {
	case *clixml.Object:
		if x.HasToString {
			return x.ToString
		}
		if n, ok := member(x, "Name"); ok {
			return valueText(n)
		}
		if n, ok := member(x, "Count"); ok {
			return "count:" + valueText(n)
		}
		if x.Content == clixml.ContentPrimitive {
			return valueText(x.Value)
		}
	case string:
		return x
	}
	return fmt.Sprintf("%T:%v", v, v)
}

func (c *psClient) signal(pl *psrp.ClientPipeline, code string) {
	c.t.Helper()
	mustOK(c.t, post(c.t, c.srv, reqOpts{action: actionSignal, resource: resourceMSPowerShell, shellID: c.shellID, user: c.user,
		body: `<rsp:Signal CommandId="` + strings.ToUpper(pl.ID().String()) + `"><rsp:Code>` + code + `</rsp:Code></rsp:Signal>`}))
}

func (c *psClient) disconnect(body string) {
	c.t.Helper()
	if err := c.pool.BeginDisconnect(); err != nil {
		c.t.Fatal(err)
	}
	mustOK(c.t, post(c.t, c.srv, reqOpts{action: actionDisconnect, resource: resourceMSPowerShell, shellID: c.shellID, user: c.user,
		body: `<rsp:Disconnect>` + body + `</rsp:Disconnect>`}))
	if err := c.pool.Disconnected(); err != nil {
		c.t.Fatal(err)
	}
}

// connectPS attaches a new client to shellID (Connect-PSSession from
// another process) and reattaches the command pid.
func connectPS(t testing.TB, srv *httptest.Server, shellID string, pid clixml.GUID) (*psClient, *psrp.ClientPipeline) {
	t.Helper()
	id, err := clixml.ParseGUID(shellID)
	if err != nil {
		t.Fatal(err)
	}
	pool, err := psrp.NewClientPool(psrp.ClientConfig{RunspacePoolID: id})
	if err != nil {
		t.Fatal(err)
	}
	c := &psClient{t: t, srv: srv, pool: pool, shellID: shellID}
	if err := pool.Connect(); err != nil {
		t.Fatal(err)
	}
	d := pool.DataToSend(0)
	r := mustOK(t, post(t, srv, reqOpts{action: actionConnect, resource: resourceMSPowerShell, shellID: shellID,
		options: map[string]string{"!protocolversion": "2.3"},
		body:    `<rsp:Connect><connectXml xmlns="http://schemas.microsoft.com/powershell">` + base64.StdEncoding.EncodeToString(d.Data) + `</connectXml></rsp:Connect>`}))
	resp := r.root.First(nsPowerShell, "connectResponseXml")
	if resp == nil {
		t.Fatalf("no connectResponseXml in\n%s", r.raw)
	}
	data, err := base64.StdEncoding.DecodeString(resp.Text)
	if err != nil {
		t.Fatal(err)
	}
	if err := pool.ReceiveData(data); err != nil {
		t.Fatalf("connectResponseXml: %v", err)
	}
	c.waitOpened()
	pl, err := pool.AttachPipeline(pid)
	if err != nil {
		t.Fatal(err)
	}
	mustOK(t, post(t, srv, reqOpts{action: actionConnect, resource: resourceMSPowerShell, shellID: shellID,
		body: `<rsp:Connect CommandId="` + strings.ToUpper(pid.String()) + `"/>`}))
	return c, pl
}

// waitHandler waits until cond (called with h.mu held) holds, woken by the
// handler's change notifications.
func waitHandler(t testing.TB, h *Handler, cond func() bool) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		h.mu.Lock()
		ok := cond()
		ch := h.changedLocked()
		h.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatal("handler never reached the expected state")
		}
	}
}

// untilPoolEvent receives on the pool stream until match accepts an event.
func (c *psClient) untilPoolEvent(match func(psrp.Event) bool) {
	c.t.Helper()
	for range 20 {
		c.receive("")
		for {
			ev, ok := c.pool.NextEvent()
			if !ok {
				break
			}
			if match(ev) {
				return
			}
		}
	}
	c.t.Fatal("the expected pool event never came")
}
