package psrp

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/pssession/pssession/remote/psrp/clixml"
)

// testErrorRecord builds an ErrorRecord object.
func testErrorRecord(msg, exceptionType, errorID string, category clixml.ErrorCategory, reason string, hresult int32) *clixml.Object {
	return (&clixml.ErrorRecord{
		Message:               msg,
		FullyQualifiedErrorID: errorID,
		Category:              clixml.ErrorCategoryInfo{Category: category, Reason: reason},
		Exception:             clixml.ExceptionInfo{TypeNames: []string{exceptionType}, Message: msg, HResult: hresult},
	}).Object()
}

// pair is a client pool and a server pool joined in memory.
type pair struct {
	t      *testing.T
	client *ClientPool
	server *ServerPool
	max    int // packet size for DataToSend
	// packets counts the packets moved each way.
	toServer, toClient int
}

func newPair(t *testing.T, max int, ccfg ClientConfig, scfg ServerConfig) *pair {
	t.Helper()
	c, err := NewClientPool(ccfg)
	if err != nil {
		t.Fatal(err)
	}
	return &pair{t: t, client: c, server: NewServerPool(scfg), max: max}
}

// pump moves packets both ways until neither side has anything to send.
func (p *pair) pump() {
	p.t.Helper()
	for range 10000 {
		moved := false
		if d := p.client.DataToSend(p.max); d != nil {
			p.checkPacket(d)
			if err := p.server.ReceiveData(d.Data); err != nil {
				p.t.Fatalf("server.ReceiveData: %v", err)
			}
			p.toServer++
			moved = true
		}
		if d := p.server.DataToSend(p.max); d != nil {
			p.checkPacket(d)
			if err := p.client.ReceiveData(d.Data); err != nil {
				p.t.Fatalf("client.ReceiveData: %v", err)
			}
			p.toClient++
			moved = true
		}
		if !moved {
			return
		}
	}
	p.t.Fatal("pump: peers never went quiet")
}

func (p *pair) checkPacket(d *OutgoingData) {
	p.t.Helper()
	if p.max > 0 && len(d.Data) > p.max {
		p.t.Fatalf("packet of %d bytes exceeds max %d", len(d.Data), p.max)
	}
}

func drain(next func() (Event, bool)) []Event {
	var evs []Event
	for {
		e, ok := next()
		if !ok {
			return evs
		}
		evs = append(evs, e)
	}
}

func (p *pair) clientEvents() []Event { return drain(p.client.NextEvent) }
func (p *pair) serverEvents() []Event { return drain(p.server.NextEvent) }

var cmpEvents = cmp.Options{
	cmpopts.EquateEmpty(),
	cmp.Comparer(func(a, b *ServerPipeline) bool { return a == b }),
}

func wantEvents(t *testing.T, who string, want, got []Event) {
	t.Helper()
	if diff := cmp.Diff(want, got, cmpEvents); diff != "" {
		t.Errorf("%s events (-want +got):\n%s", who, diff)
	}
}

var (
	v23   = clixml.NewVersion(2, 3)
	v20   = clixml.NewVersion(2, 0)
	v1101 = clixml.NewVersion(1, 1, 0, 1)
	cap23 = SessionCapabilityReceived{ProtocolVersion: v23, PSVersion: v20, SerializationVersion: v1101}
)

func privateData() *clixml.Object {
	return &clixml.Object{
		TypeNames: []string{clixml.TypePSPrimitiveDictionary, "System.Collections.Hashtable", "System.Object"},
		Content:   clixml.ContentDict,
		Entries: []clixml.DictEntry{{Key: "PSVersionTable", Value: &clixml.Object{
			TypeNames: []string{clixml.TypePSPrimitiveDictionary, "System.Collections.Hashtable", "System.Object"},
			Content:   clixml.ContentDict,
			Entries:   []clixml.DictEntry{{Key: "PSVersion", Value: clixml.NewVersion(5, 1)}},
		}}},
	}
}

// open runs the open handshake, asserting every event and state.
func (p *pair) open() {
	t := p.t
	t.Helper()
	if err := p.client.Open(); err != nil {
		t.Fatalf("Open: %v", err)
	}
	if got := p.client.State(); got != PoolOpening {
		t.Fatalf("client state after Open = %s", got)
	}
	wantEvents(t, "client", []Event{PoolStateChanged{State: PoolOpening}}, p.clientEvents())
	p.pump()
	wantEvents(t, "server", []Event{
		cap23,
		PoolStateChanged{State: PoolOpening},
		RunspacePoolInitReceived{MinRunspaces: 1, MaxRunspaces: 1, HostInfo: clixml.NullHostInfo().Object()},
	}, p.serverEvents())
	if p.server.State() != PoolOpening || p.server.ID() != p.client.ID() {
		t.Fatalf("server state %s id %s, want Opening and %s", p.server.State(), p.server.ID(), p.client.ID())
	}
	if err := p.server.Open(); err != nil {
		t.Fatalf("server.Open: %v", err)
	}
	p.pump()
	wantEvents(t, "server", []Event{PoolStateChanged{State: PoolOpened}}, p.serverEvents())
	wantEvents(t, "client", []Event{
		cap23,
		ApplicationPrivateDataReceived{Data: privateData()},
		PoolStateChanged{State: PoolOpened},
	}, p.clientEvents())
	if p.client.State() != PoolOpened || p.server.State() != PoolOpened {
		t.Fatalf("states after open: client %s server %s", p.client.State(), p.server.State())
	}
	if c, ok := p.client.ServerCapability(); !ok || c.ProtocolVersion != v23 {
		t.Fatalf("ServerCapability = %v, %v", c, ok)
	}
}

