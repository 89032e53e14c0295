package psrp

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/pssession/pssession/remote/psrp/clixml"
)

// This file holds the wire plumbing the state machines need: message
// header, fragmentation and reassembly (MS-PSRP 2.2.1, 2.2.4;
// shared/PROTOCOL.md §2.1-2.3).

// Destinations of a message (MS-PSRP 2.2.1).
const (
	destClient uint32 = 1
	destServer uint32 = 2
)

// Message types (MS-PSRP 2.2.1; shared/PROTOCOL.md §2.3).
const (
	mtSessionCapability        uint32 = 0x00010002
	mtInitRunspacePool         uint32 = 0x00010004
	mtPublicKey                uint32 = 0x00010005
	mtEncryptedSessionKey      uint32 = 0x00010006
	mtPublicKeyRequest         uint32 = 0x00010007
	mtConnectRunspacePool      uint32 = 0x00010008
	mtRunspacePoolInitData     uint32 = 0x0002100B
	mtResetRunspaceState       uint32 = 0x0002100C
	mtSetMaxRunspaces          uint32 = 0x00021002
	mtSetMinRunspaces          uint32 = 0x00021003
	mtRunspaceAvailability     uint32 = 0x00021004
	mtRunspacePoolState        uint32 = 0x00021005
	mtCreatePipeline           uint32 = 0x00021006
	mtGetAvailableRunspaces    uint32 = 0x00021007
	mtUserEvent                uint32 = 0x00021008
	mtApplicationPrivateData   uint32 = 0x00021009
	mtGetCommandMetadata       uint32 = 0x0002100A
	mtRunspacePoolHostCall     uint32 = 0x00021100
	mtRunspacePoolHostResponse uint32 = 0x00021101
	mtPipelineInput            uint32 = 0x00041002
	mtEndOfPipelineInput       uint32 = 0x00041003
	mtPipelineOutput           uint32 = 0x00041004
	mtErrorRecord              uint32 = 0x00041005
	mtPipelineState            uint32 = 0x00041006
	mtDebugRecord              uint32 = 0x00041007
	mtVerboseRecord            uint32 = 0x00041008
	mtWarningRecord            uint32 = 0x00041009
	mtProgressRecord           uint32 = 0x00041010
	mtInformationRecord        uint32 = 0x00041011
	mtPipelineHostCall         uint32 = 0x00041100
	mtPipelineHostResponse     uint32 = 0x00041101
)

const (
	fragmentHeaderLen = 21 // ObjectId, FragmentId, flags, BlobLength (MS-PSRP 2.2.4)
	messageHeaderLen  = 40 // Destination, MessageType, RPID, PID (MS-PSRP 2.2.1)

	fragStart = 0x01
	fragEnd   = 0x02

	// maxMessageLen bounds one reassembled message from the peer.
	maxMessageLen = 64 << 20
	// maxPendingObjects bounds the messages being reassembled at once.
	maxPendingObjects = 1024
)

// Streams of outgoing data (OutgoingData.Stream).
const (
	// StreamDefault is the ordinary data stream: WSMan stdin for a client
	// (pool Send, Command arguments), stdout for a server.
	StreamDefault = "default"
	// StreamPromptResponse is the client's `pr` stream, which carries host
	// responses (MS-PSRP 3.1.5.4.5; shared/PROTOCOL.md §2.8).
	StreamPromptResponse = "pr"
)

// ErrFragment reports a malformed or out-of-order fragment from the peer.
var ErrFragment = errors.New("psrp: bad fragment")

// wireMessage is one PSRP message (MS-PSRP 2.2.1).
type wireMessage struct {
	Destination uint32
	Type        uint32
	RPID, PID   clixml.GUID
	Data        []byte // CLIXML, BOM stripped
}

func encodeWireMessage(m wireMessage) []byte {
	b := make([]byte, 0, messageHeaderLen+len(m.Data))
	b = binary.LittleEndian.AppendUint32(b, m.Destination)
	b = binary.LittleEndian.AppendUint32(b, m.Type)
	rpid := m.RPID.BytesLE()
	pid := m.PID.BytesLE()
	b = append(b, rpid[:]...)
	b = append(b, pid[:]...)
	return append(b, m.Data...)
}

func decodeWireMessage(b []byte) (wireMessage, error) {
	if len(b) < messageHeaderLen {
		return wireMessage{}, fmt.Errorf("psrp: message of %d bytes is shorter than its header", len(b))
	}
	m := wireMessage{
		Destination: binary.LittleEndian.Uint32(b[0:4]),
		Type:        binary.LittleEndian.Uint32(b[4:8]),
		RPID:        clixml.GUIDFromBytesLE([16]byte(b[8:24])),
		PID:         clixml.GUIDFromBytesLE([16]byte(b[24:40])),
		Data:        b[40:],
	}
	if len(m.Data) >= 3 && m.Data[0] == 0xEF && m.Data[1] == 0xBB && m.Data[2] == 0xBF {
		m.Data = m.Data[3:]
	}
	return m, nil
}

