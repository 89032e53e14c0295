// Package wsman is the WS-Management layer of pssession (MS-WSMV; the
// shell operations PowerShell remoting uses, MS-PSRP 3.1.5.3): namespace and
// action constants, request envelopes for every operation, typed parsing of
// responses and SOAP faults, and a Client that runs the operations over a
// Transport (see shared/PROTOCOL.md §1).
//
// wsman carries PSRP payloads as opaque bytes (base64 on the wire); it does
// not know about PSRP messages. HTTP, authentication and message encryption
// live in the sub-package transport, whose client implements Transport.
//
// Responses are parsed by namespace URI, never by prefix: Windows answers
// with its own prefixes (a, w, p, x, n).
package wsman
