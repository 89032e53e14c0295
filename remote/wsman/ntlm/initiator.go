package ntlm

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// Credentials identify the user. NTHash, when set, is used instead of the
// password (pass-the-hash, 16 bytes, as NTHash(password) returns).
type Credentials struct {
	Domain   string
	User     string
	Password string
	NTHash   []byte
}

func (c Credentials) ntHash() ([]byte, error) {
	if len(c.NTHash) > 0 {
		if len(c.NTHash) != 16 {
			return nil, fmt.Errorf("ntlm: NT hash is %d bytes, want 16", len(c.NTHash))
		}
		return c.NTHash, nil
	}
	return NTHash(c.Password), nil
}

// InitiatorConfig configures a client context.
type InitiatorConfig struct {
	Credentials
	// Workstation is sent in NEGOTIATE/AUTHENTICATE; may be empty.
	Workstation string
	// ChannelBindings is the channel binding application data, e.g.
	// TLSServerEndPoint(cert) over HTTPS. nil sends no MsvAvChannelBindings;
	// an empty non-nil slice sends the all-zero "no bindings" hash.
	ChannelBindings []byte
	// TargetName, when set, is sent as MsvAvTargetName (the SPN, e.g. "HTTP/host").
	TargetName string
	// Rand supplies the client challenge and session key; nil means crypto/rand.
	Rand io.Reader
	// Now supplies the time when the server sent no timestamp; nil means time.Now.
	Now func() time.Time
}

// Initiator is the client side of one NTLM context. Call Negotiate, send the
// token, pass the server's CHALLENGE to Authenticate, send its result; then
// Session seals messages.
type Initiator struct {
	cfg       InitiatorConfig
	negotiate []byte
	session   *Session
	done      bool
}

// initiatorFlags are requested in NEGOTIATE: NTLMv2 with 128-bit sealing and
// key exchange, as Windows clients ask for WinRM message encryption.
const initiatorFlags = FlagUnicode | FlagRequestTarget | FlagSign | FlagSeal | FlagNTLM |
	FlagAlwaysSign | FlagExtendedSessionSecurity | FlagTargetInfo | FlagVersion |
	Flag128 | FlagKeyExch | Flag56

