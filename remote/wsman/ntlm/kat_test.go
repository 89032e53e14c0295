package ntlm

import (
	"bytes"
	"encoding/hex"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// MS-NLMP 4.2.4 (NTLMv2 authentication): user "User", domain "Domain",
// password "Password", server challenge 0123456789abcdef, client challenge
// aa×8, random session key 55×16, time 0.
const (
	katChallenge = "4e544c4d53535000020000000c000c003800000033828ae20123456789abcdef0000000000000000" +
		"2400240044000000060070170000000f53006500720076006500720002000c0044006f006d00610069006e00" +
		"01000c0053006500720076006500720000000000"
	// The AUTHENTICATE_MESSAGE of 4.2.4.3 with workstation "COMPUTER".
	katAuthenticate = "4e544c4d5353500003000000180018006c00000054005400840000000c000c0048000000080008005400" +
		"0000100010005c00000010001000d800000031828ae20501280a0000000f44006f006d00610069006e005500" +
		"73006500720043004f004d005000550054004500520086c35097ac9cec102554764a57cccc19aaaaaaaaaaaa" +
		"aaaa68cd0ab851e51c96aabc927bebef6a1c01010000000000000000000000000000aaaaaaaaaaaaaaaa0000" +
		"000002000c0044006f006d00610069006e0001000c005300650072007600650072000000000000000000c5" +
		"dad2544fc9799094ce1ce90bc9d03e"
	katLMv2       = "86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa"
	katNTProofStr = "68cd0ab851e51c96aabc927bebef6a1c"
	katTemp       = "01010000000000000000000000000000aaaaaaaaaaaaaaaa0000000002000c0044006f006d00610069006e00" +
		"01000c005300650072007600650072000000000000000000"
	katEncryptedSessionKey = "c5dad2544fc9799094ce1ce90bc9d03e"
	// 4.2.4.4: "Plaintext" in UTF-16LE sealed with sequence number 0.
	katPlaintext = "50006c00610069006e007400650078007400"
	katSealed    = "54e50165bf1936dc996020c1811b0f06fb5f"
	katSignature = "010000007fb38ec5c55d497600000000"
)

var katEpoch = func() time.Time { return time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC) }

func TestInitiatorKnownAnswer(t *testing.T) {
	rnd := bytes.NewReader(append(bytes.Repeat([]byte{0xaa}, 8), bytes.Repeat([]byte{0x55}, 16)...))
	ini, err := NewInitiator(InitiatorConfig{
		Credentials: Credentials{Domain: "Domain", User: "User", Password: "Password"},
		Workstation: "COMPUTER",
		Rand:        rnd,
		Now:         katEpoch,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ini.Negotiate(); err != nil {
		t.Fatal(err)
	}
	msg, err := ini.Authenticate(unhex(t, katChallenge))
	if err != nil {
		t.Fatal(err)
	}
	am, err := parseAuthenticate(msg)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{
		"LmChallengeResponse":       hex.EncodeToString(am.LmChallengeResponse),
		"NtChallengeResponse":       hex.EncodeToString(am.NtChallengeResponse),
		"EncryptedRandomSessionKey": hex.EncodeToString(am.EncryptedRandomSessionKey),
		"User":                      am.DomainName + `\` + am.UserName + "@" + am.Workstation,
	}
	want := map[string]string{
		"LmChallengeResponse":       katLMv2,
		"NtChallengeResponse":       katNTProofStr + katTemp,
		"EncryptedRandomSessionKey": katEncryptedSessionKey,
		"User":                      `Domain\User@COMPUTER`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("AUTHENTICATE fields (-want +got)\n%s", diff)
	}
	sig, sealed, err := ini.Session().Seal(unhex(t, katPlaintext))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{katSignature, katSealed}, []string{hex.EncodeToString(sig), hex.EncodeToString(sealed)}); diff != "" {
		t.Errorf("GSS_WrapEx (-want +got)\n%s", diff)
	}
}

func TestAcceptorKnownAnswer(t *testing.T) {
	acc, err := NewAcceptor(AcceptorConfig{
		LookupNTHash: func(domain, user string) ([]byte, bool) {
			if domain == "Domain" && user == "User" {
				return NTHash("Password"), true
			}
			return nil, false
		},
		Rand: bytes.NewReader(unhex(t, "0123456789abcdef")),
	})
	if err != nil {
		t.Fatal(err)
	}
	neg, err := mustInitiator(t, Credentials{User: "x", Password: "x"}).Negotiate()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := acc.Challenge(neg); err != nil {
		t.Fatal(err)
	}
	if err := acc.Authenticate(unhex(t, katAuthenticate)); err != nil {
		t.Fatalf("Authenticate(4.2.4.3 message): %v", err)
	}
	// The client sealed 4.2.4.4's message with the client-to-server keys of
	// RandomSessionKey 55×16; the acceptor must recover it.
	plain, err := acc.Session().Unseal(unhex(t, katSignature), unhex(t, katSealed))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(katPlaintext, hex.EncodeToString(plain)); diff != "" {
		t.Errorf("Unseal (-want +got)\n%s", diff)
	}
	d, u := acc.User()
	if diff := cmp.Diff(`Domain\User`, d+`\`+u); diff != "" {
		t.Errorf("User (-want +got)\n%s", diff)
	}
}

func mustInitiator(t testing.TB, c Credentials) *Initiator {
	t.Helper()
	i, err := NewInitiator(InitiatorConfig{Credentials: c})
	if err != nil {
		t.Fatal(err)
	}
	return i
}
