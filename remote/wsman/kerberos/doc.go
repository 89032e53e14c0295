// Package kerberos implements the Kerberos V5 GSS-API mechanism (RFC 4121,
// RFC 1964 token framing) for WinRM message protection, in both roles, on
// top of github.com/jcmturner/gokrb5/v8.
//
// Layer: remote/wsman authentication, beside package ntlm. The HTTP
// transport (remote/wsman/transport) carries the tokens (wrapped in SPNEGO
// when the Negotiate scheme is used) and uses a Session to seal WinRM
// message bodies (MS-WSMV 2.2.9.1, pssession shared/PROTOCOL.md §6.4).
//
//   - Client: logs in from a password, a keytab or a credential cache
//     (gokrb5), gets service tickets and builds the AP-REQ (RFC 4120 §5.5.1)
//     with the RFC 4121 §4.1.1 authenticator checksum: GSS flags, channel
//     bindings (RFC 2744 §3.11), a fresh initiator subkey and sequence number.
//     InitiatorContext.Complete verifies the AP-REP (mutual authentication).
//   - Acceptor: decrypts the ticket with a keytab, checks the authenticator
//     (clock skew, replay cache, channel bindings) and answers with an AP-REP
//     carrying a fresh acceptor subkey and sequence number, which gokrb5 cannot
//     build itself.
//   - Session: RFC 4121 §4.2.6.2 sealed wrap tokens in the layout WinRM uses
//     (RRC 28, a 60-byte "signature" for the AES SHA-1 enctypes), and RFC 4757
//     §7.3 wrap tokens for RC4-HMAC; gokrb5 only has integrity-only wrap
//     tokens. Both are byte for byte what MIT's gss_wrap_iov produces.
//
// AES (etypes 17, 18, 19) and RC4-HMAC (23) can seal; a DES3 context
// authenticates but Seal and Unseal return an *Error naming the etype.
// aes256-cts-hmac-sha384-192 (20) is refused: gokrb5 v8.4.4 mis-sizes its
// keys.
// Apart from the client's KDC exchanges (done by gokrb5) nothing here does
// I/O.
package kerberos
