package transport

import (
	"bufio"
	"bytes"
	"encoding/asn1"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/bodgit/ntlmssp"
	ntlmhttp "github.com/bodgit/ntlmssp/http"
	"github.com/google/go-cmp/cmp"
	"github.com/masterzen/winrm"

	"github.com/pssession/pssession/remote/wsman/ntlm"
)

var testUsers = map[string]string{`TESTDOM\alice`: "Secret123!", "bob": "hunter2"}

// echoHandler answers every request with "<echo user=...>body</echo>";
// a body containing "FAULT" gets status 500, like a SOAP fault.
func echoHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", SOAPContentType)
		if bytes.Contains(body, []byte("FAULT")) {
			w.WriteHeader(http.StatusInternalServerError)
		}
		io.WriteString(w, "<echo user=\""+UserFrom(r.Context())+"\">"+string(body)+"</echo>")
	})
}

// wireLog records the Content-Type of every request as it came off the wire.
type wireLog struct {
	mu         sync.Mutex
	cts        []string
	negotiates int // NTLM NEGOTIATE messages seen (one per handshake)
	chunked    int // requests without a Content-Length (chunked bodies)
}

func (l *wireLog) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		l.cts = append(l.cts, r.Header.Get("Content-Type"))
		if r.ContentLength < 0 || len(r.TransferEncoding) > 0 {
			l.chunked++
		}
		if a := r.Header.Get("Authorization"); strings.HasPrefix(a, "Negotiate ") {
			if tok, err := base64.StdEncoding.DecodeString(a[len("Negotiate "):]); err == nil && len(tok) > 8 && tok[8] == 1 {
				l.negotiates++
			}
		}
		l.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

func (l *wireLog) handshakes() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.negotiates
}

func (l *wireLog) chunkedCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.chunked
}

func (l *wireLog) encryptedCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, ct := range l.cts {
		if IsEncrypted(ct) {
			n++
		}
	}
	return n
}

// startServer runs ServerAuth+inner on 127.0.0.1, plain HTTP or TLS.
func startServer(t testing.TB, inner http.Handler, cfg ServerConfig, useTLS bool) (*httptest.Server, *wireLog) {
	t.Helper()
	if cfg.Users == nil {
		cfg.Users = testUsers
	}
	sa, err := NewServerAuth(inner, cfg)
	if err != nil {
		t.Fatal(err)
	}
	log := &wireLog{}
	srv := httptest.NewUnstartedServer(log.wrap(sa))
	srv.Config.ConnContext = sa.ConnContext
	if useTLS {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv, log
}

// TestServerBodgitHTTPClient: bodgit/ntlmssp's HTTP client (third party) with
// its own message encryption against ServerAuth.
func TestServerBodgitHTTPClient(t *testing.T) {
	srv, log := startServer(t, echoHandler(), ServerConfig{}, false)
	nc, err := ntlmssp.NewClient(ntlmssp.SetUserInfo("alice", "Secret123!"), ntlmssp.SetDomain("TESTDOM"), ntlmssp.SetVersion(ntlmssp.DefaultVersion()))
	if err != nil {
		t.Fatal(err)
	}
	hc, err := ntlmhttp.NewClient(&http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}}, nc, ntlmhttp.Encryption(true))
	if err != nil {
		t.Fatal(err)
	}
	// MaxConnsPerHost 1: net/http returns a connection to its pool
	// asynchronously, so without it a request may start on a fresh,
	// unauthenticated connection (PROTOCOL.md §7 item 11).
	// Empty POST runs the handshake (PROTOCOL.md §6.1).
	resp, err := hc.Post(srv.URL+"/wsman", SOAPContentType, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("handshake status %d", resp.StatusCode)
	}
	for i, msg := range []string{"<s:Envelope>1</s:Envelope>", "<s:Envelope>FAULT</s:Envelope>", "<s:Envelope>3</s:Envelope>"} {
		// bodgit's wrap replaces the body but keeps ContentLength, so hide
		// the length (chunked request) to keep net/http from refusing it.
		resp, err := hc.Post(srv.URL+"/wsman", SOAPContentType, io.MultiReader(strings.NewReader(msg)))
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		wantStatus := http.StatusOK
		if strings.Contains(msg, "FAULT") {
			wantStatus = http.StatusInternalServerError
		}
		if diff := cmp.Diff([]any{wantStatus, `<echo user="TESTDOM\alice">` + msg + "</echo>"}, []any{resp.StatusCode, string(body)}); diff != "" {
			t.Errorf("message %d (-want +got)\n%s", i, diff)
		}
	}
	if got := log.encryptedCount(); got != 3 {
		t.Errorf("%d encrypted requests on the wire, want 3", got)
	}
}

