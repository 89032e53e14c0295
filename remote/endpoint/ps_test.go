package endpoint

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/pssession/pssession/remote/psrp"
	"github.com/pssession/pssession/remote/psrp/clixml"
)

func intp(i int32) *int32 { return &i }

func TestPowerShellScripted(t *testing.T) {
	_, srv := newTestServer(t, Config{})
	c := openPS(t, srv, "")
	c.answer = func(call psrp.HostCall) clixml.Value {
		switch call.Method {
		case psrp.HostReadLine:
			return "typed answer"
		case psrp.HostPromptForChoice:
			return int32(1)
		case psrp.HostPromptForCredential1:
			return &clixml.Object{TypeNames: []string{"System.Management.Automation.PSCredential", "System.Object"},
				Props: []clixml.Property{{Name: "UserName", Value: `CORP\alice`}, {Name: "Password", Value: nil}}}
		}
		return nil
	}
	for _, tc := range []struct {
		name, script string
		want         run
	}{
		{name: "output", script: "Write-Output a 'b c'; 42", want: run{Output: []string{"a", "b c", "int32:42"}, State: psrp.PipelineCompleted}},
		{name: "streams", script: "Write-Error bad\nWrite-Warning w; Write-Verbose v; Write-Information i; Write-Progress -Activity act -PercentComplete 50",
			want: run{Errors: []string{"bad"}, Warnings: []string{"w"}, Verbose: []string{"v"}, Info: []string{"i"}, Progress: 1, State: psrp.PipelineCompleted}},
		{name: "write-host", script: "Write-Host plain; Write-Host -ForegroundColor Red -NoNewline red",
			want: run{Host: []string{"plain", "Red/:red<no newline>"}, State: psrp.PipelineCompleted}},
		{name: "variables and location", script: "$x = hello; Set-Location C:\\temp; cd sub; Write-Output \"$x world\"; prompt",
			want: run{Output: []string{"hello world", `PS C:\temp\sub> `}, State: psrp.PipelineCompleted}},
		{name: "variables persist in the runspace", script: "$x",
			want: run{Output: []string{"hello"}, State: psrp.PipelineCompleted}},
		{name: "read-host", script: "Read-Host 'Your name'",
			want: run{Host: []string{"Your name: "}, Output: []string{"typed answer"}, State: psrp.PipelineCompleted}},
		{name: "choice", script: "Read-Choice Title Pick yes no",
			want: run{Output: []string{"int32:1"}, State: psrp.PipelineCompleted}},
		{name: "credential", script: "Get-Credential alice",
			want: run{Output: []string{`CORP\alice`}, State: psrp.PipelineCompleted}},
		{name: "exit", script: "Write-Output before; exit 3; Write-Output after",
			want: run{Output: []string{"before"}, Exit: intp(3), State: psrp.PipelineCompleted}},
		{name: "throw", script: "throw kaboom", want: run{State: psrp.PipelineFailed, Reason: "kaboom"}},
		{name: "unknown command", script: "Get-Nothing", want: run{State: psrp.PipelineCompleted,
			Errors: []string{"The term 'Get-Nothing' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again."}}},
		{name: "large output", script: "Get-Output -Lines 3000", want: run{Output: lines(3000), State: psrp.PipelineCompleted}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := c.collect(c.start(tc.script))
			if d := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func lines(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("line %d", i+1)
	}
	return out
}

func TestPowerShellStop(t *testing.T) {
	_, srv := newTestServer(t, Config{})
	c := openPS(t, srv, "")
	pl := c.start("Start-Sleep -Seconds 60; Write-Output never")
	c.signal(pl, signalPSCtrlC)
	got := c.collect(pl)
	want := run{State: psrp.PipelineStopped, Reason: "The pipeline has been stopped."}
	if d := cmp.Diff(want, got, cmpopts.EquateEmpty()); d != "" {
		t.Fatalf("(-want +got):\n%s", d)
	}
	// The runspace survives the stop.
	if got := c.collect(c.start("Write-Output still-here")); len(got.Output) != 1 || got.Output[0] != "still-here" {
		t.Fatalf("after stop: %+v", got)
	}
	c.signal(pl, signalTerminate)
}

func TestPowerShellDisconnectConnect(t *testing.T) {
	const limit = 4096
	for _, tc := range []struct {
		name, mode string
	}{
		{"Block keeps every message and pauses the engine", "Block"},
		{"Drop discards the oldest messages", "Drop"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, srv := newTestServer(t, Config{BufferLimit: limit})
			c := openPS(t, srv, `<rsp:Name>work</rsp:Name>`)
			pl := c.start("Get-Output -Lines 2000")
			id := strings.ToUpper(pl.ID().String())
			c.disconnect(`<rsp:IdleTimeOut>PT600S</rsp:IdleTimeOut><rsp:BufferMode>` + tc.mode + `</rsp:BufferMode>`)

			r := mustOK(t, post(t, srv, reqOpts{action: actionGet, resource: resourceShell, shellID: c.shellID}))
			for el, want := range map[string]string{"State": "Disconnected", "BufferMode": tc.mode, "IdleTimeOut": "PT600.000S", "Name": "work"} {
				if got := r.root.First(nsShell, el).Text; got != want {
					t.Errorf("%s = %q, want %q", el, got, want)
				}
			}
			if code := post(t, srv, reqOpts{action: actionReceive, resource: resourceMSPowerShell, shellID: c.shellID,
				body: `<rsp:Receive><rsp:DesiredStream CommandId="` + id + `">stdout</rsp:DesiredStream></rsp:Receive>`}).faultCode(); code == "" {
				t.Error("Receive on a disconnected shell succeeded")
			}

			cmdOf := func() *psCommand { return h.shells[c.shellID].commands[id].p }
			if tc.mode == "Block" {
				waitHandler(t, h, func() bool { return cmdOf().blocked > 0 })
				h.mu.Lock()
				buffered, finished := cmdOf().bufferedLocked(), cmdOf().finished
				h.mu.Unlock()
				if finished || buffered > limit+1024 {
					t.Fatalf("engine not paused: finished %v, %d bytes buffered", finished, buffered)
				}
			} else {
				waitHandler(t, h, func() bool { return cmdOf().finished })
			}

			// Enumerating commands shows the pipeline to a new client.
			r = mustOK(t, post(t, srv, reqOpts{action: actionEnumerate, resource: resourceShellCommand,
				body: `<wsen:Enumerate><wsman:OptimizeEnumeration/><wsman:MaxElements>32000</wsman:MaxElements><wsman:Filter Dialect="` +
					selectorFilterDialect + `"><wsman:SelectorSet><wsman:Selector Name="ShellId">` + c.shellID +
					`</wsman:Selector></wsman:SelectorSet></wsman:Filter></wsen:Enumerate>`}))
			if got := r.root.First(nsShell, "CommandId"); got == nil || got.Text != id {
				t.Fatalf("command enumeration:\n%s", r.raw)
			}

			c2, pl2 := connectPS(t, srv, c.shellID, pl.ID())
			got := c2.collect(pl2)
			if got.State != psrp.PipelineCompleted {
				t.Fatalf("state %v", got.State)
			}
			all := lines(2000)
			switch tc.mode {
			case "Block":
				// The first client may have received nothing: all output
				// was buffered.
				if d := cmp.Diff(all, got.Output); d != "" {
					t.Fatalf("Block lost output (-want +got):\n%s", d)
				}
			case "Drop":
				n := len(got.Output)
				if n == 0 || n >= 2000 {
					t.Fatalf("Drop kept %d of 2000 lines", n)
				}
				if d := cmp.Diff(all[2000-n:], got.Output); d != "" {
					t.Fatalf("Drop did not keep the newest lines (-want +got):\n%s", d)
				}
			}
			r = mustOK(t, post(t, srv, reqOpts{action: actionGet, resource: resourceShell, shellID: c.shellID}))
			if s := r.root.First(nsShell, "State").Text; s != "Connected" {
				t.Errorf("State after Connect = %s", s)
			}
		})
	}
}

func TestPowerShellReconnect(t *testing.T) {
	_, srv := newTestServer(t, Config{})
	c := openPS(t, srv, "")
	pl := c.start("Write-Output one; Write-Output two")
	c.disconnect("")
	if err := c.pool.BeginReconnect(); err != nil {
		t.Fatal(err)
	}
	mustOK(t, post(t, srv, reqOpts{action: actionReconnect, resource: resourceMSPowerShell, shellID: c.shellID}))
	if err := c.pool.Reconnected(); err != nil {
		t.Fatal(err)
	}
	got := c.collect(pl)
	if d := cmp.Diff(run{Output: []string{"one", "two"}, State: psrp.PipelineCompleted}, got, cmpopts.EquateEmpty()); d != "" {
		t.Fatal(d)
	}
	// Connecting to a shell that is connected fails.
	if code := post(t, srv, reqOpts{action: actionConnect, resource: resourceMSPowerShell, shellID: c.shellID,
		body: `<rsp:Connect><connectXml xmlns="http://schemas.microsoft.com/powershell">AAAA</connectXml></rsp:Connect>`}).faultCode(); code != "2150859213" {
		t.Fatalf("fault %q", code)
	}
}

func TestPowerShellSecureStringAndAvailability(t *testing.T) {
	_, srv := newTestServer(t, Config{})
	c := openPS(t, srv, "")

	// Key exchange on the pool stream (PUBLIC_KEY → ENCRYPTED_SESSION_KEY).
	if err := c.pool.ExchangeKey(); err != nil {
		t.Fatal(err)
	}
	c.flush()
	c.untilPoolEvent(func(ev psrp.Event) bool { _, ok := ev.(psrp.SessionKeyReady); return ok })

	// SET_MAX_RUNSPACES is answered with RUNSPACE_AVAILABILITY true.
	ci, err := c.pool.SetMaxRunspaces(2)
	if err != nil {
		t.Fatal(err)
	}
	c.flush()
	c.untilPoolEvent(func(ev psrp.Event) bool {
		e, ok := ev.(psrp.RunspaceAvailabilityReceived)
		return ok && e.CallID == ci && e.Value == true
	})

	// Read-Host -AsSecureString: the answer travels encrypted.
	c.answer = func(call psrp.HostCall) clixml.Value {
		ss, err := c.pool.EncryptSecureString("s3cret")
		if err != nil {
			t.Fatal(err)
		}
		return ss
	}
	got := c.collect(c.start("Read-Host -AsSecureString"))
	if d := cmp.Diff(run{Output: []string{"s3cret"}, State: psrp.PipelineCompleted}, got, cmpopts.EquateEmpty()); d != "" {
		t.Fatal(d)
	}
}

type panicEngine struct{}

func (panicEngine) Open(context.Context, RunspaceOptions) (Runspace, error) { panic("engine bug") }

func TestPanicBecomesFault(t *testing.T) {
	_, srv := newTestServer(t, Config{Engine: panicEngine{}})
	pool, err := psrp.NewClientPool(psrp.ClientConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := pool.Open(); err != nil {
		t.Fatal(err)
	}
	r := post(t, srv, reqOpts{action: actionCreate, resource: resourceMSPowerShell,
		body: `<rsp:Shell ShellId="` + strings.ToUpper(pool.ID().String()) + `"><creationXml xmlns="http://schemas.microsoft.com/powershell">` +
			base64.StdEncoding.EncodeToString(pool.DataToSend(0).Data) + `</creationXml></rsp:Shell>`})
	if r.status != 500 || r.faultCode() != fmt.Sprint(CodeInternalError) {
		t.Fatalf("status %d fault %q\n%s", r.status, r.faultCode(), r.raw)
	}
	// The server keeps serving.
	mustOK(t, post(t, srv, reqOpts{action: actionGet, resource: resourceConfig}))
}

func TestPowerShellCreatePipelineSplitAcrossSend(t *testing.T) {
	_, srv := newTestServer(t, Config{})
	c := openPS(t, srv, "")
	script := "Write-Output start\n" + strings.Repeat("# padding to make CREATE_PIPELINE span several fragments\n", 200) + "Write-Output end"
	got := c.collect(c.startSplit(script, 2000))
	if d := cmp.Diff(run{Output: []string{"start", "end"}, State: psrp.PipelineCompleted}, got, cmpopts.EquateEmpty()); d != "" {
		t.Fatal(d)
	}
}

func TestDisconnectedShellExpiresAfterItsIdleTimeout(t *testing.T) {
	clock := newFakeClock()
	_, srv := newTestServer(t, Config{Clock: clock})
	c := openPS(t, srv, "")
	c.disconnect(`<rsp:IdleTimeOut>PT60S</rsp:IdleTimeOut>`)
	get := func() result {
		return post(t, srv, reqOpts{action: actionGet, resource: resourceShell, shellID: c.shellID})
	}
	clock.Advance(50 * time.Second)
	r := mustOK(t, get()) // a Get does not reset a disconnected shell's clock
	if got := r.root.First(nsShell, "ShellInactivity").Text; got != "P0DT0H0M50S" {
		t.Errorf("ShellInactivity %s", got)
	}
	clock.Advance(11 * time.Second)
	if code := get().faultCode(); code != "2150858843" {
		t.Fatalf("disconnected shell outlived its idle timeout (fault %q)", code)
	}
}

func TestPowerShellPipelineInput(t *testing.T) {
	_, srv := newTestServer(t, Config{})
	c := openPS(t, srv, "")
	pl, err := c.pool.CreatePipeline(psrp.PipelineSpec{Commands: []psrp.Command{{Cmd: "$input", IsScript: true}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := pl.Start(); err != nil {
		t.Fatal(err)
	}
	id := strings.ToUpper(pl.ID().String())
	mustOK(t, post(t, srv, reqOpts{action: actionCommand, resource: resourceMSPowerShell, shellID: c.shellID,
		body: `<rsp:CommandLine CommandId="` + id + `"><rsp:Command>$input</rsp:Command><rsp:Arguments>` +
			base64.StdEncoding.EncodeToString(c.pool.DataToSend(0).Data) + `</rsp:Arguments></rsp:CommandLine>`}))
	for _, v := range []clixml.Value{"first", int32(2)} {
		if err := pl.Send(v); err != nil {
			t.Fatal(err)
		}
	}
	if err := pl.EndInput(); err != nil {
		t.Fatal(err)
	}
	c.flush()
	got := c.collect(pl)
	if d := cmp.Diff(run{Output: []string{"first", "int32:2"}, State: psrp.PipelineCompleted}, got, cmpopts.EquateEmpty()); d != "" {
		t.Fatal(d)
	}
}

func TestPowerShellCommandMetadata(t *testing.T) {
	_, srv := newTestServer(t, Config{})
	c := openPS(t, srv, "")
	for _, tc := range []struct {
		pattern string
		want    []string
	}{
		{"write-o*", []string{"count:int32:1", "Write-Output"}},
		{"No-Such*", []string{"count:int32:0"}},
	} {
		t.Run(tc.pattern, func(t *testing.T) {
			pl, err := c.pool.CreateCommandMetadataPipeline(psrp.GetCommandMetadataBody{Name: []string{tc.pattern}, CommandType: 511})
			if err != nil {
				t.Fatal(err)
			}
			if err := pl.Start(); err != nil {
				t.Fatal(err)
			}
			mustOK(t, post(t, srv, reqOpts{action: actionCommand, resource: resourceMSPowerShell, shellID: c.shellID,
				body: `<rsp:CommandLine CommandId="` + strings.ToUpper(pl.ID().String()) + `"><rsp:Command/><rsp:Arguments>` +
					base64.StdEncoding.EncodeToString(c.pool.DataToSend(0).Data) + `</rsp:Arguments></rsp:CommandLine>`}))
			// The count object, then each command by name.
			got := c.collect(pl)
			if d := cmp.Diff(run{Output: tc.want, State: psrp.PipelineCompleted}, got, cmpopts.EquateEmpty()); d != "" {
				t.Fatal(d)
			}
		})
	}
}
