package transport

import (
	"context"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/pssession/pssession/remote/wsman/kerberos"
)

// Kerberos on the client (PROTOCOL.md §6.1, §6.4): each lane sends its own
// AP-REQ on an empty POST, either raw under the "Kerberos" scheme or as the
// optimistic token of an SPNEGO NegTokenInit under "Negotiate"; the 200
// answer carries the AP-REP, which is verified (mutual authentication)
// before any body is sent. One kerberos.Client per transport.Client holds
// the tickets for every lane.

// spnegoKerberosMechs is the MechTypeList of our NegTokenInit, in the
// order Windows clients send it.
var spnegoKerberosMechs = []asn1.ObjectIdentifier{kerberos.OIDMSKerberos, kerberos.OIDKerberos5, oidNTLM}

// spnegoKerberosMechsDER is the DER MechTypeList a mechListMIC covers.
var spnegoKerberosMechsDER = mustMarshal(spnegoKerberosMechs)

// kerberosState is the Kerberos client state shared by the lanes.
type kerberosState struct {
	mu     sync.Mutex
	client *kerberos.Client
	// noKrb, once set, is why Negotiate uses NTLM for every new lane.
	noKrb error
	// spn is the service principal the KDC knew, reused for later lanes.
	spn string
	// loginErr is a login failure that trying again would only repeat (a
	// wrong password must not lock the account out, lane after lane).
	loginErr error
}

var errKerberosClosed = errors.New("transport: client closed")

// close forgets the tickets and stops their renewal; no login follows.
func (k *kerberosState) close() {
	k.mu.Lock()
	kc := k.client
	k.client, k.loginErr = nil, errKerberosClosed
	k.mu.Unlock()
	if kc != nil {
		kc.Close()
	}
}

func (k *kerberosState) ntlmOnly() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.noKrb
}

func (k *kerberosState) setNTLMOnly(reason error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.noKrb == nil {
		k.noKrb = reason
	}
}

// ntlmFallback tells Negotiate to use NTLM instead of Kerberos.
type ntlmFallback struct {
	reason error
	redial bool // the server closed the connection
}

func (f *ntlmFallback) Error() string { return "transport: Kerberos not usable: " + f.reason.Error() }
func (f *ntlmFallback) Unwrap() error { return f.reason }

var errServerOnlyNTLM = errors.New("the server does not offer Kerberos")

// authenticate runs the handshake of the configured scheme on a new lane.
func (c *Client) authenticate(ctx context.Context, l *lane) error {
	switch c.scheme {
	case "ntlm":
		return c.handshake(ctx, l)
	case "kerberos":
		return c.kerberosHandshake(ctx, l, true)
	case "negotiate":
		if !c.tryKerberos {
			return c.handshake(ctx, l)
		}
		if reason := c.krb.ntlmOnly(); reason != nil {
			return c.ntlmAfterKerberos(ctx, l, &ntlmFallback{reason: reason})
		}
		err := c.kerberosHandshake(ctx, l, false)
		var fb *ntlmFallback
		if !errors.As(err, &fb) {
			return err
		}
		c.krb.setNTLMOnly(fb.reason)
		if fb.redial {
			return fb
		}
		return c.ntlmAfterKerberos(ctx, l, fb)
	}
	return nil
}

// ntlmAfterKerberos is Negotiate's fallback to NTLM.
func (c *Client) ntlmAfterKerberos(ctx context.Context, l *lane, fb *ntlmFallback) error {
	c.log.Debug("negotiate: using NTLM", "lane", l.id, "reason", fb.reason)
	if c.ntlmErr != nil {
		return &AuthError{User: c.cfg.Username, Reason: fmt.Sprintf("Kerberos is not possible (%s) and NTLM needs a user name and password: %v",
			kerberosReason("", fb.reason), c.ntlmErr), Err: fb.reason}
	}
	return c.handshake(ctx, l)
}

// kerberosClient returns the shared Kerberos client, logging in on first
// use (AS exchange with the password or keytab, or the credential cache).
func (c *Client) kerberosClient() (*kerberos.Client, error) {
	c.krb.mu.Lock()
	defer c.krb.mu.Unlock()
	if c.krb.client != nil {
		return c.krb.client, nil
	}
	if c.krb.loginErr != nil {
		return nil, c.krb.loginErr
	}
	kc, err := kerberos.NewClient(kerberos.ClientConfig{
		Username:   c.cfg.Username,
		Password:   c.cfg.Password,
		KeytabFile: c.cfg.Keytab,
		CCacheFile: c.cfg.CCache,
		Krb5Conf:   c.cfg.Krb5Conf,
		Logger:     c.log,
	})
	if err != nil {
		var ke *kerberos.Error
		if errors.As(err, &ke) && ke.Kind != kerberos.KindKDCUnreachable {
			c.krb.loginErr = err
		}
		return nil, err
	}
	c.krb.client = kc
	c.log.Debug("kerberos credentials", "principal", kc.Principal())
	return kc, nil
}

