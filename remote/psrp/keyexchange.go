package psrp

import (
	"bytes"
	"crypto/rsa"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"
)

// Session key exchange (MS-PSRP 3.1.5.4.3, 3.2.5.4.3; shared/PROTOCOL.md §3.4).
//
// The client owns an RSA-2048 key pair per runspace pool and sends its public
// half as a CryptoAPI PUBLICKEYBLOB in PUBLIC_KEY. The server generates a
// 32-byte AES-256 session key, encrypts it with RSA PKCS#1 v1.5 and returns it
// as a CryptoAPI SIMPLEBLOB in ENCRYPTED_SESSION_KEY. The session key then
// encrypts every SecureString (clixml SecureString, AES-256-CBC).

// Key exchange sizes and CryptoAPI blob headers (MS-PSRP 2.2.2.3, 2.2.2.4).
const (
	rsaKeyBits     = 2048
	rsaModulusLen  = rsaKeyBits / 8
	sessionKeyLen  = 32 // AES-256 (MS-PSRP 2.2.2.4)
	blobHeaderLen  = 8  // BLOBHEADER: bType, bVersion, reserved u16, aiKeyAlg u32
	rsaPubKeyLen   = 12 // RSAPUBKEY: magic, bitlen, pubexp
	simpleAlgIDLen = 4  // SIMPLEBLOB: ALG_ID of the key-exchange key

	publicKeyBlobLen  = blobHeaderLen + rsaPubKeyLen + rsaModulusLen
	sessionKeyBlobLen = blobHeaderLen + simpleAlgIDLen + rsaModulusLen
)

// publicKeyBlobHeader is BLOBHEADER{PUBLICKEYBLOB, CUR_BLOB_VERSION, 0,
// CALG_RSA_KEYX} followed by RSAPUBKEY.magic "RSA1" (MS-PSRP 2.2.2.3).
var publicKeyBlobHeader = [...]byte{0x06, 0x02, 0x00, 0x00, 0x00, 0xA4, 0x00, 0x00, 'R', 'S', 'A', '1'}

// sessionKeyBlobHeader is BLOBHEADER{SIMPLEBLOB, CUR_BLOB_VERSION, 0,
// CALG_AES_256} followed by the ALG_ID CALG_RSA_KEYX of the wrapping key
// (MS-PSRP 2.2.2.4).
var sessionKeyBlobHeader = [...]byte{0x01, 0x02, 0x00, 0x00, 0x10, 0x66, 0x00, 0x00, 0x00, 0xA4, 0x00, 0x00}

// ErrKeyBlob reports a malformed PUBLICKEYBLOB or SIMPLEBLOB from the peer.
var ErrKeyBlob = errors.New("psrp: malformed key blob")

// KeyPair is the client's RSA key pair for one runspace pool.
type KeyPair struct {
	priv *rsa.PrivateKey
}

// NewKeyPair generates an RSA-2048 key pair. rand is the entropy source
// (crypto/rand.Reader when nil is passed by the pool); note that since Go
// 1.26 crypto/rsa always uses a secure source and ignores it.
func NewKeyPair(rand io.Reader) (*KeyPair, error) {
	priv, err := rsa.GenerateKey(rand, rsaKeyBits)
	if err != nil {
		return nil, fmt.Errorf("psrp: generate rsa key: %w", err)
	}
	return &KeyPair{priv: priv}, nil
}

// PublicKeyBlob returns the public key as a CryptoAPI PUBLICKEYBLOB: the
// header, bit length and exponent as little-endian uint32 values, then the
// modulus in little-endian byte order.
func (k *KeyPair) PublicKeyBlob() []byte {
	return encodePublicKeyBlob(&k.priv.PublicKey)
}

func encodePublicKeyBlob(pub *rsa.PublicKey) []byte {
	b := make([]byte, 0, publicKeyBlobLen)
	b = append(b, publicKeyBlobHeader[:]...)
	b = binary.LittleEndian.AppendUint32(b, rsaKeyBits)
	b = binary.LittleEndian.AppendUint32(b, uint32(pub.E))
	mod := pub.N.FillBytes(make([]byte, rsaModulusLen))
	reverse(mod)
	return append(b, mod...)
}

