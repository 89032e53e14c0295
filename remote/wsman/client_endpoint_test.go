package wsman_test

// Real loopback tests: this package's Client over transport.Client
// (NTLM with message encryption over plain HTTP) against the endpoint
// package's /wsman handler behind transport.ServerAuth. They live in the
// external test package so that endpoint may import wsman without a cycle.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/pssession/pssession/remote/endpoint"
	"github.com/pssession/pssession/remote/wsman"
	"github.com/pssession/pssession/remote/wsman/transport"
)

const (
	loopUser     = `WORKGROUP\alice`
	loopPassword = "Passw0rd!"
)

// loopback starts the endpoint behind NTLM authentication and returns
// its URL.
func loopback(t *testing.T) string {
	t.Helper()
	h := endpoint.New(endpoint.Config{Machine: "loopback"})
	sa, err := transport.NewServerAuth(h, transport.ServerConfig{Users: map[string]string{loopUser: loopPassword}, Schemes: []string{"negotiate"}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(sa)
	srv.Config.ConnContext = sa.ConnContext
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		h.Close()
	})
	return srv.URL + "/wsman"
}

// newLoopClient returns a Client with its own transport (a "process").
func newLoopClient(t *testing.T, url string) *wsman.Client {
	t.Helper()
	tr, err := transport.New(transport.Config{URL: url, Auth: "ntlm", Username: loopUser, Password: loopPassword})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	c := wsman.NewClient(tr, url)
	c.OperationTimeout = 5 * time.Second
	return c
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestLoopbackWinRS(t *testing.T) {
	ctx := testCtx(t)
	c := newLoopClient(t, loopback(t))
	c.ResourceURI = wsman.ResourceCmd
	sh, err := c.CreateCmd(ctx, wsman.CreateCmdRequest{WorkingDirectory: os.TempDir(), Environment: []wsman.EnvVar{{Name: "GREETING", Value: "hello <&> world"}}})
	if err != nil {
		t.Fatal(err)
	}
	if sh.ShellID == "" || sh.ResourceURI != wsman.ResourceCmd {
		t.Fatalf("created %+v", sh)
	}
	id, err := c.RunCommand(ctx, wsman.CommandRequest{ShellID: sh.ShellID, Command: `echo "$GREETING"; echo oops >&2; exit 3`})
	if err != nil {
		t.Fatal(err)
	}
	got := receiveWinRS(t, ctx, c, sh.ShellID, id)
	if d := cmp.Diff([]any{"hello <&> world\n", "oops\n", 3}, got); d != "" {
		t.Error(d)
	}
	if err := c.Signal(ctx, sh.ShellID, id, wsman.SignalTerminate); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, sh.ShellID); err != nil {
		t.Fatal(err)
	}
	_, err = c.RunCommand(ctx, wsman.CommandRequest{ShellID: sh.ShellID, Command: "true"})
	var f *wsman.Fault
	if !errors.As(err, &f) || !wsman.IsShellNotFound(err) || f.HTTPStatus != 500 {
		t.Fatalf("command on a deleted shell: %v", err)
	}
}

// recordedRequest returns message i's request of a Windows vector file.
func recordedRequest(t *testing.T, file string, i int) string {
	t.Helper()
	dir := os.Getenv("PSSESSION_VECTORS")
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		for dir = wd; ; dir = filepath.Dir(dir) {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				break
			}
			if filepath.Dir(dir) == dir {
				t.Fatal("go.mod not found above the test directory")
			}
		}
		dir = filepath.Join(dir, "..", "shared", "vectors", "windows")
	}
	b, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Messages []struct {
			Request string `yaml:"request"`
		} `yaml:"messages"`
	}
	if err := yaml.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v.Messages[i].Request
}

// between returns the text after the first open and before the next close.
func between(t *testing.T, s, open, close string) string {
	t.Helper()
	i := strings.Index(s, open)
	if i < 0 {
		t.Fatalf("%q not found", open)
	}
	s = s[i+len(open):]
	j := strings.Index(s, close)
	if j < 0 {
		t.Fatalf("%q not found", close)
	}
	return s[:j]
}

func b64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// PSRP message types (MS-PSRP 2.2.1) the tests look for.
const (
	msgSessionCapability   = 0x00010002
	msgRunspacePoolState   = 0x00021005
	msgRunspacePoolInit    = 0x0002100B
	msgApplicationPrivData = 0x00021009
	msgPipelineState       = 0x00041006
)

