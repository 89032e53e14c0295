package psrp

import (
	"fmt"

	"github.com/pssession/pssession/remote/psrp/clixml"
)

// Limits bounds what the wire layer accepts from a peer. Zero fields take
// the defaults below; the zero Limits is ready to use.
type Limits struct {
	// MaxFragmentBlob bounds the blob of one fragment (MS-PSRP 2.2.4).
	MaxFragmentBlob int
	// MaxMessageSize bounds one reassembled message, header included.
	MaxMessageSize int
	// MaxPendingObjects bounds the number of messages being reassembled at
	// once (distinct ObjectIds whose End fragment has not arrived).
	MaxPendingObjects int
	// MaxPendingBytes bounds the bytes held by all partial messages (their
	// buffers may have up to twice that capacity while they grow).
	MaxPendingBytes int
	// CLIXML bounds the decoding of message bodies.
	CLIXML clixml.Limits
}

// Default limits (see Limits). Windows sends fragments of at most about
// 375 KB (500 KiB envelopes, base64); PowerShell's own out-of-process
// transport uses 32 KiB fragments.
const (
	DefaultMaxFragmentBlob   = 8 << 20
	DefaultMaxMessageSize    = 64 << 20
	DefaultMaxPendingObjects = 64
	DefaultMaxPendingBytes   = 128 << 20
)

func (l Limits) withDefaults() Limits {
	if l.MaxFragmentBlob <= 0 {
		l.MaxFragmentBlob = DefaultMaxFragmentBlob
	}
	if l.MaxMessageSize <= 0 {
		l.MaxMessageSize = DefaultMaxMessageSize
	}
	if l.MaxPendingObjects <= 0 {
		l.MaxPendingObjects = DefaultMaxPendingObjects
	}
	if l.MaxPendingBytes <= 0 {
		l.MaxPendingBytes = DefaultMaxPendingBytes
	}
	return l
}

// LimitError reports peer data exceeding one of the Limits.
type LimitError struct {
	Limit    string // "MaxFragmentBlob", "MaxMessageSize", "MaxPendingObjects" or "MaxPendingBytes"
	Max      int    // the limit in force
	Got      int64  // the size or count the peer asked for
	ObjectID uint64 // the object being reassembled, if any
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("psrp: %s limit %d exceeded (%d) by object %d", e.Limit, e.Max, e.Got, e.ObjectID)
}
