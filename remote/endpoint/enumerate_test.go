package endpoint

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEnumerateShells(t *testing.T) {
	_, srv := newTestServer(t, Config{})
	a := openPS(t, srv, `<rsp:Name>web</rsp:Name>`)
	b := openPS(t, srv, "")
	cmd := winrsClient{t: t, srv: srv}.create("")
	winrsClient{t: t, srv: srv, user: "bob"}.create("") // another user's: not listed

	names := func(r result) map[string]string {
		out := map[string]string{}
		for _, s := range r.root.Find(nsShell, "Shell") {
			out[s.First(nsShell, "ShellId").Text] = s.First(nsShell, "Name").Text
			for _, el := range []string{"ResourceUri", "Owner", "State", "IdleTimeOut", "ShellInactivity", "BufferMode", "Locale",
				"DataLocale", "CompressionMode", "Encoding", "ProfileLoaded", "MaxIdleTimeOut", "ClientIP", "ProcessId",
				"InputStreams", "OutputStreams", "ShellRunTime", "MemoryUsed", "ChildProcesses"} {
				if s.First(nsShell, el) == nil {
					t.Errorf("shell item lacks rsp:%s", el)
				}
			}
		}
		return out
	}
	want := map[string]string{a.shellID: "web", b.shellID: "Runspace1", cmd: "Runspace2"}

	t.Run("optimized", func(t *testing.T) {
		r := mustOK(t, post(t, srv, reqOpts{action: actionEnumerate, resource: resourceShell,
			body: `<wsen:Enumerate><wsman:OptimizeEnumeration/><wsman:MaxElements>32000</wsman:MaxElements></wsen:Enumerate>`}))
		if r.root.First(nsWSMan, "Items") == nil || r.root.First(nsWSMan, "EndOfSequence") == nil {
			t.Fatalf("no wsman:Items/EndOfSequence:\n%s", r.raw)
		}
		if d := cmp.Diff(want, names(r)); d != "" {
			t.Fatal(d)
		}
	})
	t.Run("pull", func(t *testing.T) {
		r := mustOK(t, post(t, srv, reqOpts{action: actionEnumerate, resource: resourceShell, body: `<wsen:Enumerate/>`}))
		ctx := strings.TrimSpace(r.root.First(nsEnum, "EnumerationContext").Text)
		if ctx == "" || r.root.First(nsWSMan, "Items") != nil {
			t.Fatalf("want a bare context:\n%s", r.raw)
		}
		got := map[string]string{}
		for i := 0; ; i++ {
			r = mustOK(t, post(t, srv, reqOpts{action: actionPull, resource: resourceShell,
				body: `<wsen:Pull><wsen:EnumerationContext>` + ctx + `</wsen:EnumerationContext><wsen:MaxElements>2</wsen:MaxElements></wsen:Pull>`}))
			if r.root.First(nsEnum, "Items") == nil {
				t.Fatalf("no wsen:Items:\n%s", r.raw)
			}
			for k, v := range names(r) {
				got[k] = v
			}
			if r.root.First(nsEnum, "EndOfSequence") != nil {
				break
			}
			if i > 3 {
				t.Fatal("no EndOfSequence")
			}
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Fatal(d)
		}
		if code := post(t, srv, reqOpts{action: actionPull, resource: resourceShell,
			body: `<wsen:Pull><wsen:EnumerationContext>` + ctx + `</wsen:EnumerationContext></wsen:Pull>`}).faultCode(); code != "2150858796" {
			t.Fatalf("pull of a finished context: fault %q", code)
		}
	})
}
