package wsman

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

// vectorMessage is one recorded {request, response} pair (see
// shared/vectors/README.md).
type vectorMessage struct {
	Request        string `yaml:"request"`
	Response       string `yaml:"response"`
	TransportError *struct {
		Protocol string `yaml:"protocol"`
		Code     int    `yaml:"code"`
	} `yaml:"transport_error"`
	HTTPError bool `yaml:"http_error"`
}

type vectorFile struct {
	Name     string
	Messages []vectorMessage `yaml:"messages"`
}

// vectorsDir returns $PSSESSION_VECTORS, else ../shared/vectors/windows
// beside the module root.
func vectorsDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("PSSESSION_VECTORS"); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "vectors", "windows")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

// loadVectors reads every *.yml of the vectors folder (the whole folder,
// so new recordings are checked too).
func loadVectors(t testing.TB) []vectorFile {
	t.Helper()
	dir := vectorsDir(t)
	files, err := filepath.Glob(filepath.Join(dir, "*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no *.yml vectors in %s (set PSSESSION_VECTORS)", dir)
	}
	sort.Strings(files)
	var out []vectorFile
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var v vectorFile
		if err := yaml.Unmarshal(b, &v); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		v.Name = filepath.Base(f)
		out = append(out, v)
	}
	return out
}

// loadVector returns one file of the vectors by name.
func loadVector(t testing.TB, name string) vectorFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(vectorsDir(t), name))
	if err != nil {
		t.Fatal(err)
	}
	var v vectorFile
	if err := yaml.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	v.Name = name
	return v
}

// recorded is what the test reads back from a recorded request.
type recorded struct {
	root      *node
	header    Header
	action    string
	shellID   string
	options   []Option
	body      *node // first element of the body, or nil
	messageID string
}

func mustParse(t *testing.T, where, s string) *node {
	t.Helper()
	n, err := parseTree([]byte(s))
	if err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	return n
}

func attrNS(n *node, space, local string) string {
	for _, a := range n.Attrs {
		if a.Name.Space == space && a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// parseRecordedDuration reads an xs:duration; pypsrp's invalid negative
// form "PT-1S" (provoking fault 2150858767) reads as -1s.
func parseRecordedDuration(t *testing.T, s string) time.Duration {
	t.Helper()
	if strings.HasPrefix(s, "PT-") {
		s = "-PT" + s[3:]
	}
	d, err := ParseDuration(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func readRequest(t *testing.T, where, s string) recorded {
	t.Helper()
	root := mustParse(t, where, s)
	h := root.child(NsSOAP, "Header")
	r := recorded{root: root}
	r.action = h.child(NsAddressing, "Action").text()
	r.messageID = h.child(NsAddressing, "MessageID").text()
	r.header = Header{
		To:          h.child(NsAddressing, "To").text(),
		ResourceURI: h.child(NsWSMan, "ResourceURI").text(),
		MessageID:   r.messageID,
		SessionID:   h.child(NsWSMV, "SessionId").text(),
	}
	if n := h.child(NsWSMan, "MaxEnvelopeSize"); n != nil {
		v, err := strconv.Atoi(n.text())
		if err != nil {
			t.Fatalf("%s: MaxEnvelopeSize: %v", where, err)
		}
		r.header.MaxEnvelopeSize = v
	}
	if n := h.child(NsWSMan, "OperationTimeout"); n != nil {
		r.header.OperationTimeout = parseRecordedDuration(t, n.text())
	}
	if n := h.child(NsWSMan, "Locale"); n != nil {
		r.header.Locale = attrNS(n, NsXML, "lang")
	}
	if n := h.child(NsWSMV, "DataLocale"); n != nil {
		r.header.DataLocale = attrNS(n, NsXML, "lang")
	}
	for _, s := range h.child(NsWSMan, "SelectorSet").all(NsWSMan, "Selector") {
		if s.attr("Name") == "ShellId" {
			r.shellID = s.text()
		}
	}
	for _, o := range h.child(NsWSMan, "OptionSet").all(NsWSMan, "Option") {
		r.options = append(r.options, Option{Name: o.attr("Name"), Value: o.text(), MustComply: o.attr("MustComply") == "true"})
	}
	if b := root.child(NsSOAP, "Body"); b != nil && len(b.Children) > 0 {
		r.body = b.Children[0]
	}
	return r
}

func (r recorded) option(name string) (Option, bool) {
	for _, o := range r.options {
		if o.Name == name {
			return o, true
		}
	}
	return Option{}, false
}

// otherOptions returns the options not in known, in order.
func (r recorded) otherOptions(known ...string) []Option {
	var out []Option
outer:
	for _, o := range r.options {
		for _, k := range known {
			if o.Name == k {
				continue outer
			}
		}
		out = append(out, o)
	}
	return out
}

func duration(t *testing.T, n *node) time.Duration {
	t.Helper()
	if n == nil {
		return 0
	}
	return parseRecordedDuration(t, n.text())
}

func b64(t *testing.T, n *node) []byte {
	t.Helper()
	if n == nil {
		return nil
	}
	b, err := base64.StdEncoding.DecodeString(n.text())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var guidRE = regexp.MustCompile(`[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}`)

// normalise makes two canonical envelopes comparable: every GUID
// (MessageID, SessionId, ShellId, CommandId) becomes zeros and wsa:To a
// placeholder. pypsrp's invalid negative timeout "PT-1S" is what the
// recording provoked on purpose; we render negative durations as the
// valid xs:duration "-PT1S" (never sent in practice) — normalised here.
func normalise(canon string) string {
	canon = guidRE.ReplaceAllString(canon, "00000000-0000-0000-0000-000000000000")
	canon = strings.ReplaceAll(canon, `"-PT`, `"PT-`)
	var out []string
	for _, line := range strings.Split(canon, "\n") {
		if strings.Contains(line, "{"+NsAddressing+"}To ") {
			line = line[:strings.Index(line, "text=")] + `text="<endpoint>"`
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

// lineDiff diffs two canonical documents line by line ("" when equal).
func lineDiff(want, got string) string {
	if want == got {
		return ""
	}
	return cmp.Diff(strings.Split(want, "\n"), strings.Split(got, "\n"))
}
