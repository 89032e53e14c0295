package kerberos

import (
	"errors"
	"fmt"
	"strings"
)

// ErrorKind classifies a Kerberos failure so that callers can decide what
// to tell the user and whether to fall back to another mechanism.
type ErrorKind int

// Error kinds.
const (
	KindConfig           ErrorKind = iota + 1 // krb5.conf, keytab, principal syntax, realm unknown
	KindKDCUnreachable                        // no KDC answered
	KindPrincipalUnknown                      // client or service principal unknown (Error.Principal says which)
	KindPreauthFailed                         // wrong password or key
	KindNoCredentials                         // no ccache, no TGT, expired ticket
	KindClockSkew                             // clocks too far apart (KRB_AP_ERR_SKEW)
	KindMutualAuth                            // the AP-REP did not verify
	KindChannelBinding                        // channel bindings missing or different
	KindIntegrity                             // a token failed to decrypt or verify
	KindProtocol                              // malformed or unexpected token, unsupported etype
)

var kindNames = map[ErrorKind]string{
	KindConfig:           "configuration",
	KindKDCUnreachable:   "kdc unreachable",
	KindPrincipalUnknown: "principal unknown",
	KindPreauthFailed:    "pre-authentication failed",
	KindNoCredentials:    "no credentials",
	KindClockSkew:        "clock skew",
	KindMutualAuth:       "mutual authentication",
	KindChannelBinding:   "channel binding",
	KindIntegrity:        "integrity",
	KindProtocol:         "protocol",
}

func (k ErrorKind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("ErrorKind(%d)", int(k))
}

// Error is the error type of this package. Principal names the client or
// service principal the error is about, when there is one.
type Error struct {
	Kind      ErrorKind
	Principal string
	Err       error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("kerberos: ")
	b.WriteString(e.Kind.String())
	if e.Principal != "" {
		b.WriteString(" (")
		b.WriteString(e.Principal)
		b.WriteString(")")
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

func newError(kind ErrorKind, principal string, format string, args ...any) *Error {
	return &Error{Kind: kind, Principal: principal, Err: fmt.Errorf(format, args...)}
}

// IsKerberosUnavailable reports whether err means that Kerberos cannot be
// used at all here, so that falling back to NTLM is right: no credentials,
// no realm or KDC, or a principal the KDC does not know (the service has no
// SPN, or the user is a local account of the target). Wrong passwords,
// clock skew and integrity failures are not such errors.
func IsKerberosUnavailable(err error) bool {
	var ke *Error
	if !errors.As(err, &ke) {
		return false
	}
	switch ke.Kind {
	case KindNoCredentials, KindKDCUnreachable, KindConfig, KindPrincipalUnknown:
		return true
	}
	return false
}

// classifyKDCError maps a gokrb5 client error to an *Error. gokrb5 flattens
// KDC errors into strings (krberror.Krberror), so the error code names from
// RFC 4120 §7.5.9 are matched in the text.
func classifyKDCError(err error, op, client, service string) *Error {
	msg := err.Error()
	has := func(s ...string) bool {
		for _, x := range s {
			if strings.Contains(msg, x) {
				return true
			}
		}
		return false
	}
	wrap := func(kind ErrorKind, principal string) *Error {
		return &Error{Kind: kind, Principal: principal, Err: fmt.Errorf("%s: %w", op, err)}
	}
	switch {
	case has("KDC_ERR_C_PRINCIPAL_UNKNOWN"):
		return wrap(KindPrincipalUnknown, client)
	case has("KDC_ERR_S_PRINCIPAL_UNKNOWN"):
		return wrap(KindPrincipalUnknown, service)
	case has("KDC_ERR_PREAUTH_FAILED", "password/keytab incorrect", "KRB_AP_ERR_BAD_INTEGRITY", "KDC_ERR_KEY_EXPIRED", "KDC_ERR_CLIENT_REVOKED"):
		return wrap(KindPreauthFailed, client)
	case has("KRB_AP_ERR_SKEW", "clock skew"):
		return wrap(KindClockSkew, "")
	case has("KRB_AP_ERR_TKT_EXPIRED", "TGT not found", "no user credentials", "no valid existing session"):
		return wrap(KindNoCredentials, client)
	case has("no KDCs defined", "no KDC SRV records", "Configuration_Error"):
		return wrap(KindConfig, "")
	case has("Networking_Error", "error sending to a KDC", "communication error with KDC", "failed to communicate with KDC"):
		return wrap(KindKDCUnreachable, "")
	}
	return wrap(KindProtocol, "")
}
