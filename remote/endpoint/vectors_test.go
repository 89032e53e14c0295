package endpoint

import (
	"encoding/base64"
	"net/http"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pssession/pssession/internal/vectors"
	"github.com/pssession/pssession/remote/psrp"
)

// loadVector reads one recorded exchange file.
func loadVector(t *testing.T, file string) []vectors.Message {
	t.Helper()
	v, err := vectors.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	return v.Messages
}

// poolMessageTypes decodes the pool-stream PSRP messages of Receive
// responses.
func poolMessageTypes(t *testing.T, responses []*node) []string {
	t.Helper()
	re := psrp.NewReassembler(psrp.Limits{})
	var types []string
	for _, r := range responses {
		for _, s := range r.Find(nsShell, "Stream") {
			data, err := base64.StdEncoding.DecodeString(s.Text)
			if err != nil {
				t.Fatal(err)
			}
			msgs, err := re.Feed(nil, data)
			if err != nil {
				t.Fatalf("fragments: %v", err)
			}
			for _, m := range msgs {
				dm, err := psrp.DecodeMessage(m)
				if err != nil {
					t.Fatal(err)
				}
				types = append(types, dm.Type.String())
			}
		}
	}
	return types
}

func hasState(types []string) bool {
	for _, ty := range types {
		if ty == "RUNSPACEPOOL_STATE" {
			return true
		}
	}
	return false
}

// childNames lists the local names of n's children, sorted.
func childNames(n *node) []string {
	var out []string
	for _, c := range n.Children {
		out = append(out, c.Name.Local)
	}
	sort.Strings(out)
	return out
}

var actionRE = regexp.MustCompile(`Action[^>]*>([^<]*)<`)
var resourceRE = regexp.MustCompile(`ResourceURI[^>]*>([^<]*)<`)

// TestReplayPowerShellCreate sends every recorded pypsrp Create of a
// PowerShell shell to the endpoint as is and checks that the response has
// the Windows shape and that the pool stream carries what Windows sent
// before the pool was Opened (SESSION_CAPABILITY, APPLICATION_PRIVATE_DATA,
// RUNSPACEPOOL_STATE).
func TestReplayPowerShellCreate(t *testing.T) {
	for _, file := range vectors.Files(t) {
		msgs := loadVector(t, file)
		t.Run(filepath.Base(file), func(t *testing.T) {
			_, srv := newTestServer(t, Config{Configurations: []string{"JEARole"}})
			for i, m := range msgs {
				if actionRE.FindStringSubmatch(m.Request)[1] != actionCreate {
					continue
				}
				res := resourceRE.FindStringSubmatch(m.Request)[1]
				if !strings.HasPrefix(res, resourcePowerShell) {
					continue
				}
				r := postRaw(t, srv.URL, []byte(m.Request))
				if r.status != http.StatusOK {
					t.Fatalf("message %d: Create status %d\n%s", i, r.status, r.raw)
				}
				win, err := vectors.ParseXML([]byte(m.Response))
				if err != nil {
					t.Fatal(err)
				}
				// Every field Windows returns is there (we add Name).
				wantFields := childNames(win.First(nsShell, "Shell"))
				gotFields := childNames(r.root.First(nsShell, "Shell"))
				if missing := cmp.Diff(wantFields, without(gotFields, "Name")); missing != "" {
					t.Errorf("rsp:Shell fields (-windows +ours):\n%s", missing)
				}
				shellID := win.First(nsWSMan, "Selector").Text
				if got := r.root.First(nsWSMan, "Selector").Text; got != shellID {
					t.Errorf("ShellId %s, Windows %s", got, shellID)
				}
				// Windows' pool-stream messages up to the Opened state.
				var winRecv []*node
				for _, next := range msgs[i+1:] {
					if actionRE.FindStringSubmatch(next.Request)[1] != actionReceive || strings.Contains(next.Request, "CommandId=") {
						break
					}
					n, err := vectors.ParseXML([]byte(next.Response))
					if err != nil || n.First(nsFault, "WSManFault") != nil {
						break
					}
					winRecv = append(winRecv, n)
					if hasState(poolMessageTypes(t, winRecv)) {
						break
					}
				}
				want := poolMessageTypes(t, winRecv)
				var ours []*node
				for range 5 {
					rr := mustOK(t, post(t, srv, reqOpts{action: actionReceive, resource: res, shellID: shellID,
						body: `<rsp:Receive><rsp:DesiredStream>stdout</rsp:DesiredStream></rsp:Receive>`}))
					ours = append(ours, rr.root)
					if got := poolMessageTypes(t, ours); len(got) >= len(want) {
						break
					}
				}
				if d := cmp.Diff(want, poolMessageTypes(t, ours)); d != "" {
					t.Errorf("pool messages (-windows +ours):\n%s", d)
				}
				mustOK(t, post(t, srv, reqOpts{action: actionDelete, resource: res, shellID: shellID}))
			}
		})
	}
}

