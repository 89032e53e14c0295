package kerberos

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/iana/errorcode"
	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

const testRealm = "EXAMPLE.TEST"

// testKeytab holds HTTP/localhost@EXAMPLE.TEST keys of both AES etypes and
// RC4-HMAC, derived from password.
func testKeytab(t testing.TB, password string) *keytab.Keytab {
	t.Helper()
	kt := keytab.New()
	for _, et := range []int32{etypeID.AES256_CTS_HMAC_SHA1_96, etypeID.AES128_CTS_HMAC_SHA1_96, etypeID.RC4_HMAC} {
		if err := kt.AddEntry("HTTP/localhost", testRealm, password, time.Now(), 1, et); err != nil {
			t.Fatal(err)
		}
	}
	return kt
}

// writeKeytab stores kt in a temporary file for NewAcceptor.
func writeKeytab(t testing.TB, kt *keytab.Keytab) string {
	t.Helper()
	b, err := kt.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "http.keytab")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// testTicket plays the KDC: a ticket for alice@EXAMPLE.TEST to
// HTTP/localhost encrypted with kt's key of etype et.
func testTicket(t testing.TB, kt *keytab.Keytab, et int32, start, end time.Time) ticket {
	t.Helper()
	cname := types.NewPrincipalName(nametype.KRB_NT_PRINCIPAL, "alice")
	sname := types.NewPrincipalName(nametype.KRB_NT_SRV_HST, "HTTP/localhost")
	tkt, key, err := messages.NewTicket(cname, testRealm, sname, testRealm, types.NewKrbFlags(), kt, et, 1, start, start, end, end)
	if err != nil {
		t.Fatal(err)
	}
	return ticket{tkt, key}
}

