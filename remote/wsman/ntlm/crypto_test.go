package ntlm

import (
	"encoding/hex"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Values from MS-NLMP 4.2.1 (common values) and 4.2.4.1 (NTLMv2).
func TestNTOWFv2KnownAnswer(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"NTHash(Password)", NTHash("Password"), "a4f49c406510bdcab6824ee7c30fd852"},
		{"NTOWFv2(User, Domain)", ntowfv2(NTHash("Password"), "User", "Domain"), "0c868a403bfd7a93a3001ef22ef02e3f"},
		{"NTOWFv2 upper-cases the user only", ntowfv2(NTHash("Password"), "USER", "Domain"), "0c868a403bfd7a93a3001ef22ef02e3f"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, hex.EncodeToString(tt.got)); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestFileTime(t *testing.T) {
	tests := []struct {
		name string
		t    time.Time
		want string
	}{
		{"FILETIME epoch", time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC), "0000000000000000"},
		{"Unix epoch", time.Unix(0, 0), "00803ed5deb19d01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, hex.EncodeToString(fileTime(tt.t))); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestChannelBindingsHash(t *testing.T) {
	if diff := cmp.Diff(make([]byte, 16), channelBindingsHash(nil)); diff != "" {
		t.Errorf("no bindings (-want +got)\n%s", diff)
	}
	a := channelBindingsHash([]byte("tls-server-end-point:a"))
	b := channelBindingsHash([]byte("tls-server-end-point:b"))
	if len(a) != 16 || cmp.Equal(a, b) {
		t.Errorf("bindings hash %x / %x: want two distinct 16-byte values", a, b)
	}
}
