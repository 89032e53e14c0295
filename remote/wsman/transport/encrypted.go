package transport

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"mime"
	"slices"
	"strconv"
	"strings"
)

// Sealer protects WinRM message bodies with an authenticated security
// context (NTLM now, Kerberos later). *ntlm.Session implements it.
// Calls must follow wire order.
type Sealer interface {
	Seal(plain []byte) (sig, sealed []byte, err error)
	Unseal(sig, sealed []byte) (plain []byte, err error)
}

// lengthSealer is a Sealer that tells the OriginalContent Length of a
// plaintext of plainLen bytes: the plaintext plus any padding the sealing
// adds (Kerberos RC4-HMAC pads; PROTOCOL.md §6.2). *kerberos.Session
// implements it.
type lengthSealer interface {
	SealedLength(plainLen int) int
}

// originalLength is the OriginalContent Length for n plaintext bytes.
func originalLength(s Sealer, n int) int {
	if p, ok := s.(lengthSealer); ok {
		return p.SealedLength(n)
	}
	return n
}

// Protocols of the multipart/encrypted body (MS-WSMV 2.2.9.1).
const (
	ProtocolSPNEGO   = "application/HTTP-SPNEGO-session-encrypted"   // Negotiate (NTLM or Kerberos via SPNEGO)
	ProtocolKerberos = "application/HTTP-Kerberos-session-encrypted" // raw "Kerberos" scheme
	ProtocolCredSSP  = "application/HTTP-CredSSP-session-encrypted"
)

// SOAPContentType is the content type of a plain WinRM body (MS-WSMV 2.2.9.1).
const SOAPContentType = "application/soap+xml;charset=UTF-8"

const (
	encryptedBoundary  = "Encrypted Boundary"
	multipartEncrypted = "multipart/encrypted"
	multipartMulti     = "multipart/x-multi-encrypted"
	octetStream        = "application/octet-stream"
	// maxSignatureLen bounds the signature length prefix (NTLM 16, Kerberos
	// AES 60, RC4 ~45).
	maxSignatureLen = 1024
)

// EncryptedContentType is the Content-Type header of an encrypted body,
// byte-exact as Windows sends it (bodgit/ntlmssp compares it verbatim).
func EncryptedContentType(protocol string) string {
	return multipartEncrypted + `;protocol="` + protocol + `";boundary="` + encryptedBoundary + `"`
}

// IsEncrypted reports whether a Content-Type header announces an encrypted body.
func IsEncrypted(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == multipartEncrypted || mt == multipartMulti)
}

// inPlaceSealer is a Sealer that seals into buffers the caller provides
// and unseals in place (*ntlm.Session): AppendEncrypted and
// UnwrapEncrypted then copy no message.
type inPlaceSealer interface {
	SignatureSize() int
	SealTo(sig, dst, plain []byte) error
	UnsealInPlace(sig, sealed []byte) ([]byte, error)
}

// WrapEncrypted seals plain and frames it as multipart/encrypted (MS-WSMV
// 2.2.9.1). It returns the body and its Content-Type header value.
func WrapEncrypted(s Sealer, protocol string, plain []byte) (body []byte, contentType string, err error) {
	return AppendEncrypted(nil, s, protocol, plain)
}

// AppendEncrypted is WrapEncrypted appending the body to dst, so that a
// caller can reuse one buffer for every message.
func AppendEncrypted(dst []byte, s Sealer, protocol string, plain []byte) (body []byte, contentType string, err error) {
	head := "--" + encryptedBoundary + "\r\n" +
		"\tContent-Type: " + protocol + "\r\n" +
		"\tOriginalContent: type=" + SOAPContentType + ";Length=" + strconv.Itoa(originalLength(s, len(plain))) + "\r\n" +
		"--" + encryptedBoundary + "\r\n" +
		"\tContent-Type: " + octetStream + "\r\n"
	const tail = "--" + encryptedBoundary + "--\r\n"
	if ips, ok := s.(inPlaceSealer); ok {
		n := ips.SignatureSize()
		b := slices.Grow(dst, len(head)+4+n+len(plain)+len(tail))
		b = append(b, head...)
		b = binary.LittleEndian.AppendUint32(b, uint32(n))
		start := len(b)
		b = b[:start+n+len(plain)]
		if err := ips.SealTo(b[start:start+n], b[start+n:], plain); err != nil {
			return nil, "", fmt.Errorf("transport: seal message: %w", err)
		}
		return append(b, tail...), EncryptedContentType(protocol), nil
	}
	sig, sealed, err := s.Seal(plain)
	if err != nil {
		return nil, "", fmt.Errorf("transport: seal message: %w", err)
	}
	b := slices.Grow(dst, len(head)+4+len(sig)+len(sealed)+len(tail))
	b = append(b, head...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(sig)))
	b = append(b, sig...)
	b = append(b, sealed...)
	return append(b, tail...), EncryptedContentType(protocol), nil
}

