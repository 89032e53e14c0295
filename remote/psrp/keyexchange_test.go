package psrp

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"math/big"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Recorded in shared/vectors/windows/test_psrp_multiple_commands.yml: the
// PUBLIC_KEY pypsrp sent and the ENCRYPTED_SESSION_KEY Windows answered.
const (
	vectorPublicKey           = "BgIAAACkAABSU0ExAAgAAAEAAQBvH62/q5haEUStHGs+p3e5TIR1xaL+Ab9pYjd1pB4oYN1Rbru+i2BpzCNAvmE+y018u0idwQnoE70Pvq16bcxeXiaXajuKrqx+e+cg/Yu0emyZZspUN8opTPXceSEVXR8jhpSrnpI6ziP0ek+/Mu7836HJ5DnikE6h7tSk1sRnJ3XVQFS8EbcfI+sigy30rJjZA/aD1HRpXpyoABoK8hSpihvnJcVNr3uY8DibjLSKIoeGF3nK0V3peMUC3cbxjvwOsGjFPBCuA/exOKkNuPEraLtEv1PvaFmRFUR0M9lj4WjKMhU8sle04IZJlYTvX6xuX8nYS1P3RsRdsqa0YpnD"
	vectorEncryptedSessionKey = "AQIAABBmAAAApAAAyiHuF/hQKKq/XcqpzNRoVsSjI3deLpXbcwpKWdlsxSKS/5c0Mw3d0Wj3YGCZRjbQXbY2mG8/KyrXgt0sK7891btBvIO1rlMzRmiyv5IygUtBOHm3cknyCPNEJ68JK93m01lo4UPe7bLcINFWla4dOPl55cFlKqo7JnWpzD3jp8rYCjtJlM4fUG2GUt+doHJVL9uZV3jxSatwQnSMe3QFuZWYbUU0pCutdb/SQiByM4KIch3Tq5N1mFjVnBLJUClwZL/a4fU4VwGqPmhw8f60EdJP6iaixln/iyZ0WZse6dd0ys1WdidLVl5jVR5EbUC/oLmEfx1xb4p5Dck1DBb5cw=="
)

// testKeyPair generates one RSA key pair per test binary: generation is the
// slowest step of the exchange and every test may share it.
var testKeyPair = sync.OnceValues(func() (*KeyPair, error) { return NewKeyPair(rand.Reader) })

func mustKeyPair(t testing.TB) *KeyPair {
	t.Helper()
	k, err := testKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestParsePublicKeyBlobVector(t *testing.T) {
	blob, err := base64.StdEncoding.DecodeString(vectorPublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ParsePublicKeyBlob(blob)
	if err != nil {
		t.Fatalf("ParsePublicKeyBlob: %v", err)
	}
	if pub.E != 65537 || pub.N.BitLen() != 2048 {
		t.Errorf("key: e=%d bits=%d, want 65537 and 2048", pub.E, pub.N.BitLen())
	}
	if diff := cmp.Diff(blob, encodePublicKeyBlob(pub)); diff != "" {
		t.Errorf("re-encoded blob differs (-recorded +ours):\n%s", diff)
	}
}

func TestSessionKeyBlobVector(t *testing.T) {
	blob, err := base64.StdEncoding.DecodeString(vectorEncryptedSessionKey)
	if err != nil {
		t.Fatal(err)
	}
	ct, err := sessionKeyCiphertext(blob)
	if err != nil {
		t.Fatalf("sessionKeyCiphertext: %v", err)
	}
	// Without the private key the recorded ciphertext can only be checked for
	// shape: 256 bytes, a value below the recorded client's modulus.
	pubBlob, _ := base64.StdEncoding.DecodeString(vectorPublicKey)
	pub, err := ParsePublicKeyBlob(pubBlob)
	if err != nil {
		t.Fatal(err)
	}
	if len(ct) != 256 || new(big.Int).SetBytes(ct).Cmp(pub.N) >= 0 {
		t.Errorf("ciphertext of %d bytes is not an RSA-2048 value under the recorded modulus", len(ct))
	}
}

func TestKeyExchangeRoundTrip(t *testing.T) {
	k := mustKeyPair(t)
	blob := k.PublicKeyBlob()
	if !bytes.HasPrefix(blob, []byte{0x06, 0x02, 0x00, 0x00, 0x00, 0xA4, 0x00, 0x00, 'R', 'S', 'A', '1', 0x00, 0x08, 0x00, 0x00}) {
		t.Fatalf("public key blob header % x", blob[:16])
	}
	pub, err := ParsePublicKeyBlob(blob)
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Repeat([]byte{0x5A}, 32)
	key, err := NewSessionKey(bytes.NewReader(want))
	if err != nil {
		t.Fatal(err)
	}
	enc, err := EncryptSessionKey(rand.Reader, pub, key)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(enc, []byte{0x01, 0x02, 0x00, 0x00, 0x10, 0x66, 0x00, 0x00, 0x00, 0xA4, 0x00, 0x00}) || len(enc) != 268 {
		t.Fatalf("session key blob: %d bytes, header % x", len(enc), enc[:12])
	}
	got, err := k.DecryptSessionKey(enc)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("session key (-want +got):\n%s", diff)
	}
}

func TestKeyBlobErrors(t *testing.T) {
	k := mustKeyPair(t)
	good := k.PublicKeyBlob()
	mutate := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	pubCases := []struct {
		name string
		blob []byte
	}{
		{"empty", nil},
		{"short", good[:100]},
		{"long", append(bytes.Clone(good), 0)},
		{"wrong type", mutate(func(b []byte) []byte { b[0] = 0x07; return b })},
		{"wrong magic", mutate(func(b []byte) []byte { b[11] = '2'; return b })},
		{"wrong bit length", mutate(func(b []byte) []byte { b[13] = 0x04; return b })},
		{"even exponent", mutate(func(b []byte) []byte { b[16] = 0x02; return b })},
		{"exponent one", mutate(func(b []byte) []byte { b[16], b[17], b[18], b[19] = 1, 0, 0, 0; return b })},
		{"short modulus", mutate(func(b []byte) []byte { b[len(b)-1] = 0; return b })},
	}
	for _, tc := range pubCases {
		t.Run("public/"+tc.name, func(t *testing.T) {
			if _, err := ParsePublicKeyBlob(tc.blob); !errors.Is(err, ErrKeyBlob) {
				t.Errorf("ParsePublicKeyBlob = %v, want ErrKeyBlob", err)
			}
		})
	}
	pub, _ := ParsePublicKeyBlob(good)
	enc, err := EncryptSessionKey(rand.Reader, pub, make([]byte, 16))
	if err != nil {
		t.Fatal(err)
	}
	sessCases := []struct {
		name string
		blob []byte
		is   error
	}{
		{"empty", nil, ErrKeyBlob},
		{"short", enc[:200], ErrKeyBlob},
		{"wrong algorithm", func() []byte { b := bytes.Clone(enc); b[4] = 0x0E; return b }(), ErrKeyBlob},
		{"key of 16 bytes", enc, ErrKeyBlob},
		{"garbage ciphertext", append(bytes.Clone(enc[:12]), bytes.Repeat([]byte{1}, 256)...), nil},
	}
	for _, tc := range sessCases {
		t.Run("session/"+tc.name, func(t *testing.T) {
			_, err := k.DecryptSessionKey(tc.blob)
			if err == nil || (tc.is != nil && !errors.Is(err, tc.is)) {
				t.Errorf("DecryptSessionKey = %v, want error (is %v)", err, tc.is)
			}
		})
	}
}
