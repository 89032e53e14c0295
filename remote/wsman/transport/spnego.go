package transport

import (
	"encoding/asn1"
	"errors"
	"fmt"

	"github.com/pssession/pssession/remote/wsman/kerberos"
)

// SPNEGO (RFC 4178) as far as HTTP Negotiate needs it: the server reads
// the NTLM or Kerberos token out of a NegTokenInit / NegTokenResp and
// answers with a NegTokenResp in kind; the Kerberos client offers its
// AP-REQ in a NegTokenInit and reads the AP-REP out of the NegTokenResp.

var (
	oidSPNEGO = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 2}
	oidNTLM   = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 2, 2, 10}
)

// negState values (RFC 4178 4.2.2).
const (
	negAcceptCompleted  = 0
	negAcceptIncomplete = 1
	negReject           = 2
)

type negTokenInit struct {
	MechTypes   []asn1.ObjectIdentifier `asn1:"explicit,tag:0"`
	ReqFlags    asn1.BitString          `asn1:"explicit,optional,tag:1"`
	MechToken   []byte                  `asn1:"explicit,optional,tag:2"`
	MechListMIC []byte                  `asn1:"explicit,optional,tag:3"`
}

type negTokenResp struct {
	NegState      asn1.Enumerated       `asn1:"explicit,optional,tag:0"`
	SupportedMech asn1.ObjectIdentifier `asn1:"explicit,optional,tag:1"`
	ResponseToken []byte                `asn1:"explicit,optional,tag:2"`
	MechListMIC   []byte                `asn1:"explicit,optional,tag:3"`
}

// spnegoToken is what the server needs from an SPNEGO token.
type spnegoToken struct {
	mech        []byte // the NTLM token
	mechTypes   []byte // DER of the MechTypeList (NegTokenInit only)
	mechListMIC []byte // NegTokenResp only
}

// spnegoMessage is a parsed SPNEGO token: a NegTokenInit (init, inside
// the GSS InitialContextToken) or a NegTokenResp.
type spnegoMessage struct {
	init          bool
	mechTypes     []asn1.ObjectIdentifier // NegTokenInit
	mechTypesDER  []byte                  // DER of the MechTypeList (for mechListMIC)
	mechToken     []byte                  // NegTokenInit
	negState      int                     // NegTokenResp; -1 when absent
	supportedMech asn1.ObjectIdentifier   // NegTokenResp
	responseToken []byte                  // NegTokenResp
	mechListMIC   []byte
}

// negTokenRespIn decodes a NegTokenResp; negState defaults to -1 so that
// an absent field is told apart from accept-completed (0).
type negTokenRespIn struct {
	NegState      asn1.Enumerated       `asn1:"explicit,optional,default:-1,tag:0"`
	SupportedMech asn1.ObjectIdentifier `asn1:"explicit,optional,tag:1"`
	ResponseToken []byte                `asn1:"explicit,optional,tag:2"`
	MechListMIC   []byte                `asn1:"explicit,optional,tag:3"`
}

// parseSPNEGO decodes an SPNEGO token without judging its mechanisms.
func parseSPNEGO(tok []byte) (*spnegoMessage, error) {
	var outer asn1.RawValue
	rest, err := asn1.Unmarshal(tok, &outer)
	if err != nil || len(rest) != 0 {
		return nil, errors.New("transport: malformed SPNEGO token")
	}
	switch {
	case outer.Class == asn1.ClassApplication && outer.Tag == 0:
		var oid asn1.ObjectIdentifier
		rest, err := asn1.Unmarshal(outer.Bytes, &oid)
		if err != nil || !oid.Equal(oidSPNEGO) {
			return nil, errors.New("transport: GSS token is not SPNEGO")
		}
		var wrapped asn1.RawValue
		if _, err := asn1.Unmarshal(rest, &wrapped); err != nil || wrapped.Class != asn1.ClassContextSpecific || wrapped.Tag != 0 {
			return nil, errors.New("transport: SPNEGO token without NegTokenInit")
		}
		var init negTokenInit
		if _, err := asn1.Unmarshal(wrapped.Bytes, &init); err != nil {
			return nil, fmt.Errorf("transport: NegTokenInit: %w", err)
		}
		if len(init.MechTypes) == 0 {
			return nil, errors.New("transport: NegTokenInit lists no mechanism")
		}
		// mechListMIC signs the DER MechTypeList; DER of OIDs is unique, so
		// re-encoding the parsed list reproduces the client's bytes.
		der, err := asn1.Marshal(init.MechTypes)
		if err != nil {
			return nil, fmt.Errorf("transport: NegTokenInit mechTypes: %w", err)
		}
		return &spnegoMessage{init: true, mechTypes: init.MechTypes, mechTypesDER: der, mechToken: init.MechToken,
			negState: -1, mechListMIC: init.MechListMIC}, nil
	case outer.Class == asn1.ClassContextSpecific && outer.Tag == 1:
		var resp negTokenRespIn
		if _, err := asn1.Unmarshal(outer.Bytes, &resp); err != nil {
			return nil, fmt.Errorf("transport: NegTokenResp: %w", err)
		}
		return &spnegoMessage{negState: int(resp.NegState), supportedMech: resp.SupportedMech,
			responseToken: resp.ResponseToken, mechListMIC: resp.MechListMIC}, nil
	}
	return nil, errors.New("transport: unknown SPNEGO token")
}

