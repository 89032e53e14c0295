package kerberos

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

func TestSplitUsername(t *testing.T) {
	for _, tc := range []struct {
		in, user, realm string
		bad             bool
	}{
		{"", "", "", false},
		{"alice", "alice", "", false},
		{"alice@example.test", "alice", "EXAMPLE.TEST", false},
		{`EXAMPLE\alice`, "alice", "EXAMPLE", false},
		{"host/admin@EXAMPLE.TEST", "host/admin", "EXAMPLE.TEST", false},
		{"@EXAMPLE.TEST", "", "", true},
		{`EXAMPLE\`, "", "", true},
		{`A\b@C`, "", "", true},
	} {
		user, realm, err := splitUsername(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("%q: no error", tc.in)
			} else {
				wantKind(t, err, KindConfig)
			}
			continue
		}
		if err != nil || user != tc.user || realm != tc.realm {
			t.Errorf("%q: %q %q %v, want %q %q", tc.in, user, realm, err, tc.user, tc.realm)
		}
	}
}

func TestParseSPN(t *testing.T) {
	for _, tc := range []struct {
		in, name, realm string
		bad             bool
	}{
		{"HTTP/host.example.test", "HTTP/host.example.test", "", false},
		{"HTTP/host@EXAMPLE.TEST", "HTTP/host", "EXAMPLE.TEST", false},
		{"WSMAN/host", "WSMAN/host", "", false},
		{"host", "", "", true},
		{"HTTP/", "", "", true},
		{"/host", "", "", true},
		{"HTTP/a/b", "", "", true},
		{"HTTP/host@", "", "", true},
	} {
		name, realm, err := parseSPN(tc.in)
		if tc.bad != (err != nil) || name != tc.name || realm != tc.realm {
			t.Errorf("%q: %q %q %v", tc.in, name, realm, err)
		}
	}
}

func TestCCachePath(t *testing.T) {
	for _, tc := range []struct {
		cfg, env, want string
		bad            bool
	}{
		{"/x/cc", "FILE:/other", "/x/cc", false},
		{"FILE:/x/cc", "", "/x/cc", false},
		{"", "FILE:/env/cc", "/env/cc", false},
		{"", "/env/cc", "/env/cc", false},
		{"", "", "/tmp/krb5cc_" + strconv.Itoa(os.Getuid()), false},
		{"", "KEYRING:persistent:1000", "", true},
		{"KCM:", "", "", true},
	} {
		t.Setenv("KRB5CCNAME", tc.env)
		got, err := ccachePath(tc.cfg)
		if tc.bad {
			wantKind(t, err, KindNoCredentials)
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("cfg %q env %q: %q %v, want %q", tc.cfg, tc.env, got, err, tc.want)
		}
	}
}

func TestClassifyKDCError(t *testing.T) {
	for _, tc := range []struct {
		msg       string
		kind      ErrorKind
		principal string
	}{
		{"KRB Error: (24) KDC_ERR_PREAUTH_FAILED Pre-authentication information was invalid", KindPreauthFailed, "alice@R"},
		{"AS_REP is not valid or client password/keytab incorrect", KindPreauthFailed, "alice@R"},
		{"KRB Error: (6) KDC_ERR_C_PRINCIPAL_UNKNOWN Client not found", KindPrincipalUnknown, "alice@R"},
		{"KRB Error: (7) KDC_ERR_S_PRINCIPAL_UNKNOWN Server not found", KindPrincipalUnknown, "HTTP/h"},
		{"KRB Error: (37) KRB_AP_ERR_SKEW Clock skew too great", KindClockSkew, ""},
		{"no KDCs defined in configuration for realm X", KindConfig, ""},
		{"[Root cause: Networking_Error] failed to communicate with KDC", KindKDCUnreachable, ""},
		{"something else", KindProtocol, ""},
	} {
		err := classifyKDCError(errors.New(tc.msg), "op", "alice@R", "HTTP/h")
		if err.Kind != tc.kind || err.Principal != tc.principal {
			t.Errorf("%q: %v %q, want %v %q", tc.msg, err.Kind, err.Principal, tc.kind, tc.principal)
		}
	}
}

func TestNewClientConfigErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-krb5.conf")
	for _, tc := range []struct {
		name string
		cfg  ClientConfig
		want ErrorKind
	}{
		{"no realm anywhere", ClientConfig{Username: "alice", Password: "x", Krb5Conf: missing}, KindConfig},
		{"keytab without user", ClientConfig{KeytabFile: "/nonexistent", Krb5Conf: missing}, KindConfig},
		{"unreadable keytab", ClientConfig{Username: "alice@R.TEST", KeytabFile: "/nonexistent", Krb5Conf: missing}, KindConfig},
		{"garbage ccache", ClientConfig{CCacheFile: writeFile(t, "cc", []byte("not a ccache")), Krb5Conf: missing}, KindNoCredentials},
		{"truncated ccache", ClientConfig{CCacheFile: writeFile(t, "cc", []byte{5, 4, 0, 12, 0, 1}), Krb5Conf: missing}, KindNoCredentials},
		{"garbage keytab", ClientConfig{Username: "alice@R.TEST", KeytabFile: writeFile(t, "kt", []byte{5, 2, 0, 0, 0, 99, 1}), Krb5Conf: missing}, KindConfig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewClient(tc.cfg)
			wantKind(t, err, tc.want)
		})
	}
}

func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestAcceptWithoutMutual: a client that does not ask for mutual
// authentication gets no AP-REP and both sides seal with its subkey.
func TestAcceptWithoutMutual(t *testing.T) {
	kt := testKeytab(t, "service secret")
	now := time.Now()
	tk := testTicket(t, kt, etypeID.AES256_CTS_HMAC_SHA1_96, now, now.Add(time.Hour))
	subkey := fixedKey(t, etypeID.AES256_CTS_HMAC_SHA1_96)
	auth := types.Authenticator{
		AVNO: 5, CRealm: testRealm, CName: types.NewPrincipalName(nametype.KRB_NT_PRINCIPAL, "alice"),
		Cksum: types.Checksum{CksumType: gssChecksumType, Checksum: gssChecksum(nil, gssSequenceFlag|gssConfFlag|gssIntegFlag)},
		CTime: now.UTC().Truncate(time.Second), Cusec: 17, SubKey: subkey, SeqNumber: 42,
	}
	req, err := messages.NewAPReq(tk.tkt, tk.key, auth)
	if err != nil {
		t.Fatal(err)
	}
	if types.IsFlagSet(&req.APOptions, flags.APOptionMutualRequired) {
		t.Fatal("mutual-required set")
	}
	b, err := req.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	rep, acc, client, err := testAcceptor(t, kt, "").Accept(wrapMechToken(tokIDAPReq, b), nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if rep != nil || client != "alice@"+testRealm {
		t.Fatalf("AP-REP of %d bytes, client %q", len(rep), client)
	}
	ini := newSession(subkey, false, false, 42, 42)
	exchange(t, ini, acc)
}
