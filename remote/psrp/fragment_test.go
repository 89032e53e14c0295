package psrp

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFragmentEncode(t *testing.T) {
	tests := []struct {
		name string
		f    Fragment
		want []byte
	}{
		{
			name: "whole message",
			f:    Fragment{ObjectID: 1, FragmentID: 0, Start: true, End: true, Blob: []byte("ab")},
			want: []byte{0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 2, 'a', 'b'},
		},
		{
			name: "middle fragment",
			f:    Fragment{ObjectID: 0x0102030405060708, FragmentID: 0x1112131415161718, Blob: nil},
			want: []byte{1, 2, 3, 4, 5, 6, 7, 8, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0, 0, 0, 0, 0},
		},
		{
			name: "end only",
			f:    Fragment{ObjectID: 9, FragmentID: 2, End: true, Blob: []byte{0xff}},
			want: []byte{0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 2, 2, 0, 0, 0, 1, 0xff},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.f.Encode()
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("Encode (-want +got):\n%s", diff)
			}
			back, rest, err := ParseFragment(got, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(rest) != 0 {
				t.Fatalf("rest = %d bytes", len(rest))
			}
			want := tt.f
			if want.Blob == nil {
				want.Blob = []byte{}
			}
			if diff := cmp.Diff(want, back); diff != "" {
				t.Fatalf("ParseFragment (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseFragmentErrors(t *testing.T) {
	good := Fragment{ObjectID: 1, Start: true, End: true, Blob: []byte("hello")}.Encode()
	badFlags := bytes.Clone(good)
	badFlags[16] = 0x04
	tests := []struct {
		name    string
		in      []byte
		maxBlob int
		limit   string // expected *LimitError.Limit, or "" for *FragmentError
	}{
		{name: "empty header", in: good[:0]},
		{name: "short header", in: good[:20]},
		{name: "blob overruns", in: good[:len(good)-1]},
		{name: "unknown flags", in: badFlags},
		{name: "blob over limit", in: good, maxBlob: 4, limit: "MaxFragmentBlob"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := ParseFragment(tt.in, tt.maxBlob)
			if tt.limit != "" {
				var le *LimitError
				if !errors.As(err, &le) || le.Limit != tt.limit {
					t.Fatalf("err = %v, want LimitError %s", err, tt.limit)
				}
				return
			}
			var fe *FragmentError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want *FragmentError", err)
			}
		})
	}
}

func TestParseFragmentsStream(t *testing.T) {
	var fz Fragmenter
	msgA := bytes.Repeat([]byte("A"), 10)
	msgB := []byte("B")
	stream := fz.Append(nil, msgA, 4)
	stream = fz.Append(stream, msgB, 4)
	frags, err := ParseFragments(stream, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []Fragment{
		{ObjectID: 1, FragmentID: 0, Start: true, Blob: []byte("AAAA")},
		{ObjectID: 1, FragmentID: 1, Blob: []byte("AAAA")},
		{ObjectID: 1, FragmentID: 2, End: true, Blob: []byte("AA")},
		{ObjectID: 2, FragmentID: 0, Start: true, End: true, Blob: []byte("B")},
	}
	if diff := cmp.Diff(want, frags); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	// A corrupt tail reports its offset and keeps what parsed.
	frags, err = ParseFragments(append(stream, 0, 1), 0)
	var fe *FragmentError
	if !errors.As(err, &fe) || fe.Offset != len(stream) || len(frags) != 4 {
		t.Fatalf("got %d fragments, err %v; want 4 and offset %d", len(frags), err, len(stream))
	}
}

func TestSplitMessage(t *testing.T) {
	tests := []struct {
		name    string
		msg     string
		maxBlob int
		want    []string
	}{
		{name: "empty", msg: "", maxBlob: 10, want: []string{""}},
		{name: "fits", msg: "abc", maxBlob: 3, want: []string{"abc"}},
		{name: "one over", msg: "abcd", maxBlob: 3, want: []string{"abc", "d"}},
		{name: "exact multiple", msg: "abcdef", maxBlob: 3, want: []string{"abc", "def"}},
		{name: "non-positive size", msg: "ab", maxBlob: 0, want: []string{"a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			frags := SplitMessage(7, []byte(tt.msg), tt.maxBlob)
			var got []string
			for i, f := range frags {
				if f.ObjectID != 7 || f.FragmentID != uint64(i) || f.Start != (i == 0) || f.End != (i == len(frags)-1) {
					t.Errorf("fragment %d header = %+v", i, f)
				}
				got = append(got, string(f.Blob))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestFragmenterObjectIDs(t *testing.T) {
	var fz Fragmenter
	if got := fz.PeekObjectID(); got != 1 {
		t.Fatalf("first PeekObjectID = %d, want 1", got)
	}
	a := fz.Fragment([]byte("x"), 10)
	b := fz.Fragment([]byte("y"), 10)
	if a[0].ObjectID != 1 || b[0].ObjectID != 2 {
		t.Fatalf("ObjectIds %d, %d; want 1, 2", a[0].ObjectID, b[0].ObjectID)
	}
	fz.Reset()
	if got := fz.NextObjectID(); got != 1 {
		t.Fatalf("after Reset NextObjectID = %d, want 1", got)
	}
}
