package transport

import (
	"bytes"
	"context"
	"crypto/subtle"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/pssession/pssession/remote/wsman/kerberos"
	"github.com/pssession/pssession/remote/wsman/ntlm"
)

var errNoConnContext = errors.New("transport: ServerAuth.ConnContext is not installed on the http.Server")

// ServerConfig configures ServerAuth.
type ServerConfig struct {
	// Users maps "DOMAIN\user" or "user" to a password. Names match
	// case-insensitively; a bare "user" entry matches any domain.
	Users map[string]string
	// LookupPassword, when set, is asked before Users, with the domain and
	// user as the client sent them.
	LookupPassword func(domain, user string) (password string, ok bool)
	// Schemes offered: "negotiate" (NTLM, raw or inside SPNEGO, and
	// Kerberos when KeytabFile is set), "kerberos" (Kerberos only, under
	// both the Negotiate and the Kerberos scheme; needs KeytabFile) and/or
	// "basic". Empty means all that are configured.
	Schemes []string
	// Realm of the Basic challenge; empty means "WSMAN".
	Realm string
	// ClientCAs verify client certificates over HTTPS; TLSConfig asks for
	// one when set. CertMappings (non-empty: certificate authentication is
	// on, whatever Schemes says) map a verified certificate to a user.
	ClientCAs    *x509.CertPool
	CertMappings []CertMapping
	// AllowUnencrypted accepts plain SOAP bodies and Basic over plain HTTP,
	// like WinRM's AllowUnencrypted=true. The default refuses them.
	AllowUnencrypted bool
	// Names advertised in the NTLM CHALLENGE; see ntlm.AcceptorConfig.
	NbDomainName, NbComputerName, DNSDomainName, DNSComputerName string
	// ChannelBindingCert is the server's TLS certificate. When set, NTLM
	// clients over HTTPS that send channel bindings (tls-server-end-point)
	// must match it, as with WinRM's CbtHardeningLevel=Relaxed.
	ChannelBindingCert *x509.Certificate
	// RequireChannelBinding refuses clients over HTTPS that send no channel
	// bindings, as with WinRM's CbtHardeningLevel=Strict.
	RequireChannelBinding bool
	// MaxBodySize bounds a request body; 0 means 8 MiB.
	MaxBodySize int64
	// Logger receives one line per authentication outcome; never secrets.
	Logger *slog.Logger
	// KeytabFile enables Kerberos: the service keys (e.g. for
	// HTTP/host@REALM) that decrypt the clients' tickets. Clients may send
	// an SPNEGO NegTokenInit whose first mechanism is Kerberos, or a raw
	// Kerberos token, under the Negotiate scheme, or a raw token under the
	// Kerberos scheme; the authenticated user is the client principal
	// ("user@REALM").
	KeytabFile string
	// ServicePrincipal limits Kerberos to this principal of the keytab;
	// empty accepts any principal found there.
	ServicePrincipal string
}

// DefaultMaxBodySize bounds request bodies when ServerConfig.MaxBodySize is 0.
const DefaultMaxBodySize = 8 << 20

// ServerAuth is an http.Handler that authenticates WinRM clients and
// unwraps/wraps encrypted bodies around an inner handler.
//
// NTLM and Kerberos contexts are connection-bound, so the http.Server must
// carry per-connection state: install ServerAuth.ConnContext as its ConnContext:
//
//	sa, _ := transport.NewServerAuth(inner, cfg)
//	srv := &http.Server{Handler: sa, ConnContext: sa.ConnContext}
//
// (with httptest: NewUnstartedServer(sa), then Config.ConnContext = sa.ConnContext).
type ServerAuth struct {
	next      http.Handler
	cfg       ServerConfig
	basic     bool
	negotiate bool // NTLM (raw or in SPNEGO) under Negotiate/NTLM
	kerberos  bool // Kerberos under Negotiate and Kerberos
	krb       *kerberos.Acceptor
	hashes    map[string][]byte // lower-case "domain\user" or "user" → NT hash
	log       *slog.Logger
}