func openPair(t *testing.T, max int) *pair {
	t.Helper()
	p := newPair(t, max, ClientConfig{}, ServerConfig{ApplicationPrivateData: privateData()})
	p.open()
	return p
}

// startPipeline creates and starts a pipeline and returns both sides.
func (p *pair) startPipeline(spec PipelineSpec) (*ClientPipeline, *ServerPipeline) {
	t := p.t
	t.Helper()
	pl, err := p.client.CreatePipeline(spec)
	if err != nil {
		t.Fatalf("CreatePipeline: %v", err)
	}
	if pl.State() != PipelineNotStarted {
		t.Fatalf("new pipeline state %s", pl.State())
	}
	if err := pl.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	wantEvents(t, "client", []Event{PipelineStateChanged{PipelineID: pl.ID(), State: PipelineRunning}}, p.clientEvents())
	p.pump()
	evs := p.serverEvents()
	if len(evs) != 1 {
		t.Fatalf("server events after CREATE_PIPELINE: %#v", evs)
	}
	pc, ok := evs[0].(PipelineCreated)
	if !ok || pc.Pipeline.ID() != pl.ID() || pc.Pipeline.State() != PipelineRunning {
		t.Fatalf("server event %#v, want PipelineCreated for %s", evs[0], pl.ID())
	}
	return pl, pc.Pipeline
}

func TestPairOpen(t *testing.T) {
	for _, tc := range []struct {
		name string
		max  int
	}{
		{"unlimited", 0},
		{"one packet per fragment", 200},
		{"tiny fragments", 40},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := openPair(t, tc.max)
			if tc.max == 40 && p.toServer < 10 {
				t.Errorf("only %d packets to the server with max 40: messages were not split", p.toServer)
			}
		})
	}
}