// spnegoInner extracts the NTLM token from an SPNEGO token: the
// InitialContextToken carrying a NegTokenInit (must start with NTLM), or a
// NegTokenResp.
func spnegoInner(tok []byte) (*spnegoToken, error) {
	m, err := parseSPNEGO(tok)
	if err != nil {
		return nil, err
	}
	if m.init {
		if !m.mechTypes[0].Equal(oidNTLM) || len(m.mechToken) == 0 {
			return nil, errors.New("transport: SPNEGO NegTokenInit does not start with an NTLM token")
		}
		return &spnegoToken{mech: m.mechToken, mechTypes: m.mechTypesDER}, nil
	}
	if len(m.responseToken) == 0 {
		return nil, errors.New("transport: NegTokenResp without a response token")
	}
	return &spnegoToken{mech: m.responseToken, mechListMIC: m.mechListMIC}, nil
}

// isKerberosMech reports whether oid names Kerberos 5 (standard or the
// Microsoft variant that Windows lists first).
func isKerberosMech(oid asn1.ObjectIdentifier) bool {
	return oid.Equal(kerberos.OIDKerberos5) || oid.Equal(kerberos.OIDMSKerberos)
}

// isKerberosToken reports whether tok is a raw KRB5 GSS token
// (InitialContextToken with the Kerberos 5 mechanism OID, RFC 4121 4.1).
func isKerberosToken(tok []byte) bool {
	var outer asn1.RawValue
	if _, err := asn1.Unmarshal(tok, &outer); err != nil || outer.Class != asn1.ClassApplication || outer.Tag != 0 {
		return false
	}
	var oid asn1.ObjectIdentifier
	if _, err := asn1.Unmarshal(outer.Bytes, &oid); err != nil {
		return false
	}
	return isKerberosMech(oid)
}

// spnegoInit builds the InitialContextToken carrying a NegTokenInit that
// offers mechs with mechToken for the first of them.
func spnegoInit(mechs []asn1.ObjectIdentifier, mechToken []byte) []byte {
	inner := explicit(0, mustMarshal(negTokenInit{MechTypes: mechs, MechToken: mechToken}))
	return mustMarshal(asn1.RawValue{Class: asn1.ClassApplication, Tag: 0, IsCompound: true,
		Bytes: append(mustMarshal(oidSPNEGO), inner...)})
}

// spnegoResp builds a NegTokenResp ([1] SEQUENCE) by hand: encoding/asn1
// would drop negState accept-completed (0) as an empty optional field.
func spnegoResp(state int, mech asn1.ObjectIdentifier, token, mic []byte) []byte {
	var seq []byte
	seq = append(seq, explicit(0, mustMarshal(asn1.Enumerated(state)))...)
	if mech != nil {
		seq = append(seq, explicit(1, mustMarshal(mech))...)
	}
	if token != nil {
		seq = append(seq, explicit(2, mustMarshal(token))...)
	}
	if mic != nil {
		seq = append(seq, explicit(3, mustMarshal(mic))...)
	}
	return explicit(1, mustMarshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: seq}))
}

func explicit(tag int, inner []byte) []byte {
	return mustMarshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: tag, IsCompound: true, Bytes: inner})
}

// mustMarshal marshals values of fixed, valid types built here.
func mustMarshal(v any) []byte {
	b, err := asn1.Marshal(v)
	if err != nil {
		panic("transport: asn1 marshal of a constant shape failed: " + err.Error())
	}
	return b
}