// spns lists the service principals to try, in order.
func (c *Client) spns() []string {
	if c.cfg.SPN != "" {
		return []string{c.cfg.SPN}
	}
	c.krb.mu.Lock()
	known := c.krb.spn
	c.krb.mu.Unlock()
	if known != "" {
		return []string{known}
	}
	host := strings.ToLower(c.url.Hostname())
	return []string{"HTTP/" + host, "WSMAN/" + host}
}

// initSecContext builds the AP-REQ, retrying with WSMAN/<host> when the
// KDC does not know HTTP/<host>.
func (c *Client) initSecContext(ctx context.Context, kc *kerberos.Client, cb []byte) (*kerberos.InitiatorContext, string, error) {
	spns := c.spns()
	for i, spn := range spns {
		ic, err := kc.InitSecContext(ctx, spn, cb)
		if err == nil {
			c.krb.mu.Lock()
			c.krb.spn = spn
			c.krb.mu.Unlock()
			return ic, spn, nil
		}
		if i+1 < len(spns) && unknownService(err, spn) {
			c.log.Debug("kerberos: service principal unknown to the KDC", "spn", spn, "next", spns[i+1])
			continue
		}
		return nil, strings.Join(spns[:i+1], " or "), err
	}
	return nil, "", errors.New("transport: no service principal") // unreachable: spns is never empty
}

// unknownService reports whether err says the KDC does not know spn.
func unknownService(err error, spn string) bool {
	var ke *kerberos.Error
	return errors.As(err, &ke) && ke.Kind == kerberos.KindPrincipalUnknown && (ke.Principal == "" || isServicePrincipal(ke.Principal, spn))
}

// kerberosHandshake authenticates l with Kerberos: raw selects the
// "Kerberos" scheme, else SPNEGO under "Negotiate", where an *ntlmFallback
// error asks for NTLM instead.
func (c *Client) kerberosHandshake(ctx context.Context, l *lane, raw bool) error {
	kc, err := c.kerberosClient()
	if err != nil {
		if !raw && kerberos.IsKerberosUnavailable(err) {
			return &ntlmFallback{reason: err}
		}
		return kerberosAuthError(c.cfg.Username, "", err)
	}
	cb := l.channelBindings()
	ic, spn, err := c.initSecContext(ctx, kc, cb)
	if err != nil {
		if !raw && kerberos.IsKerberosUnavailable(err) {
			return &ntlmFallback{reason: err}
		}
		return kerberosAuthError(c.cfg.Username, spn, err)
	}
	scheme, protocol := "Negotiate", ProtocolSPNEGO
	tok := spnegoInit(spnegoKerberosMechs, ic.Token())
	if raw {
		scheme, protocol, tok = "Kerberos", ProtocolKerberos, ic.Token()
	}
	resp, body, err := c.roundTrip(ctx, l, scheme+" "+base64.StdEncoding.EncodeToString(tok), nil, "")
	if err != nil {
		return err
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusUnauthorized:
		return c.kerberosRefused(resp, raw, ic, spn)
	default:
		return c.unexpected(resp, body, "Kerberos handshake")
	}
	apRep, mic, err := kerberosReply(schemeToken(resp.Header, scheme), raw)
	if err != nil {
		return &AuthError{User: c.cfg.Username, Status: resp.StatusCode, Schemes: authSchemes(resp.Header),
			Reason: "the server accepted the Kerberos ticket but did not prove its identity (mutual authentication): " + err.Error(), Err: err}
	}
	sess, err := ic.Complete(apRep)
	if err != nil {
		return kerberosAuthError(c.cfg.Username, spn, err)
	}
	if mic != nil {
		// RFC 4178 §5: a mechListMIC from the acceptor is verified, so that
		// nobody in between trimmed our mechanism list.
		var ke *kerberos.Error
		switch err := sess.VerifyMIC(spnegoKerberosMechsDER, mic); {
		case err == nil:
		case errors.As(err, &ke) && ke.Kind == kerberos.KindProtocol: // RC4: MICs not implemented
			c.log.Debug("kerberos: mechListMIC not checked", "lane", l.id, "err", err)
		default:
			return &AuthError{User: c.cfg.Username, Status: resp.StatusCode, Schemes: authSchemes(resp.Header),
				Reason: "the server's SPNEGO mechListMIC does not verify (mutual authentication failed)", Err: err}
		}
	}
	if c.seal {
		l.sealer, l.protocol = sess, protocol
	}
	c.log.Debug("lane authenticated", "lane", l.id, "auth", "kerberos", "scheme", scheme, "spn", spn,
		"principal", kc.Principal(), "sealed", c.seal, "channel_binding", cb != nil)
	return nil
}

