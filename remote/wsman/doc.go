// Package wsman is the WS-Management layer of pssession (MS-WSMV; the
// shell operations PowerShell remoting uses, MS-PSRP 3.1.5.3): namespace and
// action constants, request envelopes for every operation, typed parsing of
// responses and SOAP faults, and a Client that runs the operations over a
// Transport (see shared/PROTOCOL.md §1).
//
// wsman carries PSRP payloads as opaque bytes (base64 on the wire); it does
// not know about PSRP messages. HTTP, authentication and message encryption
// live in the sub-package transport, whose Client implements Transport.
//
// # Shape
//
//   - ns.go: namespaces, action URIs, resource URIs, signal codes (note
//     SignalPSCtrlC, "crtl" is normative), command states, option names,
//     fault codes, envelope sizes. The endpoint uses them for the server
//     side.
//   - request.go: one type per operation (CreateRequest, CreateCmdRequest,
//     CommandRequest, SendRequest, ReceiveRequest, SignalRequest,
//     DeleteRequest, DisconnectRequest, ReconnectRequest, ConnectRequest,
//     GetShellRequest, GetConfigRequest, EnumerateRequest, PullRequest);
//     each renders itself with Envelope(Header). Values are always escaped.
//   - response.go: ParseResponse, then a typed accessor per operation
//     (Create, Shell, CommandID, Receive, Connect, Enumerate, Pull, Config,
//     Empty). A fault body comes back as a *Fault error.
//   - fault.go: *Fault with Code, Subcode, Reason, Machine, innermost
//     Message, Detail, HTTPStatus; Friendly(); IsOperationTimeout,
//     IsShellNotFound.
//   - client.go: Client, safe for concurrent use. Receive re-issues the
//     request on the operation-timeout fault until its context ends.
//     MaxPayload tells the PSRP layer how many bytes of fragments fit in a
//     Send or Command; SetMaxEnvelopeSize(MaxEnvelopeSize22) once the
//     server proved protocol 2.2 or later.
//   - xmltree.go: the bounded XML parser every response goes through
//     (depth, element count) and CanonicalXML for tests.
//
// Responses are parsed by namespace URI, never by prefix: Windows answers
// with its own prefixes (a, w, p, x, n).
package wsman
