package transport

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// AuthError reports that the server refused the credentials (HTTP 401
// after a completed handshake) or offers no scheme the client can use.
type AuthError struct {
	User    string
	Status  int
	Schemes []string // schemes of the server's WWW-Authenticate headers
	Reason  string
}

func (e *AuthError) Error() string {
	s := "transport: authentication failed"
	if e.User != "" {
		s += " for user " + e.User
	}
	s += ": " + e.Reason
	if len(e.Schemes) > 0 {
		s += " (server offers: " + strings.Join(e.Schemes, ", ") + ")"
	}
	return s
}

// HTTPError is an HTTP status other than 200/500, or a reply that is not
// WinRM (wrong content type), with a short excerpt of the body.
type HTTPError struct {
	URL         string
	Status      int
	ContentType string
	Body        []byte // at most 512 bytes
	Reason      string
}

func (e *HTTPError) Error() string {
	s := fmt.Sprintf("transport: %s answered HTTP %d %s", e.URL, e.Status, http.StatusText(e.Status))
	if e.ContentType != "" {
		s += " (" + e.ContentType + ")"
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

func newHTTPError(url string, resp *http.Response, body []byte, reason string) *HTTPError {
	if len(body) > 512 {
		body = body[:512]
	}
	return &HTTPError{URL: url, Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Body: body, Reason: reason}
}

// TLSErrorKind classifies a certificate verification failure.
type TLSErrorKind int

// Kinds of TLSError.
const (
	TLSOther            TLSErrorKind = iota // handshake failure not about the certificate
	TLSUnknownAuthority                     // signed by a CA not in the trust store (self-signed)
	TLSNameMismatch                         // certificate not valid for the host name
	TLSExpired                              // expired or not yet valid
)

func (k TLSErrorKind) String() string {
	switch k {
	case TLSUnknownAuthority:
		return "certificate signed by unknown authority"
	case TLSNameMismatch:
		return "certificate name mismatch"
	case TLSExpired:
		return "certificate expired or not yet valid"
	}
	return "TLS handshake failed"
}

// TLSError wraps a TLS handshake failure with a hint for the user.
type TLSError struct {
	Host string
	Kind TLSErrorKind
	Err  error
}

func (e *TLSError) Error() string {
	s := fmt.Sprintf("transport: TLS with %s: %s: %v", e.Host, e.Kind, e.Err)
	switch e.Kind {
	case TLSUnknownAuthority:
		s += " (trust its CA with --ca-file, or skip verification with --insecure-skip-verify)"
	case TLSNameMismatch:
		s += " (connect by a name the certificate lists, set the TLS server name, or use --insecure-skip-verify)"
	case TLSExpired:
		s += " (renew the server certificate, or use --insecure-skip-verify)"
	}
	return s
}

func (e *TLSError) Unwrap() error { return e.Err }

func classifyTLS(host string, err error) *TLSError {
	kind := TLSOther
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	switch {
	case errors.As(err, &ua):
		kind = TLSUnknownAuthority
	case errors.As(err, &he):
		kind = TLSNameMismatch
	case errors.As(err, &ci) && ci.Reason == x509.Expired:
		kind = TLSExpired
	}
	return &TLSError{Host: host, Kind: kind, Err: err}
}
