package clixml

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// SecureString crypto (MS-PSRP 3.1.4.6 / shared/PROTOCOL.md §3.4): with
// protocol ≤ 2.3 the <SS> text is base64(AES-256-CBC(UTF-16LE(s))) with an
// all-zero IV and PKCS#7 padding, keyed by the 32-byte session key from
// the PUBLIC_KEY / ENCRYPTED_SESSION_KEY exchange. Between two 2.4 peers it
// is base64 of the raw UTF-16LE bytes (EncodePlainSecureString).

// SessionKeySize is the size of the AES-256 session key.
const SessionKeySize = 32

// ErrSecureString is wrapped by every SecureString decryption failure.
var ErrSecureString = errors.New("clixml: invalid SecureString")

// String redacts the value so that it never reaches logs by accident.
// Convert with string(ss) to get the (still encrypted) wire text.
func (ss SecureString) String() string { return "[SecureString]" }

// GoString redacts the value for %#v as well.
func (ss SecureString) GoString() string { return "clixml.SecureString([redacted])" }

func utf16LE(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		b[2*i], b[2*i+1] = byte(c), byte(c>>8)
	}
	return b
}

func fromUTF16LE(b []byte) (string, error) {
	if len(b)%2 != 0 {
		return "", fmt.Errorf("%w: odd UTF-16 length", ErrSecureString)
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
	}
	return string(utf16.Decode(u)), nil
}

func zero(b []byte) {
	for i := range b {
		b[i] = 0
	}
}

func newCipher(key []byte) (cipher.Block, error) {
	if len(key) != SessionKeySize {
		return nil, fmt.Errorf("clixml: SecureString session key is %d bytes, want %d", len(key), SessionKeySize)
	}
	return aes.NewCipher(key)
}

// EncryptSecureString encrypts s with the session key for an <SS> element.
// Invalid UTF-8 in s is encoded as U+FFFD.
func EncryptSecureString(key []byte, s string) (SecureString, error) {
	block, err := newCipher(key)
	if err != nil {
		return "", err
	}
	if !utf8.ValidString(s) {
		s = string([]rune(s))
	}
	plain := utf16LE(s)
	defer zero(plain)
	pad := aes.BlockSize - len(plain)%aes.BlockSize
	buf := make([]byte, len(plain)+pad)
	defer zero(buf)
	copy(buf, plain)
	for i := len(plain); i < len(buf); i++ {
		buf[i] = byte(pad)
	}
	out := make([]byte, len(buf))
	cipher.NewCBCEncrypter(block, make([]byte, aes.BlockSize)).CryptBlocks(out, buf)
	return SecureString(base64.StdEncoding.EncodeToString(out)), nil
}

// Decrypt decrypts an <SS> value with the session key.
func (ss SecureString) Decrypt(key []byte) (string, error) {
	block, err := newCipher(key)
	if err != nil {
		return "", err
	}
	ct, err := base64.StdEncoding.DecodeString(string(ss))
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrSecureString, err)
	}
	if len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
		return "", fmt.Errorf("%w: ciphertext length %d is not a positive multiple of %d", ErrSecureString, len(ct), aes.BlockSize)
	}
	plain := make([]byte, len(ct))
	defer zero(plain)
	cipher.NewCBCDecrypter(block, make([]byte, aes.BlockSize)).CryptBlocks(plain, ct)
	pad := int(plain[len(plain)-1])
	good := subtle.ConstantTimeLessOrEq(1, pad) & subtle.ConstantTimeLessOrEq(pad, aes.BlockSize)
	if good == 1 {
		for _, c := range plain[len(plain)-pad:] {
			good &= subtle.ConstantTimeByteEq(c, byte(pad))
		}
	}
	if good != 1 {
		return "", fmt.Errorf("%w: bad padding (wrong session key?)", ErrSecureString)
	}
	return fromUTF16LE(plain[:len(plain)-pad])
}

// EncodePlainSecureString is the protocol 2.4 form: base64 of the raw
// UTF-16LE string, with no encryption (the transport protects it). Use it
// only when both peers negotiated 2.4 or later.
func EncodePlainSecureString(s string) SecureString {
	plain := utf16LE(s)
	defer zero(plain)
	return SecureString(base64.StdEncoding.EncodeToString(plain))
}

// DecodePlain decodes the protocol 2.4 form (see EncodePlainSecureString).
func (ss SecureString) DecodePlain() (string, error) {
	b, err := base64.StdEncoding.DecodeString(string(ss))
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrSecureString, err)
	}
	defer zero(b)
	return fromUTF16LE(b)
}
