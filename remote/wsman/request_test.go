package wsman

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// rebuild reads the operation and its parameters from a recorded request
// and renders the same request with this package's builders.
func rebuild(t *testing.T, r recorded) Request {
	t.Helper()
	b := r.body
	switch r.action {
	case ActionCreate:
		if r.header.ResourceURI == ResourceCmd {
			req := CreateCmdRequest{
				InputStreams:     b.child(NsShell, "InputStreams").text(),
				OutputStreams:    b.child(NsShell, "OutputStreams").text(),
				IdleTimeout:      duration(t, b.child(NsShell, "IdleTimeOut")),
				Lifetime:         duration(t, b.child(NsShell, "Lifetime")),
				Name:             b.child(NsShell, "Name").text(),
				WorkingDirectory: b.child(NsShell, "WorkingDirectory").text(),
				Options:          r.otherOptions(OptionNoProfile, OptionCodepage),
			}
			for _, v := range b.child(NsShell, "Environment").all(NsShell, "Variable") {
				req.Environment = append(req.Environment, EnvVar{Name: v.attr("Name"), Value: v.Text})
			}
			if o, ok := r.option(OptionNoProfile); ok && o.Value == "TRUE" {
				req.NoProfile = true
			}
			if o, ok := r.option(OptionCodepage); ok {
				req.Codepage, _ = strconv.Atoi(o.Value)
			}
			return req
		}
		req := CreateRequest{
			ShellID:       b.attr("ShellId"),
			Name:          b.child(NsShell, "Name").text(),
			IdleTimeout:   duration(t, b.child(NsShell, "IdleTimeOut")),
			CreationXML:   b64(t, b.child(NsPowerShell, "creationXml")),
			InputStreams:  b.child(NsShell, "InputStreams").text(),
			OutputStreams: b.child(NsShell, "OutputStreams").text(),
			Options:       r.otherOptions(OptionProtocolVersion, OptionNoProfile),
		}
		if o, ok := r.option(OptionProtocolVersion); ok {
			req.ProtocolVersion = o.Value
		}
		if o, ok := r.option(OptionNoProfile); ok && o.Value == "TRUE" {
			req.NoProfile = true
		}
		return req
	case ActionCommand:
		req := CommandRequest{
			ShellID:   r.shellID,
			CommandID: b.attr("CommandId"),
			Command:   b.child(NsShell, "Command").Text,
		}
		for _, a := range b.all(NsShell, "Arguments") {
			req.Arguments = append(req.Arguments, a.Text)
		}
		if o, ok := r.option(OptionSkipCmdShell); ok && o.Value == "True" {
			req.SkipCmdShell = true
		}
		return req
	case ActionSend:
		req := SendRequest{ShellID: r.shellID}
		for _, s := range b.all(NsShell, "Stream") {
			st := SendStream{Name: s.attr("Name"), CommandID: s.attr("CommandId"), Data: b64(t, s)}
			if s.hasAttr("End") {
				end := strings.EqualFold(s.attr("End"), "true")
				st.End = &end
			}
			req.Streams = append(req.Streams, st)
		}
		return req
	case ActionReceive:
		ds := b.child(NsShell, "DesiredStream")
		return ReceiveRequest{ShellID: r.shellID, CommandID: ds.attr("CommandId"), Streams: ds.text()}
	case ActionSignal:
		return SignalRequest{ShellID: r.shellID, CommandID: b.attr("CommandId"), Code: b.child(NsShell, "Code").text()}
	case ActionDelete:
		return DeleteRequest{ShellID: r.shellID}
	case ActionDisconnect:
		return DisconnectRequest{ShellID: r.shellID, IdleTimeout: duration(t, b.child(NsShell, "IdleTimeOut")), BufferMode: b.child(NsShell, "BufferMode").text()}
	case ActionReconnect:
		return ReconnectRequest{ShellID: r.shellID}
	case ActionConnect:
		req := ConnectRequest{ShellID: r.shellID, CommandID: b.attr("CommandId"), ConnectXML: b64(t, b.child(NsPowerShell, "connectXml"))}
		if o, ok := r.option(OptionProtocolVersion); ok {
			req.ProtocolVersion = o.Value
		}
		return req
	case ActionGet:
		switch r.header.ResourceURI {
		case ResourceShell:
			return GetShellRequest{ShellID: r.shellID}
		case ResourceConfig:
			return GetConfigRequest{}
		}
	case ActionEnumerate:
		req := EnumerateRequest{ResourceURI: r.header.ResourceURI, Optimize: b.child(NsWSMan, "OptimizeEnumeration") != nil}
		if m := b.child(NsWSMan, "MaxElements"); m != nil {
			req.MaxElements, _ = strconv.Atoi(m.text())
		}
		for _, s := range b.child(NsWSMan, "Filter").child(NsWSMan, "SelectorSet").all(NsWSMan, "Selector") {
			if s.attr("Name") == "ShellId" {
				req.ShellID = s.text()
			}
		}
		return req
	case ActionPull:
		req := PullRequest{ResourceURI: r.header.ResourceURI, Context: b.child(NsEnumeration, "EnumerationContext").text()}
		if m := b.child(NsEnumeration, "MaxElements"); m != nil {
			req.MaxElements, _ = strconv.Atoi(m.text())
		}
		return req
	}
	t.Fatalf("no builder for action %q on %q", r.action, r.header.ResourceURI)
	return nil
}

// TestRequestsMatchRecordings rebuilds every recorded request of the
// Windows vectors and compares canonical XML.
func TestRequestsMatchRecordings(t *testing.T) {
	actions := map[string]int{}
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			for i, m := range v.Messages {
				where := fmt.Sprintf("%s message %d", v.Name, i)
				r := readRequest(t, where, m.Request)
				got := rebuild(t, r).Envelope(r.header)
				wantC, err := CanonicalXML([]byte(m.Request))
				if err != nil {
					t.Fatalf("%s: %v", where, err)
				}
				gotC, err := CanonicalXML(got)
				if err != nil {
					t.Fatalf("%s: our envelope does not parse: %v\n%s", where, err, got)
				}
				if d := lineDiff(normalise(wantC), normalise(gotC)); d != "" {
					t.Errorf("%s (%s): envelope differs (-recorded +ours):\n%s", where, r.action, d)
				}
				actions[r.action]++
			}
		})
	}
	// Every operation the recordings hold was compared.
	for _, a := range []string{ActionCreate, ActionCommand, ActionSend, ActionReceive, ActionSignal, ActionDelete,
		ActionDisconnect, ActionReconnect, ActionConnect, ActionGet, ActionEnumerate} {
		if actions[a] == 0 {
			t.Errorf("no recorded %s request was compared", a)
		}
	}
}