// kerberosReply extracts the AP-REP mechanism token from the server's
// final token: raw, or in an SPNEGO NegTokenResp accept-completed, with
// its mechListMIC if it has one.
func kerberosReply(tok []byte, raw bool) (apRep, mic []byte, err error) {
	if len(tok) == 0 {
		return nil, nil, errors.New("no AP-REP in the 200 response")
	}
	if raw || isKerberosToken(tok) {
		return tok, nil, nil
	}
	m, err := parseSPNEGO(tok)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case m.init:
		return nil, nil, errors.New("a NegTokenInit where a NegTokenResp belongs")
	case m.negState != negAcceptCompleted && m.negState != -1:
		return nil, nil, errors.New("SPNEGO negotiation not completed")
	case m.supportedMech != nil && !isKerberosMech(m.supportedMech):
		return nil, nil, errors.New("the server chose mechanism " + m.supportedMech.String() + ", not Kerberos")
	case len(m.responseToken) == 0:
		return nil, nil, errors.New("NegTokenResp without the AP-REP")
	}
	return m.responseToken, m.mechListMIC, nil
}

// kerberosRefused interprets a 401 answer to the AP-REQ: a KRB-ERROR from
// the server gives its reason; Negotiate falls back to NTLM when the server
// does not offer Kerberos.
func (c *Client) kerberosRefused(resp *http.Response, raw bool, ic *kerberos.InitiatorContext, spn string) error {
	schemes := authSchemes(resp.Header)
	offersKerberos := offersScheme(resp.Header, "Kerberos")
	scheme := "Negotiate"
	if raw {
		scheme = "Kerberos"
	}
	tok := schemeToken(resp.Header, scheme)
	if tok != nil && !raw && !isKerberosToken(tok) {
		if m, err := parseSPNEGO(tok); err == nil && !m.init {
			tok = m.responseToken
		} else {
			tok = nil
		}
	}
	if tok != nil && isKerberosToken(tok) {
		if _, err := ic.Complete(tok); err != nil { // a KRB-ERROR: the server's reason
			reason := kerberosReason(spn, err)
			var ke *kerberos.Error
			if errors.As(err, &ke) && ke.Kind == kerberos.KindMutualAuth {
				reason = err.Error() // not about the server's identity: its refusal as it stands
			}
			return &AuthError{User: c.cfg.Username, Status: resp.StatusCode, Schemes: schemes,
				Reason: "the server refused the Kerberos ticket: " + reason, Err: err}
		}
	}
	if !offersKerberos && !raw {
		return &ntlmFallback{reason: errServerOnlyNTLM, redial: resp.Close}
	}
	reason := "the server refused the Kerberos ticket for " + spn +
		" (does its keytab hold that principal's current key? are the clocks in sync?)"
	if !offersKerberos {
		reason = "the server does not offer Kerberos; try --auth negotiate or ntlm"
	}
	return &AuthError{User: c.cfg.Username, Status: resp.StatusCode, Schemes: schemes, Reason: reason}
}

// offersScheme reports whether a WWW-Authenticate challenge names scheme,
// also when several challenges share one header line (RFC 7235 4.1).
func offersScheme(h http.Header, scheme string) bool {
	for _, v := range h.Values("WWW-Authenticate") {
		for _, part := range strings.Split(v, ",") {
			word, _, _ := strings.Cut(strings.TrimSpace(part), " ")
			if strings.EqualFold(word, scheme) {
				return true
			}
		}
	}
	return false
}

// schemeToken returns the token of the first "<scheme> <b64>"
// WWW-Authenticate challenge of one of schemes.
func schemeToken(h http.Header, schemes ...string) []byte {
	for _, v := range h.Values("WWW-Authenticate") {
		for _, part := range strings.Split(v, ",") {
			s, tok, ok := strings.Cut(strings.TrimSpace(part), " ")
			if ok && slices.ContainsFunc(schemes, func(sc string) bool { return strings.EqualFold(s, sc) }) {
				if b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(tok)); err == nil && len(b) > 0 {
					return b
				}
			}
		}
	}
	return nil
}
