package ntlm

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/rc4"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/binary"
	"hash"
	"strings"
	"time"

	"golang.org/x/crypto/md4" //lint:ignore SA1019 NTLM requires MD4 (MS-NLMP 3.3.1)
)

// NTHash returns the NT one-way function of a password, MD4(UTF-16LE(password))
// (MS-NLMP 3.3.1, NTOWFv1), the credential NTLMv2 is derived from.
func NTHash(password string) []byte {
	h := md4.New()
	h.Write(utf16le(password))
	return h.Sum(nil)
}

// ntowfv2 is NTOWFv2 = HMAC_MD5(NT hash, UNICODE(Uppercase(User) ‖ UserDom))
// (MS-NLMP 3.3.2).
func ntowfv2(ntHash []byte, user, domain string) []byte {
	return hmacMD5(ntHash, utf16le(strings.ToUpper(user)+domain))
}

func hmacMD5(key []byte, data ...[]byte) []byte {
	h := hmac.New(md5.New, key)
	for _, d := range data {
		h.Write(d)
	}
	return h.Sum(nil)
}

func md5Of(data ...[]byte) []byte {
	h := md5.New()
	for _, d := range data {
		h.Write(d)
	}
	return h.Sum(nil)
}

// rc4Once encrypts data with a fresh RC4 key (RC4K in MS-NLMP 6).
func rc4Once(key, data []byte) []byte {
	c, err := rc4.NewCipher(key)
	if err != nil {
		// Keys here are always 16 bytes; NewCipher fails only outside 1..256.
		panic("ntlm: rc4 key of invalid size")
	}
	out := make([]byte, len(data))
	c.XORKeyStream(out, data)
	return out
}

// fileTime converts t to a Windows FILETIME (100 ns since 1601-01-01 UTC),
// little-endian, as MsvAvTimestamp and the NTLMv2 blob carry it.
func fileTime(t time.Time) []byte {
	const epochDelta = 116444736000000000 // 1601→1970 in 100 ns units
	v := uint64(t.Unix()*1e7 + int64(t.Nanosecond()/100) + epochDelta)
	return binary.LittleEndian.AppendUint64(nil, v)
}

// TLSServerEndPoint returns the channel binding application data of type
// "tls-server-end-point" (RFC 5929 section 4) for the server's certificate:
// the prefix followed by the certificate hash. Pass it as
// InitiatorConfig.ChannelBindings / AcceptorConfig.ChannelBindings.
func TLSServerEndPoint(cert *x509.Certificate) []byte {
	var h hash.Hash
	switch cert.SignatureAlgorithm {
	case x509.SHA384WithRSA, x509.ECDSAWithSHA384, x509.SHA384WithRSAPSS:
		h = sha512.New384()
	case x509.SHA512WithRSA, x509.ECDSAWithSHA512, x509.SHA512WithRSAPSS:
		h = sha512.New()
	default: // MD5, SHA-1 and SHA-256 based signatures use SHA-256 (RFC 5929 4.1)
		h = sha256.New()
	}
	h.Write(cert.Raw)
	return append([]byte("tls-server-end-point:"), h.Sum(nil)...)
}

// channelBindingsHash is the MsvAvChannelBindings value: MD5 of the
// gss_channel_bindings_struct (RFC 2744) with empty addresses and the given
// application data (MS-NLMP 2.2.2.1). Empty data gives 16 zero bytes, the
// value meaning "no bindings".
func channelBindingsHash(appData []byte) []byte {
	if len(appData) == 0 {
		return make([]byte, 16)
	}
	s := make([]byte, 16, 20+len(appData)) // initiator/acceptor addrtype+length, all zero
	s = binary.LittleEndian.AppendUint32(s, uint32(len(appData)))
	s = append(s, appData...)
	return md5Of(s)
}
