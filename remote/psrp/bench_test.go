package psrp

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pssession/pssession/remote/psrp/clixml"
)

// windowsStreamBytes is the fragment bytes Windows packs into one Receive
// response of a 512000-byte envelope (base64 and SOAP overhead removed).
const windowsStreamBytes = 380_000

// outputStream builds what `… | Out-String -Stream` sends: PIPELINE_OUTPUT
// messages each holding one <S> line of about 80 characters, with a BOM,
// one whole message per fragment, concatenated up to one envelope.
func outputStream(tb testing.TB) (stream []byte, lines int) {
	tb.Helper()
	var fz Fragmenter
	rpid := mustGUID(tb, "b2dde5ba-f22f-4493-9b8e-8b565073f563")
	pid := mustGUID(tb, "e23baf0e-0dbf-4c41-a9f4-7041b281877a")
	for i := 0; len(stream) < windowsStreamBytes; i++ {
		line := fmt.Sprintf("-a----        12/03/2024     10:%02d          %6d report-%04d.txt", i%60, i*37%100000, i)
		line += strings.Repeat(" ", 80-len(line))
		m, err := NewMessage(DestinationClient, rpid, pid, &PipelineOutputBody{Data: line})
		if err != nil {
			tb.Fatal(err)
		}
		m.BOM = true
		stream = fz.Append(stream, m.Encode(), 1<<20)
		lines++
	}
	return stream, lines
}

// BenchmarkDecodePipelineOutput measures fragments → reassembled messages
// → headers → decoded output strings for one envelope of Out-String
// output.
func BenchmarkDecodePipelineOutput(b *testing.B) {
	stream, lines := outputStream(b)
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	var r Reassembler
	msgs := make([][]byte, 0, lines)
	b.ResetTimer()
	for b.Loop() {
		var err error
		msgs, err = r.Feed(msgs[:0], stream)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for _, raw := range msgs {
			m, err := DecodeMessage(raw)
			if err != nil {
				b.Fatal(err)
			}
			body, err := m.DecodeBody(clixml.Limits{})
			if err != nil {
				b.Fatal(err)
			}
			if s, ok := body.(*PipelineOutputBody).Data.(string); ok {
				n += len(s)
			}
		}
		if n != lines*80 {
			b.Fatalf("decoded %d characters, want %d", n, lines*80)
		}
	}
}