func without(list []string, drop string) []string {
	var out []string
	for _, s := range list {
		if s != drop {
			out = append(out, s)
		}
	}
	return out
}

// TestReplayWinRS replays every recorded WinRS conversation, substituting
// the server-chosen ShellId and CommandId, and checks that each response
// has the body element Windows answered with.
func TestReplayWinRS(t *testing.T) {
	for _, file := range vectors.Files(t) {
		msgs := loadVector(t, file)
		if len(msgs) == 0 || !strings.Contains(msgs[0].Request, "<wsman:ResourceURI s:mustUnderstand=\"true\">"+resourceCmd+"<") {
			continue
		}
		t.Run(filepath.Base(file), func(t *testing.T) {
			_, srv := newTestServer(t, Config{})
			subst := map[string]string{}
			done := map[string]bool{}
			for i, m := range msgs {
				req := m.Request
				for from, to := range subst {
					req = strings.ReplaceAll(req, from, to)
				}
				action := actionRE.FindStringSubmatch(req)[1]
				if action == actionReceive {
					if id := regexp.MustCompile(`CommandId="([^"]+)"`).FindStringSubmatch(req); id != nil && done[id[1]] {
						continue // ours finished in fewer Receives than Windows
					}
					// Our commands are not Windows commands: bound the wait.
					req = regexp.MustCompile(`<wsman:OperationTimeout>[^<]*<`).ReplaceAllString(req, `<wsman:OperationTimeout>PT2S<`)
				}
				win, err := vectors.ParseXML([]byte(m.Response))
				if err != nil {
					t.Fatal(err)
				}
				r := postRaw(t, srv.URL, []byte(req))
				winBody, ourBody := win.First(nsSOAP, "Body"), r.root.First(nsSOAP, "Body")
				if win.First(nsFault, "WSManFault") != nil || r.faultCode() != "" {
					// Faults: both sides agree on the code, except Windows'
					// provider errors for Windows-only commands and timeouts.
					if wc := (result{root: win}).faultCode(); wc != r.faultCode() && wc != "2150858793" && r.faultCode() != "2150858793" {
						t.Errorf("message %d (%s): fault %q, Windows %q", i, shortAction(action), r.faultCode(), wc)
					}
					continue
				}
				if d := cmp.Diff(childNames(winBody), childNames(ourBody)); d != "" {
					t.Errorf("message %d (%s): body (-windows +ours):\n%s", i, shortAction(action), d)
				}
				switch action {
				case actionCreate:
					subst[win.First(nsWSMan, "Selector").Text] = r.root.First(nsWSMan, "Selector").Text
				case actionCommand:
					subst[win.First(nsShell, "CommandId").Text] = r.root.First(nsShell, "CommandId").Text
				case actionReceive:
					if st := r.root.First(nsShell, "CommandState"); st != nil && st.Attr("State") == commandStateDone {
						done[st.Attr("CommandId")] = true
					}
				}
			}
		})
	}
}