// outMessage is an encoded message waiting to be fragmented.
type outMessage struct {
	objectID uint64
	pid      clixml.GUID
	stream   string
	data     []byte
	sent     int    // bytes of data already in fragments
	fragID   uint64 // next FragmentId
	alone    bool   // no later message may share its packet
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

func (o *outbox) push(m wireMessage, stream string, alone bool) {
	o.nextObjectID++
	o.queue = append(o.queue, &outMessage{
		objectID: o.nextObjectID,
		pid:      m.PID,
		stream:   stream,
		data:     encodeWireMessage(m),
		alone:    alone,
	})
}

// next packs fragments of the queued messages of the head's pipeline and
// stream into at most max bytes (max <= 0: no limit; a max too small for
// one header still yields one fragment with a one-byte blob).
func (o *outbox) next(max int) *OutgoingData {
	if len(o.queue) == 0 {
		return nil
	}
	head := o.queue[0]
	out := &OutgoingData{PipelineID: head.pid, Stream: head.stream}
	for len(o.queue) > 0 {
		m := o.queue[0]
		if m.pid != head.pid || m.stream != head.stream || (len(out.Data) > 0 && m.sent == 0 && m.alone) {
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
		var flags byte
		if m.sent == 0 {
			flags |= fragStart
		}
		if n == rest {
			flags |= fragEnd
		}
		out.Data = binary.BigEndian.AppendUint64(out.Data, m.objectID)
		out.Data = binary.BigEndian.AppendUint64(out.Data, m.fragID)
		out.Data = append(out.Data, flags)
		out.Data = binary.BigEndian.AppendUint32(out.Data, uint32(n))
		out.Data = append(out.Data, m.data[m.sent:m.sent+n]...)
		m.sent += n
		m.fragID++
		if n < rest {
			break
		}
		o.queue = o.queue[1:]
		if m.alone {
			break
		}
	}
	return out
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

// reassembler rebuilds messages from fragments, per ObjectId, requiring
// FragmentIds 0, 1, 2… in order (MS-PSRP 2.2.4).
type reassembler struct {
	pending map[uint64]*pendingObject
}

type pendingObject struct {
	next uint64
	data []byte
}

func (r *reassembler) reset() { r.pending = nil }

// feed consumes a packet of whole fragments and returns the completed
// messages in arrival order.
func (r *reassembler) feed(data []byte) ([][]byte, error) {
	var done [][]byte
	for len(data) > 0 {
		if len(data) < fragmentHeaderLen {
			return done, fmt.Errorf("%w: %d trailing bytes shorter than a fragment header", ErrFragment, len(data))
		}
		oid := binary.BigEndian.Uint64(data[0:8])
		fid := binary.BigEndian.Uint64(data[8:16])
		flags := data[16]
		n := binary.BigEndian.Uint32(data[17:21])
		if uint64(n) > uint64(len(data)-fragmentHeaderLen) {
			return done, fmt.Errorf("%w: object %d fragment %d blob of %d bytes overruns the %d bytes left", ErrFragment, oid, fid, n, len(data)-fragmentHeaderLen)
		}
		blob := data[fragmentHeaderLen : fragmentHeaderLen+int(n)]
		data = data[fragmentHeaderLen+int(n):]
		p := r.pending[oid]
		switch {
		case flags&fragStart != 0:
			if p != nil || fid != 0 {
				return done, fmt.Errorf("%w: object %d restarted at fragment %d", ErrFragment, oid, fid)
			}
			if flags&fragEnd != 0 {
				done = append(done, blob)
				continue
			}
			if len(r.pending) >= maxPendingObjects {
				return done, fmt.Errorf("%w: more than %d messages in reassembly", ErrFragment, maxPendingObjects)
			}
			if r.pending == nil {
				r.pending = make(map[uint64]*pendingObject)
			}
			r.pending[oid] = &pendingObject{next: 1, data: append([]byte(nil), blob...)}
		case p == nil:
			return done, fmt.Errorf("%w: object %d fragment %d without a start fragment", ErrFragment, oid, fid)
		case fid != p.next:
			return done, fmt.Errorf("%w: object %d fragment %d, want %d", ErrFragment, oid, fid, p.next)
		default:
			if len(p.data)+len(blob) > maxMessageLen {
				delete(r.pending, oid)
				return done, fmt.Errorf("%w: object %d exceeds %d bytes", ErrFragment, oid, maxMessageLen)
			}
			p.data = append(p.data, blob...)
			p.next++
			if flags&fragEnd != 0 {
				delete(r.pending, oid)
				done = append(done, p.data)
			}
		}
	}
	return done, nil
}
