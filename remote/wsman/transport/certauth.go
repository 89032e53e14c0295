package transport

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
)

// CertificateAuthHeader is the whole Authorization header value of WinRM
// certificate authentication (MS-WSMV 2.2.9.1 security profile
// "https/mutual"): the client proves its identity with its TLS client
// certificate, and the header only names the profile.
const CertificateAuthHeader = "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/mutual"

// CertMapping maps a verified client certificate to a local user, like
// WinRM's client certificate mappings (WSMan:\localhost\ClientCertificate).
// Exactly one of Thumbprint, UPN and CommonName is set.
type CertMapping struct {
	// Thumbprint is the SHA-1 (40 hex digits, as Windows shows it) or
	// SHA-256 (64 hex digits) of the client certificate; colons and case
	// are ignored.
	Thumbprint string
	// UPN matches the user principal name in the certificate's subject
	// alternative name (otherName 1.3.6.1.4.1.311.20.2.3), case-insensitively.
	UPN string
	// CommonName matches the subject CN exactly.
	CommonName string
	// Issuer, optional, is the SHA-1 or SHA-256 thumbprint of a CA
	// certificate that must be in the verified chain (WinRM's -Issuer).
	Issuer string
	// User is the local user the session runs as ("DOMAIN\user" or "user").
	User string
}

// ParseCertMapping parses "MATCH[,issuer:THUMBPRINT]=USER" where MATCH is
// sha1:HEX, sha256:HEX, thumbprint:HEX, upn:NAME@DOMAIN or cn:NAME; a bare
// 40/64-digit hex string is a thumbprint and a bare NAME@DOMAIN a UPN.
func ParseCertMapping(s string) (CertMapping, error) {
	i := strings.LastIndex(s, "=")
	if i <= 0 || strings.TrimSpace(s[i+1:]) == "" {
		return CertMapping{}, fmt.Errorf("transport: certificate mapping %q: want MATCH=USER", s)
	}
	m := CertMapping{User: strings.TrimSpace(s[i+1:])}
	parts := strings.Split(s[:i], ",")
	for j, part := range parts {
		part = strings.TrimSpace(part)
		kind, val, ok := strings.Cut(part, ":")
		if !ok {
			kind, val = "", part
		}
		kind = strings.ToLower(kind)
		if j > 0 {
			if kind != "issuer" {
				return CertMapping{}, fmt.Errorf("transport: certificate mapping %q: after the match only issuer:THUMBPRINT may follow", s)
			}
			if m.Issuer = normThumbprint(val); m.Issuer == "" {
				return CertMapping{}, fmt.Errorf("transport: certificate mapping %q: issuer wants a SHA-1 or SHA-256 thumbprint", s)
			}
			continue
		}
		switch {
		case kind == "sha1" || kind == "sha256" || kind == "thumbprint" || kind == "" && normThumbprint(val) != "":
			m.Thumbprint = normThumbprint(val)
			if m.Thumbprint == "" || kind == "sha1" && len(m.Thumbprint) != 40 || kind == "sha256" && len(m.Thumbprint) != 64 {
				return CertMapping{}, fmt.Errorf("transport: certificate mapping %q: bad thumbprint", s)
			}
		case kind == "upn" || kind == "" && strings.Contains(val, "@"):
			m.UPN = strings.TrimSpace(val)
		case kind == "cn":
			m.CommonName = strings.TrimSpace(val)
		default:
			return CertMapping{}, fmt.Errorf("transport: certificate mapping %q: want sha1:, sha256:, upn: or cn: before the value", s)
		}
	}
	if m.Thumbprint == "" && m.UPN == "" && m.CommonName == "" {
		return CertMapping{}, fmt.Errorf("transport: certificate mapping %q: empty match", s)
	}
	return m, nil
}

// normThumbprint lower-cases a hex thumbprint and drops colons and spaces;
// it returns "" unless the result is 40 or 64 hex digits.
func normThumbprint(s string) string {
	s = strings.ToLower(strings.NewReplacer(":", "", " ", "").Replace(strings.TrimSpace(s)))
	if len(s) != 40 && len(s) != 64 {
		return ""
	}
	if _, err := hex.DecodeString(s); err != nil {
		return ""
	}
	return s
}

