package psrp

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReassemblerInterleaved(t *testing.T) {
	a := SplitMessage(4, []byte("first message"), 5)
	b := SplitMessage(3, []byte("second"), 4)
	c := SplitMessage(8, []byte("third"), 100)
	order := []Fragment{a[0], b[0], c[0], a[1], b[1], a[2]}
	var r Reassembler
	var got []string
	for _, f := range order {
		msg, ok, err := r.Add(f)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			got = append(got, string(msg))
		}
	}
	want := []string{"third", "second", "first message"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	if r.Pending() != 0 || r.PendingBytes() != 0 {
		t.Fatalf("Pending %d, PendingBytes %d after all messages", r.Pending(), r.PendingBytes())
	}
}

func TestReassemblerSingleFragmentNoCopy(t *testing.T) {
	stream := Fragment{ObjectID: 1, Start: true, End: true, Blob: []byte("whole")}.Encode()
	var r Reassembler
	msgs, err := r.Feed(nil, stream)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || &msgs[0][0] != &stream[FragmentHeaderSize] {
		t.Fatalf("single-fragment message was copied or lost: %q", msgs)
	}
}

func TestReassemblerSequenceErrors(t *testing.T) {
	tests := []struct {
		name  string
		frags []Fragment
	}{
		{name: "no start", frags: []Fragment{{ObjectID: 1, FragmentID: 1, End: true}}},
		{name: "start with non-zero id", frags: []Fragment{{ObjectID: 1, FragmentID: 1, Start: true}}},
		{name: "gap", frags: []Fragment{{ObjectID: 1, Start: true}, {ObjectID: 1, FragmentID: 2, End: true}}},
		{name: "repeat", frags: []Fragment{{ObjectID: 1, Start: true}, {ObjectID: 1, FragmentID: 0}}},
		{name: "restart", frags: []Fragment{{ObjectID: 1, Start: true}, {ObjectID: 1, FragmentID: 0, Start: true, End: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Reassembler
			var err error
			for _, f := range tt.frags {
				if _, _, err = r.Add(f); err != nil {
					break
				}
			}
			var fe *FragmentError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want *FragmentError", err)
			}
			if r.Pending() != 0 {
				t.Fatalf("Pending = %d after error on the only object", r.Pending())
			}
		})
	}
}

func TestReassemblerLimits(t *testing.T) {
	tests := []struct {
		name   string
		limits Limits
		frags  []Fragment
		want   string
	}{
		{
			name:   "MaxFragmentBlob",
			limits: Limits{MaxFragmentBlob: 4},
			frags:  []Fragment{{ObjectID: 1, Start: true, End: true, Blob: []byte("12345")}},
			want:   "MaxFragmentBlob",
		},
		{
			name:   "MaxMessageSize single fragment",
			limits: Limits{MaxMessageSize: 4},
			frags:  []Fragment{{ObjectID: 1, Start: true, End: true, Blob: []byte("12345")}},
			want:   "MaxMessageSize",
		},
		{
			name:   "MaxMessageSize across fragments",
			limits: Limits{MaxMessageSize: 5},
			frags:  SplitMessage(1, []byte("123456"), 2),
			want:   "MaxMessageSize",
		},
		{
			name:   "MaxPendingObjects",
			limits: Limits{MaxPendingObjects: 2},
			frags:  []Fragment{{ObjectID: 1, Start: true}, {ObjectID: 2, Start: true}, {ObjectID: 3, Start: true}},
			want:   "MaxPendingObjects",
		},
		{
			name:   "MaxPendingBytes",
			limits: Limits{MaxPendingBytes: 5},
			frags:  []Fragment{{ObjectID: 1, Start: true, Blob: []byte("123")}, {ObjectID: 2, Start: true, Blob: []byte("456")}},
			want:   "MaxPendingBytes",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReassembler(tt.limits)
			var err error
			for _, f := range tt.frags {
				if _, _, err = r.Add(f); err != nil {
					break
				}
			}
			var le *LimitError
			if !errors.As(err, &le) || le.Limit != tt.want {
				t.Fatalf("err = %v, want LimitError %s", err, tt.want)
			}
			if r.PendingBytes() > max(tt.limits.MaxPendingBytes, tt.limits.MaxMessageSize, 8) {
				t.Fatalf("PendingBytes = %d beyond the limit", r.PendingBytes())
			}
		})
	}
	// Just under every limit passes.
	r := NewReassembler(Limits{MaxFragmentBlob: 2, MaxMessageSize: 6, MaxPendingBytes: 6, MaxPendingObjects: 1})
	msgs, err := r.Feed(nil, (&Fragmenter{}).Append(nil, []byte("123456"), 2))
	if err != nil || len(msgs) != 1 {
		t.Fatalf("at the limits: %q, %v", msgs, err)
	}
}

func TestReassemblerReset(t *testing.T) {
	var r Reassembler
	frags := SplitMessage(5, bytes.Repeat([]byte("x"), 10), 4)
	if _, _, err := r.Add(frags[0]); err != nil {
		t.Fatal(err)
	}
	r.Reset()
	if r.Pending() != 0 || r.PendingBytes() != 0 {
		t.Fatalf("Pending %d, PendingBytes %d after Reset", r.Pending(), r.PendingBytes())
	}
	// After a Connect the peer restarts ObjectIds: the same id is a new message.
	msg, ok, err := r.Add(Fragment{ObjectID: 5, Start: true, End: true, Blob: []byte("again")})
	if err != nil || !ok || string(msg) != "again" {
		t.Fatalf("after Reset: %q %v %v", msg, ok, err)
	}
}
