package psrp

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pssession/pssession/internal/vectors"
	"github.com/pssession/pssession/remote/psrp/clixml"
)

// decodedVector is one recorded message with its decoded body.
type decodedVector struct {
	vectorMessage
	Msg  Message
	Body Body
}

// TestWindowsVectors decodes every PSRP message recorded from real Windows
// servers (and the pypsrp clients talking to them): fragments, header and
// typed body, re-encodes each body to equivalent XML and each message to
// the same fragments, and checks the content that is known.
func TestWindowsVectors(t *testing.T) {
	var total, exact int
	for _, file := range vectors.Files(t) {
		name := strings.TrimSuffix(filepath.Base(file), ".yml")
		t.Run(name, func(t *testing.T) {
			payloads, err := loadVectorPayloads(file)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range payloads {
				frags, err := ParseFragments(p.Data, 0)
				if err != nil {
					t.Fatalf("%s: %v", p.Where, err)
				}
				var again []byte
				for _, f := range frags {
					again = f.Append(again)
				}
				if !bytes.Equal(again, p.Data) {
					t.Errorf("%s: fragments re-encode to different bytes", p.Where)
				}
			}
			msgs, err := reassembleVectors(payloads)
			if err != nil {
				t.Fatal(err)
			}
			var decoded []decodedVector
			for i, vm := range msgs {
				var d decodedVector
				ok := t.Run(fmt.Sprintf("%03d", i), func(t *testing.T) {
					d, exact = checkVectorMessage(t, vm, exact)
				})
				total++
				if ok {
					decoded = append(decoded, d)
				}
			}
			if want, ok := knownVectors[name]; ok {
				if diff := cmp.Diff(want, summarizeVectors(decoded)); diff != "" {
					t.Errorf("decoded content (-want +got):\n%s", diff)
				}
			}
		})
	}
	t.Logf("%d messages; %d re-encode byte for byte to the recorded fragments", total, exact)
}

// checkVectorMessage checks one recorded message; exact counts the
// messages whose re-encoding is byte-identical.
func checkVectorMessage(t *testing.T, vm vectorMessage, exact int) (decodedVector, int) {
	t.Helper()
	d := decodedVector{vectorMessage: vm}
	msg, err := DecodeMessage(vm.Raw)
	if err != nil {
		t.Fatalf("%s: %v", vm.Where, err)
	}
	d.Msg = msg
	wantDest := DestinationServer
	if vm.Payload.FromPeer == "server" {
		wantDest = DestinationClient
		if !msg.BOM {
			t.Errorf("%s: Windows message %v without BOM", vm.Where, msg.Type)
		}
	}
	if msg.Destination != wantDest {
		t.Errorf("%s: destination %v, want %v", vm.Where, msg.Destination, wantDest)
	}
	if !msg.Type.Known() {
		t.Fatalf("%s: unknown message type %v", vm.Where, msg.Type)
	}
	if msg.Type.PipelineScoped() != (msg.PID != clixml.GUID{}) && msg.Type != MsgWarningRecord {
		t.Errorf("%s: %v with PID %v", vm.Where, msg.Type, msg.PID)
	}
	body, err := msg.DecodeBody(clixml.Limits{})
	if err != nil {
		t.Fatalf("%s: %v\n%s", vm.Where, err, msg.Data)
	}
	d.Body = body
	if body.MessageType() != msg.Type {
		t.Fatalf("%s: body type %v for message %v", vm.Where, body.MessageType(), msg.Type)
	}
	data, err := EncodeBody(body)
	if err != nil {
		t.Fatalf("%s: EncodeBody: %v", vm.Where, err)
	}
	if len(msg.Data) == 0 || len(data) == 0 {
		if !bytes.Equal(msg.Data, data) {
			t.Fatalf("%s: re-encoded %q, recorded %q", vm.Where, data, msg.Data)
		}
	} else {
		want, err := clixml.Canonicalize(pypsrpQuirks.Replace(msg.Data))
		if err != nil {
			t.Fatalf("%s: canonicalize recorded: %v", vm.Where, err)
		}
		got, err := clixml.Canonicalize(data)
		if err != nil {
			t.Fatalf("%s: canonicalize re-encoded: %v", vm.Where, err)
		}
		if diff := cmp.Diff(string(want), string(got)); diff != "" {
			t.Fatalf("%s %v: re-encoded body differs (-recorded +re-encoded):\n%s", vm.Where, msg.Type, diff)
		}
	}
	again, err := DecodeBody(msg.Type, data, clixml.Limits{})
	if err != nil {
		t.Fatalf("%s: decode re-encoded: %v", vm.Where, err)
	}
	if diff := cmp.Diff(body, again); diff != "" {
		t.Errorf("%s: body changes over a round trip (-first +second):\n%s", vm.Where, diff)
	}
	// Same content, same ObjectId and blob size: same fragment bytes.
	m2, err := NewMessage(msg.Destination, msg.RPID, msg.PID, body)
	if err != nil {
		t.Fatal(err)
	}
	m2.BOM = msg.BOM
	raw := m2.Encode()
	if !bytes.Equal(raw, vm.Raw) && vm.Payload.FromPeer == "server" {
		// pypsrp's requests differ in attribute order and empty-element
		// forms only (checked above); what Windows writes we write alike.
		t.Errorf("%s: re-encoded Windows message differs byte for byte", vm.Where)
	}
	if bytes.Equal(raw, vm.Raw) {
		exact++
		maxBlob := len(vm.Fragments[0].Blob)
		var got, want []byte
		for _, f := range SplitMessage(vm.ObjectID, raw, maxBlob) {
			got = f.Append(got)
		}
		for _, f := range vm.Fragments {
			want = f.Append(want)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: re-fragmented message differs from the recorded fragments", vm.Where)
		}
	}
	return d, exact
}

