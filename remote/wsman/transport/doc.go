// Package transport is the HTTP layer of WinRM: the client transport that
// carries SOAP envelopes for remote/wsman, and the server-side
// authentication middleware the loopback endpoint uses.
//
// Layer: remote/wsman, below the envelopes. Spec: MS-WSMV 2.2.9.1 (message
// encryption framing, encrypted.go), MS-NLMP via remote/wsman/ntlm, Kerberos
// (RFC 4120/4121) via remote/wsman/kerberos (kerberos.go: Negotiate's choice
// between Kerberos and NTLM, SPNs, mutual authentication), RFC 4559 (HTTP
// Negotiate), RFC 4178 (SPNEGO, spnego.go), RFC 7617 (Basic), and pssession
// shared/PROTOCOL.md §6.
//
// Authentication is connection-bound: an NTLM or Kerberos context belongs to
// one TCP connection, so the client keeps "lanes" (one connection each, one request at
// a time, its own context and sequence numbers) and the server keeps one
// context per connection through ServerAuth.ConnContext. For the same reason
// a lane reaches the server through a proxy as a byte stream (SOCKS5, or an
// HTTP CONNECT tunnel even for plain HTTP; proxy.go). Certificate
// authentication (the "https/mutual" profile, MS-WSMV 2.2.9.1) and its
// server-side mapping to users are in certauth.go.
package transport
