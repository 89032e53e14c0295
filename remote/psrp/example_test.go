package psrp_test

import (
	"fmt"

	"github.com/pssession/pssession/remote/psrp"
	"github.com/pssession/pssession/remote/psrp/clixml"
)

// A sender numbers and fragments messages; the receiver reassembles and
// decodes them.
func Example() {
	var fz psrp.Fragmenter
	var packet []byte
	for _, line := range []string{"first line", "second line"} {
		m, err := psrp.NewMessage(psrp.DestinationClient, clixml.GUID{1}, clixml.GUID{2}, &psrp.PipelineOutputBody{Data: line})
		if err != nil {
			panic(err)
		}
		m.BOM = true // as Windows writes it
		packet = fz.Append(packet, m.Encode(), 16)
	}

	var r psrp.Reassembler
	msgs, err := r.Feed(nil, packet)
	if err != nil {
		panic(err)
	}
	for _, raw := range msgs {
		m, err := psrp.DecodeMessage(raw)
		if err != nil {
			panic(err)
		}
		body, err := m.DecodeBody(clixml.Limits{})
		if err != nil {
			panic(err)
		}
		fmt.Println(m.Type, body.(*psrp.PipelineOutputBody).Data)
	}
	// Output:
	// PIPELINE_OUTPUT first line
	// PIPELINE_OUTPUT second line
}