// TestServerMasterzenWinRM: masterzen/winrm's NTLM message-encryption
// transporter (third party; it re-authenticates for every message on a
// kept-alive connection) creating a shell through ServerAuth.
func TestServerMasterzenWinRM(t *testing.T) {
	var seen []string
	var mu sync.Mutex
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, UserFrom(r.Context())+" "+string(body[:min(len(body), 20)]))
		mu.Unlock()
		w.Header().Set("Content-Type", SOAPContentType)
		io.WriteString(w, `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"><s:Body><x:ResourceCreated xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer"><w:SelectorSet><w:Selector Name="ShellId">11111111-2222-3333-4444-555555555555</w:Selector></w:SelectorSet></x:ResourceCreated></s:Body></s:Envelope>`)
	})
	srv, log := startServer(t, inner, ServerConfig{}, false)
	host, port := splitHostPort(t, srv.URL)
	params := winrm.NewParameters("PT60S", "en-US", 153600)
	params.TransportDecorator = func() winrm.Transporter {
		enc, err := winrm.NewEncryption("ntlm")
		if err != nil {
			t.Fatal(err)
		}
		return enc
	}
	c, err := winrm.NewClientWithParameters(winrm.NewEndpoint(host, port, false, false, nil, nil, nil, 0), `TESTDOM\alice`, "Secret123!", params)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		// CreateShell parses the ShellId out of the decrypted response.
		if _, err := c.CreateShell(); err != nil {
			t.Fatalf("CreateShell: %v", err)
		}
	}
	if diff := cmp.Diff([]string{`TESTDOM\alice <?xml version="1.0" `, `TESTDOM\alice <?xml version="1.0" `}, seen); diff != "" {
		t.Errorf("inner handler saw (-want +got)\n%s", diff)
	}
	if got := log.encryptedCount(); got != 2 {
		t.Errorf("%d encrypted requests on the wire, want 2", got)
	}
}

// TestServerSPNEGOWrappedNTLM: NTLM inside SPNEGO with mechListMIC (as
// pyspnego and Windows send it), then sealed requests on the same connection.
func TestServerSPNEGOWrappedNTLM(t *testing.T) {
	srv, _ := startServer(t, echoHandler(), ServerConfig{}, false)
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	send := func(authz, ct string, body []byte) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest("POST", srv.URL+"/wsman", bytes.NewReader(body))
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		req.Header.Set("Content-Type", ct)
		if err := req.Write(conn); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, b
	}
	negToken := func(resp *http.Response) *spnegoToken {
		t.Helper()
		tok, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(resp.Header.Get("WWW-Authenticate"), "Negotiate "))
		var outer asn1.RawValue
		asn1.Unmarshal(tok, &outer)
		var nr negTokenResp
		if _, err := asn1.Unmarshal(outer.Bytes, &nr); err != nil {
			t.Fatalf("server token: %v", err)
		}
		return &spnegoToken{mech: nr.ResponseToken, mechListMIC: nr.MechListMIC}
	}

	ini, err := ntlm.NewInitiator(ntlm.InitiatorConfig{Credentials: ntlm.Credentials{User: "bob", Password: "hunter2"}})
	if err != nil {
		t.Fatal(err)
	}
	neg, _ := ini.Negotiate()
	mechTypes := mustMarshal([]asn1.ObjectIdentifier{oidNTLM})
	initTok := mustMarshal(asn1.RawValue{Class: asn1.ClassApplication, Tag: 0, IsCompound: true,
		Bytes: append(mustMarshal(oidSPNEGO), explicit(0, mustMarshal(negTokenInit{MechTypes: []asn1.ObjectIdentifier{oidNTLM}, MechToken: neg}))...)})
	resp, _ := send("Negotiate "+base64.StdEncoding.EncodeToString(initTok), SOAPContentType, nil)
	if resp.StatusCode != 401 {
		t.Fatalf("leg 1 status %d", resp.StatusCode)
	}
	auth, err := ini.Authenticate(negToken(resp).mech)
	if err != nil {
		t.Fatal(err)
	}
	sess := ini.Session()
	mic, _ := sess.MakeSignature(mechTypes)
	resp, _ = send("Negotiate "+base64.StdEncoding.EncodeToString(spnegoResp(negAcceptIncomplete, nil, auth, mic)), SOAPContentType, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("leg 2 status %d", resp.StatusCode)
	}
	if err := sess.VerifySignature(mechTypes, negToken(resp).mechListMIC); err != nil {
		t.Fatalf("server mechListMIC: %v", err)
	}
	for _, msg := range []string{"<one/>", "<two/>"} {
		body, ct, err := WrapEncrypted(sess, ProtocolSPNEGO, []byte(msg))
		if err != nil {
			t.Fatal(err)
		}
		resp, rbody := send("", ct, body)
		plain, err := UnwrapEncrypted(sess, ProtocolSPNEGO, resp.Header.Get("Content-Type"), rbody)
		if err != nil {
			t.Fatalf("status %d: %v", resp.StatusCode, err)
		}
		if diff := cmp.Diff(`<echo user="bob">`+msg+"</echo>", string(plain)); diff != "" {
			t.Errorf("(-want +got)\n%s", diff)
		}
	}
	// A plain SOAP body on the authenticated HTTP connection is refused
	// (encryption required) and ends the context: the next sealed
	// request is challenged again.
	if resp, _ := send("", SOAPContentType, []byte("<plain/>")); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("plain body after handshake: status %d, want 401", resp.StatusCode)
	}
	body, ct, _ := WrapEncrypted(sess, ProtocolSPNEGO, []byte("<late/>"))
	if resp, _ := send("", ct, body); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("sealed body after the context ended: status %d, want 401", resp.StatusCode)
	}
}

