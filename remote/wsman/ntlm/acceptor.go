package ntlm

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// Errors of Acceptor.Authenticate. ErrLogonFailure deliberately does not say
// whether the user is unknown or the password wrong.
var (
	ErrLogonFailure = errors.New("ntlm: logon failure: unknown user name or bad password")
	ErrAnonymous    = errors.New("ntlm: anonymous authentication is not allowed")
	ErrNotNTLMv2    = errors.New("ntlm: only NTLMv2 responses are accepted (LM and NTLMv1 are refused)")
	ErrMIC          = errors.New("ntlm: AUTHENTICATE_MESSAGE integrity check (MIC) failed")
	ErrBindings     = errors.New("ntlm: channel bindings do not match this TLS channel")
	ErrNoBindings   = errors.New("ntlm: the client sent no channel bindings, which this server requires")
)

// AcceptorConfig configures a server context.
type AcceptorConfig struct {
	// Names advertised in the CHALLENGE target info (MS-NLMP 2.2.2.1).
	// Empty NbComputerName means "PSSESSION"; empty NbDomainName means the
	// computer name (a workgroup machine); empty DNS names are omitted.
	NbDomainName, NbComputerName   string
	DNSDomainName, DNSComputerName string
	// LookupNTHash returns the NT hash (NTHash(password)) of a user, given the
	// domain and user name exactly as the client sent them. ok=false means
	// unknown user. Case-insensitive matching is the callback's business.
	LookupNTHash func(domain, user string) (ntHash []byte, ok bool)
	// ChannelBindings, when non-nil, is the expected channel binding data
	// (TLSServerEndPoint of the server's certificate). A client that sends
	// bindings must match it; a client sending none is accepted unless
	// RequireChannelBindings.
	ChannelBindings []byte
	// RequireChannelBindings refuses an AUTHENTICATE without
	// MsvAvChannelBindings (or with the all-zero "unbound" value) when
	// ChannelBindings is set: WinRM's CbtHardeningLevel=Strict.
	RequireChannelBindings bool
	// Rand supplies the server challenge; nil means crypto/rand.
	Rand io.Reader
	// Now supplies MsvAvTimestamp; nil means time.Now.
	Now func() time.Time
}

// acceptorOffered are the flags a server grants when the client asks for them.
const acceptorOffered = FlagSign | FlagSeal | FlagAlwaysSign | Flag128 | Flag56 | FlagKeyExch | FlagRequestTarget

// acceptorAlways are set in every CHALLENGE (PROTOCOL.md §6.7).
const acceptorAlways = FlagUnicode | FlagNTLM | FlagExtendedSessionSecurity | FlagTargetInfo |
	FlagVersion | FlagTargetTypeDomain

// Acceptor is the server side of one NTLM context: Challenge answers the
// client's NEGOTIATE, Authenticate checks its AUTHENTICATE.
type Acceptor struct {
	cfg        AcceptorConfig
	negotiate  []byte
	challenge  []byte
	serverChal [8]byte
	flags      NegotiateFlags
	session    *Session
	domain     string
	user       string
}