func testInitiator(t testing.TB, tk ticket, cb []byte) *InitiatorContext {
	t.Helper()
	ic, err := newInitiatorContext(tk, testRealm, types.NewPrincipalName(nametype.KRB_NT_PRINCIPAL, "alice"), cb, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return ic
}

func testAcceptor(t testing.TB, kt *keytab.Keytab, spn string) *Acceptor {
	t.Helper()
	a, err := NewAcceptor(AcceptorConfig{KeytabFile: writeKeytab(t, kt), ServicePrincipal: spn})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// exchange checks that both sessions seal for each other, a few messages
// each way, interleaved.
func exchange(t *testing.T, ini, acc *Session) {
	t.Helper()
	for i := range 3 {
		for _, d := range []struct {
			from, to *Session
			msg      string
		}{{ini, acc, "request"}, {acc, ini, "response"}} {
			plain := bytes.Repeat([]byte(d.msg), i+1)
			sig, sealed, err := d.from.Seal(plain)
			if err != nil {
				t.Fatal(err)
			}
			if want := 60; !d.from.rc4 && len(sig) != want {
				t.Fatalf("signature of %d bytes, want %d", len(sig), want)
			}
			got, err := d.to.Unseal(sig, sealed)
			if err != nil {
				t.Fatalf("%s %d: %v", d.msg, i, err)
			}
			if !bytes.Equal(got, plain) {
				t.Fatalf("%s %d: got %q", d.msg, i, got)
			}
		}
	}
}

func TestContextEstablishment(t *testing.T) {
	cbA := []byte("tls-server-end-point:" + string(bytes.Repeat([]byte{0xa1}, 32)))
	cbB := []byte("tls-server-end-point:" + string(bytes.Repeat([]byte{0xb2}, 32)))
	kt := testKeytab(t, "service secret")
	for _, tc := range []struct {
		name       string
		clientCB   []byte
		expectedCB []byte
		requireCB  bool
		wantErr    ErrorKind // 0: accepted
	}{
		{"no bindings anywhere", nil, nil, false, 0},
		{"bindings match", cbA, cbA, true, 0},
		{"bindings match, not required", cbA, cbA, false, 0},
		{"bindings differ", cbA, cbB, false, KindChannelBinding},
		{"bindings differ, required", cbA, cbB, true, KindChannelBinding},
		{"client sent none, not required", nil, cbA, false, 0},
		{"client sent none, required", nil, cbA, true, KindChannelBinding},
		{"acceptor has none to compare", cbA, nil, false, 0},
		{"required but acceptor has none", cbA, nil, true, KindChannelBinding},
	} {
		for _, et := range []int32{etypeID.AES128_CTS_HMAC_SHA1_96, etypeID.AES256_CTS_HMAC_SHA1_96, etypeID.RC4_HMAC} {
			t.Run(tc.name+"/"+etypeName(et), func(t *testing.T) {
				now := time.Now()
				ic := testInitiator(t, testTicket(t, kt, et, now, now.Add(time.Hour)), tc.clientCB)
				a := testAcceptor(t, kt, "HTTP/localhost@"+testRealm)
				rep, accSess, client, err := a.Accept(ic.Token(), tc.expectedCB, tc.requireCB)
				if tc.wantErr != 0 {
					wantKind(t, err, tc.wantErr)
					return
				}
				if err != nil {
					t.Fatalf("accept: %v", err)
				}
				if client != "alice@"+testRealm {
					t.Errorf("client %q", client)
				}
				iniSess, err := ic.Complete(rep)
				if err != nil {
					t.Fatalf("complete: %v", err)
				}
				if iniSess.key.KeyType != et || !bytes.Equal(iniSess.key.KeyValue, accSess.key.KeyValue) {
					t.Fatalf("sessions do not share their key")
				}
				if et == etypeID.RC4_HMAC {
					// RFC 1964-style etype: no acceptor subkey, as MIT.
					if !bytes.Equal(iniSess.key.KeyValue, ic.subkey.KeyValue) || iniSess.acceptorSubkey || accSess.acceptorSubkey {
						t.Fatalf("RC4 session does not use the initiator subkey")
					}
				} else if bytes.Equal(iniSess.key.KeyValue, ic.subkey.KeyValue) || bytes.Equal(iniSess.key.KeyValue, ic.sessionKey.KeyValue) || !iniSess.acceptorSubkey {
					t.Fatalf("session does not use a fresh acceptor subkey")
				}
				exchange(t, iniSess, accSess)
			})
		}
	}
}

// TestAPReqContents decrypts our AP-REQ the way any acceptor would and
// checks the RFC 4121 §4.1.1 checksum byte by byte.
func TestAPReqContents(t *testing.T) {
	kt := testKeytab(t, "service secret")
	now := time.Now()
	tk := testTicket(t, kt, etypeID.AES256_CTS_HMAC_SHA1_96, now, now.Add(time.Hour))
	cb := append([]byte("tls-server-end-point:"), make([]byte, 32)...)
	for i := range 32 {
		cb[21+i] = byte(i)
	}
	ic := testInitiator(t, tk, cb)
	tok := ic.Token()
	wantPrefix := []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02, 0x01, 0x00}
	id, msg, err := unwrapMechToken(tok)
	if err != nil || id != tokIDAPReq {
		t.Fatalf("token: id % x, %v", id, err)
	}
	if !bytes.Contains(tok[:20], wantPrefix) {
		t.Fatalf("token does not start with the KRB5 OID and TOK_ID 01 00: % x", tok[:20])
	}
	var req messages.APReq
	if err := req.Unmarshal(msg); err != nil {
		t.Fatal(err)
	}
	if !types.IsFlagSet(&req.APOptions, 2) {
		t.Errorf("mutual-required not set in ap-options")
	}
	if err := req.DecryptAuthenticator(tk.key); err != nil {
		t.Fatal(err)
	}
	au := req.Authenticator
	if au.Cksum.CksumType != 0x8003 {
		t.Fatalf("checksum type %#x", au.Cksum.CksumType)
	}
	// Independently computed: md5(16 zero bytes | LE length | application data).
	want, _ := hex.DecodeString("10000000" + "8f1214c9c9cab8dc3bf866da9aba57a7" + "3e000000")
	if diff := cmp.Diff(want, au.Cksum.Checksum); diff != "" {
		t.Errorf("checksum (-want +got):\n%s", diff)
	}
	if au.SubKey.KeyType != tk.key.KeyType || len(au.SubKey.KeyValue) != 32 || bytes.Equal(au.SubKey.KeyValue, tk.key.KeyValue) {
		t.Errorf("subkey %d/%d bytes, want a fresh key of the session key's etype", au.SubKey.KeyType, len(au.SubKey.KeyValue))
	}
	if au.SeqNumber < 0 || au.SeqNumber >= 1<<30 || uint64(au.SeqNumber) != ic.seq {
		t.Errorf("sequence number %d (context %d)", au.SeqNumber, ic.seq)
	}
	// No bindings: 16 zero bytes.
	ic2 := testInitiator(t, tk, nil)
	_, msg, _ = unwrapMechToken(ic2.Token())
	var req2 messages.APReq
	if err := req2.Unmarshal(msg); err != nil {
		t.Fatal(err)
	}
	if err := req2.DecryptAuthenticator(tk.key); err != nil {
		t.Fatal(err)
	}
	if got := req2.Authenticator.Cksum.Checksum[4:20]; !isZero(got) {
		t.Errorf("no bindings gave Bnd % x", got)
	}
}

// TestAcceptSameMicrosecond: two contexts made at the same instant (two
// lanes to one service) both get in; an acceptor would refuse the second
// as a replay if their authenticators carried the same time.
func TestAcceptSameMicrosecond(t *testing.T) {
	kt := testKeytab(t, "service secret")
	a := testAcceptor(t, kt, "")
	now := time.Now()
	tk := testTicket(t, kt, etypeID.AES256_CTS_HMAC_SHA1_96, now, now.Add(time.Hour))
	for i := range 3 {
		ic, err := newInitiatorContext(tk, testRealm, types.NewPrincipalName(nametype.KRB_NT_PRINCIPAL, "alice"), nil, now)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := a.Accept(ic.Token(), nil, false); err != nil {
			t.Fatalf("context %d: %v", i, err)
		}
	}
}

func TestAcceptRefuses(t *testing.T) {
	kt := testKeytab(t, "service secret")
	now := time.Now()
	valid := func(t *testing.T) []byte {
		return testInitiator(t, testTicket(t, kt, etypeID.AES256_CTS_HMAC_SHA1_96, now, now.Add(time.Hour)), nil).Token()
	}
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T) (*Acceptor, []byte)
		want  ErrorKind
	}{
		{"replayed token", func(t *testing.T) (*Acceptor, []byte) {
			a := testAcceptor(t, kt, "")
			tok := valid(t)
			if _, _, _, err := a.Accept(tok, nil, false); err != nil {
				t.Fatal(err)
			}
			return a, tok
		}, KindIntegrity},
		{"other service principal", func(t *testing.T) (*Acceptor, []byte) {
			both := testKeytab(t, "service secret")
			if err := both.AddEntry("HTTP/otherhost", testRealm, "other", now, 1, etypeID.AES256_CTS_HMAC_SHA1_96); err != nil {
				t.Fatal(err)
			}
			return testAcceptor(t, both, "HTTP/otherhost@"+testRealm), valid(t)
		}, KindPrincipalUnknown},
		{"other realm", func(t *testing.T) (*Acceptor, []byte) {
			both := testKeytab(t, "service secret")
			if err := both.AddEntry("HTTP/localhost", "OTHER.TEST", "other", now, 1, etypeID.AES256_CTS_HMAC_SHA1_96); err != nil {
				t.Fatal(err)
			}
			return testAcceptor(t, both, "HTTP/localhost@OTHER.TEST"), valid(t)
		}, KindPrincipalUnknown},
		{"no key in keytab", func(t *testing.T) (*Acceptor, []byte) {
			other := keytab.New()
			if err := other.AddEntry("HTTP/elsewhere", testRealm, "x", now, 1, etypeID.AES256_CTS_HMAC_SHA1_96); err != nil {
				t.Fatal(err)
			}
			return testAcceptor(t, other, ""), valid(t)
		}, KindPrincipalUnknown},
		{"keytab key differs", func(t *testing.T) (*Acceptor, []byte) {
			return testAcceptor(t, testKeytab(t, "rotated secret"), ""), valid(t)
		}, KindIntegrity},
		{"clock skew", func(t *testing.T) (*Acceptor, []byte) {
			a := testAcceptor(t, kt, "")
			a.now = func() time.Time { return time.Now().Add(10 * time.Minute) }
			tk := testTicket(t, kt, etypeID.AES256_CTS_HMAC_SHA1_96, now, now.Add(24*time.Hour))
			return a, testInitiator(t, tk, nil).Token()
		}, KindClockSkew},
		{"ticket expired", func(t *testing.T) (*Acceptor, []byte) {
			tk := testTicket(t, kt, etypeID.AES256_CTS_HMAC_SHA1_96, now.Add(-3*time.Hour), now.Add(-time.Hour))
			return testAcceptor(t, kt, ""), testInitiator(t, tk, nil).Token()
		}, KindNoCredentials},
		{"ticket not yet valid", func(t *testing.T) (*Acceptor, []byte) {
			tk := testTicket(t, kt, etypeID.AES256_CTS_HMAC_SHA1_96, now.Add(time.Hour), now.Add(2*time.Hour))
			return testAcceptor(t, kt, ""), testInitiator(t, tk, nil).Token()
		}, KindClockSkew},
		{"an AP-REP", func(t *testing.T) (*Acceptor, []byte) {
			a := testAcceptor(t, kt, "")
			rep, _, _, err := a.Accept(valid(t), nil, false)
			if err != nil {
				t.Fatal(err)
			}
			return a, rep
		}, KindProtocol},
		{"not a GSS token", func(t *testing.T) (*Acceptor, []byte) {
			return testAcceptor(t, kt, ""), []byte("TlRMTVNTUAABAAAA")
		}, KindProtocol},
		{"truncated", func(t *testing.T) (*Acceptor, []byte) {
			tok := valid(t)
			return testAcceptor(t, kt, ""), tok[:len(tok)-1]
		}, KindProtocol},
		{"flipped authenticator byte", func(t *testing.T) (*Acceptor, []byte) {
			tok := valid(t)
			tok[len(tok)-20] ^= 1
			return testAcceptor(t, kt, ""), tok
		}, KindIntegrity},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, tok := tc.setup(t)
			rep, s, client, err := a.Accept(tok, nil, false)
			wantKind(t, err, tc.want)
			if rep != nil || s != nil || client != "" {
				t.Errorf("refused Accept returned rep %d bytes, session %v, client %q", len(rep), s != nil, client)
			}
		})
	}
}

