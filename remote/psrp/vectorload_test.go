package psrp

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/pssession/pssession/internal/vectors"
)

// XML namespaces of the WSMan elements that carry PSRP data.
const (
	nsShell      = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
	nsPowerShell = "http://schemas.microsoft.com/powershell"
	nsWSMan      = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
	nsAddressing = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
)

// vectorPayload is the base64-decoded content of one WSMan element that
// carries PSRP fragments.
type vectorPayload struct {
	Where     string // "message 3 response stream stdout"
	FromPeer  string // "client" or "server": who sent the fragments
	ShellID   string
	CommandID string // empty for the pool
	Data      []byte
	Connect   bool // the request is a Connect or Reconnect: reassembly restarts
}

// scope names the fragment stream a payload belongs to.
func (p vectorPayload) scope() string {
	return p.FromPeer + "/" + strings.ToUpper(p.ShellID) + "/" + strings.ToUpper(p.CommandID)
}

// loadVectorPayloads parses one vector file and returns its PSRP payloads
// in wire order. Exchanges with a resource URI other than PowerShell's
// (WinRS cmd shells) carry no PSRP and are skipped.
func loadVectorPayloads(file string) ([]vectorPayload, error) {
	vf, err := vectors.Load(file)
	if err != nil {
		return nil, err
	}
	var out []vectorPayload
	for i, ex := range vf.Messages {
		req, err := vectors.ParseXML([]byte(ex.Request))
		if err != nil {
			return nil, fmt.Errorf("message %d request: %w", i, err)
		}
		var resourceURI, action, shellID string
		for _, n := range req.Find(nsWSMan, "ResourceURI") {
			resourceURI = strings.TrimSpace(n.Text)
		}
		for _, n := range req.Find(nsAddressing, "Action") {
			action = strings.TrimSpace(n.Text)
		}
		if !strings.Contains(resourceURI, "/powershell/") {
			continue
		}
		for _, n := range req.Find(nsWSMan, "Selector") {
			if n.Attr("Name") == "ShellId" {
				shellID = strings.TrimSpace(n.Text)
			}
		}
		for _, n := range req.Find(nsShell, "Shell") {
			if id := n.Attr("ShellId"); id != "" {
				shellID = id
			}
		}
		connect := strings.HasSuffix(action, "/Connect") || strings.HasSuffix(action, "/Reconnect")
		add := func(where, from, cmd, text string) error {
			text = strings.Join(strings.Fields(text), "")
			if text == "" {
				return nil
			}
			data, err := base64.StdEncoding.DecodeString(text)
			if err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
			out = append(out, vectorPayload{Where: where, FromPeer: from, ShellID: shellID, CommandID: cmd, Data: data, Connect: connect})
			return nil
		}
		// Client → server: creationXml, connectXml, Command Arguments, Send streams.
		for _, name := range []string{"creationXml", "connectXml"} {
			for _, n := range req.Find(nsPowerShell, name) {
				if err := add(fmt.Sprintf("message %d request %s", i, name), "client", "", n.Text); err != nil {
					return nil, err
				}
			}
		}
		for _, cl := range req.Find(nsShell, "CommandLine") {
			for _, n := range cl.Find(nsShell, "Arguments") {
				if err := add(fmt.Sprintf("message %d request Arguments", i), "client", cl.Attr("CommandId"), n.Text); err != nil {
					return nil, err
				}
			}
		}
		for _, send := range req.Find(nsShell, "Send") {
			for _, n := range send.Find(nsShell, "Stream") {
				if err := add(fmt.Sprintf("message %d request stream %s", i, n.Attr("Name")), "client", n.Attr("CommandId"), n.Text); err != nil {
					return nil, err
				}
			}
		}
		if ex.Response == "" {
			continue
		}
		resp, err := vectors.ParseXML([]byte(ex.Response))
		if err != nil {
			return nil, fmt.Errorf("message %d response: %w", i, err)
		}
		for _, n := range resp.Find(nsPowerShell, "connectResponseXml") {
			if err := add(fmt.Sprintf("message %d response connectResponseXml", i), "server", "", n.Text); err != nil {
				return nil, err
			}
		}
		for _, rr := range resp.Find(nsShell, "ReceiveResponse") {
			for j, n := range rr.Find(nsShell, "Stream") {
				if err := add(fmt.Sprintf("message %d response stream %d %s", i, j, n.Attr("Name")), "server", n.Attr("CommandId"), n.Text); err != nil {
					return nil, err
				}
			}
		}
	}
	return out, nil
}

// vectorMessage is one reassembled PSRP message of a vector file.
type vectorMessage struct {
	Where     string // payload location plus ObjectId
	Payload   vectorPayload
	ObjectID  uint64
	Fragments []Fragment // as they travelled
	Raw       []byte     // the reassembled message
}

// reassembleVectors turns a file's payloads into messages, one Reassembler
// per sender and stream scope, restarted on Connect/Reconnect.
func reassembleVectors(payloads []vectorPayload) ([]vectorMessage, error) {
	rs := map[string]*Reassembler{}
	frags := map[string][]Fragment{}
	var out []vectorMessage
	for _, p := range payloads {
		if p.Connect && p.FromPeer == "client" {
			for _, r := range rs {
				r.Reset()
			}
			clear(frags)
		}
		r := rs[p.scope()]
		if r == nil {
			r = &Reassembler{}
			rs[p.scope()] = r
		}
		fs, err := ParseFragments(p.Data, 0)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.Where, err)
		}
		for _, f := range fs {
			key := fmt.Sprintf("%s/%d", p.scope(), f.ObjectID)
			frags[key] = append(frags[key], f)
			msg, ok, err := r.Add(f)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", p.Where, err)
			}
			if ok {
				out = append(out, vectorMessage{
					Where:     fmt.Sprintf("%s object %d", p.Where, f.ObjectID),
					Payload:   p,
					ObjectID:  f.ObjectID,
					Fragments: frags[key],
					Raw:       bytes.Clone(msg),
				})
				delete(frags, key)
			}
		}
	}
	for k, r := range rs {
		if r.Pending() != 0 {
			return out, fmt.Errorf("%s: %d messages left incomplete", k, r.Pending())
		}
	}
	return out, nil
}
