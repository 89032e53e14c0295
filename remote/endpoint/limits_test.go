package endpoint

import (
	"fmt"
	"strings"
	"testing"
)

func TestShellQuotaPerUser(t *testing.T) {
	_, srv := newTestServer(t, Config{MaxShellsPerUser: 2})
	alice := winrsClient{t: t, srv: srv, user: "alice"}
	alice.create("")
	alice.create("")
	r := post(t, srv, reqOpts{action: actionCreate, resource: resourceCmd, user: "alice",
		body: `<rsp:Shell><rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>`})
	if code := r.faultCode(); code != fmt.Sprint(CodeQuotaMaxShells) {
		t.Fatalf("third shell: fault %q", code)
	}
	winrsClient{t: t, srv: srv, user: "bob"}.create("") // another user's quota is separate
}

func TestCommandQuotaPerShell(t *testing.T) {
	_, srv := newTestServer(t, Config{MaxCommandsPerShell: 1})
	c := winrsClient{t: t, srv: srv}
	shell := c.create("")
	c.command(shell, "true")
	r := post(t, srv, reqOpts{action: actionCommand, resource: resourceCmd, shellID: shell,
		body: `<rsp:CommandLine><rsp:Command>true</rsp:Command></rsp:CommandLine>`})
	if code := r.faultCode(); code != fmt.Sprint(CodeQuotaMaxCommands) {
		t.Fatalf("second command: fault %q", code)
	}
}

func TestEnvelopeSizeLimits(t *testing.T) {
	for _, tc := range []struct {
		size int
		want string
	}{
		{size: 8191, want: "2150858767"},
		{size: 8192, want: ""},
		{size: 10 << 20, want: ""}, // served with at most 500 KiB
	} {
		t.Run(fmt.Sprint(tc.size), func(t *testing.T) {
			r, f := parseRequest([]byte(buildEnvelope(reqOpts{action: actionGet, resource: resourceConfig, envelopeSize: tc.size})))
			got := ""
			if f != nil {
				got = fmt.Sprint(f.WSManCode)
			} else if r.envelopeSize() > maxEnvelopeSizeKB*1024 {
				t.Fatalf("envelope size %d above the announced limit", r.envelopeSize())
			}
			if got != tc.want {
				t.Fatalf("fault %q, want %q", got, tc.want)
			}
		})
	}
}

func TestOperationTimeoutCapped(t *testing.T) {
	r, f := parseRequest([]byte(buildEnvelope(reqOpts{action: actionGet, resource: resourceConfig, timeout: "PT86400S"})))
	if f != nil {
		t.Fatal(f)
	}
	if got := r.operationTimeout(0); got != maxOperationTimeout {
		t.Fatalf("timeout %v", got)
	}
}

func TestEnumerationContextsBounded(t *testing.T) {
	h := New(Config{})
	defer h.Close()
	first := h.saveEnumeration("u", []string{"x"})
	for range maxEnumerations {
		h.saveEnumeration("u", []string{"x"})
	}
	if len(h.enums) != maxEnumerations {
		t.Fatalf("%d contexts kept", len(h.enums))
	}
	if _, ok := h.enums[first]; ok {
		t.Fatal("the oldest context was not dropped")
	}
}

func TestWinRSOutputBeyondBufferWaitsForTheClient(t *testing.T) {
	_, srv := newTestServer(t, Config{})
	c := winrsClient{t: t, srv: srv}
	shell := c.create("")
	// 3 MiB on stdout: the reader must wait for Receives, and nothing is lost.
	id := c.command(shell, "head -c 3145728 /dev/zero | tr '\\0' x")
	stdout, _, code := c.output(shell, id)
	if len(stdout) != 3<<20 || strings.Trim(stdout, "x") != "" || code != "0" {
		t.Fatalf("got %d bytes, exit %s", len(stdout), code)
	}
}