// pypsrpQuirks undoes what pypsrp writes differently from PowerShell where
// Windows only reads the number: pypsrp names PipelineResultTypes 3
// "Output, Error" as if the enum were flags; .NET names it Warning.
var pypsrpQuirks = quirkReplacer{old: []byte("<ToString>Output, Error</ToString><I32>3</I32>"), new: []byte("<ToString>Warning</ToString><I32>3</I32>")}

type quirkReplacer struct{ old, new []byte }

func (q quirkReplacer) Replace(b []byte) []byte { return bytes.ReplaceAll(b, q.old, q.new) }

// summarizeVectors reduces a file's messages to the content asserted for
// known recordings: one line per message of interest.
func summarizeVectors(ds []decodedVector) []string {
	var out []string
	for _, d := range ds {
		switch b := d.Body.(type) {
		case *RunspacePoolStateBody:
			s := "pool " + b.State.String()
			if b.Error != nil {
				s += ": " + (&ErrorRecordBody{Record: b.Error}).Message()
			}
			out = append(out, s)
		case *PipelineStateBody:
			s := "pipeline " + b.State.String()
			if b.Error != nil {
				s += ": " + (&ErrorRecordBody{Record: b.Error}).Message()
			}
			out = append(out, s)
		case *PipelineOutputBody:
			out = append(out, "output "+summarizeValue(b.Data))
		case *ErrorRecordBody:
			out = append(out, "error "+b.Message())
		case *WarningRecordBody:
			out = append(out, "warning "+informationalText(b.InformationalRecord()))
		case *VerboseRecordBody:
			out = append(out, "verbose "+informationalText(b.InformationalRecord()))
		case *DebugRecordBody:
			out = append(out, "debug "+informationalText(b.InformationalRecord()))
		case *InformationRecordBody:
			s := "information "
			if rec, err := b.InformationRecord(); err != nil {
				s += "error: " + err.Error()
			} else {
				s += fmt.Sprintf("%q", rec.Text())
			}
			out = append(out, s)
		case *ProgressRecordBody:
			if _, err := b.ProgressRecord(); err != nil {
				out = append(out, "progress error: "+err.Error())
			}
		case *PipelineHostCallBody:
			out = append(out, fmt.Sprintf("host call %d %v %d params", b.CallID, b.Method, len(b.Params)))
		case *PipelineHostResponseBody:
			out = append(out, fmt.Sprintf("host response %d %v %s", b.CallID, b.Method, summarizeValue(b.Result)))
		case *RunspaceAvailabilityBody:
			out = append(out, fmt.Sprintf("availability %d %v", b.CallID, b.Response))
		}
	}
	return out
}

func informationalText(rec *clixml.InformationalRecord, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	return rec.Message
}

func summarizeValue(v clixml.Value) string {
	switch v := v.(type) {
	case string:
		if len(v) > 60 {
			v = v[:60] + "…"
		}
		return fmt.Sprintf("%q", v)
	case *clixml.Object:
		if len(v.TypeNames) > 0 {
			return "object " + v.TypeNames[0]
		}
		return "object"
	case clixml.SecureString:
		return "clixml.SecureString " + string(v)
	case nil:
		return "nil"
	}
	return fmt.Sprintf("%T %v", v, v)
}

