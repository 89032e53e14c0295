package kerberos

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/asn1tools"
	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/iana"
	"github.com/jcmturner/gokrb5/v8/iana/asnAppTag"
	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/iana/msgtype"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

// AcceptorConfig configures the service side.
type AcceptorConfig struct {
	KeytabFile string // service keys, e.g. HTTP/localhost@REALM
	// ServicePrincipal is "HTTP/host@REALM" (or "HTTP/host": any realm);
	// "" accepts tickets for any principal in the keytab.
	ServicePrincipal string
	MaxClockSkew     time.Duration // 0 means 5 minutes
	Logger           *slog.Logger
}

// defaultClockSkew is the usual Kerberos clock skew limit.
const defaultClockSkew = 5 * time.Minute

// maxReplayEntries bounds the replay cache; each entry is one accepted
// authenticator that is still within the clock skew window.
const maxReplayEntries = 1 << 16

// Acceptor verifies AP-REQs with a keytab. It is safe for concurrent use.
type Acceptor struct {
	kt     *keytab.Keytab
	sname  []string // nil: any
	srealm string   // "": any
	skew   time.Duration
	log    *slog.Logger
	replay replayCache
	now    func() time.Time
}

// NewAcceptor loads the keytab.
func NewAcceptor(cfg AcceptorConfig) (*Acceptor, error) {
	kt, err := loadKeytab(cfg.KeytabFile)
	if err != nil {
		return nil, err
	}
	return newAcceptor(kt, cfg)
}

