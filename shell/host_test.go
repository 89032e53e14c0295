package shell

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pssession/pssession/remote/psrp"
	"github.com/pssession/pssession/remote/psrp/clixml"
	"github.com/pssession/pssession/remote/session"
)

// scriptedReader is the line-reader seam: it answers prompts from a list
// and records what was asked.
type scriptedReader struct {
	answers []string
	asked   []string
}

func (r *scriptedReader) next(prompt string) (string, error) {
	r.asked = append(r.asked, prompt)
	if len(r.answers) == 0 {
		return "", io.EOF
	}
	a := r.answers[0]
	r.answers = r.answers[1:]
	return a, nil
}

func (r *scriptedReader) ReadLine(p string) (string, error)     { return r.next(p) }
func (r *scriptedReader) ReadPassword(p string) (string, error) { return r.next("(secret)" + p) }

func call(m psrp.HostMethodID, params ...clixml.Value) psrp.HostCall {
	return psrp.HostCall{CallID: 1, Method: m, Params: params}
}

func choiceList(labels ...string) *clixml.Object {
	var items []clixml.Value
	for _, l := range labels {
		items = append(items, &clixml.Object{Members: []clixml.Property{{Name: "label", Value: l}, {Name: "helpMessage", Value: "help " + l}}})
	}
	return &clixml.Object{Content: clixml.ContentList, Items: items}
}

func TestHostNonInteractiveFailsAtOnce(t *testing.T) {
	h := &Host{Out: io.Discard, Err: io.Discard}
	for _, m := range []psrp.HostMethodID{psrp.HostReadLine, psrp.HostReadLineAsSecureString, psrp.HostPromptForCredential1, psrp.HostPromptForChoice, psrp.HostPrompt} {
		if _, err := h.HostCall(context.Background(), call(m, "c", "m", choiceList("&Yes"), int32(0))); !errors.Is(err, ErrNotInteractive) {
			t.Errorf("%s: got %v, want ErrNotInteractive", m, err)
		}
	}
}

func TestHostReadLineAndSecure(t *testing.T) {
	r := &scriptedReader{answers: []string{"typed", "s3cret"}}
	h := &Host{Reader: r, Out: io.Discard, Err: io.Discard}
	v, err := h.HostCall(context.Background(), call(psrp.HostReadLine))
	if err != nil || v != "typed" {
		t.Fatalf("ReadLine: %v %v", v, err)
	}
	v, err = h.HostCall(context.Background(), call(psrp.HostReadLineAsSecureString))
	if err != nil || v != session.SecureText("s3cret") {
		t.Fatalf("ReadLineAsSecureString: %#v %v", v, err)
	}
}

func TestHostPromptForCredential(t *testing.T) {
	r := &scriptedReader{answers: []string{"alice", "pw"}}
	var errOut bytes.Buffer
	h := &Host{Reader: r, Out: io.Discard, Err: &errOut}
	v, err := h.HostCall(context.Background(), call(psrp.HostPromptForCredential2, "Cred", "Enter it", "", "target", int32(3), int32(1)))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(session.Credential{UserName: "alice", Password: "pw"}, v); diff != "" {
		t.Fatal(diff)
	}
	if errOut.String() != "Cred\nEnter it\n" {
		t.Fatalf("banner %q", errOut.String())
	}
	if diff := cmp.Diff([]string{"User: ", "(secret)Password for user alice: "}, r.asked); diff != "" {
		t.Fatal(diff)
	}
}

func TestHostPromptForChoice(t *testing.T) {
	tests := []struct {
		name    string
		answers []string
		def     clixml.Value
		want    clixml.Value
	}{
		{"hotkey", []string{"n"}, int32(0), int32(1)},
		{"label", []string{"Yes"}, int32(1), int32(0)},
		{"default on enter", []string{""}, int32(1), int32(1)},
		{"help then invalid then valid", []string{"?", "x", "Y"}, int32(-1), int32(0)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &scriptedReader{answers: tc.answers}
			h := &Host{Reader: r, Out: io.Discard, Err: io.Discard}
			v, err := h.HostCall(context.Background(), call(psrp.HostPromptForChoice, "Confirm", "Really?", choiceList("&Yes", "&No"), tc.def))
			if err != nil {
				t.Fatal(err)
			}
			if v != tc.want {
				t.Fatalf("got %v, want %v", v, tc.want)
			}
		})
	}
	if got := ChoicePrompt([]Choice{{Label: "&Yes"}, {Label: "&No"}}, []int{0}); got != `[Y] Yes  [N] No  [?] Help (default is "Y"): ` {
		t.Fatalf("prompt %q", got)
	}
}

func TestHostPromptFields(t *testing.T) {
	r := &scriptedReader{answers: []string{"v1", "secret"}}
	h := &Host{Reader: r, Out: io.Discard, Err: io.Discard}
	field := func(name, typ string) clixml.Value {
		return &clixml.Object{Members: []clixml.Property{{Name: "name", Value: name}, {Name: "label", Value: ""}, {Name: "parameterTypeFullName", Value: typ}}}
	}
	fields := &clixml.Object{Content: clixml.ContentList, Items: []clixml.Value{field("Path", "System.String"), field("Key", "System.Security.SecureString")}}
	v, err := h.HostCall(context.Background(), call(psrp.HostPrompt, "", "", fields))
	if err != nil {
		t.Fatal(err)
	}
	o := v.(*clixml.Object)
	want := []clixml.DictEntry{{Key: "Path", Value: "v1"}, {Key: "Key", Value: session.SecureText("secret")}}
	if diff := cmp.Diff(want, o.Entries); diff != "" {
		t.Fatal(diff)
	}
}

func TestHostWritesAndExit(t *testing.T) {
	var out, errOut bytes.Buffer
	var exit int32 = -1
	h := &Host{Out: &out, Err: &errOut, OnExit: func(c int32) { exit = c }, Size: func() (int, int) { return 100, 40 }}
	ctx := context.Background()
	h.HostCall(ctx, call(psrp.HostWrite1, "a"))
	h.HostCall(ctx, call(psrp.HostWriteLine2, "b"))
	h.HostCall(ctx, call(psrp.HostWriteLine3, int32(10), int32(0), "c"))
	h.HostCall(ctx, call(psrp.HostWriteWarningLine, "w"))
	h.HostCall(ctx, call(psrp.HostSetShouldExit, int32(7)))
	if out.String() != "ab\nc\n" || errOut.String() != "WARNING: w\n" {
		t.Fatalf("out %q err %q", out.String(), errOut.String())
	}
	if exit != 7 {
		t.Fatalf("exit %d", exit)
	}
	v, _ := h.HostCall(ctx, call(psrp.HostGetWindowSize))
	if o := v.(*clixml.Object); o.ToString != "100,40" {
		t.Fatalf("window size %v", o.ToString)
	}
	if _, err := h.HostCall(ctx, call(psrp.HostReadKey)); err == nil {
		t.Fatal("ReadKey should be unsupported")
	}
}
