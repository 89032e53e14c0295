package psrp

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
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

// testKeyPEM is a throwaway RSA-2048 key for tests and fuzzing: generating
// one is the slowest step of the exchange (seconds under coverage
// instrumentation). TestKeyExchangeRoundTrip covers NewKeyPair.
const testKeyPEM = `-----BEGIN RSA PRIVATE KEY-----
MIIEpAIBAAKCAQEA7Wjg6QSA74PdZec0YWfC3C5ejr/eusZiXN8y4E0OO3FPoKlh
ZYqzf+4EnJuysJzLOQn4JwsYO4GlYzr+F15W/tREFKfB8vbCP7w5BE7i5v0ErfG2
4vbc+gck43YMo50jNVSrjyCnxuBeqkpbIPhitCE0u0VOdl46Rf8OFItu84FFR/g3
xiGFDyqBHTM4c+oIiZYOpnLdXkgi0+p6ophvcEivU1BU+3SPB5EV5FKcaqHOmntd
UXHYmB4PB7oncojx/AlVIhhrXT4wlwDq8MdnuEznkCUhR2v3M+CNhgnE8SrrR6z9
MS2sErKPCE7pi015EVMWkLg7TdenweEFSrf4hQIDAQABAoIBAAKgqnwxvx3Hhn8I
lgLg+hFjsWS5+QSPFwrpM0zNVYbw/10rTfQCTiL9MHX6RcbgiWHf4bj7s+cB5y50
ulfp+AnS5OkBah5e2EujyrhcCVteOaIvBQoe8NdGMBFh0fLkO/3f9y3uAgvFTNu5
V6f2Njanqm5LLod7wTN1BsPrJVoSrGT6X0xsyC9W0vGTLpwdmSSlPlqk5RgYZ4ea
100rL0nQWdIiJbJYIllbxEusABTmp5+J8iaACSUZ/DQ84+h5QN/EZEyWZi4XGnbS
Wt7Rqg6R8GIDN5gDbwXy1a+UFp3QfCRoLmSgpHqfNfoNsP5de45Bo6Qu4i6i272V
RKU9zhkCgYEA+lwvEBP4NwiKePUdyGumenpwyUc+LOG7oObfixtcmN6D+o8KSFb6
sW/TqvlOAJxLzsd4vjjhX2mS9OsWEAoemd+bIGV/bvd32v064IaycaAvNbQncdz4
AFgD6+SY7ZySmIa7fMS0P0Jm/s1KAHI7KFyUU5taxbW0I0LhfnM4ZK0CgYEA8sIC
nu90fmNNXQULylA5XqUThMNVUnx6kdcHr7tv+0ZivL+gTSlhNy/41R6eRkEq4Ue3
7U6shADzkXc5J3Yfb1gtLB1j3QIGKShVi8qLPNhcLjb6ItBsXQEBV4cV9nDGtscc
hjDsBSbxnm5YzcLOMRrQsPx8TOBjMeUmzFAzhjkCgYEAhmtGLXi7VTj1t/nLEteR
m8LvmXHx1QEhz0MGFNcNAVq/O6DfIXXpxajH2c1e7v77yLrafi9l+ediKrOptdTp
Fy6ySFOWdwrRRDegC/rmBhG+JzRh1UWRtgWLnXSwEyt0ngYA1f161VgemoG4UMME
Nih2zujjdLGZVTFMhqrwRUUCgYEAuHGUEDIbrtPAOgbVeHgPvstp0xuevjd54Ukh
u/GMGbzW1FY8c6QXCxlV1IeY9gQZkmUtaA64oOsgJMwTDtp+89hpKfWCpK8fAzJ0
HOxdcnNpRmvbDYySaO+Ul245z67MLJ+IGqUdDqUSO6/XpS53/3NCUNblknuCoqxb
GC1vmHECgYBwmKfHXUvRgzid2qRaNiJXV2klp7a0QzJOt8r/qL79cPJIhUXpMdUS
i4ce93xs9LhCLDtKi7oRx6P9iFXgz9l7Nm4MKdlVM+0mDS50GKYJQkr/DREiCA4q
L3J/2YRvebyXnjkgNrwCQSZKE9HgZFkNSZl9kJnveU4T0OeNtA0k8Q==
-----END RSA PRIVATE KEY-----
`

var testKeyPair = sync.OnceValues(func() (*KeyPair, error) {
	b, _ := pem.Decode([]byte(testKeyPEM))
	if b == nil {
		return nil, errors.New("bad test key PEM")
	}
	k, err := x509.ParsePKCS1PrivateKey(b.Bytes)
	if err != nil {
		return nil, err
	}
	return &KeyPair{priv: k}, nil
})

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
	k, err := NewKeyPair(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	blob := k.PublicKeyBlob()
	if !bytes.HasPrefix(blob, []byte{0x06, 0x02, 0x00, 0x00, 0x00, 0xA4, 0x00, 0x00, 'R', 'S', 'A', '1', 0x00, 0x08, 0x00, 0x00}) {
		t.Fatalf("public key blob header % x", blob[:16])
	}
	pub, err := ParsePublicKeyBlob(blob)
	if err != nil {
		t.Fatal(err)
	}
	if pub.N.Cmp(k.priv.N) != 0 || pub.E != k.priv.E {
		t.Fatal("parsed public key differs from the generated one")
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

// FuzzParsePublicKeyBlob checks that the PUBLIC_KEY blob decoder never
// panics and that whatever it accepts re-encodes to the same bytes.
func FuzzParsePublicKeyBlob(f *testing.F) {
	vec, err := base64.StdEncoding.DecodeString(vectorPublicKey)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(vec)
	f.Add(mustKeyPair(f).PublicKeyBlob())
	f.Add([]byte{0x06, 0x02, 0x00, 0x00, 0x00, 0xA4, 0x00, 0x00, 'R', 'S', 'A', '1'})
	f.Fuzz(func(t *testing.T, blob []byte) {
		pub, err := ParsePublicKeyBlob(blob)
		if err != nil {
			return
		}
		if !bytes.Equal(encodePublicKeyBlob(pub), blob) {
			t.Errorf("accepted blob does not re-encode to itself")
		}
	})
}