// DecryptSessionKey decrypts the SIMPLEBLOB carried by ENCRYPTED_SESSION_KEY
// and returns the 32-byte session key.
func (k *KeyPair) DecryptSessionKey(blob []byte) ([]byte, error) {
	ct, err := sessionKeyCiphertext(blob)
	if err != nil {
		return nil, err
	}
	//lint:ignore SA1019 MS-PSRP 3.2.5.4.3 mandates PKCS#1 v1.5 for the session key.
	key, err := rsa.DecryptPKCS1v15(nil, k.priv, ct)
	if err != nil {
		return nil, fmt.Errorf("psrp: decrypt session key: %w", err)
	}
	if len(key) != sessionKeyLen {
		return nil, fmt.Errorf("%w: session key of %d bytes, want %d", ErrKeyBlob, len(key), sessionKeyLen)
	}
	return key, nil
}

// sessionKeyCiphertext checks a SIMPLEBLOB and returns its RSA ciphertext
// in big-endian order.
func sessionKeyCiphertext(blob []byte) ([]byte, error) {
	if len(blob) != sessionKeyBlobLen || !bytes.Equal(blob[:len(sessionKeyBlobHeader)], sessionKeyBlobHeader[:]) {
		return nil, fmt.Errorf("%w: session key blob of %d bytes with header % x", ErrKeyBlob, len(blob), blob[:min(len(blob), len(sessionKeyBlobHeader))])
	}
	ct := bytes.Clone(blob[len(sessionKeyBlobHeader):])
	reverse(ct)
	return ct, nil
}

// ParsePublicKeyBlob decodes a PUBLICKEYBLOB sent in PUBLIC_KEY. Only
// RSA-2048 keys, as every PowerShell client sends, are accepted.
func ParsePublicKeyBlob(blob []byte) (*rsa.PublicKey, error) {
	if len(blob) != publicKeyBlobLen || !bytes.Equal(blob[:len(publicKeyBlobHeader)], publicKeyBlobHeader[:]) {
		return nil, fmt.Errorf("%w: public key blob of %d bytes with header % x", ErrKeyBlob, len(blob), blob[:min(len(blob), len(publicKeyBlobHeader))])
	}
	bits := binary.LittleEndian.Uint32(blob[12:16])
	if bits != rsaKeyBits {
		return nil, fmt.Errorf("%w: rsa key of %d bits, want %d", ErrKeyBlob, bits, rsaKeyBits)
	}
	e := binary.LittleEndian.Uint32(blob[16:20])
	if e < 3 || e&1 == 0 || e > 1<<31-1 {
		return nil, fmt.Errorf("%w: rsa exponent %d", ErrKeyBlob, e)
	}
	mod := bytes.Clone(blob[20:])
	reverse(mod)
	n := new(big.Int).SetBytes(mod)
	if n.BitLen() != rsaKeyBits {
		return nil, fmt.Errorf("%w: rsa modulus of %d bits, want %d", ErrKeyBlob, n.BitLen(), rsaKeyBits)
	}
	return &rsa.PublicKey{N: n, E: int(e)}, nil
}

// NewSessionKey reads a fresh 32-byte session key from rand.
func NewSessionKey(rand io.Reader) ([]byte, error) {
	key := make([]byte, sessionKeyLen)
	if _, err := io.ReadFull(rand, key); err != nil {
		return nil, fmt.Errorf("psrp: generate session key: %w", err)
	}
	return key, nil
}

// EncryptSessionKey encrypts a session key for the client's public key and
// returns the SIMPLEBLOB carried by ENCRYPTED_SESSION_KEY.
func EncryptSessionKey(rand io.Reader, pub *rsa.PublicKey, key []byte) ([]byte, error) {
	//lint:ignore SA1019 MS-PSRP 3.2.5.4.3 mandates PKCS#1 v1.5 for the session key.
	ct, err := rsa.EncryptPKCS1v15(rand, pub, key)
	if err != nil {
		return nil, fmt.Errorf("psrp: encrypt session key: %w", err)
	}
	reverse(ct)
	b := make([]byte, 0, sessionKeyBlobLen)
	b = append(b, sessionKeyBlobHeader[:]...)
	return append(b, ct...), nil
}

func reverse(b []byte) {
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
}
