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
package psrp
