package psrp

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pssession/pssession/internal/vectors"
	"github.com/pssession/pssession/remote/psrp/clixml"
)

// serverReplay feeds the client side of a recorded exchange (pypsrp's
// requests) to ServerPools, answering the way Windows did, so every real
// client message must parse. Windows' own host calls are mirrored so the
// recorded host responses have a call to answer.
type serverReplay struct {
	t      *testing.T
	pools  map[string]*ServerPool
	peek   map[string]*Reassembler // Windows' messages, to mirror host calls
	events []Event
}

func (r *serverReplay) pool(p vectorPayload) *ServerPool {
	key := strings.ToUpper(p.ShellID)
	s := r.pools[key]
	if s == nil {
		s = NewServerPool(ServerConfig{RunspacePoolID: shellGUID(r.t, p.ShellID)})
		r.pools[key] = s
	}
	return s
}

func (r *serverReplay) clientSent(p vectorPayload) {
	t := r.t
	s := r.pool(p)
	var err error
	if p.Connect {
		if s.State() == PoolBeforeOpen {
			// The recording connects to a pool created before it began:
			// stand one up in the state Windows had it.
			s.core.state = PoolOpened
			s.min, s.max = 1, 1
		}
		err = s.ReceiveConnect(p.Data)
	} else {
		err = s.ReceiveData(p.Data)
	}
	if err != nil {
		t.Errorf("%s: %v", p.Where, err)
	}
	for {
		e, ok := s.NextEvent()
		if !ok {
			break
		}
		r.events = append(r.events, e)
		switch e := e.(type) {
		case RunspacePoolInitReceived:
			if err := s.Open(); err != nil {
				t.Fatalf("%s: %v", p.Where, err)
			}
		case AvailabilityRequested:
			var v clixml.Value = true
			if e.Request == RequestGetAvailableRunspaces {
				v = int64(1)
			}
			if err := s.RespondAvailability(e.CallID, v); err != nil {
				t.Fatalf("%s: %v", p.Where, err)
			}
		case ProtocolErrorReceived:
			t.Errorf("%s: %v", p.Where, e.Err)
		}
	}
	for s.DataToSend(0) != nil {
	}
}

// serverSent mirrors Windows' host calls into the replayed server.
func (r *serverReplay) serverSent(p vectorPayload) {
	key := strings.ToUpper(p.ShellID) + "/" + strings.ToUpper(p.CommandID)
	in := r.peek[key]
	if in == nil {
		in = &Reassembler{}
		r.peek[key] = in
	}
	msgs, err := in.Feed(nil, p.Data)
	if err != nil {
		r.t.Fatalf("%s: %v", p.Where, err)
	}
	s := r.pool(p)
	for _, raw := range msgs {
		m, err := DecodeMessage(raw)
		if err != nil {
			continue
		}
		if m.Type == MsgPipelineState {
			if pl := s.Pipeline(m.PID); pl != nil && !pl.State().Terminal() {
				if err := pl.Complete(); err != nil {
					r.t.Fatalf("%s: %v", p.Where, err)
				}
			}
			continue
		}
		if m.Type != MsgPipelineHostCall && m.Type != MsgRunspacePoolHostCall {
			continue
		}
		b, err := m.DecodeBody(clixml.Limits{})
		if err != nil {
			r.t.Fatalf("%s: %v", p.Where, err)
		}
		switch b := b.(type) {
		case *RunspacePoolHostCallBody:
			if b.CallID != VoidCallID {
				s.hostCalls[b.CallID] = b.Method
			}
		case *PipelineHostCallBody:
			if pl := s.Pipeline(m.PID); pl != nil && b.CallID != VoidCallID {
				pl.hostCalls[b.CallID] = b.Method
			}
		}
	}
}

func TestServerReplayClientRequests(t *testing.T) {
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
			r := &serverReplay{t: t, pools: map[string]*ServerPool{}, peek: map[string]*Reassembler{}}
			for _, p := range payloads {
				if p.FromPeer == "client" {
					r.clientSent(p)
				} else {
					r.serverSent(p)
				}
			}
			if check := serverReplayChecks[name]; check != nil {
				check(t, r.events)
			}
		})
	}
}

var serverReplayChecks = map[string]func(t *testing.T, evs []Event){
	"test_psrp_application_args": func(t *testing.T, evs []Event) {
		for _, e := range evs {
			if init, ok := e.(RunspacePoolInitReceived); ok {
				if init.ApplicationArguments == nil || init.ApplicationArguments.Content != clixml.ContentDict {
					t.Errorf("ApplicationArguments = %#v, want a PSPrimitiveDictionary", init.ApplicationArguments)
				}
				return
			}
		}
		t.Error("no RunspacePoolInitReceived")
	},
	"test_psrp_multiple_commands": func(t *testing.T, evs []Event) {
		var cmds []string
		for _, e := range evs {
			if pc, ok := e.(PipelineCreated); ok {
				for _, st := range append([][]Command{pc.Pipeline.Spec.Commands}, pc.Pipeline.Spec.ExtraStatements...) {
					for _, c := range st {
						cmds = append(cmds, fmt.Sprintf("%s/%v/%d", c.Cmd, c.IsScript, len(c.Args)))
					}
				}
			}
		}
		if len(cmds) == 0 || !strings.Contains(strings.Join(cmds, " "), "Set-Variable/false/2") {
			t.Errorf("parsed commands %q lack Set-Variable with 2 arguments", cmds)
		}
	},
	"test_psrp_get_command_metadata": func(t *testing.T, evs []Event) {
		var names [][]string
		for _, e := range evs {
			if pc, ok := e.(PipelineCreated); ok && pc.Pipeline.Metadata != nil {
				names = append(names, pc.Pipeline.Metadata.Name)
			}
		}
		if fmt.Sprint(names) != "[[new-pssession*] [new-*] [Get-*]]" {
			t.Errorf("metadata names %q", names)
		}
	},
}
