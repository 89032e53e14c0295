// Package psrp is the sans-IO core of the PowerShell Remoting Protocol
// (MS-PSRP): the wire layer — fragments (MS-PSRP 2.2.4), message headers
// (2.2.1), typed message bodies (2.2.2) and their enums (2.2.3) — and the
// runspace pool and pipeline state machines for both the client and the
// server role (MS-PSRP 3.1, 3.2; shared/PROTOCOL.md §2).
//
// The package does no I/O: it imports no net or os, starts no goroutine
// and never sleeps. Callers feed it bytes received from a transport
// (WinRM streams, an SSH subsystem) and drain the bytes it wants to send.
// Every size the peer controls is bounded by Limits.
//
// The wire layer on its own, receiving:
//
//	var r psrp.Reassembler              // one per peer and stream; Reset on Connect
//	msgs, err := r.Feed(nil, streamBytes) // fragments → whole messages
//	for _, raw := range msgs {
//		m, err := psrp.DecodeMessage(raw)         // header; Data without BOM
//		body, err := m.DecodeBody(clixml.Limits{}) // e.g. *psrp.PipelineOutputBody
//	}
//
// and sending:
//
//	var fz psrp.Fragmenter // one per sender: ObjectIds 1, 2, … for pool and pipelines
//	m, err := psrp.NewMessage(psrp.DestinationServer, rpid, pid, &psrp.PipelineInputBody{Data: "x"})
//	packet := fz.Append(nil, m.Encode(), maxBlob)
package psrp