// FramingError reports a malformed encrypted body.
type FramingError struct {
	Reason string
}

func (e *FramingError) Error() string { return "transport: malformed encrypted message: " + e.Reason }

func framingErr(format string, a ...any) error {
	return &FramingError{Reason: fmt.Sprintf(format, a...)}
}

// UnwrapEncrypted parses a multipart/encrypted or multipart/x-multi-encrypted
// body, unseals every chunk in order and checks each decrypted length
// against its OriginalContent Length. protocol, when non-empty, must match
// the body's protocol. It never panics on malformed input. A sealer that
// unseals in place (*ntlm.Session) decrypts inside body, and a one-chunk
// body's plaintext is returned without a copy: the caller must own body.
func UnwrapEncrypted(s Sealer, protocol, contentType string, body []byte) ([]byte, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil, framingErr("content type %q: %v", contentType, err)
	}
	if mt != multipartEncrypted && mt != multipartMulti {
		return nil, framingErr("content type %q is not multipart/encrypted", contentType)
	}
	if protocol != "" && !strings.EqualFold(params["protocol"], protocol) {
		return nil, framingErr("protocol %q, want %q", params["protocol"], protocol)
	}
	boundary := params["boundary"]
	if boundary == "" {
		boundary = encryptedBoundary
	}
	p := &encParser{b: body, boundary: boundary}
	var out []byte
	for chunk := 0; ; chunk++ {
		if p.atEnd() {
			if chunk == 0 {
				return nil, framingErr("no encrypted part")
			}
			return out, nil
		}
		length, err := p.headerPart()
		if err != nil {
			return nil, err
		}
		sig, sealed, err := p.dataPart()
		if err != nil {
			return nil, err
		}
		var plain []byte
		if ips, ok := s.(inPlaceSealer); ok {
			plain, err = ips.UnsealInPlace(sig, sealed)
		} else {
			plain, err = s.Unseal(sig, sealed)
		}
		if err != nil {
			return nil, fmt.Errorf("transport: unseal message: %w", err)
		}
		// Windows and pywinrm put the plaintext length in Length;
		// bodgit/ntlmssp's http client counts the whole data part
		// (length prefix + signature + sealed data). Both are accepted.
		// RC4 Kerberos counts its padding.
		if len(plain) != length && 4+len(sig)+len(sealed) != length && originalLength(s, len(plain)) != length {
			return nil, framingErr("decrypted %d bytes, OriginalContent says Length=%d", len(plain), length)
		}
		if chunk == 0 && p.atEnd() {
			return plain, nil
		}
		out = append(out, plain...)
	}
}

// encParser walks the WSMV variant of MIME: boundary lines, TAB-indented
// headers, binary data ended directly by the next boundary.
type encParser struct {
	b        []byte
	boundary string
}

// boundaryLine consumes "--B" or "-- B" (Exchange variant) and returns the
// rest of the line marker: "\r\n" for a part start, "--" for the end.
func (p *encParser) boundaryAt(b []byte) (n int, closing bool, ok bool) {
	for _, prefix := range []string{"--" + p.boundary, "-- " + p.boundary} {
		if bytes.HasPrefix(b, []byte(prefix)) {
			rest := b[len(prefix):]
			switch {
			case bytes.HasPrefix(rest, []byte("--")):
				return len(prefix) + 2, true, true
			case bytes.HasPrefix(rest, []byte("\r\n")):
				return len(prefix) + 2, false, true
			case bytes.HasPrefix(rest, []byte("\n")):
				return len(prefix) + 1, false, true
			}
		}
	}
	return 0, false, false
}

