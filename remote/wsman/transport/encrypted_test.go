package transport

import (
	"bytes"
	"encoding/binary"
	"errors"
	"runtime"
	"strconv"
	"strings"
	"testing"

	ntlmhttp "github.com/bodgit/ntlmssp/http"
	"github.com/google/go-cmp/cmp"

	"github.com/pssession/pssession/remote/wsman/ntlm"
)

// ntlmPair returns the client and server sessions of a fresh NTLM context.
func ntlmPair(t testing.TB) (client, server *ntlm.Session) {
	t.Helper()
	acc, err := ntlm.NewAcceptor(ntlm.AcceptorConfig{LookupNTHash: func(_, _ string) ([]byte, bool) {
		return ntlm.NTHash("pw"), true
	}})
	if err != nil {
		t.Fatal(err)
	}
	ini, err := ntlm.NewInitiator(ntlm.InitiatorConfig{Credentials: ntlm.Credentials{User: "u", Password: "pw"}})
	if err != nil {
		t.Fatal(err)
	}
	neg, _ := ini.Negotiate()
	chal, err := acc.Challenge(neg)
	if err != nil {
		t.Fatal(err)
	}
	auth, err := ini.Authenticate(chal)
	if err != nil {
		t.Fatal(err)
	}
	if err := acc.Authenticate(auth); err != nil {
		t.Fatal(err)
	}
	return ini.Session(), acc.Session()
}

// nullSealer seals nothing: a fixed 16-byte signature and the plaintext.
type nullSealer struct{}

func (nullSealer) Seal(p []byte) ([]byte, []byte, error) {
	return bytes.Repeat([]byte{0xee}, 16), bytes.Clone(p), nil
}
func (nullSealer) Unseal(sig, sealed []byte) ([]byte, error) {
	if !bytes.Equal(sig, bytes.Repeat([]byte{0xee}, 16)) {
		return nil, errors.New("bad signature")
	}
	return bytes.Clone(sealed), nil
}

func TestWrapEncryptedByteExact(t *testing.T) {
	body, ct, err := WrapEncrypted(nullSealer{}, ProtocolSPNEGO, []byte("<x/>"))
	if err != nil {
		t.Fatal(err)
	}
	want := "--Encrypted Boundary\r\n" +
		"\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n" +
		"\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=4\r\n" +
		"--Encrypted Boundary\r\n" +
		"\tContent-Type: application/octet-stream\r\n" +
		"\x10\x00\x00\x00" + strings.Repeat("\xee", 16) + "<x/>" +
		"--Encrypted Boundary--\r\n"
	if diff := cmp.Diff(want, string(body)); diff != "" {
		t.Errorf("body (-want +got)\n%s", diff)
	}
	if diff := cmp.Diff(`multipart/encrypted;protocol="application/HTTP-SPNEGO-session-encrypted";boundary="Encrypted Boundary"`, ct); diff != "" {
		t.Errorf("content type (-want +got)\n%s", diff)
	}
}

func TestEncryptedRoundTripNTLM(t *testing.T) {
	client, server := ntlmPair(t)
	for i, msg := range []string{"<s:Envelope>one</s:Envelope>", "", strings.Repeat("--Encrypted Boundary\r\n", 50)} {
		body, ct, err := WrapEncrypted(client, ProtocolSPNEGO, []byte(msg))
		if err != nil {
			t.Fatal(err)
		}
		got, err := UnwrapEncrypted(server, ProtocolSPNEGO, ct, body)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if diff := cmp.Diff(msg, string(got)); diff != "" {
			t.Errorf("message %d (-want +got)\n%s", i, diff)
		}
	}
}

// copyOnly hides a Sealer's in-place methods: the copying Seal/Unseal path.
type copyOnly struct{ Sealer }

// TestEncryptedInPlace: with *ntlm.Session, AppendEncrypted seals into
// the caller's buffer and UnwrapEncrypted decrypts inside the body, so a
// 64 KiB message costs no 64 KiB allocation either way; the two paths
// interoperate message by message on one context.
func TestEncryptedInPlace(t *testing.T) {
	client, server := ntlmPair(t)
	msg := []byte(strings.Repeat("<rsp:Stream>QUJD</rsp:Stream>", 64<<10/29))
	var buf []byte
	for i := range 4 {
		var seal, unseal Sealer = client, copyOnly{server}
		if i%2 == 1 {
			seal, unseal = copyOnly{client}, server
		}
		var err error
		var ct string
		buf, ct, err = AppendEncrypted(buf[:0], seal, ProtocolSPNEGO, msg)
		if err != nil {
			t.Fatal(err)
		}
		got, err := UnwrapEncrypted(unseal, ProtocolSPNEGO, ct, bytes.Clone(buf))
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if !bytes.Equal(got, msg) {
			t.Fatalf("message %d does not round-trip", i)
		}
	}
	perRun := func(f func()) uint64 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range 10 {
			f()
		}
		runtime.ReadMemStats(&after)
		return (after.TotalAlloc - before.TotalAlloc) / 10
	}
	if n := perRun(func() {
		var ct string
		buf, ct, _ = AppendEncrypted(buf[:0], client, ProtocolSPNEGO, msg)
		if _, err := UnwrapEncrypted(server, ProtocolSPNEGO, ct, buf); err != nil {
			t.Fatal(err)
		}
	}); n > 8<<10 {
		t.Errorf("seal and unwrap in place allocate %d bytes per 64 KiB message", n)
	}
}

