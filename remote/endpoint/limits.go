package endpoint

import "time"

// Every bound on what a peer controls, in one place (each has a test in
// limits_test.go or fault_test.go).
const (
	// MaxRequestBytes bounds a (decrypted) request body: the 500 KiB
	// cfg:MaxEnvelopeSizekb the endpoint announces (MS-WSMV 3.1.4.1.8).
	MaxRequestBytes = maxEnvelopeSizeKB * 1024
	// maxEnvelopeSizeKB is announced by Get on the config resource; larger
	// MaxEnvelopeSize requests are served with this size.
	maxEnvelopeSizeKB = 500
	// minEnvelopeSize is the smallest MaxEnvelopeSize accepted.
	minEnvelopeSize = 8192
	// defaultEnvelopeSize applies when a request names none (WSMan v2).
	defaultEnvelopeSize = 153600
	// maxOperationTimeout caps a request's OperationTimeout (long-polls).
	maxOperationTimeout = 10 * time.Minute
	// maxEnumerations bounds the open enumeration contexts; the oldest is
	// dropped beyond it.
	maxEnumerations = 64
	// winrsMaxBuffered bounds the unreceived output per WinRS stream; the
	// process's reader waits for the client beyond it.
	winrsMaxBuffered = 1 << 20
	// winrsStdinQueue bounds the stdin chunks queued for a process.
	winrsStdinQueue = 64
	// DefaultClientTimeout is how long a connected PowerShell shell may go
	// without any request before it counts as disconnected (Config.ClientTimeout).
	DefaultClientTimeout = 3 * time.Minute
	// DefaultBufferLimit is the per-command PSRP output buffered before
	// Block pauses the engine or Drop discards the oldest messages.
	DefaultBufferLimit = 1 << 20
	// DefaultMaxShellsPerUser is WinRM's MaxShellsPerUser default.
	DefaultMaxShellsPerUser = 30
	// DefaultMaxCommandsPerShell is the default MaxConcurrentCommandsPerShell.
	DefaultMaxCommandsPerShell = 1000
)