type connKey struct{}
type userKey struct{}

// connState is the security context of one TCP connection.
type connState struct {
	mu        sync.Mutex
	acceptor  *ntlm.Acceptor
	spnego    bool
	mechTypes []byte // DER MechTypeList of the SPNEGO NegTokenInit
	scheme    string // "Negotiate" or "NTLM", echoed in challenges
	session   Sealer // *ntlm.Session or *kerberos.Session
	protocol  string // multipart/encrypted protocol of the context
	user      string
}

// NewServerAuth wraps next.
func NewServerAuth(next http.Handler, cfg ServerConfig) (*ServerAuth, error) {
	s := &ServerAuth{next: next, cfg: cfg, hashes: map[string][]byte{}, log: cfg.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	keytab := cfg.KeytabFile != ""
	if len(cfg.Schemes) == 0 {
		s.basic, s.negotiate, s.kerberos = true, true, keytab
	}
	for _, sc := range cfg.Schemes {
		switch strings.ToLower(sc) {
		case "basic":
			s.basic = true
		case "negotiate", "ntlm":
			s.negotiate = true
			s.kerberos = s.kerberos || keytab
		case "kerberos":
			if !keytab {
				return nil, errors.New("transport: the kerberos scheme needs a keytab")
			}
			s.kerberos = true
		case "certificate": // on when CertMappings are given
		default:
			return nil, fmt.Errorf("transport: unknown auth scheme %q (want basic, negotiate, kerberos or certificate)", sc)
		}
	}
	if err := s.checkAuthExtras(); err != nil {
		return nil, err
	}
	if s.kerberos {
		acc, err := kerberos.NewAcceptor(kerberos.AcceptorConfig{KeytabFile: cfg.KeytabFile,
			ServicePrincipal: cfg.ServicePrincipal, Logger: s.log})
		if err != nil {
			return nil, fmt.Errorf("transport: %w", err)
		}
		s.krb = acc
	}
	if s.cfg.Realm == "" {
		s.cfg.Realm = "WSMAN"
	}
	if s.cfg.MaxBodySize <= 0 {
		s.cfg.MaxBodySize = DefaultMaxBodySize
	}
	for k, v := range cfg.Users {
		s.hashes[strings.ToLower(k)] = ntlm.NTHash(v)
	}
	return s, nil
}

// ConnContext gives each connection its own security context; set it as
// http.Server.ConnContext.
func (s *ServerAuth) ConnContext(ctx context.Context, _ net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, &connState{})
}

// UserFrom returns the authenticated user ("DOMAIN\user" or "user") of a
// request served through ServerAuth.
func UserFrom(ctx context.Context) string {
	u, _ := ctx.Value(userKey{}).(string)
	return u
}