// TestEncryptedBodgitFraming checks our framing against bodgit/ntlmssp's
// independent MIME implementation, both directions.
func TestEncryptedBodgitFraming(t *testing.T) {
	body, ct, err := WrapEncrypted(nullSealer{}, ProtocolSPNEGO, []byte("<s:Envelope/>"))
	if err != nil {
		t.Fatal(err)
	}
	data, origCT, err := ntlmhttp.Unwrap(body, ct)
	if err != nil {
		t.Fatalf("bodgit Unwrap of our body: %v", err)
	}
	want := append(binary.LittleEndian.AppendUint32(nil, 16), bytes.Repeat([]byte{0xee}, 16)...)
	want = append(want, "<s:Envelope/>"...)
	if diff := cmp.Diff(want, data); diff != "" {
		t.Errorf("bodgit sees (-want +got)\n%s", diff)
	}
	if diff := cmp.Diff("application/soap+xml;charset=UTF-8", origCT); diff != "" {
		t.Errorf("original content type (-want +got)\n%s", diff)
	}

	theirs, theirCT, err := ntlmhttp.Wrap(want, "application/soap+xml;charset=UTF-8")
	if err != nil {
		t.Fatal(err)
	}
	// bodgit's Length counts the signature prefix too; Windows counts the
	// plaintext, so only the framing is compared here.
	theirs = bytes.Replace(theirs, []byte("Length=33"), []byte("Length=13"), 1)
	got, err := UnwrapEncrypted(nullSealer{}, ProtocolSPNEGO, theirCT, theirs)
	if err != nil {
		t.Fatalf("our Unwrap of bodgit's body: %v\n%q", err, theirs)
	}
	if diff := cmp.Diff("<s:Envelope/>", string(got)); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
}

func TestUnwrapEncryptedVariants(t *testing.T) {
	part := func(dash, payload string, length int) string {
		return dash + "Encrypted Boundary\r\n" +
			"\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n" +
			"\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=" + strconv.Itoa(length) + "\r\n" +
			dash + "Encrypted Boundary\r\n" +
			"\tContent-Type: application/octet-stream\r\n" +
			"\x10\x00\x00\x00" + strings.Repeat("\xee", 16) + payload
	}
	ctEnc := EncryptedContentType(ProtocolSPNEGO)
	ctMulti := `multipart/x-multi-encrypted;protocol="application/HTTP-SPNEGO-session-encrypted";boundary="Encrypted Boundary"`
	tests := []struct {
		name    string
		ct      string
		body    string
		want    string
		wantErr bool
	}{
		{name: "standard", ct: ctEnc, body: part("--", "abc", 3) + "--Encrypted Boundary--\r\n", want: "abc"},
		{name: "Exchange '-- Encrypted Boundary'", ct: ctEnc, body: part("-- ", "abc", 3) + "-- Encrypted Boundary--\r\n", want: "abc"},
		{name: "x-multi-encrypted chunks", ct: ctMulti, body: part("--", "abc", 3) + part("--", "defg", 4) + "--Encrypted Boundary--\r\n", want: "abcdefg"},
		{name: "no closing CRLF", ct: ctEnc, body: part("--", "abc", 3) + "--Encrypted Boundary--", want: "abc"},
		{name: "length mismatch", ct: ctEnc, body: part("--", "abc", 4) + "--Encrypted Boundary--\r\n", wantErr: true},
		{name: "wrong protocol", ct: `multipart/encrypted;protocol="application/HTTP-Kerberos-session-encrypted";boundary="Encrypted Boundary"`, body: part("--", "abc", 3) + "--Encrypted Boundary--\r\n", wantErr: true},
		{name: "plain SOAP content type", ct: SOAPContentType, body: "<s:Envelope/>", wantErr: true},
		{name: "empty body", ct: ctEnc, body: "", wantErr: true},
		{name: "unterminated data", ct: ctEnc, body: part("--", "abc", 3), wantErr: true},
		{name: "huge signature length", ct: ctEnc, body: strings.Replace(part("--", "abc", 3), "\x10\x00\x00\x00", "\xff\xff\xff\x7f", 1) + "--Encrypted Boundary--\r\n", wantErr: true},
		{name: "missing length", ct: ctEnc, body: strings.Replace(part("--", "abc", 3), ";Length=3", "", 1) + "--Encrypted Boundary--\r\n", wantErr: true},
		{name: "bad signature", ct: ctEnc, body: strings.Replace(part("--", "abc", 3), "\xee", "\xef", 1) + "--Encrypted Boundary--\r\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := UnwrapEncrypted(nullSealer{}, ProtocolSPNEGO, tt.ct, []byte(tt.body))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

// FuzzUnwrapEncrypted: never panic, and whatever unwraps must have been
// length-checked.
func FuzzUnwrapEncrypted(f *testing.F) {
	for _, msg := range []string{"<s:Envelope/>", "", strings.Repeat("x", 300)} {
		body, ct, err := WrapEncrypted(nullSealer{}, ProtocolSPNEGO, []byte(msg))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(ct, body)
	}
	client, _ := ntlmPair(f)
	body, ct, _ := WrapEncrypted(client, ProtocolSPNEGO, []byte("<s:Envelope>sealed</s:Envelope>"))
	f.Add(ct, body)
	f.Add(`multipart/x-multi-encrypted;protocol="application/HTTP-SPNEGO-session-encrypted";boundary="Encrypted Boundary"`, body)
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		got, err := UnwrapEncrypted(nullSealer{}, "", ct, body)
		if err == nil && len(got) > len(body) {
			t.Fatalf("unwrapped %d bytes out of a %d byte body", len(got), len(body))
		}
	})
}