// NewInitiator checks the configuration and returns a context ready for Negotiate.
func NewInitiator(cfg InitiatorConfig) (*Initiator, error) {
	if cfg.User == "" {
		return nil, errors.New("ntlm: user name is required (anonymous NTLM is not supported)")
	}
	if _, err := cfg.ntHash(); err != nil {
		return nil, err
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Initiator{cfg: cfg}, nil
}

// Negotiate returns the NEGOTIATE_MESSAGE (MS-NLMP 2.2.1.1).
func (i *Initiator) Negotiate() ([]byte, error) {
	if i.negotiate != nil {
		return nil, errors.New("ntlm: Negotiate called twice")
	}
	w := newMessage(typeNegotiate, negotiateHeaderLen+versionLen)
	binary.LittleEndian.PutUint32(w.buf[12:], uint32(initiatorFlags))
	w.put(16, nil) // DomainNameFields: not supplied
	w.put(24, nil) // WorkstationFields: not supplied
	copy(w.buf[negotiateHeaderLen:], defaultVersion[:])
	i.negotiate = w.buf
	return bytes.Clone(w.buf), nil
}

// Authenticate processes the server's CHALLENGE_MESSAGE and returns the
// AUTHENTICATE_MESSAGE (MS-NLMP 3.1.5.1.2).
func (i *Initiator) Authenticate(challenge []byte) ([]byte, error) {
	if i.negotiate == nil {
		return nil, errors.New("ntlm: Authenticate before Negotiate")
	}
	if i.done {
		return nil, errors.New("ntlm: Authenticate called twice")
	}
	cm, err := parseChallenge(challenge)
	if err != nil {
		return nil, err
	}
	flags := cm.Flags & initiatorFlags
	if !flags.Has(FlagUnicode) {
		return nil, errors.New("ntlm: server did not accept Unicode")
	}
	if !flags.Has(FlagExtendedSessionSecurity) {
		return nil, errors.New("ntlm: server did not offer extended session security (NTLMv2)")
	}
	ntHash, err := i.cfg.ntHash()
	if err != nil {
		return nil, err
	}
	var clientChallenge [8]byte
	if _, err := io.ReadFull(i.cfg.Rand, clientChallenge[:]); err != nil {
		return nil, fmt.Errorf("ntlm: client challenge: %w", err)
	}

	// The target info the client signs: the server's pairs plus MsvAvFlags,
	// channel bindings and target name (MS-NLMP 3.1.5.1.2).
	info := append(avPairs(nil), cm.TargetInfo...)
	ts, haveTS := info.get(avTimestamp)
	withMIC := haveTS && len(ts) == 8
	if !withMIC {
		ts = fileTime(i.cfg.Now())
	}
	if withMIC {
		var fl uint32
		if v, ok := info.get(avFlags); ok && len(v) == 4 {
			fl = binary.LittleEndian.Uint32(v)
		}
		info = info.set(avFlags, binary.LittleEndian.AppendUint32(nil, fl|avFlagMICPresent))
	}
	if i.cfg.ChannelBindings != nil {
		info = info.set(avChannelBindings, channelBindingsHash(i.cfg.ChannelBindings))
	}
	if i.cfg.TargetName != "" {
		info = info.set(avTargetName, utf16le(i.cfg.TargetName))
	}

	responseKey := ntowfv2(ntHash, i.cfg.User, i.cfg.Domain)
	temp := ntlmv2Temp(ts, clientChallenge[:], info.marshal())
	ntProof := hmacMD5(responseKey, cm.ServerChallenge[:], temp)
	ntResponse := append(bytes.Clone(ntProof), temp...)
	var lmResponse []byte
	if withMIC {
		lmResponse = make([]byte, 24) // Z(24) when MsvAvTimestamp was sent
	} else {
		lmResponse = append(hmacMD5(responseKey, cm.ServerChallenge[:], clientChallenge[:]), clientChallenge[:]...)
	}
	sessionBaseKey := hmacMD5(responseKey, ntProof)
	keyExchangeKey := sessionBaseKey // KXKEY for NTLMv2 (MS-NLMP 3.4.5.1)

	exportedSessionKey := keyExchangeKey
	var encryptedKey []byte
	if flags.Has(FlagKeyExch) {
		exportedSessionKey = make([]byte, 16)
		if _, err := io.ReadFull(i.cfg.Rand, exportedSessionKey); err != nil {
			return nil, fmt.Errorf("ntlm: session key: %w", err)
		}
		encryptedKey = rc4Once(keyExchangeKey, exportedSessionKey)
	}

	w := newMessage(typeAuthenticate, micOffset+micLen)
	w.put(12, lmResponse)
	w.put(20, ntResponse)
	w.put(28, utf16le(i.cfg.Domain))
	w.put(36, utf16le(i.cfg.User))
	w.put(44, utf16le(i.cfg.Workstation))
	w.put(52, encryptedKey)
	binary.LittleEndian.PutUint32(w.buf[60:], uint32(flags|FlagVersion))
	copy(w.buf[authenticateHeaderLen:], defaultVersion[:])
	msg := w.buf
	if withMIC {
		mic := hmacMD5(exportedSessionKey, i.negotiate, challenge, msg)
		copy(msg[micOffset:], mic)
	}
	if i.session, err = newSession(flags, exportedSessionKey, true); err != nil {
		return nil, err
	}
	i.done = true
	return msg, nil
}

// Session returns the session security context, nil before Authenticate.
func (i *Initiator) Session() *Session { return i.session }

// ntlmv2Temp builds the NTLMv2_CLIENT_CHALLENGE "temp" (MS-NLMP 2.2.2.7, 3.3.2):
// RespType, HiRespType, Z(6), TimeStamp, ChallengeFromClient, Z(4), AvPairs, Z(4).
func ntlmv2Temp(ts, clientChallenge, avList []byte) []byte {
	b := make([]byte, 0, 28+len(avList)+4)
	b = append(b, 1, 1, 0, 0, 0, 0, 0, 0)
	b = append(b, ts...)
	b = append(b, clientChallenge...)
	b = append(b, 0, 0, 0, 0)
	b = append(b, avList...)
	return append(b, 0, 0, 0, 0)
}