// lookupHash finds the NT hash of domain\user.
func (s *ServerAuth) lookupHash(domain, user string) ([]byte, bool) {
	if s.cfg.LookupPassword != nil {
		if pw, ok := s.cfg.LookupPassword(domain, user); ok {
			return ntlm.NTHash(pw), true
		}
	}
	if domain == "" {
		if u, d, ok := strings.Cut(user, "@"); ok { // UPN with an empty domain (MS-NLMP 2.2.1.3)
			domain, user = d, u
		}
	}
	if domain != "" {
		if h, ok := s.hashes[strings.ToLower(domain+`\`+user)]; ok {
			return h, true
		}
	}
	h, ok := s.hashes[strings.ToLower(user)]
	return h, ok
}

func (s *ServerAuth) checkPassword(domain, user, password string) bool {
	h, ok := s.lookupHash(domain, user)
	// NT hashes compare in constant time and hide the password itself.
	return ok && subtle.ConstantTimeCompare(h, ntlm.NTHash(password)) == 1
}

// ServeHTTP implements http.Handler.
func (s *ServerAuth) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cs, _ := r.Context().Value(connKey{}).(*connState)
	if cs == nil {
		http.Error(w, errNoConnContext.Error(), http.StatusInternalServerError)
		return
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()

	body, err := io.ReadAll(io.LimitReader(r.Body, s.cfg.MaxBodySize+1))
	if err != nil {
		return // connection gone
	}
	if int64(len(body)) > s.cfg.MaxBodySize {
		http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		return
	}
	secure := r.TLS != nil

	if authz := r.Header.Get("Authorization"); authz != "" {
		scheme, cred, _ := strings.Cut(authz, " ")
		switch {
		case len(s.cfg.CertMappings) > 0 && authz == CertificateAuthHeader:
			s.certificateStep(w, r, cs, body)
			return
		case (s.negotiate || s.kerberos) && strings.EqualFold(scheme, "Negotiate"),
			s.negotiate && strings.EqualFold(scheme, "NTLM"),
			s.kerberos && strings.EqualFold(scheme, "Kerberos"):
			if !s.negotiateStep(w, r, cs, scheme, strings.TrimSpace(cred), body) {
				return
			}
		case s.basic && strings.EqualFold(scheme, "Basic"):
			if !secure && !s.cfg.AllowUnencrypted {
				s.log.Info("basic auth refused over plain HTTP", "remote", r.RemoteAddr)
				s.challenge(w, r, cs, http.StatusUnauthorized)
				return
			}
			u, p, ok := r.BasicAuth()
			domain, user := splitUser(u)
			if !ok || !s.checkPassword(domain, user, p) {
				s.log.Info("basic auth failed", "remote", r.RemoteAddr, "user", u)
				s.challenge(w, r, cs, http.StatusUnauthorized)
				return
			}
			s.serve(w, r, u, body, false, cs)
			return
		default:
			s.challenge(w, r, cs, http.StatusUnauthorized)
			return
		}
	}

	if cs.session == nil {
		s.challenge(w, r, cs, http.StatusUnauthorized)
		return
	}
	encrypted := IsEncrypted(r.Header.Get("Content-Type"))
	if !encrypted && !secure && !s.cfg.AllowUnencrypted {
		// Over HTTP every request after the handshake must be sealed; a
		// plain one (masterzen/winrm starts each message with an empty POST)
		// gets a fresh challenge, as WinRM answers it.
		s.challenge(w, r, cs, http.StatusUnauthorized)
		return
	}
	if encrypted {
		plain, err := UnwrapEncrypted(cs.session, "", r.Header.Get("Content-Type"), body)
		if err != nil {
			s.log.Info("encrypted request rejected", "remote", r.RemoteAddr, "err", err)
			cs.session = nil // the RC4 streams are out of step; the client must re-authenticate
			http.Error(w, "transport: cannot decrypt request", http.StatusBadRequest)
			return
		}
		body = plain
	}
	s.serve(w, r, cs.user, body, encrypted, cs)
}

// negotiateStep handles one Negotiate/NTLM leg. It returns true when the
// request was authenticated and carries a body to serve.
func (s *ServerAuth) negotiateStep(w http.ResponseWriter, r *http.Request, cs *connState, scheme, cred string, body []byte) bool {
	tok, err := base64.StdEncoding.DecodeString(cred)
	if err != nil || len(tok) == 0 {
		s.log.Info("malformed Negotiate token", "remote", r.RemoteAddr)
		s.challenge(w, r, cs, http.StatusUnauthorized)
		return false
	}
	if s.kerberos && !strings.EqualFold(scheme, "NTLM") {
		if strings.EqualFold(scheme, "Kerberos") {
			s.kerberosStep(w, r, cs, "Kerberos", tok, nil, body)
			return false
		}
		if isKerberosToken(tok) { // raw KRB5 under Negotiate (pywinrm with requests-kerberos)
			s.kerberosStep(w, r, cs, "Negotiate", tok, nil, body)
			return false
		}
		if !ntlm.IsNTLMToken(tok) {
			if m, err := parseSPNEGO(tok); err == nil && m.init && isKerberosMech(m.mechTypes[0]) && len(m.mechToken) > 0 {
				s.kerberosStep(w, r, cs, "Negotiate", m.mechToken, m.mechTypes[0], body)
				return false
			}
		}
	}
	if !s.negotiate || strings.EqualFold(scheme, "Kerberos") {
		s.log.Info("NTLM token refused (NTLM not enabled)", "remote", r.RemoteAddr)
		s.challenge(w, r, cs, http.StatusUnauthorized)
		return false
	}
	spnego := !ntlm.IsNTLMToken(tok)
	var sp *spnegoToken
	if spnego {
		if sp, err = spnegoInner(tok); err != nil || !ntlm.IsNTLMToken(sp.mech) {
			s.log.Info("unsupported Negotiate token", "remote", r.RemoteAddr, "err", err)
			s.challenge(w, r, cs, http.StatusUnauthorized)
			return false
		}
		tok = sp.mech
	}
	if len(tok) >= 12 && tok[8] == 1 { // NEGOTIATE_MESSAGE: start a new context on this connection
		acc, err := ntlm.NewAcceptor(ntlm.AcceptorConfig{
			NbDomainName: s.cfg.NbDomainName, NbComputerName: s.cfg.NbComputerName,
			DNSDomainName: s.cfg.DNSDomainName, DNSComputerName: s.cfg.DNSComputerName,
			LookupNTHash:           s.lookupHash,
			ChannelBindings:        s.channelBindings(r),
			RequireChannelBindings: s.cfg.RequireChannelBinding,
		})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return false
		}
		chal, err := acc.Challenge(tok)
		if err != nil {
			s.log.Info("NTLM negotiate rejected", "remote", r.RemoteAddr, "err", err)
			s.challenge(w, r, cs, http.StatusUnauthorized)
			return false
		}
		cs.acceptor, cs.spnego, cs.scheme, cs.session, cs.user = acc, spnego, canonicalScheme(scheme), nil, ""
		cs.mechTypes = nil
		out := chal
		if spnego {
			cs.mechTypes = sp.mechTypes
			out = spnegoResp(negAcceptIncomplete, oidNTLM, chal, nil)
		}
		w.Header().Set("WWW-Authenticate", cs.scheme+" "+base64.StdEncoding.EncodeToString(out))
		w.WriteHeader(http.StatusUnauthorized)
		return false
	}
	if cs.acceptor == nil {
		s.challenge(w, r, cs, http.StatusUnauthorized)
		return false
	}
	acc := cs.acceptor
	cs.acceptor = nil
	if err := acc.Authenticate(tok); err != nil {
		s.log.Info("NTLM authentication failed", "remote", r.RemoteAddr, "err", err)
		s.challenge(w, r, cs, http.StatusUnauthorized)
		return false
	}
	domain, user := acc.User()
	sess := acc.Session()
	if cs.spnego {
		// mechListMIC (RFC 4178 5) is an NTLM signature over the client's
		// MechTypeList; it uses the first sequence number of each direction,
		// so it must be checked and answered before any sealed message.
		var mic []byte
		if sp != nil && sp.mechListMIC != nil {
			if err := sess.VerifySignature(cs.mechTypes, sp.mechListMIC); err != nil {
				s.log.Info("SPNEGO mechListMIC rejected", "remote", r.RemoteAddr, "err", err)
				s.challenge(w, r, cs, http.StatusUnauthorized)
				return false
			}
			if mic, err = sess.MakeSignature(cs.mechTypes); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return false
			}
		}
		w.Header().Set("WWW-Authenticate", cs.scheme+" "+base64.StdEncoding.EncodeToString(spnegoResp(negAcceptCompleted, nil, nil, mic)))
	}
	cs.session, cs.user, cs.protocol = sess, joinUser(domain, user), ProtocolSPNEGO
	s.log.Info("NTLM authenticated", "remote", r.RemoteAddr, "user", cs.user)
	s.authenticated(w, r, cs, body)
	return false
}

// kerberosStep accepts an AP-REQ (mechTok). mech is the Kerberos OID the
// client's NegTokenInit offered first, nil for a raw token, which is
// answered raw. A request that carries a body (pywinrm authenticates
// preemptively) is served at once, its response carrying the AP-REP.
func (s *ServerAuth) kerberosStep(w http.ResponseWriter, r *http.Request, cs *connState, scheme string, mechTok []byte, mech asn1.ObjectIdentifier, body []byte) {
	requireCB := s.cfg.RequireChannelBinding && r.TLS != nil
	apRep, sess, client, err := s.krb.Accept(mechTok, s.channelBindings(r), requireCB)
	if err != nil {
		s.log.Info("Kerberos authentication failed", "remote", r.RemoteAddr, "err", err)
		s.challenge(w, r, cs, http.StatusUnauthorized)
		return
	}
	// apRep is nil when the client did not ask for mutual authentication:
	// a raw answer then has no token, an SPNEGO one no responseToken.
	out := apRep
	if mech != nil {
		out = spnegoResp(negAcceptCompleted, mech, apRep, nil)
	}
	protocol := ProtocolSPNEGO
	if strings.EqualFold(scheme, "Kerberos") {
		protocol = ProtocolKerberos
	}
	cs.acceptor, cs.mechTypes = nil, nil
	cs.session, cs.user, cs.protocol = sess, client, protocol
	if len(out) > 0 {
		w.Header().Set("WWW-Authenticate", scheme+" "+base64.StdEncoding.EncodeToString(out))
	}
	s.log.Info("Kerberos authenticated", "remote", r.RemoteAddr, "user", client, "scheme", scheme, "spnego", mech != nil)
	s.authenticated(w, r, cs, body)
}

// authenticated finishes the request that completed a handshake: an empty
// one gets 200, one with a body is served.
func (s *ServerAuth) authenticated(w http.ResponseWriter, r *http.Request, cs *connState, body []byte) {
	if len(body) == 0 {
		w.WriteHeader(http.StatusOK) // end of the empty-body handshake (PROTOCOL.md §6.1)
		return
	}
	if r.TLS == nil && !s.cfg.AllowUnencrypted && !IsEncrypted(r.Header.Get("Content-Type")) {
		http.Error(w, "transport: unencrypted request refused (message encryption is required over HTTP)", http.StatusBadRequest)
		return
	}
	if IsEncrypted(r.Header.Get("Content-Type")) {
		plain, err := UnwrapEncrypted(cs.session, "", r.Header.Get("Content-Type"), body)
		if err != nil {
			cs.session = nil
			http.Error(w, "transport: cannot decrypt request", http.StatusBadRequest)
			return
		}
		s.serve(w, r, cs.user, plain, true, cs)
		return
	}
	s.serve(w, r, cs.user, body, false, cs)
}

// channelBindings is the expected tls-server-end-point data on a TLS request.
func (s *ServerAuth) channelBindings(r *http.Request) []byte {
	if r.TLS == nil || s.cfg.ChannelBindingCert == nil {
		return nil
	}
	return ntlm.TLSServerEndPoint(s.cfg.ChannelBindingCert)
}

func canonicalScheme(s string) string {
	if strings.EqualFold(s, "NTLM") {
		return "NTLM"
	}
	return "Negotiate"
}

// challenge answers 401 (or status) with the offered schemes and forgets
// any half-done context of the connection.
func (s *ServerAuth) challenge(w http.ResponseWriter, r *http.Request, cs *connState, status int) {
	cs.acceptor, cs.session, cs.user = nil, nil, ""
	if s.negotiate || s.kerberos {
		w.Header().Add("WWW-Authenticate", "Negotiate")
	}
	if s.kerberos {
		w.Header().Add("WWW-Authenticate", "Kerberos")
	}
	if s.basic && (r.TLS != nil || s.cfg.AllowUnencrypted) {
		w.Header().Add("WWW-Authenticate", `Basic realm="`+s.cfg.Realm+`"`)
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(status)
}

// serve runs the inner handler on the plaintext body; with seal, its
// response (any status) is sealed with the connection's session.
func (s *ServerAuth) serve(w http.ResponseWriter, r *http.Request, user string, body []byte, seal bool, cs *connState) {
	r2 := r.Clone(context.WithValue(r.Context(), userKey{}, user))
	r2.Body = io.NopCloser(bytes.NewReader(body))
	r2.ContentLength = int64(len(body))
	r2.Header.Del("Authorization")
	if seal {
		r2.Header.Set("Content-Type", SOAPContentType)
	}
	r2.Header.Set("Content-Length", strconv.Itoa(len(body)))
	if !seal {
		s.next.ServeHTTP(w, r2)
		return
	}
	rec := &bufferedResponse{header: http.Header{}, body: getBuffer()}
	defer putBuffer(rec.body)
	s.next.ServeHTTP(rec, r2)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	frame := frames.Get().(*[]byte)
	defer putFrame(frame)
	out, ct, err := AppendEncrypted((*frame)[:0], cs.session, responseProtocol(r, cs), rec.body.Bytes())
	*frame = out
	if err != nil {
		cs.session = nil
		http.Error(w, "transport: cannot encrypt response", http.StatusInternalServerError)
		return
	}
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(rec.status)
	_, _ = w.Write(out)
}

// responseProtocol is the multipart/encrypted protocol of the request,
// which the response repeats, else the one of the security context.
func responseProtocol(r *http.Request, cs *connState) string {
	if _, params, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil {
		switch p := params["protocol"]; {
		case strings.EqualFold(p, ProtocolSPNEGO):
			return ProtocolSPNEGO
		case strings.EqualFold(p, ProtocolKerberos):
			return ProtocolKerberos
		}
	}
	if cs.protocol != "" {
		return cs.protocol
	}
	return ProtocolSPNEGO
}

// bufferedResponse collects the inner handler's response for sealing.
type bufferedResponse struct {
	header http.Header
	status int
	body   *bytes.Buffer
}

// buffers recycles response and frame buffers: a bulk Receive response is
// the envelope size (500 KiB), and allocating (and zeroing) two of them per
// response was a fifth of the endpoint's CPU.
var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBuffer keeps buffers grown by an unusually large response out
// of the pool.
const maxPooledBuffer = 4 << 20

// frames recycles sealed response bodies.
var frames = sync.Pool{New: func() any { return new([]byte) }}

func putFrame(b *[]byte) {
	if cap(*b) > maxPooledBuffer {
		return
	}
	frames.Put(b)
}

func getBuffer() *bytes.Buffer { return buffers.Get().(*bytes.Buffer) }

func putBuffer(b *bytes.Buffer) {
	if b.Cap() > maxPooledBuffer {
		return
	}
	b.Reset()
	buffers.Put(b)
}

func (b *bufferedResponse) Header() http.Header { return b.header }
func (b *bufferedResponse) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}
func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

// splitUser splits "DOMAIN\user" or "user@domain" into domain and user.
func splitUser(s string) (domain, user string) {
	if d, u, ok := strings.Cut(s, `\`); ok {
		return d, u
	}
	if u, d, ok := strings.Cut(s, "@"); ok {
		return d, u
	}
	return "", s
}

func joinUser(domain, user string) string {
	if domain == "" {
		return user
	}
	return domain + `\` + user
}
