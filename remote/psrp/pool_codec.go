package psrp

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf16"

	"github.com/pssession/pssession/remote/psrp/clixml"
)

// encodeBody serializes a message body (MS-PSRP 2.2.5).
func encodeBody(v clixml.Value) ([]byte, error) { return clixml.Encode(v) }

// ErrSecureString reports a SecureString that does not decrypt.
var ErrSecureString = errors.New("psrp: bad secure string")

// encryptSecureString encrypts s for an <SS> value with the session key:
// AES-256-CBC, zero IV, PKCS#7 padding over UTF-16LE (MS-PSRP 2.2.5.1.24;
// shared/PROTOCOL.md §3.4).
func encryptSecureString(key []byte, s string) (clixml.SecureString, error) {
	if key == nil {
		return "", ErrNoSessionKey
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return "", fmt.Errorf("psrp: encrypt secure string: %w", err)
	}
	units := utf16.Encode([]rune(s))
	pt := make([]byte, 0, 2*len(units)+aes.BlockSize)
	for _, u := range units {
		pt = binary.LittleEndian.AppendUint16(pt, u)
	}
	pad := aes.BlockSize - len(pt)%aes.BlockSize
	for range pad {
		pt = append(pt, byte(pad))
	}
	var iv [aes.BlockSize]byte
	cipher.NewCBCEncrypter(block, iv[:]).CryptBlocks(pt, pt)
	return clixml.SecureString(base64.StdEncoding.EncodeToString(pt)), nil
}

// decryptSecureString is the inverse of encryptSecureString.
func decryptSecureString(key []byte, ss clixml.SecureString) (string, error) {
	if key == nil {
		return "", ErrNoSessionKey
	}
	ct, err := base64.StdEncoding.DecodeString(string(ss))
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrSecureString, err)
	}
	if len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
		return "", fmt.Errorf("%w: %d bytes is not a whole number of AES blocks", ErrSecureString, len(ct))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return "", fmt.Errorf("psrp: decrypt secure string: %w", err)
	}
	var iv [aes.BlockSize]byte
	pt := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, iv[:]).CryptBlocks(pt, ct)
	pad := int(pt[len(pt)-1])
	if pad == 0 || pad > aes.BlockSize {
		return "", fmt.Errorf("%w: padding", ErrSecureString)
	}
	for _, b := range pt[len(pt)-pad:] {
		if int(b) != pad {
			return "", fmt.Errorf("%w: padding", ErrSecureString)
		}
	}
	pt = pt[:len(pt)-pad]
	if len(pt)%2 != 0 {
		return "", fmt.Errorf("%w: odd UTF-16 length", ErrSecureString)
	}
	units := make([]uint16, len(pt)/2)
	for i := range units {
		units[i] = binary.LittleEndian.Uint16(pt[2*i:])
	}
	return string(utf16.Decode(units)), nil
}
