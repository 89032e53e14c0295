package kerberos

import (
	"bytes"
	"encoding/asn1"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMechTokenFraming(t *testing.T) {
	for _, n := range []int{0, 1, 100, 0x7f - 13, 0x80, 300, 70000} {
		msg := bytes.Repeat([]byte{0xab}, n)
		tok := wrapMechToken(tokIDAPRep, msg)
		var raw asn1.RawValue
		rest, err := asn1.Unmarshal(tok, &raw)
		if err != nil || len(rest) != 0 || raw.Class != asn1.ClassApplication || raw.Tag != 0 || !raw.IsCompound {
			t.Fatalf("len %d: not a DER [APPLICATION 0]: %v", n, err)
		}
		var oid asn1.ObjectIdentifier
		if _, err := asn1.Unmarshal(raw.Bytes, &oid); err != nil || !oid.Equal(OIDKerberos5) {
			t.Fatalf("len %d: OID %v, %v", n, oid, err)
		}
		if n > maxTokenLen {
			if _, _, err := unwrapMechToken(tok); err == nil {
				t.Fatalf("len %d: oversized token accepted", n)
			}
			continue
		}
		id, got, err := unwrapMechToken(tok)
		if err != nil || id != tokIDAPRep {
			t.Fatalf("len %d: id % x, %v", n, id, err)
		}
		if diff := cmp.Diff(msg, got, cmp.Comparer(bytes.Equal)); diff != "" {
			t.Fatalf("len %d: (-want +got):\n%s", n, diff)
		}
	}
	// The MS Kerberos OID inside the token is tolerated.
	ms, err := asn1.Marshal(OIDMSKerberos)
	if err != nil {
		t.Fatal(err)
	}
	inner := append(append(ms, 0x01, 0x00), 0x30, 0x00)
	if _, msg, err := unwrapMechToken(append([]byte{0x60, byte(len(inner))}, inner...)); err != nil || len(msg) != 2 {
		t.Fatalf("MS OID token: %v", err)
	}
	for _, bad := range [][]byte{nil, {0x60}, {0x60, 0x05, 0x06}, {0x30, 0x00}, {0x60, 0x84, 0, 0, 0, 1, 0}, {0x60, 0x80}} {
		if _, _, err := unwrapMechToken(bad); err == nil {
			t.Errorf("% x accepted", bad)
		}
	}
}
