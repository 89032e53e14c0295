package kerberos

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/iana"
	"github.com/jcmturner/gokrb5/v8/iana/errorcode"
	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

// ticket is a service ticket with its session key.
type ticket struct {
	tkt messages.Ticket
	key types.EncryptionKey
}

// initiatorFlags are the GSS flags we request (RFC 4121 §4.1.1.1).
const initiatorFlags = gssMutualFlag | gssReplayFlag | gssSequenceFlag | gssConfFlag | gssIntegFlag

// InitiatorContext is a client security context waiting for the AP-REP.
type InitiatorContext struct {
	token      []byte
	sessionKey types.EncryptionKey
	subkey     types.EncryptionKey
	seq        uint64
	ctime      time.Time // authenticator ctime, whole seconds
	cusec      int
	service    string
	done       bool
}

// newInitiatorContext builds the AP-REQ for a service ticket; it is the
// KDC-free part of InitSecContext (tests call it with a ticket they made).
func newInitiatorContext(t ticket, crealm string, cname types.PrincipalName, channelBindings []byte, now time.Time) (*InitiatorContext, error) {
	if err := checkEtype(t.key.KeyType); err != nil {
		return nil, &Error{Kind: KindProtocol, Err: fmt.Errorf("service ticket session key: %w", err)}
	}
	et, err := crypto.GetEtype(t.key.KeyType)
	if err != nil {
		return nil, &Error{Kind: KindProtocol, Err: fmt.Errorf("service ticket session key: %w", err)}
	}
	subkey, err := types.GenerateEncryptionKey(et)
	if err != nil {
		return nil, fmt.Errorf("kerberos: initiator subkey: %w", err)
	}
	seq, err := randomSeq()
	if err != nil {
		return nil, err
	}
	now = authenticatorTime(now)
	auth := types.Authenticator{
		AVNO:   iana.PVNO,
		CRealm: crealm,
		CName:  cname,
		Cksum: types.Checksum{
			CksumType: gssChecksumType,
			Checksum:  gssChecksum(channelBindings, initiatorFlags),
		},
		Cusec:     now.Nanosecond() / 1000,
		CTime:     now.Truncate(time.Second),
		SubKey:    subkey,
		SeqNumber: int64(seq),
	}
	apReq, err := messages.NewAPReq(t.tkt, t.key, auth)
	if err != nil {
		return nil, &Error{Kind: KindProtocol, Err: fmt.Errorf("build AP-REQ: %w", err)}
	}
	types.SetFlag(&apReq.APOptions, flags.APOptionMutualRequired)
	b, err := apReq.Marshal()
	if err != nil {
		return nil, &Error{Kind: KindProtocol, Err: fmt.Errorf("marshal AP-REQ: %w", err)}
	}
	return &InitiatorContext{
		token:      wrapMechToken(tokIDAPReq, b),
		sessionKey: t.key,
		subkey:     subkey,
		seq:        seq,
		ctime:      auth.CTime,
		cusec:      auth.Cusec,
		service:    t.tkt.SName.PrincipalNameString() + "@" + t.tkt.Realm,
	}, nil
}

// lastAuthenticator is the time of the last authenticator made here.
var lastAuthenticator struct {
	sync.Mutex
	t time.Time
}

// authenticatorTime is now to the microsecond, made later than the
// previous authenticator's when both fall in the same second, as MIT's
// krb5_us_timeofday does: acceptors know an authenticator by client,
// time and microsecond (RFC 4120 §3.2.3), so two contexts made in the
// same microsecond (two lanes, or two sessions to one service) would
// otherwise have the second refused as a replay. A clock that moved back
// further is followed.
func authenticatorTime(now time.Time) time.Time {
	now = now.UTC().Truncate(time.Microsecond)
	lastAuthenticator.Lock()
	defer lastAuthenticator.Unlock()
	if last := lastAuthenticator.t; !now.After(last) && last.Sub(now) < time.Second {
		now = last.Add(time.Microsecond)
	}
	lastAuthenticator.t = now
	return now
}

// randomSeq is a random initial sequence number below 2^30 (as MIT and
// gokrb5 do: Windows encodes sequence numbers as signed 32-bit integers).
func randomSeq() (uint64, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return 0, fmt.Errorf("kerberos: sequence number: %w", err)
	}
	return uint64(binary.BigEndian.Uint32(b[:]) & 0x3fffffff), nil
}

// Token is the KRB5 mechanism token carrying the AP-REQ.
func (ic *InitiatorContext) Token() []byte { return ic.token }