func TestNewAcceptorErrors(t *testing.T) {
	kt := testKeytab(t, "service secret")
	for _, tc := range []struct {
		name string
		cfg  AcceptorConfig
	}{
		{"missing keytab", AcceptorConfig{KeytabFile: filepath.Join(t.TempDir(), "none")}},
		{"empty keytab", AcceptorConfig{KeytabFile: writeKeytab(t, keytab.New())}},
		{"principal not in keytab", AcceptorConfig{KeytabFile: writeKeytab(t, kt), ServicePrincipal: "HTTP/elsewhere"}},
		{"realm not in keytab", AcceptorConfig{KeytabFile: writeKeytab(t, kt), ServicePrincipal: "HTTP/localhost@OTHER.TEST"}},
		{"bad principal", AcceptorConfig{KeytabFile: writeKeytab(t, kt), ServicePrincipal: "localhost"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewAcceptor(tc.cfg)
			wantKind(t, err, KindConfig)
		})
	}
	if _, err := NewAcceptor(AcceptorConfig{KeytabFile: writeKeytab(t, kt), ServicePrincipal: "HTTP/localhost"}); err != nil {
		t.Errorf("any realm: %v", err)
	}
}

func TestCompleteRefuses(t *testing.T) {
	kt := testKeytab(t, "service secret")
	now := time.Now()
	tk := testTicket(t, kt, etypeID.AES128_CTS_HMAC_SHA1_96, now, now.Add(time.Hour))
	a := testAcceptor(t, kt, "")
	repFor := func(t *testing.T, ic *InitiatorContext) []byte {
		rep, _, _, err := a.Accept(ic.Token(), nil, false)
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	krbErr := func(code int32) []byte {
		ke := messages.NewKRBError(tk.tkt.SName, testRealm, code, "test")
		b, err := ke.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return wrapMechToken(tokIDKRBError, b)
	}
	for _, tc := range []struct {
		name string
		rep  func(t *testing.T, ic *InitiatorContext) []byte
		want ErrorKind
	}{
		{"AP-REP of another context", func(t *testing.T, _ *InitiatorContext) []byte {
			return repFor(t, testInitiator(t, tk, nil))
		}, KindMutualAuth},
		{"flipped AP-REP byte", func(t *testing.T, ic *InitiatorContext) []byte {
			rep := repFor(t, ic)
			rep[len(rep)-5] ^= 1
			return rep
		}, KindMutualAuth},
		{"AP-REP in another key", func(t *testing.T, ic *InitiatorContext) []byte {
			other := tk.key
			other.KeyValue = bytes.Repeat([]byte{9}, len(other.KeyValue))
			rep, _, _, err := buildAPRep(other, other.KeyType, true, ic.ctime, ic.cusec)
			if err != nil {
				t.Fatal(err)
			}
			return rep
		}, KindMutualAuth},
		{"AP-REP with the wrong time", func(t *testing.T, ic *InitiatorContext) []byte {
			rep, _, _, err := buildAPRep(tk.key, tk.key.KeyType, true, ic.ctime.Add(time.Second), ic.cusec)
			if err != nil {
				t.Fatal(err)
			}
			return rep
		}, KindMutualAuth},
		{"KRB-ERROR skew", func(*testing.T, *InitiatorContext) []byte { return krbErr(errorcode.KRB_AP_ERR_SKEW) }, KindClockSkew},
		{"KRB-ERROR modified", func(*testing.T, *InitiatorContext) []byte { return krbErr(errorcode.KRB_AP_ERR_MODIFIED) }, KindMutualAuth},
		{"AP-REQ instead", func(t *testing.T, ic *InitiatorContext) []byte { return ic.Token() }, KindMutualAuth},
		{"garbage", func(*testing.T, *InitiatorContext) []byte { return []byte{0x60, 0x01, 0x00} }, KindMutualAuth},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ic := testInitiator(t, tk, nil)
			s, err := ic.Complete(tc.rep(t, ic))
			wantKind(t, err, tc.want)
			if s != nil {
				t.Error("session returned with an error")
			}
		})
	}
	t.Run("twice", func(t *testing.T) {
		ic := testInitiator(t, tk, nil)
		rep := repFor(t, ic)
		if _, err := ic.Complete(rep); err != nil {
			t.Fatal(err)
		}
		_, err := ic.Complete(rep)
		wantKind(t, err, KindProtocol)
	})
}

