package psrp

import (
	"encoding/binary"
	"fmt"

	"github.com/pssession/pssession/remote/psrp/clixml"
)

// MessageHeaderSize is the size of a message header: Destination (4),
// MessageType (4), RPID (16), PID (16) (MS-PSRP 2.2.1).
const MessageHeaderSize = 40

// utf8BOM prefixes the data of messages Windows sends.
var utf8BOM = [3]byte{0xEF, 0xBB, 0xBF}

// Destination says which role a message is for (MS-PSRP 2.2.1).
type Destination uint32

// Destinations (MS-PSRP 2.2.1).
const (
	DestinationClient Destination = 1
	DestinationServer Destination = 2
)

// String returns "Client", "Server" or the number of an unknown value.
func (d Destination) String() string {
	switch d {
	case DestinationClient:
		return "Client"
	case DestinationServer:
		return "Server"
	}
	return fmt.Sprintf("Destination(%d)", uint32(d))
}

// Message is one PSRP message (MS-PSRP 2.2.1). Integers are little-endian
// and GUIDs in .NET ToByteArray layout on the wire.
type Message struct {
	Destination Destination
	Type        MessageType
	RPID        clixml.GUID // runspace pool id (the WSMan ShellId)
	PID         clixml.GUID // pipeline id (the WSMan CommandId); zero for the pool
	// Data is the CLIXML body without any byte-order mark.
	Data []byte
	// BOM: the data travels after a UTF-8 byte-order mark, as Windows
	// writes it. DecodeMessage sets it when it stripped one.
	BOM bool
}

// Size returns the encoded size of m.
func (m *Message) Size() int {
	n := MessageHeaderSize + len(m.Data)
	if m.BOM {
		n += len(utf8BOM)
	}
	return n
}

// Append appends the encoding of m to dst.
func (m *Message) Append(dst []byte) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(m.Destination))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(m.Type))
	rp, p := m.RPID.BytesLE(), m.PID.BytesLE()
	dst = append(dst, rp[:]...)
	dst = append(dst, p[:]...)
	if m.BOM {
		dst = append(dst, utf8BOM[:]...)
	}
	return append(dst, m.Data...)
}

// Encode returns the encoding of m.
func (m *Message) Encode() []byte { return m.Append(make([]byte, 0, m.Size())) }

// MessageError reports a message that cannot be decoded.
type MessageError struct {
	Type   MessageType // zero when the header could not be read
	Reason string
	Err    error // the underlying error, if any
}

func (e *MessageError) Error() string {
	s := "psrp: message"
	if e.Type != 0 {
		s += " " + e.Type.String()
	}
	s += ": " + e.Reason
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *MessageError) Unwrap() error { return e.Err }

// DecodeMessage decodes a reassembled message. Data aliases b; a leading
// UTF-8 byte-order mark is stripped and recorded in BOM. Unknown message
// types and destinations are not rejected here: the caller decides.
func DecodeMessage(b []byte) (Message, error) {
	if len(b) < MessageHeaderSize {
		return Message{}, &MessageError{Reason: fmt.Sprintf("%d bytes is shorter than the %d-byte header", len(b), MessageHeaderSize)}
	}
	m := Message{
		Destination: Destination(binary.LittleEndian.Uint32(b[0:4])),
		Type:        MessageType(binary.LittleEndian.Uint32(b[4:8])),
		RPID:        guidFromDotNet(b[8:24]),
		PID:         guidFromDotNet(b[24:40]),
		Data:        b[MessageHeaderSize:],
	}
	if len(m.Data) >= 3 && m.Data[0] == utf8BOM[0] && m.Data[1] == utf8BOM[1] && m.Data[2] == utf8BOM[2] {
		m.Data = m.Data[3:]
		m.BOM = true
	}
	return m, nil
}

// guidFromDotNet reads a GUID in .NET ToByteArray layout (the first three
// groups little-endian) from b, which holds at least 16 bytes.
func guidFromDotNet(b []byte) clixml.GUID {
	_ = b[15]
	return clixml.GUID{b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6],
		b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]}
}
