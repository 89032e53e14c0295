package psrp

import (
	"encoding/binary"
	"fmt"
)

// FragmentHeaderSize is the size of a fragment header: ObjectId (8),
// FragmentId (8), flags (1), BlobLength (4) (MS-PSRP 2.2.4).
const FragmentHeaderSize = 21

// Fragment flags (MS-PSRP 2.2.4).
const (
	fragmentStart byte = 0x01 // S: first fragment of a message
	fragmentEnd   byte = 0x02 // E: last fragment of a message
)

// Fragment is one piece of a PSRP message as it travels (MS-PSRP 2.2.4).
// All integers are big-endian on the wire.
type Fragment struct {
	ObjectID   uint64 // per-sender message counter, from 1
	FragmentID uint64 // 0-based position within the message
	Start, End bool   // first and last fragment of the message
	Blob       []byte // this fragment's slice of the message
}

// Size returns the encoded size of f.
func (f Fragment) Size() int { return FragmentHeaderSize + len(f.Blob) }

// Append appends the encoding of f to dst.
func (f Fragment) Append(dst []byte) []byte {
	var flags byte
	if f.Start {
		flags |= fragmentStart
	}
	if f.End {
		flags |= fragmentEnd
	}
	dst = binary.BigEndian.AppendUint64(dst, f.ObjectID)
	dst = binary.BigEndian.AppendUint64(dst, f.FragmentID)
	dst = append(dst, flags)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(f.Blob)))
	return append(dst, f.Blob...)
}

// Encode returns the encoding of f.
func (f Fragment) Encode() []byte { return f.Append(make([]byte, 0, f.Size())) }

// FragmentError reports a malformed fragment or a fragment out of sequence.
type FragmentError struct {
	ObjectID   uint64 // 0 when the header itself could not be read
	FragmentID uint64
	Offset     int    // byte offset in the input being parsed, -1 when not parsing
	Reason     string // what is wrong
}

func (e *FragmentError) Error() string {
	if e.Offset >= 0 {
		return fmt.Sprintf("psrp: fragment %d/%d at offset %d: %s", e.ObjectID, e.FragmentID, e.Offset, e.Reason)
	}
	return fmt.Sprintf("psrp: fragment %d/%d: %s", e.ObjectID, e.FragmentID, e.Reason)
}

// ParseFragment reads one fragment from the front of b and returns it and
// the bytes after it. The blob aliases b. maxBlob bounds the blob length
// (a *LimitError); zero or less means DefaultMaxFragmentBlob.
func ParseFragment(b []byte, maxBlob int) (f Fragment, rest []byte, err error) {
	return parseFragment(b, 0, maxBlob)
}

func parseFragment(b []byte, off, maxBlob int) (Fragment, []byte, error) {
	if maxBlob <= 0 {
		maxBlob = DefaultMaxFragmentBlob
	}
	if len(b) < FragmentHeaderSize {
		return Fragment{}, nil, &FragmentError{Offset: off, Reason: fmt.Sprintf("truncated header (%d bytes)", len(b))}
	}
	f := Fragment{
		ObjectID:   binary.BigEndian.Uint64(b[0:8]),
		FragmentID: binary.BigEndian.Uint64(b[8:16]),
	}
	flags := b[16]
	f.Start = flags&fragmentStart != 0
	f.End = flags&fragmentEnd != 0
	if flags&^(fragmentStart|fragmentEnd) != 0 {
		return Fragment{}, nil, &FragmentError{ObjectID: f.ObjectID, FragmentID: f.FragmentID, Offset: off, Reason: fmt.Sprintf("unknown flags 0x%02x", flags)}
	}
	n := binary.BigEndian.Uint32(b[17:21])
	if int64(n) > int64(maxBlob) {
		return Fragment{}, nil, &LimitError{Limit: "MaxFragmentBlob", Max: maxBlob, Got: int64(n), ObjectID: f.ObjectID}
	}
	if int64(n) > int64(len(b)-FragmentHeaderSize) {
		return Fragment{}, nil, &FragmentError{ObjectID: f.ObjectID, FragmentID: f.FragmentID, Offset: off,
			Reason: fmt.Sprintf("blob length %d exceeds the %d bytes left", n, len(b)-FragmentHeaderSize)}
	}
	end := FragmentHeaderSize + int(n)
	f.Blob = b[FragmentHeaderSize:end:end]
	return f, b[end:], nil
}

// ParseFragments parses a stream of concatenated fragments (the content of
// one WSMan stream element). Blobs alias b. maxBlob is as for ParseFragment.
func ParseFragments(b []byte, maxBlob int) ([]Fragment, error) {
	var out []Fragment
	off := 0
	for len(b) > 0 {
		f, rest, err := parseFragment(b, off, maxBlob)
		if err != nil {
			return out, err
		}
		off += len(b) - len(rest)
		b = rest
		out = append(out, f)
	}
	return out, nil
}

// MinFragmentBlob is the smallest blob size a Fragmenter accepts.
const MinFragmentBlob = 1

// SplitMessage cuts msg into fragments of at most maxBlob bytes of blob,
// all carrying objectID. An empty msg still makes one fragment. The blobs
// alias msg. maxBlob below MinFragmentBlob is taken as MinFragmentBlob.
func SplitMessage(objectID uint64, msg []byte, maxBlob int) []Fragment {
	if maxBlob < MinFragmentBlob {
		maxBlob = MinFragmentBlob
	}
	n := (len(msg) + maxBlob - 1) / maxBlob
	if n == 0 {
		n = 1
	}
	out := make([]Fragment, 0, n)
	for i := 0; i < n; i++ {
		lo := i * maxBlob
		hi := min(lo+maxBlob, len(msg))
		out = append(out, Fragment{
			ObjectID:   objectID,
			FragmentID: uint64(i),
			Start:      i == 0,
			End:        i == n-1,
			Blob:       msg[lo:hi:hi],
		})
	}
	return out
}

// Fragmenter numbers the messages of one sender and cuts them into
// fragments (MS-PSRP 2.2.4). ObjectIds start at 1 and are shared by a
// runspace pool and all its pipelines, so one sender uses one Fragmenter.
// The zero value is ready to use; it does no I/O and is not safe for
// concurrent use.
type Fragmenter struct {
	last uint64 // last ObjectId handed out
}

// NextObjectID reserves and returns the next ObjectId.
func (f *Fragmenter) NextObjectID() uint64 {
	f.last++
	return f.last
}

// PeekObjectID returns the ObjectId the next message will get.
func (f *Fragmenter) PeekObjectID() uint64 { return f.last + 1 }

// Reset makes the next ObjectId 1 again, as for a client that connects
// to a pool anew.
func (f *Fragmenter) Reset() { f.last = 0 }

// Fragment numbers msg with the next ObjectId and cuts it into fragments
// of at most maxBlob bytes of blob. The blobs alias msg.
func (f *Fragmenter) Fragment(msg []byte, maxBlob int) []Fragment {
	return SplitMessage(f.NextObjectID(), msg, maxBlob)
}

// Append numbers msg with the next ObjectId and appends its fragments,
// each of at most maxBlob bytes of blob, to dst.
func (f *Fragmenter) Append(dst, msg []byte, maxBlob int) []byte {
	for _, fr := range f.Fragment(msg, maxBlob) {
		dst = fr.Append(dst)
	}
	return dst
}
