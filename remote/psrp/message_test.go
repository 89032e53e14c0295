package psrp

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pssession/pssession/remote/psrp/clixml"
)

func mustGUID(t testing.TB, s string) clixml.GUID {
	t.Helper()
	g, err := clixml.ParseGUID(s)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestMessageEncodeDecode(t *testing.T) {
	rpid := mustGUID(t, "00112233-4455-6677-8899-aabbccddeeff")
	pid := mustGUID(t, "01020304-0506-0708-090a-0b0c0d0e0f10")
	tests := []struct {
		name    string
		m       Message
		wantHex string
	}{
		{
			name: "pool message with BOM",
			m:    Message{Destination: DestinationServer, Type: MsgSessionCapability, RPID: rpid, Data: []byte("<Obj/>"), BOM: true},
			wantHex: "02000000" + "02000100" + "33221100554477668899aabbccddeeff" + strings.Repeat("00", 16) +
				"efbbbf" + hex.EncodeToString([]byte("<Obj/>")),
		},
		{
			name: "pipeline message without BOM",
			m:    Message{Destination: DestinationClient, Type: MsgPipelineOutput, RPID: rpid, PID: pid, Data: []byte("<S>x</S>")},
			wantHex: "01000000" + "04100400" + "33221100554477668899aabbccddeeff" + "0403020106050807090a0b0c0d0e0f10" +
				hex.EncodeToString([]byte("<S>x</S>")),
		},
		{
			name:    "empty data",
			m:       Message{Destination: DestinationServer, Type: MsgEndOfPipelineInput, RPID: rpid, PID: pid, Data: []byte{}},
			wantHex: "02000000" + "03100400" + "33221100554477668899aabbccddeeff" + "0403020106050807090a0b0c0d0e0f10",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc := tt.m.Encode()
			if diff := cmp.Diff(tt.wantHex, hex.EncodeToString(enc)); diff != "" {
				t.Fatalf("Encode (-want +got):\n%s", diff)
			}
			if len(enc) != tt.m.Size() {
				t.Fatalf("Size = %d, encoded %d", tt.m.Size(), len(enc))
			}
			got, err := DecodeMessage(enc)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.m, got); diff != "" {
				t.Fatalf("DecodeMessage (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeMessageShort(t *testing.T) {
	_, err := DecodeMessage(make([]byte, MessageHeaderSize-1))
	var me *MessageError
	if !errors.As(err, &me) {
		t.Fatalf("err = %v, want *MessageError", err)
	}
}

func TestDecodeMessageAllocs(t *testing.T) {
	b := (&Message{Destination: DestinationClient, Type: MsgPipelineOutput, Data: []byte("<S>x</S>"), BOM: true}).Encode()
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := DecodeMessage(b); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("DecodeMessage allocates %v times, want 0", allocs)
	}
}

func TestMessageTypeString(t *testing.T) {
	tests := []struct {
		t    MessageType
		want string
	}{
		{MsgSessionCapability, "SESSION_CAPABILITY"},
		{MsgRunspacePoolInitData, "RUNSPACEPOOL_INIT_DATA"},
		{MsgProgressRecord, "PROGRESS_RECORD"},
		{MsgPipelineHostResponse, "PIPELINE_HOST_RESPONSE"},
		{MessageType(0x12345678), "MessageType(0x12345678)"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.t.String(); got != tt.want {
				t.Fatalf("String() = %q, want %q", got, tt.want)
			}
		})
	}
	if len(messageTypeNames) != 31 {
		t.Fatalf("%d message types named, MS-PSRP 2.2.1 lists 31", len(messageTypeNames))
	}
}

func TestMessageTypeScope(t *testing.T) {
	for mt := range messageTypeNames {
		want := strings.HasPrefix(mt.String(), "PIPELINE_") || strings.HasSuffix(mt.String(), "_RECORD") ||
			mt == MsgCreatePipeline || mt == MsgGetCommandMetadata || mt == MsgEndOfPipelineInput
		if mt == MsgPipelineHostCall || mt == MsgPipelineHostResponse {
			want = true
		}
		if got := mt.PipelineScoped(); got != want {
			t.Errorf("%v.PipelineScoped() = %v, want %v", mt, got, want)
		}
	}
}