func thumbprintMatches(c *x509.Certificate, tp string) bool {
	if len(tp) == 40 {
		sum := sha1.Sum(c.Raw)
		return hex.EncodeToString(sum[:]) == tp
	}
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:]) == tp
}

var (
	oidSubjectAltName = asn1.ObjectIdentifier{2, 5, 29, 17}
	oidMicrosoftUPN   = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 20, 2, 3}
)

// CertificateUPNs returns the user principal names in c's subject
// alternative name (otherName 1.3.6.1.4.1.311.20.2.3).
func CertificateUPNs(c *x509.Certificate) []string {
	var out []string
	for _, ext := range c.Extensions {
		if !ext.Id.Equal(oidSubjectAltName) {
			continue
		}
		var names []asn1.RawValue
		if rest, err := asn1.Unmarshal(ext.Value, &names); err != nil || len(rest) > 0 {
			continue
		}
		for _, n := range names {
			if n.Class != asn1.ClassContextSpecific || n.Tag != 0 || !n.IsCompound {
				continue
			}
			var other struct {
				TypeID asn1.ObjectIdentifier
				Value  asn1.RawValue `asn1:"explicit,tag:0"`
			}
			if _, err := asn1.UnmarshalWithParams(n.FullBytes, &other, "tag:0"); err != nil || !other.TypeID.Equal(oidMicrosoftUPN) {
				continue
			}
			var upn string // Value keeps its [0] wrapper; Bytes is the UTF8String
			if _, err := asn1.UnmarshalWithParams(other.Value.Bytes, &upn, "utf8"); err == nil {
				out = append(out, upn)
			}
		}
	}
	return out
}

// matches reports whether m maps the verified chain (leaf first).
func (m CertMapping) matches(chain []*x509.Certificate) bool {
	if len(chain) == 0 {
		return false
	}
	leaf := chain[0]
	switch {
	case m.Thumbprint != "":
		if !thumbprintMatches(leaf, m.Thumbprint) {
			return false
		}
	case m.UPN != "":
		found := false
		for _, u := range CertificateUPNs(leaf) {
			found = found || strings.EqualFold(u, m.UPN)
		}
		if !found {
			return false
		}
	case m.CommonName != "":
		if leaf.Subject.CommonName != m.CommonName {
			return false
		}
	default:
		return false
	}
	if m.Issuer == "" {
		return true
	}
	for _, ca := range chain[1:] {
		if thumbprintMatches(ca, m.Issuer) {
			return true
		}
	}
	return false
}

// mapCertificate returns the user of the first mapping that matches one
// of the verified chains of the connection.
func (s *ServerAuth) mapCertificate(st *tls.ConnectionState) (string, bool) {
	if st == nil {
		return "", false
	}
	for _, m := range s.cfg.CertMappings {
		for _, chain := range st.VerifiedChains {
			if m.matches(chain) {
				return m.User, true
			}
		}
	}
	return "", false
}

// certificateStep serves a request carrying CertificateAuthHeader.
func (s *ServerAuth) certificateStep(w http.ResponseWriter, r *http.Request, cs *connState, body []byte) {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 {
		s.log.Info("certificate auth without a verified client certificate", "remote", r.RemoteAddr)
		s.challenge(w, r, cs, http.StatusUnauthorized)
		return
	}
	user, ok := s.mapCertificate(r.TLS)
	if !ok {
		leaf := r.TLS.VerifiedChains[0][0]
		sum := sha1.Sum(leaf.Raw)
		s.log.Info("client certificate not mapped to a user", "remote", r.RemoteAddr,
			"subject", leaf.Subject.String(), "sha1", strings.ToUpper(hex.EncodeToString(sum[:])))
		s.challenge(w, r, cs, http.StatusUnauthorized)
		return
	}
	s.log.Info("certificate authenticated", "remote", r.RemoteAddr, "user", user)
	s.serve(w, r, user, body, false, cs)
}

