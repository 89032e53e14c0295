package psrp

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"

	"github.com/pssession/pssession/remote/psrp/clixml"
)

// poolCore is what the client and server roles of a runspace pool share:
// the outgoing queue and ObjectId counter, the reassembler, the event queue
// and the session key (the psrpcore shape: methods queue, DataToSend
// drains, ReceiveData and NextEvent consume).
type poolCore struct {
	dest  Destination // of outgoing messages
	id    clixml.GUID
	rand  io.Reader
	state RunspacePoolState

	out    outbox
	in     Reassembler
	limits Limits
	events []Event

	sessionKey []byte
	scratch    []byte // send's encoding buffer
}

func (c *poolCore) init(dest Destination, id clixml.GUID, r io.Reader, l Limits) {
	if r == nil {
		r = rand.Reader
	}
	c.dest, c.id, c.rand = dest, id, r
	c.in.Limits = l
	c.limits = l
}

// send encodes a body and queues it for pipeline pid (zero: the pool).
// last ends the packet after this message.
func (c *poolCore) send(pid clixml.GUID, b Body, stream string, last bool) error {
	// The body is encoded into a reused buffer, so that the queued message
	// is allocated once at its exact size (EncodeBody grows a fresh buffer
	// step by step, and push's Encode copies it again).
	data, err := appendBody(c.scratch[:0], b)
	if err != nil {
		return err
	}
	c.scratch = data
	if cap(c.scratch) > maxScratch {
		c.scratch = nil
	}
	c.out.push(&Message{Destination: c.dest, Type: b.MessageType(), RPID: c.id, PID: pid, Data: data}, stream, last)
	return nil
}

// maxScratch bounds the encoding buffer a pool keeps between messages.
const maxScratch = 1 << 20

func (c *poolCore) emit(e Event) { c.events = append(c.events, e) }

// setState moves the pool to a new state if the transition is legal and
// reports whether it did; an illegal transition is ignored.
func (c *poolCore) setState(to RunspacePoolState) bool {
	if c.state == to || !poolTransition(c.state, to) {
		return false
	}
	c.state = to
	return true
}

// receive reassembles data and calls handle with each complete message
// and its decoded body. A bad fragment loses only its own message: the
// fragments after it are still read, unless the framing itself is broken
// (truncated header, blob overrun), which ends the packet. Every failure is
// queued as a ProtocolErrorReceived event and returned, joined, once the
// packet has been read.
func (c *poolCore) receive(data []byte, handle func(Message, Body) error) error {
	var errs []error
	fail := func(err error) {
		c.emit(ProtocolErrorReceived{Err: err})
		errs = append(errs, err)
	}
	maxBlob := c.limits.withDefaults().MaxFragmentBlob
	for len(data) > 0 {
		f, rest, err := ParseFragment(data, maxBlob)
		if err != nil {
			fail(err)
			break
		}
		data = rest
		raw, complete, err := c.in.Add(f)
		if err != nil {
			fail(err)
			continue
		}
		if !complete {
			continue
		}
		m, err := DecodeMessage(raw)
		if err == nil {
			var b Body
			if b, err = m.DecodeBody(c.limits.CLIXML); err == nil {
				err = handle(m, b)
			}
		}
		if err != nil {
			fail(err)
		}
	}
	return errors.Join(errs...)
}

// nextEvent pops the oldest event.
func (c *poolCore) nextEvent() (Event, bool) {
	if len(c.events) == 0 {
		return nil, false
	}
	e := c.events[0]
	c.events[0] = nil
	c.events = c.events[1:]
	return e, true
}

// ErrNoSessionKey reports a SecureString operation before the session key
// exchange finished.
var ErrNoSessionKey = errors.New("psrp: no session key (exchange keys first)")

// UnexpectedMessageError reports a message the pool cannot accept: unknown
// type, wrong destination or wrong state.
type UnexpectedMessageError struct {
	Type       MessageType
	PipelineID clixml.GUID
	Reason     string
}

func (e *UnexpectedMessageError) Error() string {
	return fmt.Sprintf("psrp: unexpected %s for pipeline %s: %s", e.Type, e.PipelineID, e.Reason)
}

func (c *poolCore) encryptSecureString(s string) (clixml.SecureString, error) {
	if c.sessionKey == nil {
		return "", ErrNoSessionKey
	}
	return clixml.EncryptSecureString(c.sessionKey, s)
}

func (c *poolCore) decryptSecureString(ss clixml.SecureString) (string, error) {
	if c.sessionKey == nil {
		return "", ErrNoSessionKey
	}
	return ss.Decrypt(c.sessionKey)
}
