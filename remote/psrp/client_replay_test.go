package psrp

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pssession/pssession/internal/vectors"
	"github.com/pssession/pssession/remote/psrp/clixml"
)

// replay feeds the server side of a recorded Windows exchange to ClientPools
// driven the way the recorded client drove its pool: the client's own
// messages decide which method to call (Open, Connect, CreatePipeline,
// SetMaxRunspaces…), and every response Windows sent must be handled
// without a protocol error. The key exchange is the one exception: the
// recorded session key was encrypted for pypsrp's private key, which we do
// not have.
type replay struct {
	t      *testing.T
	pools  map[string]*ClientPool // by ShellId
	in     map[string]*Reassembler
	events map[string][]Event
	all    []Event // every pool's events, in arrival order
	errs   []error
}

func newReplay(t *testing.T) *replay {
	return &replay{t: t, pools: map[string]*ClientPool{}, in: map[string]*Reassembler{}, events: map[string][]Event{}}
}

func shellGUID(t *testing.T, id string) clixml.GUID {
	g, err := clixml.ParseGUID(id)
	if err != nil {
		t.Fatalf("shell id %q: %v", id, err)
	}
	return g
}

// clientSent mirrors one payload the recorded client sent.
func (r *replay) clientSent(p vectorPayload) {
	t := r.t
	key := strings.ToUpper(p.ShellID)
	if p.Connect {
		r.in[key] = nil
	}
	in := r.in[key]
	if in == nil {
		in = &Reassembler{}
		r.in[key] = in
	}
	msgs, err := in.Feed(nil, p.Data)
	if err != nil {
		t.Fatalf("%s: client data: %v", p.Where, err)
	}
	for _, raw := range msgs {
		m, err := DecodeMessage(raw)
		if err != nil {
			t.Fatalf("%s: %v", p.Where, err)
		}
		pool := r.pools[key]
		switch m.Type {
		case MsgInitRunspacePool, MsgConnectRunspacePool:
			pool, err = NewClientPool(ClientConfig{RunspacePoolID: shellGUID(t, p.ShellID)})
			if err != nil {
				t.Fatal(err)
			}
			if m.Type == MsgInitRunspacePool {
				err = pool.Open()
			} else {
				err = pool.Connect()
			}
			if err != nil {
				t.Fatalf("%s: %v", p.Where, err)
			}
			r.pools[key] = pool
		case MsgCreatePipeline, MsgGetCommandMetadata:
			// pypsrp re-invokes a finished pipeline under the same id.
			pool.RemovePipeline(m.PID)
			if _, err := pool.AttachPipeline(m.PID); err != nil {
				t.Fatalf("%s: %v", p.Where, err)
			}
		case MsgPublicKey:
			pool.keyPair = mustKeyPair(t)
			pool.keyRequested = true
		case MsgSetMaxRunspaces, MsgSetMinRunspaces, MsgGetAvailableRunspaces, MsgResetRunspaceState:
			b, err := m.DecodeBody(clixml.Limits{})
			if err != nil {
				t.Fatalf("%s: %v", p.Where, err)
			}
			switch b := b.(type) {
			case *SetMaxRunspacesBody:
				pool.calls[b.CallID] = pendingRequest{req: RequestSetMaxRunspaces, limit: b.MaxRunspaces}
			case *SetMinRunspacesBody:
				pool.calls[b.CallID] = pendingRequest{req: RequestSetMinRunspaces, limit: b.MinRunspaces}
			case *GetAvailableRunspacesBody:
				pool.calls[b.CallID] = pendingRequest{req: RequestGetAvailableRunspaces}
			case *ResetRunspaceStateBody:
				pool.calls[b.CallID] = pendingRequest{req: RequestResetRunspaceState}
			}
		}
		if pool != nil {
			for pool.DataToSend(0) != nil {
			}
		}
	}
}

// serverSent hands one payload Windows sent to the client pool.
func (r *replay) serverSent(p vectorPayload) {
	key := strings.ToUpper(p.ShellID)
	pool := r.pools[key]
	if pool == nil {
		r.t.Fatalf("%s: server data for unknown pool %s", p.Where, p.ShellID)
	}
	// After Connect, the client reattaches to commands it learns about by
	// enumeration; here, by the PID of each start fragment.
	if frags, err := ParseFragments(p.Data, 0); err == nil && p.CommandID != "" {
		for _, f := range frags {
			if f.Start && len(f.Blob) >= MessageHeaderSize {
				pid := clixml.GUIDFromBytesLE([16]byte(f.Blob[24:40]))
				if pid != (clixml.GUID{}) && pool.Pipeline(pid) == nil {
					if _, err := pool.AttachPipeline(pid); err != nil {
						r.t.Fatalf("%s: %v", p.Where, err)
					}
				}
			}
		}
	}
	if err := pool.ReceiveData(p.Data); err != nil {
		r.errs = append(r.errs, fmt.Errorf("%s: %w", p.Where, err))
	}
	evs := drain(pool.NextEvent)
	r.events[key] = append(r.events[key], evs...)
	r.all = append(r.all, evs...)
}