// knownVectors is the content of recordings whose meaning is known (see
// the pypsrp tests that recorded them).
var knownVectors = map[string][]string{
	"test_psrp_application_args": {
		"pool Opened",
		"output object System.Management.Automation.PSPrimitiveDictionary",
		"pipeline Completed",
	},
	"test_psrp_error_failed": {
		"pool Opened",
		"output \"before\"",
		"pipeline Failed: error",
	},
	"test_psrp_merge_commands": {
		"pool Opened",
		"output object System.Management.Automation.DebugRecord",
		"output object System.Management.Automation.VerboseRecord",
		"output object System.Management.Automation.ErrorRecord",
		"output \"output stream\"",
		"output object System.Management.Automation.WarningRecord",
		"output object System.Management.Automation.InformationRecord",
		"debug debug stream",
		"verbose verbose stream",
		"error error stream",
		"output \"output stream\"",
		"warning warning stream",
		"information \"information stream\"",
		"pipeline Completed",
	},
	"test_psrp_multiple_commands": {
		"pool Opened",
		"output \"Hello World\"",
		"output clixml.SecureString rTm4n3bxaFOIgdjhDDV5OA==",
		"output \"こんにちは - actual_x000A_string\\nnewline: 𐐷\"",
		"output \"hi\\\"\"",
		"output \"win-nnmu24vvkj0\\\\vagrant\"",
		"output int32 123",
		"output object System.ServiceProcess.ServiceController",
		"pipeline Completed",
	},
	"test_psrp_multiple_invocations": {
		"pool Opened",
		"output int32 2",
		"pipeline Completed",
		"output int32 2",
		"pipeline Completed",
	},
	"test_psrp_pshost_ui_mocked_methods": {
		"pool Opened",
		"host call 1 ReadLine 0 params",
		"host response 1 ReadLine \"ReadLine response\"",
		"output \"ReadLine response\"",
		"host call 2 ReadLineAsSecureString 0 params",
		"host response 2 ReadLineAsSecureString clixml.SecureString xTIlte2IE7q6bM0/U/PTtjmnmBO4+KhQ3NBK7A+uB3sqxukLSeI7lBLn5aHskOCliWqEdgEGRaAAQo5q9L4g2g==",
		"output clixml.SecureString xTIlte2IE7q6bM0/U/PTtjmnmBO4+KhQ3NBK7A+uB3sqxukLSeI7lBLn5aHskOCliWqEdgEGRaAAQo5q9L4g2g==",
		"host call -100 Write1 1 params",
		"host call -100 Write2 3 params",
		"host call -100 WriteLine1 0 params",
		"host call -100 WriteLine2 1 params",
		"host call -100 WriteLine3 3 params",
		"host call -100 WriteErrorLine 1 params",
		"debug WriteDebugLine",
		"host call -100 WriteDebugLine 1 params",
		"host call -100 WriteProgress 2 params",
		"host call -100 WriteProgress 2 params",
		"verbose WriteVerboseLine",
		"host call -100 WriteVerboseLine 1 params",
		"warning WriteWarningLine",
		"host call -100 WriteWarningLine 1 params",
		"host call 3 Prompt 3 params",
		"host response 3 Prompt object System.Collections.Hashtable",
		"output object System.Collections.Generic.Dictionary`2[[System.String, mscorlib, Version=4.0.0.0, Culture=neutral, PublicKeyToken=b77a5c561934e089],[System.Management.Automation.PSObject, System.Management.Automation, Version=3.0.0.0, Culture=neutral, PublicKeyToken=31bf3856ad364e35]]",
		"host call 4 PromptForCredential2 6 params",
		"host response 4 PromptForCredential2 object System.Management.Automation.PSCredential",
		"output object System.Management.Automation.PSCredential",
		"host call 5 PromptForChoice 4 params",
		"host response 5 PromptForChoice int32 1",
		"output int32 1",
		"pipeline Completed",
	},
	"test_psrp_reset_runspace_state": {
		"pool Opened",
		"output \"hi\"",
		"pipeline Completed",
		"availability 0 true",
		"pipeline Completed",
	},
	"test_psrp_reset_runspace_state_fail": {
		"pool Opened",
		"availability 0 false",
	},
	"test_psrp_set_runspaces": {
		"pool Opened",
		"availability 0 1",
		"availability 1 true",
		"availability 2 5",
		"availability 3 true",
		"availability 4 false",
		"availability 5 false",
	},
}
