package psrp

import (
	"testing"

	"github.com/pssession/pssession/remote/psrp/clixml"
)

var (
	fuzzPoolID     = clixml.GUID{0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x47, 0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF, 0x01}
	fuzzPipelineID = clixml.GUID{0x21, 0x22, 0x33, 0x44, 0x55, 0x66, 0x47, 0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF, 0x02}
)

func drainPackets(next func(int) *OutgoingData, max int) [][]byte {
	var out [][]byte
	for d := next(max); d != nil; d = next(max) {
		out = append(out, d.Data)
	}
	return out
}

// serverSeedPackets returns what a server sends in a busy session, as
// packets of unlimited and of small size.
func serverSeedPackets(t testing.TB) [][]byte {
	var seeds [][]byte
	for _, max := range []int{0, 90} {
		s := NewServerPool(ServerConfig{RunspacePoolID: fuzzPoolID})
		s.core.state = PoolOpening
		must := func(err error) {
			if err != nil {
				t.Fatal(err)
			}
		}
		must(s.Open())
		pl := &ServerPipeline{pool: s, id: fuzzPipelineID, state: PipelineRunning, nextCallID: 1, hostCalls: map[int64]HostMethodID{}}
		s.pipelines[fuzzPipelineID] = pl
		must(pl.WriteOutput("out"))
		must(pl.WriteError(testErrorRecord("e", "System.Exception", "E", 0, "Exception", 1)))
		must(pl.WriteWarning("w"))
		must(pl.WriteProgress(newMS(clixml.Property{Name: "Activity", Value: "a"})))
		_, err := pl.HostCall(HostReadLine)
		must(err)
		_, err = s.HostCall(HostGetName)
		must(err)
		must(s.SendUserEvent(UserEventBody{EventIdentifier: 1, SourceIdentifier: "x"}))
		must(s.queueState(PoolBroken, nil))
		must(pl.Complete())
		seeds = append(seeds, drainPackets(s.DataToSend, max)...)
	}
	return seeds
}

// FuzzClientPoolReceiveData feeds arbitrary packets to an opened client
// pool with a running pipeline and a key exchange under way: nothing may
// panic.
func FuzzClientPoolReceiveData(f *testing.F) {
	for _, s := range serverSeedPackets(f) {
		f.Add(s)
	}
	kp := mustKeyPair(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := NewClientPool(ClientConfig{RunspacePoolID: fuzzPoolID})
		if err != nil {
			t.Fatal(err)
		}
		c.core.state = PoolOpened
		c.keyPair, c.keyRequested = kp, true
		c.calls[1] = pendingRequest{req: RequestSetMaxRunspaces, limit: 3}
		if _, err := c.AttachPipeline(fuzzPipelineID); err != nil {
			t.Fatal(err)
		}
		_ = c.ReceiveData(data)
		drain(c.NextEvent)
		drainPackets(c.DataToSend, 64)
	})
}

// clientSeedPackets returns what a client sends in a busy session.
func clientSeedPackets(t testing.TB) [][]byte {
	c, err := NewClientPool(ClientConfig{RunspacePoolID: fuzzPoolID})
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.Open())
	seeds := drainPackets(c.DataToSend, 0)
	c.core.state = PoolOpened
	spec := PipelineSpec{Commands: []Command{{Cmd: "Get-Item", Args: []Argument{{Name: "Path", Value: "x"}}}}}
	pl := &ClientPipeline{pool: c, id: fuzzPipelineID, hostCalls: map[int64]HostMethodID{5: HostReadLine}, body: spec.body(c.serverAtLeast)}
	must(pl.Start())
	must(pl.Send("in"))
	must(pl.EndInput())
	must(pl.HostResponse(5, "typed", nil))
	_, err = c.SetMaxRunspaces(4)
	must(err)
	_, err = c.GetAvailableRunspaces()
	must(err)
	// No PUBLIC_KEY: RSA encryption under coverage instrumentation makes
	// minimizing such inputs take minutes; FuzzParsePublicKeyBlob covers
	// the blob decoder.
	seeds = append(seeds, drainPackets(c.DataToSend, 0)...)
	return seeds
}

// FuzzServerPoolReceiveData feeds arbitrary packets to a new server pool
// (first byte even) or an opened one with a running pipeline (odd).
func FuzzServerPoolReceiveData(f *testing.F) {
	for i, s := range clientSeedPackets(f) {
		f.Add(append([]byte{byte(i)}, s...))
	}
	f.Fuzz(func(t *testing.T, data []byte) { fuzzServerOnce(data) })
}

func fuzzServerOnce(data []byte) {
	if len(data) == 0 {
		return
	}
	s := NewServerPool(ServerConfig{RunspacePoolID: fuzzPoolID})
	if data[0]&1 == 1 {
		s.core.state = PoolOpened
		s.pipelines[fuzzPipelineID] = &ServerPipeline{pool: s, id: fuzzPipelineID, state: PipelineRunning, nextCallID: 1, hostCalls: map[int64]HostMethodID{1: HostReadLine}}
	}
	_ = s.ReceiveData(data[1:])
	for e, ok := s.NextEvent(); ok; e, ok = s.NextEvent() {
		if _, ok := e.(RunspacePoolInitReceived); ok {
			_ = s.Open()
		}
	}
	if s.State() == PoolOpened {
		_ = s.ReceiveConnect(data[1:])
		drain(s.NextEvent)
	}
	drainPackets(s.DataToSend, 64)
}