// Complete verifies the AP-REP mechanism token: EncAPRepPart decrypted with
// the ticket session key, ctime/cusec echoing our authenticator. It returns
// the established session, sealing with the acceptor's subkey when the
// AP-REP carries one (else our subkey). A KRB-ERROR token gives an *Error.
// Complete can be called once.
func (ic *InitiatorContext) Complete(token []byte) (*Session, error) {
	if ic.done {
		return nil, newError(KindProtocol, "", "security context already completed")
	}
	ic.done = true
	id, msg, err := unwrapMechToken(token)
	if err != nil {
		return nil, &Error{Kind: KindMutualAuth, Principal: ic.service, Err: fmt.Errorf("AP-REP: %w", err)}
	}
	switch id {
	case tokIDAPRep:
	case tokIDKRBError:
		return nil, krbErrorToken(msg, ic.service)
	default:
		return nil, newError(KindMutualAuth, ic.service, "expected an AP-REP, got token id % x", id[:])
	}
	var rep messages.APRep
	if err := rep.Unmarshal(msg); err != nil {
		return nil, &Error{Kind: KindMutualAuth, Principal: ic.service, Err: fmt.Errorf("AP-REP: %w", err)}
	}
	if rep.EncPart.EType != ic.sessionKey.KeyType {
		return nil, newError(KindMutualAuth, ic.service, "AP-REP encrypted with etype %d, session key is %d", rep.EncPart.EType, ic.sessionKey.KeyType)
	}
	plain, err := decrypt(rep.EncPart.Cipher, ic.sessionKey, keyusage.AP_REP_ENCPART)
	if err != nil {
		return nil, &Error{Kind: KindMutualAuth, Principal: ic.service, Err: fmt.Errorf("AP-REP: %w", err)}
	}
	var part messages.EncAPRepPart
	if err := part.Unmarshal(plain); err != nil {
		return nil, &Error{Kind: KindMutualAuth, Principal: ic.service, Err: fmt.Errorf("AP-REP: %w", err)}
	}
	if !part.CTime.Equal(ic.ctime) || part.Cusec != ic.cusec {
		return nil, newError(KindMutualAuth, ic.service, "AP-REP does not echo the authenticator time")
	}
	key, acceptorSubkey := ic.subkey, false
	if len(part.Subkey.KeyValue) > 0 {
		if err := checkKey(part.Subkey); err != nil {
			return nil, &Error{Kind: KindMutualAuth, Principal: ic.service, Err: fmt.Errorf("AP-REP subkey: %w", err)}
		}
		// As MIT does: RFC 1964-style tokens (RC4, DES3) keep the initiator
		// subkey unless the acceptor's has another etype.
		if isCFX(part.Subkey.KeyType) || part.Subkey.KeyType != ic.subkey.KeyType {
			key, acceptorSubkey = part.Subkey, true
		}
	}
	return newSession(key, false, acceptorSubkey, ic.seq, uint64(uint32(part.SequenceNumber))), nil
}

// isCFX reports whether etype protects messages with RFC 4121 tokens, the
// ones that know acceptor subkeys (MIT's proto 1); RC4-HMAC and DES3 use
// the RFC 1964 token layout.
func isCFX(etype int32) bool {
	switch etype {
	case etypeID.RC4_HMAC, etypeID.RC4_HMAC_EXP, etypeID.DES3_CBC_SHA1_KD, etypeID.DES_CBC_CRC, etypeID.DES_CBC_MD5, etypeID.DES_CBC_MD4:
		return false
	}
	return true
}

// krbErrorToken turns a KRB-ERROR mechanism token into an *Error.
func krbErrorToken(msg []byte, service string) error {
	var ke messages.KRBError
	if err := ke.Unmarshal(msg); err != nil {
		return &Error{Kind: KindMutualAuth, Principal: service, Err: fmt.Errorf("KRB-ERROR token: %w", err)}
	}
	kind := KindMutualAuth
	switch ke.ErrorCode {
	case errorcode.KRB_AP_ERR_SKEW:
		kind = KindClockSkew
	case errorcode.KRB_AP_ERR_TKT_EXPIRED:
		kind = KindNoCredentials
	case errorcode.KRB_AP_ERR_NOKEY, errorcode.KRB_AP_ERR_BADKEYVER, errorcode.KRB_AP_ERR_NOT_US:
		kind = KindPrincipalUnknown
	}
	return &Error{Kind: kind, Principal: service, Err: fmt.Errorf("acceptor refused the AP-REQ: %w", ke)}
}

// checkEtype refuses etypes gokrb5 v8.4.4 gets wrong:
// aes256-cts-hmac-sha384-192 (20) has 24-byte keys there (RFC 8009 says 32)
// and its EncryptMessage refuses 32-byte ones. Windows does not use it.
func checkEtype(etype int32) error {
	if etype == etypeID.AES256_CTS_HMAC_SHA384_192 {
		return fmt.Errorf("etype 20 (aes256-cts-hmac-sha384-192) is not supported (gokrb5 mis-sizes its keys); allow aes256-cts-hmac-sha1-96")
	}
	_, err := crypto.GetEtype(etype)
	return err
}

// checkKey refuses keys gokrb5 cannot use or whose length is wrong (gokrb5
// would panic on some of them).
func checkKey(k types.EncryptionKey) error {
	if err := checkEtype(k.KeyType); err != nil {
		return err
	}
	et, err := crypto.GetEtype(k.KeyType)
	if err != nil {
		return err
	}
	if len(k.KeyValue) != et.GetKeyByteSize() {
		return fmt.Errorf("key of %d bytes for etype %d", len(k.KeyValue), k.KeyType)
	}
	return nil
}

// decrypt is crypto.DecryptMessage with the length checks gokrb5 lacks
// (it slices without bounds checks).
func decrypt(ct []byte, key types.EncryptionKey, usage uint32) ([]byte, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	et, _ := crypto.GetEtype(key.KeyType)
	if min := et.GetConfounderByteSize() + et.GetHMACBitLength()/8 + 16; len(ct) < min {
		return nil, fmt.Errorf("ciphertext of %d bytes is shorter than %d", len(ct), min)
	}
	return crypto.DecryptMessage(ct, key, usage)
}
