package psrp

import (
	"testing"
)

// BenchmarkClientReceiveOutput measures the client side of a pipeline's
// output: 100 PIPELINE_OUTPUT strings in 64 KiB packets through
// ReceiveData and NextEvent.
func BenchmarkClientReceiveOutput(b *testing.B) {
	s := NewServerPool(ServerConfig{RunspacePoolID: fuzzPoolID})
	s.core.state = PoolOpened
	pl := &ServerPipeline{pool: s, id: fuzzPipelineID, state: PipelineRunning, nextCallID: 1, hostCalls: map[int64]HostMethodID{}}
	for range 100 {
		if err := pl.WriteOutput("a line of output as Out-String -Stream writes it, about eighty characters."); err != nil {
			b.Fatal(err)
		}
	}
	packets := drainPackets(s.DataToSend, 64<<10)
	size := 0
	for _, p := range packets {
		size += len(p)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		c, err := NewClientPool(ClientConfig{RunspacePoolID: fuzzPoolID})
		if err != nil {
			b.Fatal(err)
		}
		c.core.state = PoolOpened
		if _, err := c.AttachPipeline(fuzzPipelineID); err != nil {
			b.Fatal(err)
		}
		for _, p := range packets {
			if err := c.ReceiveData(p); err != nil {
				b.Fatal(err)
			}
		}
		if n := len(drain(c.NextEvent)); n != 100 {
			b.Fatalf("%d events", n)
		}
	}
}

// BenchmarkServerWriteOutput measures the server side: 100 outputs
// queued and packed into 64 KiB packets.
func BenchmarkServerWriteOutput(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		s := NewServerPool(ServerConfig{RunspacePoolID: fuzzPoolID})
		s.core.state = PoolOpened
		pl := &ServerPipeline{pool: s, id: fuzzPipelineID, state: PipelineRunning, nextCallID: 1, hostCalls: map[int64]HostMethodID{}}
		for range 100 {
			if err := pl.WriteOutput("a line of output as Out-String -Stream writes it, about eighty characters."); err != nil {
				b.Fatal(err)
			}
		}
		drainPackets(s.DataToSend, 64<<10)
	}
}