func TestPairCreationPacket(t *testing.T) {
	c, err := NewClientPool(ClientConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Open(); err != nil {
		t.Fatal(err)
	}
	// A pool message queued before the creation packet is drained stays out
	// of it: creationXml holds exactly SESSION_CAPABILITY and
	// INIT_RUNSPACEPOOL.
	c.core.state = PoolOpened
	if _, err := c.GetAvailableRunspaces(); err != nil {
		t.Fatal(err)
	}
	c.core.state = PoolOpening
	first := c.DataToSend(0)
	var r Reassembler
	msgs, err := r.Feed(nil, first.Data)
	if err != nil {
		t.Fatal(err)
	}
	var types []MessageType
	for _, raw := range msgs {
		m, err := DecodeMessage(raw)
		if err != nil {
			t.Fatal(err)
		}
		types = append(types, m.Type)
		if m.RPID != c.ID() || m.Destination != DestinationServer {
			t.Errorf("message %s: RPID %s destination %s", m.Type, m.RPID, m.Destination)
		}
	}
	if diff := cmp.Diff([]MessageType{MsgSessionCapability, MsgInitRunspacePool}, types); diff != "" {
		t.Errorf("creation packet (-want +got):\n%s", diff)
	}
	if second := c.DataToSend(0); second == nil || second.PipelineID != (clixml.GUID{}) {
		t.Errorf("second packet %#v, want the pool's GET_AVAILABLE_RUNSPACES", second)
	}
}

func TestPairStreams(t *testing.T) {
	for _, max := range []int{0, 97} {
		p := openPair(t, max)
		spec := PipelineSpec{
			Commands: []Command{
				{Cmd: "Get-Thing", Args: []Argument{{Name: "Name", Value: "x"}, {Value: int32(3)}}, MergeMyResult: ResultError, MergeToResult: ResultOutput, MergeError: ResultOutput},
				{Cmd: "Out-String", Args: []Argument{{Name: "Stream", Value: true}}},
			},
			NoInput:             true,
			AddToHistory:        true,
			RemoteStreamOptions: 15,
		}
		pl, spl := p.startPipeline(spec)
		wantSpec := spec
		wantSpec.HostInfo = clixml.NullHostInfo().Object()
		if diff := cmp.Diff(wantSpec, spl.Spec, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("server spec (-want +got):\n%s", diff)
		}

		obj := &clixml.Object{TypeNames: []string{"System.Diagnostics.Process", "System.Object"}, ToString: "pwsh", HasToString: true,
			Props: []clixml.Property{{Name: "Id", Value: int32(42)}}}
		errRec := testErrorRecord("boom", "System.Exception", "Boom", 0, "Exception", -2146233088)
		info := &clixml.Object{Members: []clixml.Property{
			{Name: "MessageData", Value: &clixml.Object{
				TypeNames: []string{"System.Management.Automation.HostInformationMessage", "System.Object"}, ToString: "hi", HasToString: true,
				Props: []clixml.Property{{Name: "Message", Value: "hi"}, {Name: "NoNewLine", Value: false}}}},
			{Name: "Source", Value: "Write-Host"},
			{Name: "Tags", Value: newList([]clixml.Value{"PSHOST"}, clixml.TypeStringList, "System.Object")},
		}}
		progress := &clixml.Object{Members: []clixml.Property{
			{Name: "Activity", Value: "copy"}, {Name: "ActivityId", Value: int32(1)}, {Name: "StatusDescription", Value: "half"},
			{Name: "CurrentOperation", Value: nil}, {Name: "ParentActivityId", Value: int32(-1)}, {Name: "PercentComplete", Value: int32(50)},
			{Name: "Type", Value: clixml.NewEnum("System.Management.Automation.ProgressRecordType", "Processing", 0)},
			{Name: "SecondsRemaining", Value: int32(-1)},
		}}
		for _, err := range []error{
			spl.WriteOutput("line one"),
			spl.WriteOutput(obj),
			spl.WriteError(errRec),
			spl.WriteWarning("careful"),
			spl.WriteVerbose("chatty"),
			spl.WriteDebug("bug"),
			spl.WriteInformation(info),
			spl.WriteProgress(progress),
			spl.Complete(),
		} {
			if err != nil {
				t.Fatal(err)
			}
		}
		if spl.State() != PipelineCompleted {
			t.Errorf("server pipeline state %s", spl.State())
		}
		p.pump()
		id := pl.ID()
		wantEvents(t, "client", []Event{
			PipelineOutput{PipelineID: id, Value: "line one"},
			PipelineOutput{PipelineID: id, Value: obj},
			PipelineErrorRecord{PipelineID: id, Record: errRec},
			PipelineWarningRecord{PipelineID: id, Record: newInformationalRecord(clixml.TypeWarningRecord, "careful")},
			PipelineVerboseRecord{PipelineID: id, Record: newInformationalRecord(clixml.TypeVerboseRecord, "chatty")},
			PipelineDebugRecord{PipelineID: id, Record: newInformationalRecord(clixml.TypeDebugRecord, "bug")},
			PipelineInformationRecord{PipelineID: id, Record: info},
			PipelineProgressRecord{PipelineID: id, Record: progress},
			PipelineStateChanged{PipelineID: id, State: PipelineCompleted},
		}, p.clientEvents())
		if pl.State() != PipelineCompleted {
			t.Errorf("client pipeline state %s", pl.State())
		}
		// A finished pipeline accepts nothing more, on either side.
		var se *StateError
		if err := spl.WriteOutput("late"); !errors.As(err, &se) || se.State != PipelineCompleted {
			t.Errorf("WriteOutput after Complete = %v, want *StateError in Completed", err)
		}
		if err := pl.BeginStop(); !errors.As(err, &se) {
			t.Errorf("BeginStop after Completed = %v, want *StateError", err)
		}
	}
}

func TestPairInput(t *testing.T) {
	p := openPair(t, 0)
	pl, spl := p.startPipeline(PipelineSpec{Commands: []Command{{Cmd: "$input | % { $_ }", IsScript: true}}})
	for _, v := range []clixml.Value{"a", int32(2)} {
		if err := pl.Send(v); err != nil {
			t.Fatal(err)
		}
	}
	if err := pl.EndInput(); err != nil {
		t.Fatal(err)
	}
	if err := pl.Send("late"); err == nil {
		t.Error("Send after EndInput succeeded")
	}
	p.pump()
	id := pl.ID()
	wantEvents(t, "server", []Event{
		PipelineInputReceived{PipelineID: id, Value: "a"},
		PipelineInputReceived{PipelineID: id, Value: int32(2)},
		PipelineEndOfInput{PipelineID: id},
	}, p.serverEvents())
	if !spl.InputEnded() {
		t.Error("InputEnded = false")
	}
	if err := spl.Complete(); err != nil {
		t.Fatal(err)
	}
	p.pump()
	wantEvents(t, "client", []Event{PipelineStateChanged{PipelineID: id, State: PipelineCompleted}}, p.clientEvents())

	// NoInput pipelines refuse input.
	pl2, _ := p.startPipeline(PipelineSpec{Commands: []Command{{Cmd: "1"}}, NoInput: true})
	if err := pl2.Send("x"); err == nil {
		t.Error("Send on a NoInput pipeline succeeded")
	}
}

func TestPairStopAndFail(t *testing.T) {
	p := openPair(t, 0)
	pl, spl := p.startPipeline(PipelineSpec{Commands: []Command{{Cmd: "Start-Sleep 60"}}, NoInput: true})
	if err := pl.BeginStop(); err != nil {
		t.Fatal(err)
	}
	wantEvents(t, "client", []Event{PipelineStateChanged{PipelineID: pl.ID(), State: PipelineStopping}}, p.clientEvents())
	if err := spl.Stop(); err != nil {
		t.Fatal(err)
	}
	p.pump()
	evs := p.clientEvents()
	wantEvents(t, "client", []Event{PipelineStateChanged{PipelineID: pl.ID(), State: PipelineStopped, Error: PipelineStoppedErrorRecord()}}, evs)
	if pl.State() != PipelineStopped {
		t.Errorf("client pipeline state %s", pl.State())
	}
	rec := evs[0].(PipelineStateChanged).Error
	er, err := clixml.ParseErrorRecord(rec)
	if err != nil {
		t.Fatal(err)
	}
	if er.FullyQualifiedErrorID != "PipelineStopped" || er.Exception.HResult != -2146233087 ||
		er.Exception.Message != "The pipeline has been stopped." || er.Exception.TypeNames[0] != "System.Management.Automation.PipelineStoppedException" ||
		er.Category.Category != clixml.ErrorCategory(14) {
		t.Errorf("stop error record %+v", er)
	}

	pl2, spl2 := p.startPipeline(PipelineSpec{Commands: []Command{{Cmd: "throw 'x'", IsScript: true}}, NoInput: true})
	failure := testErrorRecord("x", "System.Management.Automation.RuntimeException", "x", 0, "RuntimeException", -2146233087)
	if err := spl2.Fail(failure); err != nil {
		t.Fatal(err)
	}
	p.pump()
	wantEvents(t, "client", []Event{PipelineStateChanged{PipelineID: pl2.ID(), State: PipelineFailed, Error: failure}}, p.clientEvents())
}

func TestPairHostCalls(t *testing.T) {
	p := openPair(t, 120)
	pl, spl := p.startPipeline(PipelineSpec{Commands: []Command{{Cmd: "Read-Host"}}, NoInput: true})
	ci, err := spl.HostCall(HostReadLine)
	if err != nil || ci != 1 {
		t.Fatalf("HostCall(ReadLine) = %d, %v", ci, err)
	}
	vci, err := spl.HostCall(HostWriteLine2, "prompt text")
	if err != nil || vci != VoidCallID {
		t.Fatalf("HostCall(WriteLine2) = %d, %v", vci, err)
	}
	p.pump()
	id := pl.ID()
	wantEvents(t, "client", []Event{
		PipelineHostCall{PipelineID: id, Call: HostCall{CallID: 1, Method: HostReadLine}},
		PipelineHostCall{PipelineID: id, Call: HostCall{CallID: VoidCallID, Method: HostWriteLine2, Params: []clixml.Value{"prompt text"}}},
	}, p.clientEvents())
	if err := pl.HostResponse(VoidCallID, nil, nil); err == nil {
		t.Error("answering a void call succeeded")
	}
	if err := pl.HostResponse(1, "typed", nil); err != nil {
		t.Fatal(err)
	}
	d := p.client.DataToSendFor(id, 0)
	if d == nil || d.Stream != StreamPromptResponse || d.PipelineID != id {
		t.Fatalf("host response packet %#v, want pipeline %s on pr", d, id)
	}
	if err := p.server.ReceiveData(d.Data); err != nil {
		t.Fatal(err)
	}
	wantEvents(t, "server", []Event{HostResponseReceived{PipelineID: id, CallID: 1, Method: HostReadLine, Result: "typed"}}, p.serverEvents())
	if err := pl.HostResponse(1, "again", nil); err == nil {
		t.Error("answering a call twice succeeded")
	}

	// A host that fails answers with an ErrorRecord.
	ci, _ = spl.HostCall(HostPromptForChoice, "caption", "message", newList(nil, "System.Collections.ArrayList", "System.Object"), int32(0))
	p.pump()
	p.clientEvents()
	hostErr := testErrorRecord("no console", "System.Management.Automation.Host.HostException", "HostFailed", 0, "HostException", -2146233087)
	if err := pl.HostResponse(ci, nil, hostErr); err != nil {
		t.Fatal(err)
	}
	p.pump()
	wantEvents(t, "server", []Event{HostResponseReceived{PipelineID: id, CallID: ci, Method: HostPromptForChoice, Error: hostErr}}, p.serverEvents())

	// Pool-level host calls.
	pci, err := p.server.HostCall(HostGetName)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.server.HostCall(HostSetShouldExit, int32(3)); err != nil {
		t.Fatal(err)
	}
	p.pump()
	wantEvents(t, "client", []Event{
		PoolHostCall{Call: HostCall{CallID: pci, Method: HostGetName}},
		PoolHostCall{Call: HostCall{CallID: VoidCallID, Method: HostSetShouldExit, Params: []clixml.Value{int32(3)}}},
	}, p.clientEvents())
	if err := p.client.HostResponse(VoidCallID, nil, nil); err == nil {
		t.Error("answering a void pool call succeeded")
	}
	if err := p.client.HostResponse(pci, "pssession", nil); err != nil {
		t.Fatal(err)
	}
	if d := p.client.DataToSendFor(clixml.GUID{}, 0); d == nil || d.Stream != StreamPromptResponse {
		t.Fatalf("pool host response packet %#v", d)
	} else if err := p.server.ReceiveData(d.Data); err != nil {
		t.Fatal(err)
	}
	wantEvents(t, "server", []Event{HostResponseReceived{CallID: pci, Method: HostGetName, Result: "pssession"}}, p.serverEvents())
}

func TestPairSecureStringHostCall(t *testing.T) {
	p := openPair(t, 0)
	if _, err := p.client.EncryptSecureString("x"); !errors.Is(err, ErrNoSessionKey) {
		t.Fatalf("EncryptSecureString before the exchange = %v", err)
	}
	p.client.keyPair = mustKeyPair(t)
	if err := p.client.ExchangeKey(); err != nil {
		t.Fatal(err)
	}
	p.pump()
	wantEvents(t, "server", []Event{SessionKeyReady{}}, p.serverEvents())
	wantEvents(t, "client", []Event{SessionKeyReady{}}, p.clientEvents())
	if len(p.client.SessionKey()) != 32 || !bytes.Equal(p.client.SessionKey(), p.server.SessionKey()) {
		t.Fatalf("session keys differ: %x vs %x", p.client.SessionKey(), p.server.SessionKey())
	}
	pl, spl := p.startPipeline(PipelineSpec{Commands: []Command{{Cmd: "Read-Host -AsSecureString"}}, NoInput: true})
	ci, err := spl.HostCall(HostReadLineAsSecureString)
	if err != nil {
		t.Fatal(err)
	}
	p.pump()
	wantEvents(t, "client", []Event{PipelineHostCall{PipelineID: pl.ID(), Call: HostCall{CallID: ci, Method: HostReadLineAsSecureString}}}, p.clientEvents())
	ss, err := p.client.EncryptSecureString("s3cret ünïcode")
	if err != nil {
		t.Fatal(err)
	}
	if err := pl.HostResponse(ci, ss, nil); err != nil {
		t.Fatal(err)
	}
	p.pump()
	evs := p.serverEvents()
	wantEvents(t, "server", []Event{HostResponseReceived{PipelineID: pl.ID(), CallID: ci, Method: HostReadLineAsSecureString, Result: ss}}, evs)
	got, err := p.server.DecryptSecureString(evs[0].(HostResponseReceived).Result.(clixml.SecureString))
	if err != nil || got != "s3cret ünïcode" {
		t.Errorf("server decrypted %q, %v", got, err)
	}

	// The other way: a SecureString in the output decrypts on the client.
	out, err := p.server.EncryptSecureString("from server")
	if err != nil {
		t.Fatal(err)
	}
	if err := spl.WriteOutput(out); err != nil {
		t.Fatal(err)
	}
	p.pump()
	evs = p.clientEvents()
	wantEvents(t, "client", []Event{PipelineOutput{PipelineID: pl.ID(), Value: out}}, evs)
	if got, err := p.client.DecryptSecureString(evs[0].(PipelineOutput).Value.(clixml.SecureString)); err != nil || got != "from server" {
		t.Errorf("client decrypted %q, %v", got, err)
	}

	// The server may ask an older client to start the exchange; a client
	// that has a key ignores the request.
	if err := p.server.RequestPublicKey(); err != nil {
		t.Fatal(err)
	}
	p.pump()
	wantEvents(t, "server", nil, p.serverEvents())
	wantEvents(t, "client", nil, p.clientEvents())
}

func TestPairPublicKeyRequest(t *testing.T) {
	p := openPair(t, 0)
	p.client.keyPair = mustKeyPair(t)
	if err := p.server.RequestPublicKey(); err != nil {
		t.Fatal(err)
	}
	p.pump()
	wantEvents(t, "server", []Event{SessionKeyReady{}}, p.serverEvents())
	wantEvents(t, "client", []Event{SessionKeyReady{}}, p.clientEvents())
	if p.client.SessionKey() == nil {
		t.Error("no session key after PUBLIC_KEY_REQUEST")
	}
}

func TestPairRunspaceAvailability(t *testing.T) {
	p := openPair(t, 0)
	type step struct {
		name    string
		call    func() (int64, error)
		req     AvailabilityRequest
		count   int32
		answer  clixml.Value
		wantMin int32
		wantMax int32
	}
	for _, st := range []step{
		{"set max 5", func() (int64, error) { return p.client.SetMaxRunspaces(5) }, RequestSetMaxRunspaces, 5, true, 1, 5},
		{"set min -1 refused", func() (int64, error) { return p.client.SetMinRunspaces(-1) }, RequestSetMinRunspaces, -1, false, 1, 5},
		{"set min 2", func() (int64, error) { return p.client.SetMinRunspaces(2) }, RequestSetMinRunspaces, 2, true, 2, 5},
		{"available", p.client.GetAvailableRunspaces, RequestGetAvailableRunspaces, 0, int64(4), 2, 5},
		{"reset", p.client.ResetRunspaceState, RequestResetRunspaceState, 0, true, 2, 5},
	} {
		t.Run(st.name, func(t *testing.T) {
			ci, err := st.call()
			if err != nil {
				t.Fatal(err)
			}
			p.pump()
			wantEvents(t, "server", []Event{AvailabilityRequested{CallID: ci, Request: st.req, Count: st.count}}, p.serverEvents())
			if err := p.server.RespondAvailability(ci, st.answer); err != nil {
				t.Fatal(err)
			}
			if err := p.server.RespondAvailability(ci, st.answer); err == nil {
				t.Error("second answer to the same call succeeded")
			}
			p.pump()
			wantEvents(t, "client", []Event{RunspaceAvailabilityReceived{CallID: ci, Request: st.req, Value: st.answer}}, p.clientEvents())
			if p.client.MinRunspaces() != st.wantMin || p.client.MaxRunspaces() != st.wantMax ||
				p.server.MinRunspaces() != st.wantMin || p.server.MaxRunspaces() != st.wantMax {
				t.Errorf("limits: client %d/%d server %d/%d, want %d/%d", p.client.MinRunspaces(), p.client.MaxRunspaces(),
					p.server.MinRunspaces(), p.server.MaxRunspaces(), st.wantMin, st.wantMax)
			}
		})
	}
}

func TestPairConnectAndReattach(t *testing.T) {
	p := openPair(t, 150)
	pl, spl := p.startPipeline(PipelineSpec{Commands: []Command{{Cmd: "1..3 | % { $_; sleep 1 }", IsScript: true}}, NoInput: true})
	if err := spl.WriteOutput(int32(1)); err != nil {
		t.Fatal(err)
	}
	p.pump()
	wantEvents(t, "client", []Event{PipelineOutput{PipelineID: pl.ID(), Value: int32(1)}}, p.clientEvents())

	// The first client leaves a message half sent (ObjectId 4, which the
	// new client reuses) and disconnects; the pipeline keeps producing.
	if _, err := p.client.SetMaxRunspaces(9); err != nil {
		t.Fatal(err)
	}
	if err := p.server.ReceiveData(p.client.DataToSend(30).Data); err != nil {
		t.Fatal(err)
	}
	if n := p.server.core.in.Pending(); n != 1 {
		t.Fatalf("server has %d partial messages, want 1", n)
	}
	if err := p.client.BeginDisconnect(); err != nil {
		t.Fatal(err)
	}
	if err := p.client.Disconnected(); err != nil {
		t.Fatal(err)
	}
	wantEvents(t, "client", []Event{
		PoolStateChanged{State: PoolDisconnecting},
		PoolStateChanged{State: PoolDisconnected},
		PipelineStateChanged{PipelineID: pl.ID(), State: PipelineDisconnected},
	}, p.clientEvents())
	for _, v := range []clixml.Value{int32(2), int32(3)} {
		if err := spl.WriteOutput(v); err != nil {
			t.Fatal(err)
		}
	}
	// Pool-stream data the old client never fetched is not for the new one.
	if _, err := p.server.HostCall(HostWriteLine2, "stale"); err != nil {
		t.Fatal(err)
	}

	// A second client connects to the same pool.
	c2, err := NewClientPool(ClientConfig{RunspacePoolID: p.client.ID()})
	if err != nil {
		t.Fatal(err)
	}
	if err := c2.Connect(); err != nil {
		t.Fatal(err)
	}
	wantEvents(t, "client2", []Event{PoolStateChanged{State: PoolConnecting}}, drain(c2.NextEvent))
	connectXML := c2.DataToSend(0)
	frags, err := ParseFragments(connectXML.Data, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if len(frags) != 2 || frags[0].ObjectID != 1 || frags[1].ObjectID != 2 {
		t.Fatalf("connectXml fragments %+v, want ObjectIds 1 and 2", frags)
	}
	if err := p.server.ReceiveConnect(connectXML.Data); err != nil {
		t.Fatal(err)
	}
	if n := p.server.core.in.Pending(); n != 0 {
		t.Errorf("server kept %d partial messages of the old client", n)
	}
	wantEvents(t, "server", []Event{cap23, ConnectReceived{}}, p.serverEvents())
	resp := p.server.DataToSendFor(clixml.GUID{}, 0)
	if err := c2.ReceiveData(resp.Data); err != nil {
		t.Fatal(err)
	}
	wantEvents(t, "client2", []Event{cap23, RunspacePoolInitDataReceived{MinRunspaces: 1, MaxRunspaces: 1}, PoolStateChanged{State: PoolOpened}}, drain(c2.NextEvent))
	if c2.State() != PoolOpened {
		t.Fatalf("client2 state after connect response %s", c2.State())
	}
	pool := p.server.DataToSendFor(clixml.GUID{}, 0)
	if err := c2.ReceiveData(pool.Data); err != nil {
		t.Fatal(err)
	}
	wantEvents(t, "client2", []Event{ApplicationPrivateDataReceived{Data: privateData()}}, drain(c2.NextEvent))
	if d := p.server.DataToSendFor(clixml.GUID{}, 0); d != nil {
		t.Errorf("stale pool data for the new client: %x", d.Data)
	}

	// Reattach to the running pipeline: its buffered output arrives.
	pl2, err := c2.AttachPipeline(pl.ID())
	if err != nil {
		t.Fatal(err)
	}
	if pl2.State() != PipelineRunning {
		t.Fatalf("attached pipeline state %s", pl2.State())
	}
	if err := spl.Complete(); err != nil {
		t.Fatal(err)
	}
	p.client = c2
	p.pump()
	wantEvents(t, "client2", []Event{
		PipelineOutput{PipelineID: pl.ID(), Value: int32(2)},
		PipelineOutput{PipelineID: pl.ID(), Value: int32(3)},
		PipelineStateChanged{PipelineID: pl.ID(), State: PipelineCompleted},
	}, p.clientEvents())

	// The new client runs its own pipelines and key exchange.
	c2.keyPair = mustKeyPair(t)
	if err := c2.ExchangeKey(); err != nil {
		t.Fatal(err)
	}
	p.pump()
	if c2.SessionKey() == nil || !bytes.Equal(c2.SessionKey(), p.server.SessionKey()) {
		t.Error("no shared session key with the new client")
	}
	p.serverEvents()
	p.clientEvents()
	pl3, spl3 := p.startPipeline(PipelineSpec{Commands: []Command{{Cmd: "prompt"}}, NoInput: true})
	if err := spl3.WriteOutput("PS C:\\> "); err != nil {
		t.Fatal(err)
	}
	if err := spl3.Complete(); err != nil {
		t.Fatal(err)
	}
	p.pump()
	wantEvents(t, "client2", []Event{
		PipelineOutput{PipelineID: pl3.ID(), Value: "PS C:\\> "},
		PipelineStateChanged{PipelineID: pl3.ID(), State: PipelineCompleted},
	}, p.clientEvents())
}

func TestPairReconnect(t *testing.T) {
	p := openPair(t, 0)
	pl, spl := p.startPipeline(PipelineSpec{Commands: []Command{{Cmd: "x"}}, NoInput: true})
	for _, f := range []func() error{p.client.BeginDisconnect, p.client.Disconnected} {
		if err := f(); err != nil {
			t.Fatal(err)
		}
	}
	if err := spl.WriteOutput("buffered"); err != nil {
		t.Fatal(err)
	}
	if err := p.client.BeginReconnect(); err != nil {
		t.Fatal(err)
	}
	if err := p.client.Reconnected(); err != nil {
		t.Fatal(err)
	}
	wantEvents(t, "client", []Event{
		PoolStateChanged{State: PoolDisconnecting},
		PoolStateChanged{State: PoolDisconnected},
		PipelineStateChanged{PipelineID: pl.ID(), State: PipelineDisconnected},
		PoolStateChanged{State: PoolConnecting},
		PoolStateChanged{State: PoolOpened},
		PipelineStateChanged{PipelineID: pl.ID(), State: PipelineRunning},
	}, p.clientEvents())
	p.pump()
	wantEvents(t, "client", []Event{PipelineOutput{PipelineID: pl.ID(), Value: "buffered"}}, p.clientEvents())
}

func TestPairBrokenAndClose(t *testing.T) {
	t.Run("broken", func(t *testing.T) {
		p := openPair(t, 0)
		pl, _ := p.startPipeline(PipelineSpec{Commands: []Command{{Cmd: "x"}}, NoInput: true})
		reason := testErrorRecord("gone", "System.Exception", "Gone", 0, "Exception", -2146233088)
		if err := p.server.SetBroken(reason); err != nil {
			t.Fatal(err)
		}
		p.pump()
		wantEvents(t, "server", []Event{PoolStateChanged{State: PoolBroken, Error: reason}}, p.serverEvents())
		wantEvents(t, "client", []Event{
			PoolStateChanged{State: PoolBroken, Error: reason},
			PipelineStateChanged{PipelineID: pl.ID(), State: PipelineFailed, Error: reason},
		}, p.clientEvents())
		var se *StateError
		if _, err := p.client.CreatePipeline(PipelineSpec{Commands: []Command{{Cmd: "x"}}}); !errors.As(err, &se) || se.State != PoolBroken {
			t.Errorf("CreatePipeline on a broken pool = %v", err)
		}
		if err := p.server.Open(); !errors.As(err, &se) {
			t.Errorf("server Open on a broken pool = %v", err)
		}
	})
	t.Run("close", func(t *testing.T) {
		p := openPair(t, 0)
		if err := p.client.BeginClose(); err != nil {
			t.Fatal(err)
		}
		if err := p.server.Close(); err != nil {
			t.Fatal(err)
		}
		p.pump()
		wantEvents(t, "server", []Event{PoolStateChanged{State: PoolClosed}}, p.serverEvents())
		wantEvents(t, "client", []Event{PoolStateChanged{State: PoolClosing}, PoolStateChanged{State: PoolClosed}}, p.clientEvents())
		if err := p.client.Closed(); err == nil {
			t.Error("Closed on a closed pool succeeded")
		}
	})
	t.Run("client closes alone", func(t *testing.T) {
		p := openPair(t, 0)
		for _, f := range []func() error{p.client.BeginClose, p.client.Closed} {
			if err := f(); err != nil {
				t.Fatal(err)
			}
		}
		wantEvents(t, "client", []Event{PoolStateChanged{State: PoolClosing}, PoolStateChanged{State: PoolClosed}}, p.clientEvents())
	})
}

func TestPairCommandMetadata(t *testing.T) {
	p := openPair(t, 0)
	pl, err := p.client.CreateCommandMetadataPipeline(GetCommandMetadataBody{Name: []string{"Get-*"}, Namespace: []string{"Microsoft.WSMan.Management"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := pl.Start(); err != nil {
		t.Fatal(err)
	}
	p.pump()
	p.clientEvents()
	evs := p.serverEvents()
	if len(evs) != 1 {
		t.Fatalf("server events %#v", evs)
	}
	spl := evs[0].(PipelineCreated).Pipeline
	want := &GetCommandMetadataBody{Name: []string{"Get-*"}, CommandType: 511, Namespace: []string{"Microsoft.WSMan.Management"}}
	if diff := cmp.Diff(want, spl.Metadata); diff != "" {
		t.Errorf("metadata spec (-want +got):\n%s", diff)
	}
	count := &clixml.Object{TypeNames: []string{"Selected.Microsoft.PowerShell.Commands.GenericMeasureInfo", "System.Management.Automation.PSCustomObject", "System.Object"},
		Members: []clixml.Property{{Name: "Count", Value: int32(0)}}}
	if err := spl.WriteOutput(count); err != nil {
		t.Fatal(err)
	}
	if err := spl.Complete(); err != nil {
		t.Fatal(err)
	}
	p.pump()
	wantEvents(t, "client", []Event{
		PipelineOutput{PipelineID: pl.ID(), Value: count},
		PipelineStateChanged{PipelineID: pl.ID(), State: PipelineCompleted},
	}, p.clientEvents())
}

func TestPairUserEvent(t *testing.T) {
	p := openPair(t, 0)
	when, err := clixml.ParseDateTime("2018-06-13T23:46:27.9270288+00:00")
	if err != nil {
		t.Fatal(err)
	}
	ev := UserEventBody{EventIdentifier: 1, SourceIdentifier: "src", TimeGenerated: when, MessageData: "data", ComputerName: "host", RunspaceID: p.client.ID()}
	if err := p.server.SendUserEvent(ev); err != nil {
		t.Fatal(err)
	}
	p.pump()
	wantEvents(t, "client", []Event{UserEventReceived{Event: ev}}, p.clientEvents())
}

func TestPairServerVersionMismatch(t *testing.T) {
	p := newPair(t, 0, ClientConfig{}, ServerConfig{})
	if err := p.client.Open(); err != nil {
		t.Fatal(err)
	}
	p.clientEvents()
	// A server claiming protocol 3.0.
	cap30 := SessionCapabilityBody{ProtocolVersion: clixml.NewVersion(3, 0), PSVersion: v20, SerializationVersion: v1101}
	if err := p.server.core.send(clixml.GUID{}, &cap30, StreamDefault, false); err != nil {
		t.Fatal(err)
	}
	if err := p.client.ReceiveData(p.server.DataToSend(0).Data); err == nil {
		t.Fatal("client accepted protocol 3.0")
	}
	evs := p.clientEvents()
	if len(evs) != 3 {
		t.Fatalf("client events %#v", evs)
	}
	wantEvents(t, "client", []Event{SessionCapabilityReceived(cap30), PoolStateChanged{State: PoolBroken}}, evs[:2])
	if _, ok := evs[2].(ProtocolErrorReceived); !ok {
		t.Errorf("event %#v, want ProtocolErrorReceived", evs[2])
	}
	if p.client.State() != PoolBroken {
		t.Errorf("client state %s", p.client.State())
	}
}

func TestPairVersionMismatch(t *testing.T) {
	p := newPair(t, 0, ClientConfig{}, ServerConfig{})
	// A client claiming protocol 3.0.
	if err := p.client.core.send(clixml.GUID{}, &SessionCapabilityBody{ProtocolVersion: clixml.NewVersion(3, 0), PSVersion: v20, SerializationVersion: v1101}, StreamDefault, false); err != nil {
		t.Fatal(err)
	}
	d := p.client.DataToSend(0)
	if err := p.server.ReceiveData(d.Data); err == nil {
		t.Fatal("server accepted protocol 3.0")
	}
	evs := p.serverEvents()
	if len(evs) != 3 {
		t.Fatalf("server events %#v", evs)
	}
	if st, ok := evs[1].(PoolStateChanged); !ok || st.State != PoolBroken || st.Error == nil {
		t.Errorf("event %#v, want PoolStateChanged Broken with an error record", evs[1])
	}
	if _, ok := evs[2].(ProtocolErrorReceived); !ok {
		t.Errorf("event %#v, want ProtocolErrorReceived", evs[2])
	}
	if p.server.State() != PoolBroken {
		t.Errorf("server state %s", p.server.State())
	}
	p.client.core.state = PoolOpening
	if err := p.client.ReceiveData(p.server.DataToSend(0).Data); err != nil {
		t.Fatal(err)
	}
	if p.client.State() != PoolBroken {
		t.Errorf("client state %s, want Broken", p.client.State())
	}
}

func TestPairLimits(t *testing.T) {
	p := newPair(t, 0, ClientConfig{Limits: Limits{MaxMessageSize: 2000}}, ServerConfig{ApplicationPrivateData: privateData(), Limits: Limits{MaxMessageSize: 3000}})
	p.open() // the handshake fits both limits
	pl, spl := p.startPipeline(PipelineSpec{Commands: []Command{{Cmd: "x"}}, NoInput: true})
	if err := spl.WriteOutput(strings.Repeat("x", 3000)); err != nil {
		t.Fatal(err)
	}
	var le *LimitError
	if err := p.client.ReceiveData(p.server.DataToSend(0).Data); !errors.As(err, &le) || le.Limit != "MaxMessageSize" {
		t.Errorf("client ReceiveData of a 3000-byte output = %v, want MaxMessageSize *LimitError", err)
	}
	if err := pl.Send("ok"); err == nil {
		t.Fatal("Send on a NoInput pipeline succeeded")
	}
	big, err := p.client.CreatePipeline(PipelineSpec{Commands: []Command{{Cmd: strings.Repeat("y", 4000)}}, NoInput: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := big.Start(); err != nil {
		t.Fatal(err)
	}
	p.clientEvents()
	if err := p.server.ReceiveData(p.client.DataToSend(0).Data); !errors.As(err, &le) || le.Limit != "MaxMessageSize" {
		t.Errorf("server ReceiveData of a 4000-byte script = %v, want MaxMessageSize *LimitError", err)
	}
}

func TestPairApplicationArguments(t *testing.T) {
	args := clixml.PSPrimitiveDictionary{{Key: "Tenant", Value: "blue"}}.Object()
	host := (&clixml.HostInfo{IsHostNull: false}).Object()
	p := newPair(t, 0, ClientConfig{MinRunspaces: 1, MaxRunspaces: 3, HostInfo: host, ApplicationArguments: args}, ServerConfig{})
	if err := p.client.Open(); err != nil {
		t.Fatal(err)
	}
	p.pump()
	wantEvents(t, "server", []Event{
		cap23,
		PoolStateChanged{State: PoolOpening},
		RunspacePoolInitReceived{MinRunspaces: 1, MaxRunspaces: 3, HostInfo: host, ApplicationArguments: args},
	}, p.serverEvents())
	if c, ok := p.server.ClientCapability(); !ok || !cmp.Equal(c, cap23) {
		t.Errorf("ClientCapability = %v, %v", c, ok)
	}
	if diff := cmp.Diff(args, p.server.ApplicationArguments()); diff != "" {
		t.Errorf("ApplicationArguments (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(host, p.server.HostInfo()); diff != "" {
		t.Errorf("HostInfo (-want +got):\n%s", diff)
	}
	if err := p.server.Open(); err != nil {
		t.Fatal(err)
	}
	p.pump()
	wantEvents(t, "client", []Event{
		PoolStateChanged{State: PoolOpening},
		cap23,
		ApplicationPrivateDataReceived{Data: clixml.PSPrimitiveDictionary{}.Object()},
		PoolStateChanged{State: PoolOpened},
	}, p.clientEvents())
}

func TestPairBadFragmentLosesOnlyItsMessage(t *testing.T) {
	p := openPair(t, 0)
	pl, spl := p.startPipeline(PipelineSpec{Commands: []Command{{Cmd: "x"}}, NoInput: true})
	if err := spl.WriteOutput("kept"); err != nil {
		t.Fatal(err)
	}
	good := p.server.DataToSend(0).Data
	// A continuation fragment of a message the client never saw start (as
	// after a Connect mid-message), then a whole message.
	orphan := Fragment{ObjectID: 999, FragmentID: 1, End: true, Blob: []byte("tail")}.Append(nil)
	err := p.client.ReceiveData(append(orphan, good...))
	var fe *FragmentError
	if !errors.As(err, &fe) || fe.ObjectID != 999 {
		t.Errorf("ReceiveData = %v, want a *FragmentError for object 999", err)
	}
	evs := p.clientEvents()
	if len(evs) != 2 {
		t.Fatalf("events %#v, want the error and the output", evs)
	}
	if _, ok := evs[0].(ProtocolErrorReceived); !ok {
		t.Errorf("first event %#v, want ProtocolErrorReceived", evs[0])
	}
	wantEvents(t, "client", []Event{PipelineOutput{PipelineID: pl.ID(), Value: "kept"}}, evs[1:])

	// A truncated header ends the packet.
	if err := p.client.ReceiveData(good[:10]); err == nil {
		t.Error("ReceiveData of a truncated header succeeded")
	}
}
