package psrp

import "fmt"

// Reassembler turns the fragments one peer sends back into messages
// (MS-PSRP 2.2.4). Messages are reassembled per ObjectId, so fragments of
// different messages may interleave; within a message the FragmentIds must
// be 0, 1, 2… with Start on the first and End on the last. Sizes and the
// number of messages in progress are bounded by Limits.
//
// The zero value is ready to use with default limits. A Reassembler does
// no I/O and is not safe for concurrent use. Use one per peer and stream
// scope, and Reset it when the client connects or reconnects, as
// PowerShell does (PrepareForStreamConnect).
type Reassembler struct {
	Limits Limits

	pending      map[uint64]*partialMessage
	pendingBytes int
}

// partialMessage is a message whose End fragment has not arrived yet.
type partialMessage struct {
	next uint64 // the FragmentId expected next
	data []byte
}

// NewReassembler returns a Reassembler with the given limits.
func NewReassembler(l Limits) *Reassembler { return &Reassembler{Limits: l} }

// Reset forgets every partial message.
func (r *Reassembler) Reset() {
	clear(r.pending)
	r.pendingBytes = 0
}

// Pending returns the number of messages in progress.
func (r *Reassembler) Pending() int { return len(r.pending) }

// PendingBytes returns the bytes held by messages in progress.
func (r *Reassembler) PendingBytes() int { return r.pendingBytes }

// Add takes one fragment. When it completes a message, Add returns the
// message and true. A message sent in a single fragment is returned
// without copying: it aliases f.Blob. On error (*FragmentError or
// *LimitError) the partial message of f.ObjectID is dropped; other
// messages in progress are kept.
func (r *Reassembler) Add(f Fragment) (msg []byte, complete bool, err error) {
	lim := r.Limits.withDefaults()
	if len(f.Blob) > lim.MaxFragmentBlob {
		r.drop(f.ObjectID)
		return nil, false, &LimitError{Limit: "MaxFragmentBlob", Max: lim.MaxFragmentBlob, Got: int64(len(f.Blob)), ObjectID: f.ObjectID}
	}
	var p *partialMessage
	if len(r.pending) > 0 {
		p = r.pending[f.ObjectID]
	}
	switch {
	case f.Start && p != nil:
		r.drop(f.ObjectID)
		return nil, false, r.seqError(f, fmt.Sprintf("start fragment while fragment %d was expected", p.next))
	case f.Start && f.FragmentID != 0:
		return nil, false, r.seqError(f, "start fragment with a non-zero FragmentId")
	case !f.Start && p == nil:
		return nil, false, r.seqError(f, "fragment without a start fragment")
	case !f.Start && f.FragmentID != p.next:
		r.drop(f.ObjectID)
		return nil, false, r.seqError(f, fmt.Sprintf("fragment out of order, want FragmentId %d", p.next))
	}
	if f.Start && f.End {
		if len(f.Blob) > lim.MaxMessageSize {
			return nil, false, &LimitError{Limit: "MaxMessageSize", Max: lim.MaxMessageSize, Got: int64(len(f.Blob)), ObjectID: f.ObjectID}
		}
		return f.Blob, true, nil
	}
	if p == nil {
		if len(r.pending) >= lim.MaxPendingObjects {
			return nil, false, &LimitError{Limit: "MaxPendingObjects", Max: lim.MaxPendingObjects, Got: int64(len(r.pending) + 1), ObjectID: f.ObjectID}
		}
		p = &partialMessage{}
		if r.pending == nil {
			r.pending = make(map[uint64]*partialMessage)
		}
		r.pending[f.ObjectID] = p
	}
	if size := int64(len(p.data)) + int64(len(f.Blob)); size > int64(lim.MaxMessageSize) {
		r.drop(f.ObjectID)
		return nil, false, &LimitError{Limit: "MaxMessageSize", Max: lim.MaxMessageSize, Got: size, ObjectID: f.ObjectID}
	}
	if total := int64(r.pendingBytes) + int64(len(f.Blob)); total > int64(lim.MaxPendingBytes) {
		r.drop(f.ObjectID)
		return nil, false, &LimitError{Limit: "MaxPendingBytes", Max: lim.MaxPendingBytes, Got: total, ObjectID: f.ObjectID}
	}
	p.data = append(p.data, f.Blob...)
	r.pendingBytes += len(f.Blob)
	p.next++
	if !f.End {
		return nil, false, nil
	}
	msg = p.data
	r.drop(f.ObjectID)
	return msg, true, nil
}

// Feed parses a stream of concatenated fragments (the content of one
// WSMan stream element) and appends each message it completes to dst.
// It stops at the first error and returns the messages completed before
// it. Single-fragment messages alias data.
func (r *Reassembler) Feed(dst [][]byte, data []byte) ([][]byte, error) {
	lim := r.Limits.withDefaults()
	off := 0
	for len(data) > 0 {
		f, rest, err := parseFragment(data, off, lim.MaxFragmentBlob)
		if err != nil {
			return dst, err
		}
		off += len(data) - len(rest)
		data = rest
		msg, ok, err := r.Add(f)
		if err != nil {
			return dst, err
		}
		if ok {
			dst = append(dst, msg)
		}
	}
	return dst, nil
}

func (r *Reassembler) drop(id uint64) {
	if p := r.pending[id]; p != nil {
		r.pendingBytes -= len(p.data)
		delete(r.pending, id)
	}
}

func (r *Reassembler) seqError(f Fragment, reason string) error {
	return &FragmentError{ObjectID: f.ObjectID, FragmentID: f.FragmentID, Offset: -1, Reason: reason}
}