// NewAcceptor returns a server context ready for Challenge.
func NewAcceptor(cfg AcceptorConfig) (*Acceptor, error) {
	if cfg.LookupNTHash == nil {
		return nil, errors.New("ntlm: AcceptorConfig.LookupNTHash is required")
	}
	if cfg.NbComputerName == "" {
		cfg.NbComputerName = "PSSESSION"
	}
	if cfg.NbDomainName == "" {
		cfg.NbDomainName = cfg.NbComputerName
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Acceptor{cfg: cfg}, nil
}

// Challenge parses the client's NEGOTIATE_MESSAGE and returns the
// CHALLENGE_MESSAGE (MS-NLMP 3.2.5.1.1).
func (a *Acceptor) Challenge(negotiate []byte) ([]byte, error) {
	if a.challenge != nil {
		return nil, errors.New("ntlm: Challenge called twice")
	}
	typ, err := messageType(negotiate)
	if err != nil {
		return nil, err
	}
	if typ != typeNegotiate {
		return nil, fmt.Errorf("ntlm: expected NEGOTIATE_MESSAGE, got message type %d", typ)
	}
	if len(negotiate) < 16 {
		return nil, errors.New("ntlm: truncated NEGOTIATE_MESSAGE")
	}
	clientFlags := NegotiateFlags(binary.LittleEndian.Uint32(negotiate[12:]))
	// Unicode is always chosen: ntlm-auth (pywinrm) announces only OEM in
	// NEGOTIATE because of its OEM domain/workstation fields, yet answers a
	// Unicode CHALLENGE in Unicode, as with Windows servers.
	a.flags = acceptorAlways | clientFlags&acceptorOffered
	if _, err := io.ReadFull(a.cfg.Rand, a.serverChal[:]); err != nil {
		return nil, fmt.Errorf("ntlm: server challenge: %w", err)
	}

	info := avPairs{
		{avNbDomainName, utf16le(a.cfg.NbDomainName)},
		{avNbComputerName, utf16le(a.cfg.NbComputerName)},
	}
	if a.cfg.DNSDomainName != "" {
		info = append(info, avPair{avDNSDomainName, utf16le(a.cfg.DNSDomainName)})
	}
	if a.cfg.DNSComputerName != "" {
		info = append(info, avPair{avDNSComputerName, utf16le(a.cfg.DNSComputerName)})
	}
	info = append(info, avPair{avTimestamp, fileTime(a.cfg.Now())})

	w := newMessage(typeChallenge, challengeHeaderLen+versionLen)
	var targetName []byte
	if a.flags.Has(FlagRequestTarget) {
		targetName = utf16le(a.cfg.NbDomainName)
	}
	w.put(12, targetName)
	binary.LittleEndian.PutUint32(w.buf[20:], uint32(a.flags))
	copy(w.buf[24:32], a.serverChal[:])
	w.put(40, info.marshal())
	copy(w.buf[challengeHeaderLen:], defaultVersion[:])
	a.negotiate = bytes.Clone(negotiate)
	a.challenge = w.buf
	return bytes.Clone(w.buf), nil
}

// Authenticate verifies the client's AUTHENTICATE_MESSAGE (MS-NLMP
// 3.2.5.1.2). On success Session and User are available.
func (a *Acceptor) Authenticate(msg []byte) error {
	if a.challenge == nil {
		return errors.New("ntlm: Authenticate before Challenge")
	}
	if a.session != nil {
		return errors.New("ntlm: Authenticate called twice")
	}
	am, err := parseAuthenticate(msg)
	if err != nil {
		return err
	}
	nt := am.NtChallengeResponse
	switch {
	case am.UserName == "" && len(nt) == 0, am.Flags.Has(FlagAnonymous):
		return ErrAnonymous
	case len(nt) == 0, len(nt) == 24:
		return ErrNotNTLMv2 // LM-only or NTLMv1 / NTLM2-session response
	case len(nt) < 16+28+4:
		return errors.New("ntlm: NTLMv2 response too short")
	}
	blob := nt[16:]
	if blob[0] != 1 || blob[1] != 1 {
		return fmt.Errorf("ntlm: NTLMv2 response version %d.%d, want 1.1", blob[0], blob[1])
	}
	clientInfo, err := parseAVPairs(blob[28:])
	if err != nil {
		return err
	}

	ntHash, ok := a.cfg.LookupNTHash(am.DomainName, am.UserName)
	if !ok || len(ntHash) != 16 {
		return ErrLogonFailure
	}
	responseKey := ntowfv2(ntHash, am.UserName, am.DomainName)
	proof := hmacMD5(responseKey, a.serverChal[:], blob)
	if !hmac.Equal(proof, nt[:16]) {
		return ErrLogonFailure
	}

	if a.cfg.ChannelBindings != nil {
		if cb, ok := clientInfo.get(avChannelBindings); ok && !bytes.Equal(cb, make([]byte, 16)) {
			if !hmac.Equal(cb, channelBindingsHash(a.cfg.ChannelBindings)) {
				return ErrBindings
			}
		} else if a.cfg.RequireChannelBindings {
			return ErrNoBindings
		}
	}

	flags := am.Flags & a.flags
	if !flags.Has(FlagExtendedSessionSecurity) {
		return errors.New("ntlm: client did not negotiate extended session security")
	}
	keyExchangeKey := hmacMD5(responseKey, proof) // SessionBaseKey = KXKEY for NTLMv2
	exportedSessionKey := keyExchangeKey
	if flags.Has(FlagKeyExch) {
		if len(am.EncryptedRandomSessionKey) != 16 {
			return fmt.Errorf("ntlm: EncryptedRandomSessionKey is %d bytes, want 16", len(am.EncryptedRandomSessionKey))
		}
		exportedSessionKey = rc4Once(keyExchangeKey, am.EncryptedRandomSessionKey)
	}

	if v, ok := clientInfo.get(avFlags); ok && len(v) == 4 && binary.LittleEndian.Uint32(v)&avFlagMICPresent != 0 {
		if am.payloadStart < micOffset+micLen || len(msg) < micOffset+micLen {
			return errors.New("ntlm: MIC announced but AUTHENTICATE_MESSAGE has no room for it")
		}
		zeroed := bytes.Clone(msg)
		clear(zeroed[micOffset : micOffset+micLen])
		want := hmacMD5(exportedSessionKey, a.negotiate, a.challenge, zeroed)
		if !hmac.Equal(want, msg[micOffset:micOffset+micLen]) {
			return ErrMIC
		}
	}

	if a.session, err = newSession(flags, exportedSessionKey, false); err != nil {
		return err
	}
	a.domain, a.user = am.DomainName, am.UserName
	return nil
}

// Session returns the session security context, nil until Authenticate succeeded.
func (a *Acceptor) Session() *Session { return a.session }

// User returns the authenticated domain and user name as the client sent them.
func (a *Acceptor) User() (domain, user string) { return a.domain, a.user }