func newAcceptor(kt *keytab.Keytab, cfg AcceptorConfig) (*Acceptor, error) {
	a := &Acceptor{kt: kt, skew: cfg.MaxClockSkew, log: cfg.Logger, now: time.Now}
	if a.skew <= 0 {
		a.skew = defaultClockSkew
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if len(kt.Entries) == 0 {
		return nil, newError(KindConfig, "", "keytab has no keys")
	}
	if cfg.ServicePrincipal != "" {
		name, realm, err := parseSPN(cfg.ServicePrincipal)
		if err != nil {
			return nil, err
		}
		a.sname, a.srealm = strings.Split(name, "/"), realm
		found := false
		for _, e := range kt.Entries {
			if slices.Equal(e.Principal.Components, a.sname) && (realm == "" || e.Principal.Realm == realm) {
				found = true
				break
			}
		}
		if !found {
			return nil, newError(KindConfig, cfg.ServicePrincipal, "the keytab has no key for the service principal")
		}
	}
	a.replay.seen = make(map[replayKey]time.Time)
	return a, nil
}

// Accept verifies an AP-REQ mechanism token: the ticket is decrypted with
// the keytab, the authenticator checked (clock skew, replay cache, GSS
// checksum) and the channel bindings compared when the client sent
// non-zero bindings and expectedCB is not nil; requireCB also refuses a
// client that sent none. It returns the AP-REP mechanism token (nil when
// the client did not ask for mutual authentication) with a fresh acceptor
// subkey and sequence number, the session (acceptor orientation) and the
// client principal "user@REALM".
func (a *Acceptor) Accept(token []byte, expectedCB []byte, requireCB bool) (apRep []byte, s *Session, client string, err error) {
	id, msg, err := unwrapMechToken(token)
	if err != nil {
		return nil, nil, "", &Error{Kind: KindProtocol, Err: fmt.Errorf("AP-REQ: %w", err)}
	}
	if id != tokIDAPReq {
		return nil, nil, "", newError(KindProtocol, "", "expected an AP-REQ, got token id % x", id[:])
	}
	var req messages.APReq
	if err := req.Unmarshal(msg); err != nil {
		return nil, nil, "", &Error{Kind: KindProtocol, Err: fmt.Errorf("AP-REQ: %w", err)}
	}
	tkt := &req.Ticket
	if len(tkt.SName.NameString) == 0 {
		return nil, nil, "", newError(KindProtocol, "", "ticket has no service name")
	}
	service := tkt.SName.PrincipalNameString() + "@" + tkt.Realm
	if a.sname != nil && (!tkt.SName.Equal(types.PrincipalName{NameString: a.sname}) || (a.srealm != "" && a.srealm != tkt.Realm)) {
		return nil, nil, "", newError(KindPrincipalUnknown, service, "ticket is not for this service")
	}
	if flagSet(req.APOptions, flags.APOptionUseSessionKey) {
		return nil, nil, "", newError(KindProtocol, service, "user-to-user tickets are not supported")
	}
	if err := checkEtype(tkt.EncPart.EType); err != nil {
		return nil, nil, "", &Error{Kind: KindProtocol, Principal: service, Err: fmt.Errorf("ticket: %w", err)}
	}
	skey, _, err := a.kt.GetEncryptionKey(tkt.SName, tkt.Realm, tkt.EncPart.KVNO, tkt.EncPart.EType)
	if err != nil {
		return nil, nil, "", &Error{Kind: KindPrincipalUnknown, Principal: service, Err: fmt.Errorf("no key for the ticket (etype %d, kvno %d) in the keytab", tkt.EncPart.EType, tkt.EncPart.KVNO)}
	}
	plain, err := decrypt(tkt.EncPart.Cipher, skey, keyusage.KDC_REP_TICKET)
	if err != nil {
		return nil, nil, "", &Error{Kind: KindIntegrity, Principal: service, Err: fmt.Errorf("decrypt ticket: %w", err)}
	}
	var enc messages.EncTicketPart
	if err := enc.Unmarshal(plain); err != nil {
		return nil, nil, "", &Error{Kind: KindProtocol, Principal: service, Err: fmt.Errorf("ticket: %w", err)}
	}
	now := a.now()
	start := enc.StartTime
	if start.IsZero() {
		start = enc.AuthTime
	}
	if start.Sub(now) > a.skew || flagSet(enc.Flags, flags.Invalid) {
		return nil, nil, "", newError(KindClockSkew, service, "ticket not yet valid (starts %s)", start.UTC().Format(time.RFC3339))
	}
	if now.Sub(enc.EndTime) > a.skew {
		return nil, nil, "", newError(KindNoCredentials, service, "ticket expired at %s", enc.EndTime.UTC().Format(time.RFC3339))
	}
	if err := checkEtype(enc.Key.KeyType); err != nil {
		return nil, nil, "", &Error{Kind: KindProtocol, Principal: service, Err: fmt.Errorf("ticket session key: %w", err)}
	}
	if req.EncryptedAuthenticator.EType != enc.Key.KeyType {
		return nil, nil, "", newError(KindProtocol, service, "authenticator etype %d differs from the session key's %d", req.EncryptedAuthenticator.EType, enc.Key.KeyType)
	}
	ab, err := decrypt(req.EncryptedAuthenticator.Cipher, enc.Key, keyusage.AP_REQ_AUTHENTICATOR)
	if err != nil {
		return nil, nil, "", &Error{Kind: KindIntegrity, Principal: service, Err: fmt.Errorf("decrypt authenticator: %w", err)}
	}
	var auth types.Authenticator
	if err := auth.Unmarshal(ab); err != nil {
		return nil, nil, "", &Error{Kind: KindProtocol, Principal: service, Err: fmt.Errorf("authenticator: %w", err)}
	}
	client = enc.CName.PrincipalNameString() + "@" + enc.CRealm
	if !auth.CName.Equal(enc.CName) || auth.CRealm != enc.CRealm {
		return nil, nil, "", newError(KindIntegrity, client, "authenticator client differs from the ticket's")
	}
	ctime := auth.CTime.Add(time.Duration(auth.Cusec) * time.Microsecond)
	if d := now.Sub(ctime); d > a.skew || d < -a.skew {
		return nil, nil, "", newError(KindClockSkew, client, "authenticator time differs from ours by %s (limit %s)", d.Round(time.Second), a.skew)
	}
	if auth.Cksum.CksumType != gssChecksumType {
		return nil, nil, "", newError(KindProtocol, client, "authenticator checksum type %d is not the GSS-API one", auth.Cksum.CksumType)
	}
	ck, err := parseGSSChecksum(auth.Cksum.Checksum)
	if err != nil {
		return nil, nil, "", &Error{Kind: KindProtocol, Principal: client, Err: err}
	}
	if err := checkBindings(ck.bnd, expectedCB, requireCB); err != nil {
		return nil, nil, "", &Error{Kind: KindChannelBinding, Principal: client, Err: err}
	}
	if len(auth.SubKey.KeyValue) > 0 {
		if err := checkKey(auth.SubKey); err != nil {
			return nil, nil, "", &Error{Kind: KindProtocol, Principal: client, Err: fmt.Errorf("initiator subkey: %w", err)}
		}
	}
	if err := a.replay.check(replayKey{client: client, service: service, ctime: auth.CTime.Unix(), cusec: auth.Cusec}, now, ctime.Add(a.skew)); err != nil {
		return nil, nil, "", &Error{Kind: KindIntegrity, Principal: client, Err: err}
	}
	peerSeq := uint64(uint32(auth.SeqNumber)) // Windows may encode it as a negative int32
	mutual := flagSet(req.APOptions, flags.APOptionMutualRequired) || ck.flags&gssMutualFlag != 0
	if !mutual {
		key := enc.Key
		if len(auth.SubKey.KeyValue) > 0 {
			key = auth.SubKey
		}
		a.log.Debug("kerberos: accepted without mutual authentication", "client", client, "service", service)
		return nil, newSession(key, true, false, peerSeq, peerSeq), client, nil
	}
	subType, peerKey := enc.Key.KeyType, enc.Key
	if len(auth.SubKey.KeyValue) > 0 {
		subType, peerKey = auth.SubKey.KeyType, auth.SubKey
	}
	// RFC 1964-style etypes (RC4, DES3) get no acceptor subkey, as from MIT:
	// MIT initiators would ignore one of the same etype.
	withSubkey := isCFX(subType)
	rep, subkey, seq, err := buildAPRep(enc.Key, subType, withSubkey, auth.CTime, auth.Cusec)
	if err != nil {
		return nil, nil, "", err
	}
	a.log.Debug("kerberos: accepted", "client", client, "service", service, "etype", subType)
	if !withSubkey {
		return rep, newSession(peerKey, true, false, seq, peerSeq), client, nil
	}
	return rep, newSession(subkey, true, true, seq, peerSeq), client, nil
}

// flagSet is types.IsFlagSet without its panic on a short BIT STRING (peer
// data: an empty ap-options is valid DER).
func flagSet(f asn1.BitString, i int) bool {
	b := i / 8
	return b < len(f.Bytes) && f.Bytes[b]&(0x80>>(i%8)) != 0
}

// checkBindings compares the client's Bnd with the expected application
// data (RFC 4121 §4.1.1.2).
func checkBindings(bnd, expected []byte, require bool) error {
	sent := !isZero(bnd)
	switch {
	case require && !sent:
		return fmt.Errorf("client sent no channel bindings")
	case require && expected == nil:
		return fmt.Errorf("channel bindings required but none expected")
	case sent && expected != nil && !equalBytes(bnd, channelBindingsHash(expected)):
		return fmt.Errorf("channel bindings differ")
	}
	return nil
}

// buildAPRep makes the AP-REP mechanism token (RFC 4120 §5.5.2: APPLICATION
// 15, with EncAPRepPart APPLICATION 27 encrypted in the ticket session key,
// key usage 12), which gokrb5 can only parse: echo of the authenticator
// time, a fresh acceptor subkey of etype subType when withSubkey, and our
// initial sequence number.
func buildAPRep(sessionKey types.EncryptionKey, subType int32, withSubkey bool, ctime time.Time, cusec int) (token []byte, subkey types.EncryptionKey, seq uint64, err error) {
	if withSubkey {
		et, err := crypto.GetEtype(subType)
		if err != nil {
			return nil, subkey, 0, &Error{Kind: KindProtocol, Err: fmt.Errorf("acceptor subkey: %w", err)}
		}
		if subkey, err = types.GenerateEncryptionKey(et); err != nil {
			return nil, subkey, 0, fmt.Errorf("kerberos: acceptor subkey: %w", err)
		}
	}
	if seq, err = randomSeq(); err != nil {
		return nil, subkey, 0, err
	}
	part := messages.EncAPRepPart{CTime: ctime.UTC(), Cusec: cusec, Subkey: subkey, SequenceNumber: int64(seq)}
	pb, err := asn1.Marshal(part)
	if err != nil {
		return nil, subkey, 0, fmt.Errorf("kerberos: marshal EncAPRepPart: %w", err)
	}
	pb = asn1tools.AddASNAppTag(pb, asnAppTag.EncAPRepPart)
	ed, err := crypto.GetEncryptedData(pb, sessionKey, keyusage.AP_REP_ENCPART, 0)
	if err != nil {
		return nil, subkey, 0, fmt.Errorf("kerberos: encrypt EncAPRepPart: %w", err)
	}
	rb, err := asn1.Marshal(messages.APRep{PVNO: iana.PVNO, MsgType: msgtype.KRB_AP_REP, EncPart: ed})
	if err != nil {
		return nil, subkey, 0, fmt.Errorf("kerberos: marshal AP-REP: %w", err)
	}
	rb = asn1tools.AddASNAppTag(rb, asnAppTag.APREP)
	return wrapMechToken(tokIDAPRep, rb), subkey, seq, nil
}

// replayKey identifies an authenticator (RFC 4120 §3.2.3).
type replayKey struct {
	client, service string
	ctime           int64
	cusec           int
}

// replayCache remembers authenticators until they fall out of the clock
// skew window.
type replayCache struct {
	mu        sync.Mutex
	seen      map[replayKey]time.Time // expiry
	lastPrune time.Time
}

func (r *replayCache) check(k replayKey, now, expiry time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.seen[k]; ok {
		return fmt.Errorf("replayed authenticator")
	}
	if len(r.seen) >= maxReplayEntries || now.Sub(r.lastPrune) > time.Minute {
		for key, exp := range r.seen {
			if now.After(exp) {
				delete(r.seen, key)
			}
		}
		r.lastPrune = now
	}
	if len(r.seen) >= maxReplayEntries {
		return fmt.Errorf("replay cache full (%d authenticators within the clock skew window)", maxReplayEntries)
	}
	r.seen[k] = expiry
	return nil
}