// TestAPRepContents parses our AP-REP with gokrb5's parser (the one a Go
// client would use) and checks the fields.
func TestAPRepContents(t *testing.T) {
	kt := testKeytab(t, "service secret")
	now := time.Now()
	tk := testTicket(t, kt, etypeID.AES256_CTS_HMAC_SHA1_96, now, now.Add(time.Hour))
	ic := testInitiator(t, tk, nil)
	rep, s, _, err := testAcceptor(t, kt, "").Accept(ic.Token(), nil, false)
	if err != nil {
		t.Fatal(err)
	}
	id, msg, err := unwrapMechToken(rep)
	if err != nil || id != tokIDAPRep {
		t.Fatalf("AP-REP token id % x, %v", id, err)
	}
	var ap messages.APRep
	if err := ap.Unmarshal(msg); err != nil {
		t.Fatal(err)
	}
	if ap.PVNO != 5 || ap.MsgType != 15 || ap.EncPart.EType != tk.key.KeyType {
		t.Errorf("AP-REP pvno %d msg-type %d etype %d", ap.PVNO, ap.MsgType, ap.EncPart.EType)
	}
	plain, err := decrypt(ap.EncPart.Cipher, tk.key, keyusage.AP_REP_ENCPART)
	if err != nil {
		t.Fatal(err)
	}
	var part messages.EncAPRepPart
	if err := part.Unmarshal(plain); err != nil {
		t.Fatal(err)
	}
	if !part.CTime.Equal(ic.ctime) || part.Cusec != ic.cusec {
		t.Errorf("ctime %v.%06d, want %v.%06d", part.CTime, part.Cusec, ic.ctime, ic.cusec)
	}
	if diff := cmp.Diff(s.key, part.Subkey); diff != "" {
		t.Errorf("subkey (-session +AP-REP):\n%s", diff)
	}
	if uint64(part.SequenceNumber) != s.outSeq {
		t.Errorf("seq-number %d, session starts at %d", part.SequenceNumber, s.outSeq)
	}
}

// TestAcceptShortAPOptions: an empty ap-options BIT STRING (valid DER) must
// not crash gokrb5's flag test (regression).
func TestAcceptShortAPOptions(t *testing.T) {
	kt := testKeytab(t, "service secret")
	now := time.Now()
	tk := testTicket(t, kt, etypeID.AES256_CTS_HMAC_SHA1_96, now, now.Add(time.Hour))
	_, msg, err := unwrapMechToken(testInitiator(t, tk, nil).Token())
	if err != nil {
		t.Fatal(err)
	}
	var req messages.APReq
	if err := req.Unmarshal(msg); err != nil {
		t.Fatal(err)
	}
	for _, opts := range []asn1.BitString{{}, {Bytes: []byte{0}, BitLength: 1}} {
		req.APOptions = opts
		b, err := req.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		rep, s, _, err := testAcceptor(t, kt, "").Accept(wrapMechToken(tokIDAPReq, b), nil, false)
		if err != nil {
			t.Fatalf("ap-options %v: %v", opts, err)
		}
		// The GSS checksum still asks for mutual authentication.
		if rep == nil || s == nil {
			t.Fatalf("ap-options %v: no AP-REP", opts)
		}
	}
}
