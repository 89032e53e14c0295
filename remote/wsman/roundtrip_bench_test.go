package wsman_test

import (
	"context"
	"strings"
	"testing"

	"github.com/pssession/pssession/remote/endpoint"
	"github.com/pssession/pssession/remote/psrp"
	"github.com/pssession/pssession/remote/wsman"
)

// BenchmarkCommandReceiveRoundTrip measures one WS-Man Command carrying
// a trivial CREATE_PIPELINE, Receive until Done and Signal Terminate on
// an already-open pool, against the loopback endpoint.
func BenchmarkCommandReceiveRoundTrip(b *testing.B) {
	for _, lc := range loopConfigs {
		b.Run(lc.name, func(b *testing.B) {
			ctx := context.Background()
			_, dial := lc.start(b, newEndpoint(b, endpoint.Config{}))
			c, err := dial(loopUser, loopPassword)
			if err != nil {
				b.Fatal(err)
			}
			p := openPool(ctx, b, c, wsman.CreateRequest{})
			b.ReportAllocs()
			for b.Loop() {
				pl, err := p.pool.CreatePipeline(psrp.PipelineSpec{Commands: []psrp.Command{{Cmd: "Write-Output hi", IsScript: true}}, NoInput: true})
				if err != nil {
					b.Fatal(err)
				}
				if err := pl.Start(); err != nil {
					b.Fatal(err)
				}
				first := p.pool.DataToSendFor(pl.ID(), c.MaxPayload())
				id, err := c.Command(ctx, p.shellID, strings.ToUpper(pl.ID().String()), "", first.Data)
				if err != nil {
					b.Fatal(err)
				}
				for done := false; !done; {
					r, err := c.Receive(ctx, p.shellID, id)
					if err != nil {
						b.Fatal(err)
					}
					p.feed(r)
					done = r.Done()
				}
				if err := c.Signal(ctx, p.shellID, id, wsman.SignalTerminate); err != nil {
					b.Fatal(err)
				}
				p.pool.RemovePipeline(pl.ID())
			}
		})
	}
}
