package transport

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/pssession/pssession/remote/wsman/kerberos"
)

// AuthError reports that the server refused the credentials (HTTP 401
// after a completed handshake) or offers no scheme the client can use.
type AuthError struct {
	User    string
	Status  int      // 0 when the client gave up before the server answered (Kerberos)
	Schemes []string // schemes of the server's WWW-Authenticate headers
	Reason  string
	// Err is the underlying cause when there is one, e.g. a *kerberos.Error.
	Err error
}

func (e *AuthError) Unwrap() error { return e.Err }

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

// kerberosAuthError explains a Kerberos failure to the user. spn is the
// service principal asked for ("" before one was chosen).
func kerberosAuthError(user, spn string, err error) *AuthError {
	return &AuthError{User: user, Reason: kerberosReason(spn, err), Err: err}
}

func kerberosReason(spn string, err error) string {
	var ke *kerberos.Error
	if !errors.As(err, &ke) {
		return "Kerberos: " + err.Error()
	}
	who := ke.Principal
	switch ke.Kind {
	case kerberos.KindPreauthFailed:
		return "the KDC refused the password of " + nonEmpty(who, "the user") + " (wrong password, or the account is locked or expired)"
	case kerberos.KindPrincipalUnknown:
		if isServicePrincipal(who, spn) {
			return "the KDC does not know the service principal " + nonEmpty(who, spn) +
				" (connect by the server's registered host name, or name its principal with --spn)"
		}
		return "the KDC does not know the user " + nonEmpty(who, "given") + " (check the user name and its realm: user@REALM)"
	case kerberos.KindKDCUnreachable:
		return "no KDC answered (check the realm's kdc entries in krb5.conf or --krb5-conf, DNS, and that port 88 is reachable): " + ke.Error()
	case kerberos.KindNoCredentials:
		return "no usable Kerberos ticket in the credential cache (run kinit " + nonEmpty(who, "user@REALM") +
			", or give a password or --keytab)"
	case kerberos.KindClockSkew:
		return "the clocks of this machine and the KDC or server differ too much (Kerberos allows 5 minutes); fix the time"
	case kerberos.KindMutualAuth:
		return "the server's Kerberos reply did not prove its identity (mutual authentication failed); it may not be the server it claims to be"
	case kerberos.KindChannelBinding:
		return "the server refused the TLS channel binding (is a TLS-terminating proxy in between?)"
	case kerberos.KindConfig:
		return "Kerberos configuration: " + ke.Error()
	}
	return ke.Error()
}

// isServicePrincipal reports whether principal (as the KDC named it) is
// the service principal spn rather than the user.
func isServicePrincipal(principal, spn string) bool {
	if principal == "" {
		return false
	}
	p, _, _ := strings.Cut(principal, "@")
	s, _, _ := strings.Cut(spn, "@")
	return strings.EqualFold(p, s) || strings.Contains(p, "/")
}

func nonEmpty(s, alt string) string {
	if s != "" {
		return s
	}
	return alt
}