// windowsErrorRecord is an ERROR_RECORD body shaped like the one Windows
// PowerShell 5.1 sends for Write-Error; the benchmark prefers the recorded
// one when the vectors are there.
const windowsErrorRecord = `<Obj RefId="0"><TN RefId="0"><T>System.Management.Automation.ErrorRecord</T><T>System.Object</T></TN><ToString>error stream</ToString><MS><B N="writeErrorStream">true</B><Obj N="Exception" RefId="1"><TN RefId="1"><T>Microsoft.PowerShell.Commands.WriteErrorException</T><T>System.SystemException</T><T>System.Exception</T><T>System.Object</T></TN><ToString>Microsoft.PowerShell.Commands.WriteErrorException: error stream</ToString><Props><S N="Message">error stream</S><Obj N="Data" RefId="2"><TN RefId="2"><T>System.Collections.ListDictionaryInternal</T><T>System.Object</T></TN><DCT /></Obj><Nil N="InnerException" /><Nil N="TargetSite" /><Nil N="StackTrace" /><Nil N="HelpLink" /><Nil N="Source" /><I32 N="HResult">-2146233087</I32></Props></Obj><Nil N="TargetObject" /><S N="FullyQualifiedErrorId">Microsoft.PowerShell.Commands.WriteErrorException</S><Obj N="InvocationInfo" RefId="3"><TN RefId="3"><T>System.Management.Automation.InvocationInfo</T><T>System.Object</T></TN><ToString>System.Management.Automation.InvocationInfo</ToString><Props><S N="MyCommand">Write-Error</S><Obj N="BoundParameters" RefId="4"><TN RefId="4"><T>System.Collections.Generic.Dictionary` + "`" + `2[[System.String, mscorlib, Version=4.0.0.0, Culture=neutral, PublicKeyToken=b77a5c561934e089],[System.Object, mscorlib, Version=4.0.0.0, Culture=neutral, PublicKeyToken=b77a5c561934e089]]</T><T>System.Object</T></TN><DCT /></Obj><Obj N="UnboundArguments" RefId="5"><TN RefId="5"><T>System.Collections.Generic.List` + "`" + `1[[System.Object, mscorlib, Version=4.0.0.0, Culture=neutral, PublicKeyToken=b77a5c561934e089]]</T><T>System.Object</T></TN><LST /></Obj><I32 N="ScriptLineNumber">1</I32><I32 N="OffsetInLine">1</I32><I64 N="HistoryId">1</I64><S N="ScriptName"></S><S N="Line">Write-Error -Message "error stream"</S><S N="PositionMessage">At line:1 char:1_x000D__x000A_+ Write-Error -Message "error stream"_x000D__x000A_+ ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~</S><S N="PSScriptRoot"></S><Nil N="PSCommandPath" /><S N="InvocationName">Write-Error</S><I32 N="PipelineLength">0</I32><I32 N="PipelinePosition">0</I32><B N="ExpectingInput">false</B><S N="CommandOrigin">Internal</S><Nil N="DisplayScriptPosition" /></Props></Obj><I32 N="ErrorCategory_Category">0</I32><S N="ErrorCategory_Activity">Write-Error</S><S N="ErrorCategory_Reason">WriteErrorException</S><S N="ErrorCategory_TargetName"></S><S N="ErrorCategory_TargetType"></S><S N="ErrorCategory_Message">NotSpecified: (:) [Write-Error], WriteErrorException</S><B N="SerializeExtendedInfo">true</B><Obj N="InvocationInfo_BoundParameters" RefId="6"><TNRef RefId="4" /><DCT /></Obj><Obj N="InvocationInfo_CommandOrigin" RefId="7"><TN RefId="6"><T>System.Management.Automation.CommandOrigin</T><T>System.Enum</T><T>System.ValueType</T><T>System.Object</T></TN><ToString>Internal</ToString><I32>1</I32></Obj><B N="InvocationInfo_ExpectingInput">false</B><S N="InvocationInfo_InvocationName">Write-Error</S><S N="InvocationInfo_Line">Write-Error -Message "error stream"</S><I32 N="InvocationInfo_OffsetInLine">1</I32><I64 N="InvocationInfo_HistoryId">1</I64><Obj N="InvocationInfo_PipelineIterationInfo" RefId="8"><TN RefId="7"><T>System.Int32[]</T><T>System.Array</T><T>System.Object</T></TN><LST><I32>0</I32><I32>1</I32></LST></Obj><I32 N="InvocationInfo_PipelineLength">1</I32><I32 N="InvocationInfo_PipelinePosition">1</I32><S N="InvocationInfo_PSScriptRoot"></S><Nil N="InvocationInfo_PSCommandPath" /><S N="InvocationInfo_PositionMessage">At line:1 char:1_x000D__x000A_+ Write-Error -Message "error stream"_x000D__x000A_+ ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~</S><I32 N="InvocationInfo_ScriptLineNumber">1</I32><S N="InvocationInfo_ScriptName"></S><Obj N="InvocationInfo_UnboundArguments" RefId="9"><TNRef RefId="5" /><LST /></Obj><B N="SerializeExtent">false</B><Obj N="CommandInfo_CommandType" RefId="10"><TN RefId="8"><T>System.Management.Automation.CommandTypes</T><T>System.Enum</T><T>System.ValueType</T><T>System.Object</T></TN><ToString>Cmdlet</ToString><I32>8</I32></Obj><S N="CommandInfo_Definition">Write-Error</S><S N="CommandInfo_Name">Write-Error</S><Obj N="CommandInfo_Visibility" RefId="11"><TN RefId="9"><T>System.Management.Automation.SessionStateEntryVisibility</T><T>System.Enum</T><T>System.ValueType</T><T>System.Object</T></TN><ToString>Public</ToString><I32>0</I32></Obj><Obj N="PipelineIterationInfo" RefId="12"><TN RefId="10"><T>System.Collections.ObjectModel.ReadOnlyCollection` + "`" + `1[[System.Int32, mscorlib, Version=4.0.0.0, Culture=neutral, PublicKeyToken=b77a5c561934e089]]</T><T>System.Object</T></TN><LST><I32>0</I32><I32>1</I32></LST></Obj></MS></Obj>`

// BenchmarkDecodeErrorRecord measures fragment → message → typed
// ErrorRecord for a Windows-shaped Write-Error record.
func BenchmarkDecodeErrorRecord(b *testing.B) {
	var fz Fragmenter
	m := Message{Destination: DestinationClient, Type: MsgErrorRecord, RPID: clixml.GUID{1}, PID: clixml.GUID{2}, Data: []byte(windowsErrorRecord), BOM: true}
	stream := fz.Append(nil, m.Encode(), 1<<20)
	if rec := recordedErrorRecord(b); rec != nil {
		stream = rec
	}
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	var r Reassembler
	var msgs [][]byte
	for b.Loop() {
		var err error
		msgs, err = r.Feed(msgs[:0], stream)
		if err != nil || len(msgs) != 1 {
			b.Fatal(err)
		}
		m, err := DecodeMessage(msgs[0])
		if err != nil {
			b.Fatal(err)
		}
		body, err := m.DecodeBody(clixml.Limits{})
		if err != nil {
			b.Fatal(err)
		}
		if got := body.(*ErrorRecordBody).Message(); got != "error stream" {
			b.Fatalf("message %q", got)
		}
	}
}

// recordedErrorRecord returns the fragment bytes of the first
// ERROR_RECORD in the recorded vectors, or nil.
func recordedErrorRecord(b *testing.B) []byte {
	for _, file := range vectorFilesIfAny(b) {
		ps, err := loadVectorPayloads(file)
		if err != nil {
			continue
		}
		ms, _ := reassembleVectors(ps)
		for _, vm := range ms {
			if m, err := DecodeMessage(vm.Raw); err == nil && m.Type == MsgErrorRecord && len(vm.Fragments) == 1 {
				return vm.Fragments[0].Encode()
			}
		}
	}
	return nil
}
