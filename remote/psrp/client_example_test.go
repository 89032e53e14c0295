package psrp_test

import (
	"fmt"

	"github.com/pssession/pssession/remote/psrp"
)

// pump moves packets between a client and a server pool until both are
// quiet; a real transport carries them in WSMan requests instead.
func pump(c *psrp.ClientPool, s *psrp.ServerPool) {
	for {
		moved := false
		if d := c.DataToSend(16 << 10); d != nil {
			_ = s.ReceiveData(d.Data)
			moved = true
		}
		if d := s.DataToSend(16 << 10); d != nil {
			_ = c.ReceiveData(d.Data)
			moved = true
		}
		if !moved {
			return
		}
	}
}

// A client opens a pool, runs one pipeline and reads its output; the
// server side answers as an endpoint would.
func ExampleClientPool() {
	client, err := psrp.NewClientPool(psrp.ClientConfig{})
	if err != nil {
		panic(err)
	}
	server := psrp.NewServerPool(psrp.ServerConfig{})

	_ = client.Open() // queues SESSION_CAPABILITY + INIT_RUNSPACEPOOL (creationXml)
	pump(client, server)
	for e, ok := server.NextEvent(); ok; e, ok = server.NextEvent() {
		if _, ok := e.(psrp.RunspacePoolInitReceived); ok {
			_ = server.Open() // capability, private data, Opened
		}
	}
	pump(client, server)
	fmt.Println("client pool:", client.State())

	pl, _ := client.CreatePipeline(psrp.PipelineSpec{
		Commands: []psrp.Command{{Cmd: "Get-Date", IsScript: true}},
		NoInput:  true,
	})
	_ = pl.Start() // queues CREATE_PIPELINE (WSMan Command arguments)
	pump(client, server)
	for e, ok := server.NextEvent(); ok; e, ok = server.NextEvent() {
		if pc, ok := e.(psrp.PipelineCreated); ok {
			fmt.Println("server runs:", pc.Pipeline.Spec.Commands[0].Cmd)
			_ = pc.Pipeline.WriteOutput("Monday")
			_ = pc.Pipeline.Complete()
		}
	}
	pump(client, server)
	for e, ok := client.NextEvent(); ok; e, ok = client.NextEvent() {
		switch e := e.(type) {
		case psrp.PipelineOutput:
			fmt.Println("output:", e.Value)
		case psrp.PipelineStateChanged:
			fmt.Println("pipeline:", e.State)
		}
	}
	// Output:
	// client pool: Opened
	// server runs: Get-Date
	// pipeline: Running
	// output: Monday
	// pipeline: Completed
}
