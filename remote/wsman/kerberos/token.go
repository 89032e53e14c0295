package kerberos

import (
	"bytes"
	"encoding/asn1"
	"fmt"
)

// OIDs the transport uses in SPNEGO mechTypes.
var (
	// OIDKerberos5 is the Kerberos V5 GSS-API mechanism (RFC 1964 §1).
	OIDKerberos5 = asn1.ObjectIdentifier{1, 2, 840, 113554, 1, 2, 2}
	// OIDMSKerberos is the OID Windows sends for the same mechanism
	// (MS-KILE 3.1.5.10).
	OIDMSKerberos = asn1.ObjectIdentifier{1, 2, 840, 48018, 1, 2, 2}
)

// Token identifiers of the context establishment tokens (RFC 4121 §4.1).
var (
	tokIDAPReq    = [2]byte{0x01, 0x00}
	tokIDAPRep    = [2]byte{0x02, 0x00}
	tokIDKRBError = [2]byte{0x03, 0x00}
)

// krb5OIDDER is the DER encoding of OIDKerberos5 (tag, length, value);
// msKrb5OIDDER that of OIDMSKerberos.
var (
	krb5OIDDER   = []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02}
	msKrb5OIDDER = []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02}
)

// maxTokenLen bounds a context token (tickets with a PAC reach ~10 KiB;
// Windows' MaxTokenSize is 48000).
const maxTokenLen = 64 << 10

// wrapMechToken frames a Kerberos message as an InitialContextToken
// (RFC 2743 §3.1, RFC 1964 §1.1): 0x60 len | OID | TOK_ID | message.
func wrapMechToken(tokID [2]byte, msg []byte) []byte {
	inner := len(krb5OIDDER) + 2 + len(msg)
	out := make([]byte, 0, inner+6)
	out = append(out, 0x60)
	out = appendDERLength(out, inner)
	out = append(out, krb5OIDDER...)
	out = append(out, tokID[:]...)
	return append(out, msg...)
}

func appendDERLength(b []byte, n int) []byte {
	switch {
	case n < 0x80:
		return append(b, byte(n))
	case n < 0x100:
		return append(b, 0x81, byte(n))
	case n < 0x10000:
		return append(b, 0x82, byte(n>>8), byte(n))
	default:
		return append(b, 0x83, byte(n>>16), byte(n>>8), byte(n))
	}
}

// unwrapMechToken parses an InitialContextToken framed by wrapMechToken.
// The OID is the Kerberos V5 one (Windows uses it inside the token even when
// SPNEGO announced the MS OID); the MS OID is tolerated too.
func unwrapMechToken(tok []byte) (tokID [2]byte, msg []byte, err error) {
	if len(tok) > maxTokenLen {
		return tokID, nil, fmt.Errorf("token of %d bytes exceeds %d", len(tok), maxTokenLen)
	}
	if len(tok) < 2 || tok[0] != 0x60 {
		return tokID, nil, fmt.Errorf("not a GSS-API initial context token")
	}
	n, rest, err := readDERLength(tok[1:])
	if err != nil {
		return tokID, nil, err
	}
	if n != len(rest) {
		return tokID, nil, fmt.Errorf("token length %d, %d bytes follow", n, len(rest))
	}
	switch {
	case bytes.HasPrefix(rest, krb5OIDDER):
		rest = rest[len(krb5OIDDER):]
	case bytes.HasPrefix(rest, msKrb5OIDDER):
		rest = rest[len(msKrb5OIDDER):]
	default:
		return tokID, nil, fmt.Errorf("token mechanism is not Kerberos V5")
	}
	if len(rest) < 2 {
		return tokID, nil, fmt.Errorf("token has no TOK_ID")
	}
	copy(tokID[:], rest)
	return tokID, rest[2:], nil
}

func readDERLength(b []byte) (int, []byte, error) {
	if len(b) == 0 {
		return 0, nil, fmt.Errorf("truncated token length")
	}
	if b[0] < 0x80 {
		return int(b[0]), b[1:], nil
	}
	k := int(b[0] & 0x7f)
	if k == 0 || k > 3 || len(b) < 1+k {
		return 0, nil, fmt.Errorf("bad token length encoding")
	}
	n := 0
	for _, c := range b[1 : 1+k] {
		n = n<<8 | int(c)
	}
	return n, b[1+k:], nil
}