// atEnd reports whether only the closing boundary (or nothing) remains.
func (p *encParser) atEnd() bool {
	rest := bytes.TrimLeft(p.b, "\r\n")
	if len(rest) == 0 {
		return true
	}
	_, closing, ok := p.boundaryAt(rest)
	return ok && closing
}

// headerPart reads the first part of a chunk and returns OriginalContent's Length.
func (p *encParser) headerPart() (int, error) {
	p.b = bytes.TrimLeft(p.b, "\r\n")
	n, closing, ok := p.boundaryAt(p.b)
	if !ok || closing {
		return 0, framingErr("expected boundary line")
	}
	p.b = p.b[n:]
	length := -1
	sawProtocol := false
	for {
		if _, _, ok := p.boundaryAt(p.b); ok {
			break
		}
		i := bytes.IndexByte(p.b, '\n')
		if i < 0 {
			return 0, framingErr("header part not terminated")
		}
		line := strings.TrimSpace(string(p.b[:i]))
		p.b = p.b[i+1:]
		name, value, found := strings.Cut(line, ":")
		if !found {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "content-type":
			sawProtocol = true
		case "originalcontent":
			for _, kv := range strings.Split(value, ";") {
				k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
				if strings.EqualFold(k, "Length") {
					l, err := strconv.Atoi(strings.TrimSpace(v))
					if err != nil || l < 0 || l > len(p.b) {
						return 0, framingErr("OriginalContent Length %q", v)
					}
					length = l
				}
			}
		}
	}
	if !sawProtocol || length < 0 {
		return 0, framingErr("header part lacks Content-Type or OriginalContent Length")
	}
	return length, nil
}

// dataPart reads the application/octet-stream part: uint32 LE signature
// length, signature, sealed data up to the next boundary.
func (p *encParser) dataPart() (sig, sealed []byte, err error) {
	n, closing, ok := p.boundaryAt(p.b)
	if !ok || closing {
		return nil, nil, framingErr("expected data part boundary")
	}
	p.b = p.b[n:]
	i := bytes.IndexByte(p.b, '\n')
	if i < 0 {
		return nil, nil, framingErr("data part header not terminated")
	}
	name, value, _ := strings.Cut(strings.TrimSpace(string(p.b[:i])), ":")
	if !strings.EqualFold(strings.TrimSpace(name), "Content-Type") || !strings.EqualFold(strings.TrimSpace(value), octetStream) {
		return nil, nil, framingErr("data part header %q", p.b[:i])
	}
	p.b = p.b[i+1:]
	end := p.dataEnd()
	if end < 0 {
		return nil, nil, framingErr("data part not terminated by a boundary")
	}
	data := p.b[:end]
	p.b = p.b[end:]
	if len(data) < 4 {
		return nil, nil, framingErr("data part of %d bytes has no signature length", len(data))
	}
	sl := binary.LittleEndian.Uint32(data)
	if sl > maxSignatureLen || int(sl) > len(data)-4 {
		return nil, nil, framingErr("signature length %d in a %d byte data part", sl, len(data))
	}
	return data[4 : 4+sl], data[4+sl:], nil
}

// dataEnd finds where binary data stops: the first boundary that is either
// the closing one or followed by a header line.
func (p *encParser) dataEnd() int {
	for off := 0; off < len(p.b); {
		j := bytes.Index(p.b[off:], []byte("-"+p.boundary))
		k := bytes.Index(p.b[off:], []byte("- "+p.boundary))
		if j < 0 || (k >= 0 && k < j) {
			j = k
		}
		if j < 0 {
			return -1
		}
		pos := off + j - 1 // include the first '-'
		if pos >= 0 {
			if n, closing, ok := p.boundaryAt(p.b[pos:]); ok {
				if closing || isHeaderStart(p.b[pos+n:]) {
					return pos
				}
			}
		}
		off += j + 1
	}
	return -1
}

func isHeaderStart(b []byte) bool {
	b = bytes.TrimLeft(b, "\t ")
	return len(b) >= len("Content-Type:") && strings.EqualFold(string(b[:len("Content-Type:")]), "Content-Type:")
}
