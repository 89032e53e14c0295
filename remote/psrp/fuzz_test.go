package psrp

import (
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/pssession/pssession/internal/vectors"
	"github.com/pssession/pssession/remote/psrp/clixml"
)

// fuzzVectorSeeds returns a few recorded payloads and messages to seed the
// fuzzers with (a sample, so that the baseline run stays short), or nothing
// when the vectors are not there: payloads of several fragments first, and
// at most two messages of each type.
func fuzzVectorSeeds(f *testing.F) (payloads, messages [][]byte) {
	f.Helper()
	files := vectorFilesIfAny(f)
	const maxSeeds, maxSeedSize = 24, 32 << 10
	var single [][]byte
	perType := map[MessageType]int{}
	for _, file := range files {
		ps, err := loadVectorPayloads(file)
		if err != nil {
			continue
		}
		for _, p := range ps {
			if len(p.Data) > maxSeedSize {
				continue
			}
			if frags, err := ParseFragments(p.Data, 0); err == nil && len(frags) > 1 {
				payloads = append(payloads, p.Data)
			} else {
				single = append(single, p.Data)
			}
		}
		ms, _ := reassembleVectors(ps)
		for _, m := range ms {
			hdr, err := DecodeMessage(m.Raw)
			if err != nil || len(m.Raw) > maxSeedSize || perType[hdr.Type] >= 2 {
				continue
			}
			perType[hdr.Type]++
			messages = append(messages, m.Raw)
		}
	}
	for i := 0; len(payloads) < maxSeeds && i < len(single); i += 7 {
		payloads = append(payloads, single[i])
	}
	if len(payloads) > maxSeeds {
		payloads = payloads[:maxSeeds]
	}
	return payloads, messages
}

// vectorFilesIfAny lists the recorded vectors, or nothing when the folder
// is missing (fuzzers and benchmarks then use hand-made inputs).
func vectorFilesIfAny(tb testing.TB) []string {
	dir, err := vectors.Dir()
	if err != nil {
		return nil
	}
	if _, err := os.Stat(dir); err != nil {
		return nil
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.yml"))
	sort.Strings(files)
	return files
}

// handMessage builds a message for hand seeds.
func handMessage(t MessageType, data string) []byte {
	m := Message{Destination: DestinationClient, Type: t, Data: []byte(data), BOM: true}
	return m.Encode()
}

// FuzzReassembler feeds arbitrary fragment streams to a Reassembler with
// small limits: it must never panic and never hold more than its limits.
func FuzzReassembler(f *testing.F) {
	payloads, _ := fuzzVectorSeeds(f)
	for _, p := range payloads {
		f.Add(p, uint8(0))
	}
	var fz Fragmenter
	f.Add(fz.Append(nil, []byte("hello world, a longer message"), 4), uint8(3))
	f.Add(Fragment{ObjectID: 1, FragmentID: 1, End: true, Blob: []byte("x")}.Encode(), uint8(1))
	f.Add(Fragment{ObjectID: 1, Start: true, Blob: []byte("x")}.Encode(), uint8(7))
	lim := Limits{MaxFragmentBlob: 1 << 16, MaxMessageSize: 1 << 18, MaxPendingObjects: 8, MaxPendingBytes: 1 << 18}
	f.Fuzz(func(t *testing.T, data []byte, split uint8) {
		r := NewReassembler(lim)
		// Feed the stream in two parts at a fragment boundary chosen by
		// split, as two WSMan stream elements would carry it.
		chunks := [][]byte{data}
		if split > 0 {
			if frags, err := ParseFragments(data, lim.MaxFragmentBlob); err == nil && len(frags) > int(split%8) {
				cut := 0
				for _, fr := range frags[:split%8] {
					cut += fr.Size()
				}
				chunks = [][]byte{data[:cut], data[cut:]}
			}
		}
		for _, c := range chunks {
			msgs, err := r.Feed(nil, c)
			for _, m := range msgs {
				if len(m) > lim.MaxMessageSize {
					t.Fatalf("message of %d bytes beyond MaxMessageSize", len(m))
				}
			}
			if r.Pending() > lim.MaxPendingObjects || r.PendingBytes() > lim.MaxPendingBytes {
				t.Fatalf("holding %d objects, %d bytes beyond the limits", r.Pending(), r.PendingBytes())
			}
			if err != nil {
				return
			}
		}
	})
}

// FuzzMessageDecode decodes arbitrary messages: header, then the typed
// body for the header's type. It must never panic, and a body that
// decodes must encode and decode again.
func FuzzMessageDecode(f *testing.F) {
	_, messages := fuzzVectorSeeds(f)
	for _, m := range messages {
		f.Add(m)
	}
	f.Add(handMessage(MsgPipelineOutput, `<S>output</S>`))
	f.Add(handMessage(MsgPipelineState, `<Obj RefId="0"><MS><I32 N="PipelineState">4</I32></MS></Obj>`))
	f.Add(handMessage(MsgConnectRunspacePool, `<S />`))
	f.Add(handMessage(MsgEndOfPipelineInput, ``))
	f.Add(handMessage(MsgSetMaxRunspaces, `<Obj RefId="0"><MS><I32 N="MaxRunspaces">5</I32><I64 N="CI">1</I64></MS></Obj>`))
	lim := clixml.Limits{MaxDepth: 32, MaxBytes: 1 << 20, MaxElements: 1 << 14}
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := DecodeMessage(raw)
		if err != nil {
			return
		}
		body, err := m.DecodeBody(lim)
		if err != nil {
			return
		}
		if body.MessageType() != m.Type {
			t.Fatalf("body %v for message %v", body.MessageType(), m.Type)
		}
		data, err := EncodeBody(body)
		if err != nil {
			t.Fatalf("%v decoded but does not encode: %v", m.Type, err)
		}
		if _, err := DecodeBody(m.Type, data, clixml.Limits{}); err != nil {
			t.Fatalf("%v re-encoded body does not decode: %v\n%s", m.Type, err, data)
		}
	})
}
