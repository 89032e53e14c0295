package transport

import (
	"encoding/asn1"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSPNEGORoundTrip(t *testing.T) {
	ntlmTok := []byte("NTLMSSP\x00\x01\x00\x00\x00rest")
	init := mustMarshal(asn1.RawValue{Class: asn1.ClassApplication, Tag: 0, IsCompound: true,
		Bytes: append(mustMarshal(oidSPNEGO), explicit(0, mustMarshal(negTokenInit{MechTypes: mechList(oidNTLM), MechToken: ntlmTok}))...)})
	tests := []struct {
		name    string
		tok     []byte
		want    []byte
		wantErr bool
	}{
		{name: "NegTokenInit", tok: init, want: ntlmTok},
		{name: "NegTokenResp", tok: spnegoResp(negAcceptIncomplete, oidNTLM, ntlmTok, nil), want: ntlmTok},
		{name: "Kerberos-only init", tok: mustMarshal(asn1.RawValue{Class: asn1.ClassApplication, Tag: 0, IsCompound: true,
			Bytes: append(mustMarshal(oidSPNEGO), explicit(0, mustMarshal(negTokenInit{MechTypes: mechList(asn1.ObjectIdentifier{1, 2, 840, 113554, 1, 2, 2}), MechToken: []byte{1}}))...)}), wantErr: true},
		{name: "final NegTokenResp without token", tok: spnegoResp(negAcceptCompleted, nil, nil, nil), wantErr: true},
		{name: "garbage", tok: []byte{0x60, 0x80, 1}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sp, err := spnegoInner(tt.tok)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			var got []byte
			if sp != nil {
				got = sp.mech
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
	// accept-completed must be encoded explicitly (encoding/asn1 would drop it).
	if diff := cmp.Diff([]byte{0xa1, 0x07, 0x30, 0x05, 0xa0, 0x03, 0x0a, 0x01, 0x00}, spnegoResp(negAcceptCompleted, nil, nil, nil)); diff != "" {
		t.Errorf("accept-completed encoding (-want +got)\n%s", diff)
	}
}

// FuzzSPNEGOToken: peer tokens from the Authorization header never panic.
func FuzzSPNEGOToken(f *testing.F) {
	f.Add(spnegoResp(negAcceptIncomplete, oidNTLM, []byte("NTLMSSP\x00\x03\x00\x00\x00"), nil))
	f.Add(mustMarshal(asn1.RawValue{Class: asn1.ClassApplication, Tag: 0, IsCompound: true,
		Bytes: append(mustMarshal(oidSPNEGO), explicit(0, mustMarshal(negTokenInit{MechTypes: mechList(oidNTLM), MechToken: []byte("NTLMSSP\x00")}))...)}))
	f.Add(spnegoResp(negAcceptCompleted, oidNTLM, []byte{0x60, 0x03, 0x06, 0x01, 0x00}, nil))
	f.Add(spnegoInit(spnegoKerberosMechs, []byte{0x60, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02}))
	f.Fuzz(func(t *testing.T, tok []byte) {
		if sp, err := spnegoInner(tok); err == nil && len(sp.mech) == 0 {
			t.Fatal("accepted token yields an empty mechanism token")
		}
		if m, err := parseSPNEGO(tok); err == nil && m.init && len(m.mechTypes) == 0 {
			t.Fatal("accepted NegTokenInit without mechanisms")
		}
		for _, raw := range []bool{false, true} {
			if rep, _, err := kerberosReply(tok, raw); err == nil && len(rep) == 0 {
				t.Fatal("accepted reply yields an empty AP-REP")
			}
		}
		isKerberosToken(tok)
	})
}

func mechList(oids ...asn1.ObjectIdentifier) []asn1.ObjectIdentifier { return oids }