// messageTypes lists the PSRP message types that start in data (whole
// fragments: ObjectId 8, FragmentId 8, flags 1, length 4, then the
// message, whose type is at offset 4, little-endian).
func messageTypes(t *testing.T, data []byte) []uint32 {
	t.Helper()
	var out []uint32
	for len(data) > 0 {
		if len(data) < 21 {
			t.Fatalf("%d bytes left, short of a fragment header", len(data))
		}
		n := int(binary.BigEndian.Uint32(data[17:21]))
		if n > len(data)-21 {
			t.Fatalf("fragment of %d bytes, %d left", n, len(data)-21)
		}
		if data[16]&1 != 0 && n >= 8 {
			out = append(out, binary.LittleEndian.Uint32(data[21+4:21+8]))
		}
		data = data[21+n:]
	}
	return out
}

// receiveUntil polls the pool or a command until a message of type want
// arrives, and returns every type seen and the last response.
func receiveUntil(t *testing.T, ctx context.Context, c *wsman.Client, shellID, commandID string, want uint32) ([]uint32, *wsman.Received) {
	t.Helper()
	var seen []uint32
	for {
		r, err := c.Receive(ctx, shellID, commandID)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, s := range r.Streams {
			for _, ty := range messageTypes(t, s.Data) {
				seen = append(seen, ty)
				found = found || ty == want
			}
		}
		if found {
			return seen, r
		}
	}
}