func TestClientReplayWindowsVectors(t *testing.T) {
	for _, file := range vectors.Files(t) {
		name := strings.TrimSuffix(filepath.Base(file), ".yml")
		t.Run(name, func(t *testing.T) {
			payloads, err := loadVectorPayloads(file)
			if err != nil {
				t.Fatal(err)
			}
			if len(payloads) == 0 {
				t.Skip("no PSRP payloads (WinRS)")
			}
			r := newReplay(t)
			for _, p := range payloads {
				if p.FromPeer == "client" {
					r.clientSent(p)
				} else {
					r.serverSent(p)
				}
			}
			for _, err := range r.errs {
				if !errors.Is(err, ErrKeyBlob) && !strings.Contains(err.Error(), "decrypt session key") {
					t.Errorf("unexpected error: %v", err)
				}
			}
			for shell, evs := range r.events {
				for _, e := range evs {
					if pe, ok := e.(ProtocolErrorReceived); ok && !strings.Contains(pe.Err.Error(), "session key") {
						t.Errorf("pool %s: %v", shell, pe.Err)
					}
				}
			}
			if check := replayChecks[name]; check != nil {
				check(t, r.all)
			}
		})
	}
}

// replayChecks assert what specific recordings must produce; a check for a
// recording that is missing fails TestReplayChecksHaveVectors.
var replayChecks = map[string]func(t *testing.T, evs []Event){
	"test_psrp_multiple_commands": func(t *testing.T, evs []Event) {
		wantReplay(t, evs, []string{"Opened", "output Hello World", "Completed"})
	},
	"test_psrp_error_failed": func(t *testing.T, evs []Event) {
		wantReplay(t, evs, []string{"Opened", "Failed+error"})
	},
	"test_psrp_set_runspaces": func(t *testing.T, evs []Event) {
		wantReplay(t, evs, []string{"Opened", "SetMaxRunspaces true", "SetMinRunspaces false"})
	},
	"test_psrp_pshost_ui_mocked_methods": func(t *testing.T, evs []Event) {
		wantReplay(t, evs, []string{"Opened", "host ReadLine 1", "host ReadLineAsSecureString 2", "host Write1 -100"})
	},
	"test_psrp_disconnect_runspaces": func(t *testing.T, evs []Event) {
		// Two pools opened, disconnected, then connected to by new clients.
		wantReplay(t, evs, []string{"Opened", "Opened", "init data", "Opened", "init data", "Opened"})
	},
}

// wantReplay checks that want appears, in order, among the summaries of
// evs.
func wantReplay(t *testing.T, evs []Event, want []string) {
	t.Helper()
	var got []string
	for _, e := range evs {
		switch e := e.(type) {
		case PoolStateChanged:
			got = append(got, e.State.String())
		case PipelineOutput:
			got = append(got, fmt.Sprint("output ", e.Value))
		case PipelineStateChanged:
			s := e.State.String()
			if e.Error != nil {
				s += "+error"
			}
			got = append(got, s)
		case RunspaceAvailabilityReceived:
			got = append(got, fmt.Sprint(e.Request, " ", e.Value))
		case PipelineHostCall:
			got = append(got, fmt.Sprint("host ", e.Call.Method, " ", e.Call.CallID))
		case RunspacePoolInitDataReceived:
			got = append(got, "init data")
		}
	}
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	if i < len(want) {
		t.Errorf("events %q lack %q (in order)", got, want[i:])
	}
}

func TestReplayChecksHaveVectors(t *testing.T) {
	have := map[string]bool{}
	for _, f := range vectors.Files(t) {
		have[strings.TrimSuffix(filepath.Base(f), ".yml")] = true
	}
	for name := range replayChecks {
		if !have[name] {
			t.Errorf("client replay check for missing recording %s", name)
		}
	}
	for name := range serverReplayChecks {
		if !have[name] {
			t.Errorf("server replay check for missing recording %s", name)
		}
	}
}
