package clixml

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

var testSessionKey = func() []byte {
	k := make([]byte, 32)
	for i := range k {
		k[i] = byte(i)
	}
	return k
}()

// Expected ciphertexts computed independently with
// `openssl enc -aes-256-cbc -K 000102…1f -iv 0…0` over UTF-16LE input.
func TestSecureStringKnownAnswers(t *testing.T) {
	tests := []struct {
		name, plain string
		want        SecureString
	}{
		{"short", "hié", "QK0GjYXRAR/As18dyMKzAA=="},
		{"empty", "", "nzt1BJJvi9NuMRjpA6TNSg=="},
		{"non-BMP", "password😀", "u1HQw6XnGcp+dvRujpjX+zwCM4UcTnxuE/doEv26Ye0="},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := EncryptSecureString(testSessionKey, tc.plain)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(tc.want) {
				t.Errorf("encrypt = %s, want %s", string(got), string(tc.want))
			}
			plain, err := tc.want.Decrypt(testSessionKey)
			if err != nil {
				t.Fatal(err)
			}
			if plain != tc.plain {
				t.Errorf("decrypt = %q, want %q", plain, tc.plain)
			}
		})
	}
}

func TestSecureStringErrors(t *testing.T) {
	other := append([]byte(nil), testSessionKey...)
	other[0] ^= 1
	ok, err := EncryptSecureString(testSessionKey, "secret")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		ss   SecureString
		key  []byte
	}{
		{"not base64", "!!!", testSessionKey},
		{"empty", "", testSessionKey},
		{"not block aligned", "AAAA", testSessionKey},
		{"wrong key", ok, other},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.ss.Decrypt(tc.key); !errors.Is(err, ErrSecureString) {
				t.Errorf("err = %v, want ErrSecureString", err)
			}
		})
	}
	if _, err := EncryptSecureString(testSessionKey[:16], "x"); err == nil {
		t.Error("16-byte key accepted")
	}
	if _, err := ok.Decrypt(nil); err == nil {
		t.Error("nil key accepted")
	}
}

func TestSecureStringPlain(t *testing.T) {
	ss := EncodePlainSecureString("pä😀")
	if string(ss) != "cADkAD3YAN4=" {
		t.Errorf("plain form = %s", string(ss))
	}
	got, err := ss.DecodePlain()
	if err != nil || got != "pä😀" {
		t.Errorf("DecodePlain = %q, %v", got, err)
	}
	if _, err := SecureString("AAAA").DecodePlain(); !errors.Is(err, ErrSecureString) {
		t.Errorf("odd length: %v", err)
	}
}

func TestSecureStringRedacted(t *testing.T) {
	ss, err := EncryptSecureString(testSessionKey, "hunter2")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{fmt.Sprint(ss), fmt.Sprintf("%v %s %#v", ss, ss, ss), fmt.Sprintf("%+v", PSCredential{UserName: "u", Password: ss})} {
		if strings.Contains(s, string(ss)) || strings.Contains(s, "hunter2") {
			t.Errorf("formatted SecureString leaks: %s", s)
		}
	}
}