// openRecordedPool creates a shell with the creationXml pypsrp sent to
// Windows in message i of file, and receives until the pool is opened.
func openRecordedPool(t *testing.T, ctx context.Context, c *wsman.Client, file string, i int, req wsman.CreateRequest) *wsman.Shell {
	t.Helper()
	rec := recordedRequest(t, file, i)
	req.ShellID = between(t, rec, `<rsp:Shell ShellId="`, `"`)
	req.CreationXML = b64(t, between(t, rec, `<creationXml xmlns="http://schemas.microsoft.com/powershell">`, "<"))
	sh, err := c.Create(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if sh.ShellID != req.ShellID || !sh.IsPowerShell() {
		t.Fatalf("created %+v", sh)
	}
	seen, _ := receiveUntil(t, ctx, c, sh.ShellID, "", msgRunspacePoolState)
	if seen[0] != msgSessionCapability {
		t.Errorf("pool opened with messages %#x, want SESSION_CAPABILITY first", seen)
	}
	c.SetMaxEnvelopeSize(wsman.MaxEnvelopeSize22)
	return sh
}

func getState(t *testing.T, ctx context.Context, c *wsman.Client, shellID string) string {
	t.Helper()
	s, err := c.Get(ctx, shellID)
	if err != nil {
		t.Fatal(err)
	}
	return s.State
}

func TestLoopbackPowerShellLifecycle(t *testing.T) {
	ctx := testCtx(t)
	c := newLoopClient(t, loopback(t))
	const file = "test_psrp_multiple_invocations.yml" // LE-correct GUIDs
	sh := openRecordedPool(t, ctx, c, file, 0, wsman.CreateRequest{Name: "web", IdleTimeout: 10 * time.Minute})

	rec := recordedRequest(t, file, 3)
	cmdID := between(t, rec, `<rsp:CommandLine CommandId="`, `"`)
	got, err := c.Command(ctx, sh.ShellID, cmdID, "", b64(t, between(t, rec, "<rsp:Arguments>", "<")))
	if err != nil {
		t.Fatal(err)
	}
	if got != cmdID {
		t.Errorf("CommandId %q, want %q", got, cmdID)
	}
	// The scripted engine does not know the recorded script: the
	// pipeline ends (PIPELINE_STATE) and the command reports Done.
	var seen []uint32
	for done := false; !done; {
		r, err := c.Receive(ctx, sh.ShellID, cmdID)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range r.Streams {
			if s.CommandID != cmdID {
				t.Errorf("stream of command %q on a receive for %q", s.CommandID, cmdID)
			}
			seen = append(seen, messageTypes(t, s.Data)...)
		}
		done = r.Done()
	}
	if len(seen) == 0 || seen[len(seen)-1] != msgPipelineState {
		t.Errorf("command messages %#x, want PIPELINE_STATE last", seen)
	}
	if err := c.Signal(ctx, sh.ShellID, cmdID, wsman.SignalTerminate); err != nil {
		t.Fatal(err)
	}

	s, err := c.Get(ctx, sh.ShellID)
	if err != nil {
		t.Fatal(err)
	}
	if s.State != wsman.ShellStateConnected || s.ShellID != sh.ShellID || !s.IsPowerShell() {
		t.Errorf("Get = %+v", s)
	}
	if err := c.Disconnect(ctx, sh.ShellID, 5*time.Minute, wsman.BufferModeDrop); err != nil {
		t.Fatal(err)
	}
	d, err := c.Get(ctx, sh.ShellID)
	if err != nil {
		t.Fatal(err)
	}
	if got := []any{d.State, d.BufferMode, d.IdleTimeout}; !cmp.Equal(got, []any{wsman.ShellStateDisconnected, wsman.BufferModeDrop, 5 * time.Minute}) {
		t.Errorf("disconnected shell: state, buffer mode, idle timeout = %v", got)
	}
	shells, err := c.EnumerateShells(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, s := range shells {
		listed = append(listed, s.ShellID+" "+s.State+" "+s.Name)
	}
	if d := cmp.Diff([]string{sh.ShellID + " Disconnected web"}, listed); d != "" {
		t.Errorf("enumerated shells: %s", d)
	}
	if err := c.Reconnect(ctx, sh.ShellID); err != nil {
		t.Fatal(err)
	}
	if st := getState(t, ctx, c, sh.ShellID); st != wsman.ShellStateConnected {
		t.Errorf("state after Reconnect %q", st)
	}
	cmds, err := c.EnumerateCommands(ctx, sh.ShellID)
	if err != nil {
		t.Fatal(err)
	}
	if len(cmds) != 0 {
		t.Errorf("commands after Terminate: %+v", cmds)
	}
	if err := c.Delete(ctx, sh.ShellID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx, sh.ShellID); !wsman.IsShellNotFound(err) {
		t.Errorf("Get after Delete: %v", err)
	}
}

// TestLoopbackEnumeratePull makes the client page through shells with
// Pull (one item per response).
func TestLoopbackEnumeratePull(t *testing.T) {
	ctx := testCtx(t)
	c := newLoopClient(t, loopback(t))
	c.ResourceURI = wsman.ResourceCmd
	var want []string
	for i := 0; i < 3; i++ {
		sh, err := c.CreateCmd(ctx, wsman.CreateCmdRequest{})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, sh.ShellID)
	}
	c.MaxElements = 1
	pulls := &countingTransport{next: c.Transport, action: wsman.ActionPull}
	c.Transport = pulls
	shells, err := c.EnumerateShells(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range shells {
		got = append(got, s.ShellID)
	}
	if d := cmp.Diff(want, got, cmpSorted); d != "" {
		t.Error(d)
	}
	if pulls.n.Load() < 2 {
		t.Errorf("%d Pull requests for 3 shells one at a time", pulls.n.Load())
	}
}

// countingTransport counts the requests of one action it passes on.
type countingTransport struct {
	next   wsman.Transport
	action string
	n      atomic.Int32
}

func (c *countingTransport) Post(ctx context.Context, env []byte) (int, []byte, error) {
	if bytes.Contains(env, []byte(">"+c.action+"<")) {
		c.n.Add(1)
	}
	return c.next.Post(ctx, env)
}

var cmpSorted = cmp.Transformer("sort", func(in []string) []string {
	out := append([]string(nil), in...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
})

// TestLoopbackConnectFromNewClient disconnects a pool and attaches a
// second client (its own transport and session) with connectXml.
func TestLoopbackConnectFromNewClient(t *testing.T) {
	ctx := testCtx(t)
	url := loopback(t)
	a := newLoopClient(t, url)
	const file = "test_psrp_disconnect_runspaces.yml"
	sh := openRecordedPool(t, ctx, a, file, 0, wsman.CreateRequest{})
	if err := a.Disconnect(ctx, sh.ShellID, 0, ""); err != nil {
		t.Fatal(err)
	}
	b := newLoopClient(t, url)
	rec := recordedRequest(t, file, 14)
	if id := between(t, rec, `<wsman:Selector Name="ShellId">`, "<"); id != sh.ShellID {
		t.Fatalf("recorded connect is for %s, pool %s", id, sh.ShellID)
	}
	resp, err := b.Connect(ctx, sh.ShellID, b64(t, between(t, rec, `<connectXml xmlns="http://schemas.microsoft.com/powershell">`, "<")))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]uint32{msgSessionCapability, msgRunspacePoolInit}, messageTypes(t, resp)); d != "" {
		t.Errorf("connectResponseXml messages: %s", d)
	}
	if st := getState(t, ctx, b, sh.ShellID); st != wsman.ShellStateConnected {
		t.Errorf("state after Connect %q", st)
	}
	if err := b.Delete(ctx, sh.ShellID); err != nil {
		t.Fatal(err)
	}
}
