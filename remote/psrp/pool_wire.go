package psrp

import (
	"github.com/pssession/pssession/remote/psrp/clixml"
)

// The outgoing side of a pool: messages queued by the state machines and
// packed into fragments for the transport (MS-PSRP 2.2.4;
// shared/PROTOCOL.md §2.1).

// fragmentHeaderLen is the size of a fragment header (MS-PSRP 2.2.4).
const fragmentHeaderLen = FragmentHeaderSize

// Streams of outgoing data (OutgoingData.Stream).
const (
	// StreamDefault is the ordinary data stream: WSMan stdin for a client
	// (pool Send, Command arguments), stdout for a server.
	StreamDefault = "default"
	// StreamPromptResponse is the client's `pr` stream, which carries host
	// responses (MS-PSRP 3.1.5.4.5; shared/PROTOCOL.md §2.8).
	StreamPromptResponse = "pr"
)

// outMessage is an encoded message waiting to be fragmented.
type outMessage struct {
	objectID uint64
	pid      clixml.GUID
	stream   string
	data     []byte
	sent     int    // bytes of data already in fragments
	fragID   uint64 // next FragmentId
	last     bool   // ends its packet: no later message may share it
}

// OutgoingData is one packet for the transport: whole fragments that fit
// the size asked for, all for the same pipeline and stream.
type OutgoingData struct {
	Data       []byte
	PipelineID clixml.GUID // zero for the runspace pool
	Stream     string      // StreamDefault or StreamPromptResponse
}

// outbox queues outgoing messages and packs them into fragments.
type outbox struct {
	nextObjectID uint64
	queue        []*outMessage
}

func (o *outbox) push(m *Message, stream string, last bool) {
	o.nextObjectID++
	o.queue = append(o.queue, &outMessage{
		objectID: o.nextObjectID,
		pid:      m.PID,
		stream:   stream,
		data:     m.Encode(),
		last:     last,
	})
}

// next packs fragments of queued messages into at most max bytes (max <=
// 0: no limit; a max too small for one header still yields one fragment
// with a one-byte blob). With only set, it considers only messages of
// pipeline pid (zero: the pool); otherwise those of the oldest message's
// pipeline. A packet holds messages of one pipeline and one stream, in
// queue order.
func (o *outbox) next(max int, pid clixml.GUID, only bool) *OutgoingData {
	var out *OutgoingData
	done := 0 // messages fully packed, to remove
	for i, m := range o.queue {
		if out == nil {
			if only && m.pid != pid {
				continue
			}
			out = &OutgoingData{PipelineID: m.pid, Stream: m.stream}
			out.Data = make([]byte, 0, o.packSize(i, max))
		} else if m.pid != out.PipelineID {
			continue
		}
		if m.stream != out.Stream {
			break
		}
		rest := len(m.data) - m.sent
		n := rest
		if max > 0 {
			room := max - len(out.Data) - fragmentHeaderLen
			if room <= 0 {
				if len(out.Data) > 0 {
					break
				}
				room = 1
			}
			n = min(n, room)
		}
		out.Data = Fragment{ObjectID: m.objectID, FragmentID: m.fragID, Start: m.sent == 0, End: n == rest, Blob: m.data[m.sent : m.sent+n]}.Append(out.Data)
		m.sent += n
		m.fragID++
		if n < rest {
			break
		}
		done++
		if m.last {
			break
		}
	}
	if done > 0 {
		kept := o.queue[:0]
		for _, m := range o.queue {
			if m.sent < len(m.data) {
				kept = append(kept, m)
			}
		}
		clear(o.queue[len(kept):])
		o.queue = kept
	}
	return out
}

// packSize bounds what next packs starting at queue index i: the
// fragments of the same pipeline and stream up to max (an upper bound:
// next may stop earlier), so that the packet is allocated once.
func (o *outbox) packSize(i, max int) int {
	first := o.queue[i]
	n := 0
	for _, m := range o.queue[i:] {
		if m.pid != first.pid {
			continue
		}
		if m.stream != first.stream {
			break
		}
		n += fragmentHeaderLen + len(m.data) - m.sent
		if max > 0 && n >= max {
			return max
		}
		if m.last {
			break
		}
	}
	return n
}

// dropPool discards queued pool-scope messages (for a newly connecting
// client, which cannot use the previous client's pool stream).
func (o *outbox) dropPool() {
	kept := o.queue[:0]
	for _, m := range o.queue {
		if m.pid != (clixml.GUID{}) {
			kept = append(kept, m)
		}
	}
	clear(o.queue[len(kept):])
	o.queue = kept
}
