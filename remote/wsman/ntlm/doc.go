// Package ntlm implements NTLMv2 authentication and NTLM session security
// (MS-NLMP) for both roles, without doing any I/O.
//
// Layer: remote/wsman authentication. The HTTP transport
// (remote/wsman/transport) carries the tokens in Authorization /
// WWW-Authenticate headers and uses a Session to seal WinRM message bodies
// (MS-WSMV 2.2.9.1, pssession shared/PROTOCOL.md §6).
//
//   - Initiator (client): NEGOTIATE_MESSAGE (MS-NLMP 2.2.1.1), then an
//     AUTHENTICATE_MESSAGE (2.2.1.3) with an NTLMv2 response (3.3.2), key
//     exchange (NTLMSSP_NEGOTIATE_KEY_EXCH), a MIC when the server sent a
//     timestamp (3.1.5.1.2), and optional channel bindings (MsvAvChannelBindings).
//   - Acceptor (server): CHALLENGE_MESSAGE (2.2.1.2), verification of the
//     NTLMv2 response against the user's NT hash, MIC check, and the session key.
//     Anonymous, LM-only and NTLMv1 responses are refused.
//   - Session: connection-oriented message confidentiality and integrity with
//     extended session security (3.4.3, 3.4.4): one continuous RC4 stream and one
//     sequence number per direction.
//
// Nothing here is safe for concurrent use; one Initiator, Acceptor or Session
// belongs to one connection.
package ntlm