func splitHostPort(t *testing.T, rawURL string) (string, int) {
	t.Helper()
	h, p, err := net.SplitHostPort(strings.TrimPrefix(strings.TrimPrefix(rawURL, "http://"), "https://"))
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(p)
	return h, port
}

func TestServerBasic(t *testing.T) {
	tests := []struct {
		name       string
		tls        bool
		allowPlain bool
		user, pass string
		wantStatus int
		wantBody   string
		wantBasic  bool // Basic offered in the 401
	}{
		{name: "HTTPS good", tls: true, user: `testdom\ALICE`, pass: "Secret123!", wantStatus: 200, wantBody: `<echo user="testdom\ALICE">x</echo>`},
		{name: "HTTPS user@domain", tls: true, user: "bob@example", pass: "hunter2", wantStatus: 200, wantBody: `<echo user="bob@example">x</echo>`},
		{name: "HTTPS wrong password", tls: true, user: "bob", pass: "hunter3", wantStatus: 401, wantBasic: true},
		{name: "HTTPS unknown user", tls: true, user: "eve", pass: "hunter2", wantStatus: 401, wantBasic: true},
		{name: "HTTP refused", user: "bob", pass: "hunter2", wantStatus: 401},
		{name: "HTTP allowed unencrypted", allowPlain: true, user: "bob", pass: "hunter2", wantStatus: 200, wantBody: `<echo user="bob">x</echo>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := startServer(t, echoHandler(), ServerConfig{AllowUnencrypted: tt.allowPlain}, tt.tls)
			req, _ := http.NewRequest("POST", srv.URL+"/wsman", strings.NewReader("x"))
			req.SetBasicAuth(tt.user, tt.pass)
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if tt.wantStatus != 200 {
				body = nil
			}
			gotBasic := strings.Contains(strings.Join(resp.Header.Values("WWW-Authenticate"), ","), "Basic")
			if diff := cmp.Diff([]any{tt.wantStatus, tt.wantBody, tt.wantBasic}, []any{resp.StatusCode, string(body), gotBasic && resp.StatusCode == 401}); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestServerWithoutConnContext(t *testing.T) {
	sa, err := NewServerAuth(echoHandler(), ServerConfig{Users: testUsers})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sa)
	t.Cleanup(srv.Close)
	resp, err := srv.Client().Post(srv.URL, SOAPContentType, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 500 || !strings.Contains(string(body), "ConnContext") {
		t.Errorf("got %d %q, want 500 naming ConnContext", resp.StatusCode, body)
	}
}

func ntlmHash(pw string) []byte { return ntlm.NTHash(pw) }