// checkAuthExtras validates the certificate-authentication and
// channel-binding settings.
func (s *ServerAuth) checkAuthExtras() error {
	if s.cfg.RequireChannelBinding && s.cfg.ChannelBindingCert == nil {
		return errors.New("transport: RequireChannelBinding needs ChannelBindingCert (the server's TLS certificate)")
	}
	if len(s.cfg.CertMappings) == 0 {
		return nil
	}
	if s.cfg.ClientCAs == nil {
		return errors.New("transport: certificate mappings need ServerConfig.ClientCAs")
	}
	maps := make([]CertMapping, len(s.cfg.CertMappings))
	for i, m := range s.cfg.CertMappings {
		if m.User == "" {
			return errors.New("transport: a certificate mapping has no user")
		}
		if m.Thumbprint != "" {
			if m.Thumbprint = normThumbprint(m.Thumbprint); m.Thumbprint == "" {
				return fmt.Errorf("transport: certificate mapping for %s: the thumbprint is not 40 or 64 hex digits", m.User)
			}
		} else if m.UPN == "" && m.CommonName == "" {
			return fmt.Errorf("transport: certificate mapping for %s: no thumbprint, UPN or common name", m.User)
		}
		if m.Issuer != "" {
			if m.Issuer = normThumbprint(m.Issuer); m.Issuer == "" {
				return fmt.Errorf("transport: certificate mapping for %s: the issuer thumbprint is not 40 or 64 hex digits", m.User)
			}
		}
		maps[i] = m
	}
	s.cfg.CertMappings = maps
	return nil
}

// TLSConfig returns the TLS server configuration for cert: TLS 1.2 or
// later, and, with ClientCAs, a request for a client certificate that must
// chain to them when given (a client without one can still use the other
// schemes).
func (s *ServerAuth) TLSConfig(cert tls.Certificate) *tls.Config {
	conf := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if s.cfg.ClientCAs != nil {
		conf.ClientCAs = s.cfg.ClientCAs
		conf.ClientAuth = tls.VerifyClientCertIfGiven
	}
	return conf
}

// initCertificate sets up client-side certificate authentication.
func (c *Client) initCertificate() error {
	if !c.https {
		return errors.New("transport: certificate authentication needs HTTPS (the certificate is presented in the TLS handshake)")
	}
	if c.cfg.TLS.ClientCert == nil {
		return errors.New("transport: certificate authentication needs a client certificate")
	}
	c.scheme = "certificate"
	return nil
}

// staticAuthorization is the Authorization header of every request for
// the schemes without a handshake; "" for NTLM.
func (c *Client) staticAuthorization() string {
	switch c.scheme {
	case "basic":
		return c.basicTok
	case "certificate":
		return CertificateAuthHeader
	}
	return ""
}

// rejectedReason explains a 401 to an authenticated request.
func (c *Client) rejectedReason() string {
	if c.scheme == "certificate" {
		return "the server did not accept the client certificate (not mapped to a user, or certificate authentication is off)"
	}
	return "the server rejected the credentials (wrong user name or password, or the account may not use WinRM)"
}

// errCertRefused explains a connection the server dropped right after the
// TLS handshake when a client certificate was presented.
var errCertRefused = errors.New("the server closed the connection after the TLS handshake: it probably refused the client certificate (issuer not trusted by the server, expired, or not valid for client authentication)")

// explainCertFailure adds errCertRefused to a network error on the first
// request of a certificate-authenticated lane. With TLS 1.3 the server
// checks the client certificate after the client's handshake is complete,
// so its refusal shows up as an alert ("tls: unknown certificate
// authority") or, when the client is still writing, as a reset or broken
// pipe without the alert.
func (c *Client) explainCertFailure(ctx context.Context, l *lane, err error) error {
	if c.scheme != "certificate" || !l.lastUsed.IsZero() || ctx.Err() != nil {
		return err
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return err
	}
	return fmt.Errorf("%w (%w)", err, errCertRefused)
}
