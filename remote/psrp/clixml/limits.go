package clixml

import "fmt"

// Limits bounds what a decoder accepts from a peer. Zero fields take the
// defaults below.
type Limits struct {
	MaxDepth    int // element nesting depth (default 64)
	MaxBytes    int // input size in bytes (default 64 MiB)
	MaxElements int // number of elements (default 1<<20)
}

// Default limits (see Limits).
const (
	DefaultMaxDepth    = 64
	DefaultMaxBytes    = 64 << 20
	DefaultMaxElements = 1 << 20
)

func (l Limits) withDefaults() Limits {
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxElements <= 0 {
		l.MaxElements = DefaultMaxElements
	}
	return l
}

// SyntaxError reports input that is not well-formed XML or not valid CLIXML.
type SyntaxError struct {
	Offset int    // byte offset in the input where the problem was found
	Msg    string // what is wrong
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("clixml: syntax error at offset %d: %s", e.Offset, e.Msg)
}

// LimitError reports input that exceeds one of the Limits.
type LimitError struct {
	Limit  string // "MaxDepth", "MaxBytes" or "MaxElements"
	Max    int    // the limit in force
	Offset int    // byte offset where it was exceeded
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("clixml: %s limit %d exceeded at offset %d", e.Limit, e.Max, e.Offset)
}
