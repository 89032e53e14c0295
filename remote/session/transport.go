// Package session runs a live PowerShell session over a transport: it
// joins the sans-IO PSRP core (remote/psrp) with WS-Man operations
// (remote/wsman) and is the only client-side layer with goroutines and
// blocking calls (shared/DESIGN.md §3). The shell and the commands talk
// only to this package.
package session

import (
	"context"
	"time"
)

// Transport is the set of WS-Man shell operations a session needs
// (MS-PSRP 3.1.5.3; shared/PROTOCOL.md §1.4). It is owned here, the
// consumer; WSMan adapts *wsman.Client to it. Implementations must allow a
// long-poll Receive to run while other calls are made.
type Transport interface {
	// Create opens the shell (runspace pool) with the first PSRP fragments.
	Create(ctx context.Context, req CreateRequest) error
	// Command creates a command (pipeline) carrying its first fragments.
	Command(ctx context.Context, shellID, commandID, commandLine string, args []byte) error
	// Send sends fragments on stream "stdin" or "pr"; commandID is empty
	// for pool-level data.
	Send(ctx context.Context, shellID, commandID, stream string, data []byte) error
	// Receive long-polls for output of the pool (commandID empty) or of a
	// command, retrying operation timeouts until ctx ends.
	Receive(ctx context.Context, shellID, commandID string) (*Received, error)
	// Signal sends a signal code to a command.
	Signal(ctx context.Context, shellID, commandID, code string) error
	// Delete closes the shell.
	Delete(ctx context.Context, shellID string) error
	// Disconnect suspends the shell's network side.
	Disconnect(ctx context.Context, shellID string, idle time.Duration, bufferMode string) error
	// Reconnect resumes a shell this client disconnected.
	Reconnect(ctx context.Context, shellID string) error
	// Connect attaches a new client to a disconnected shell, returning the
	// server's connectResponseXml bytes.
	Connect(ctx context.Context, shellID string, connectXML []byte) ([]byte, error)
	// ConnectCommand attaches to a command of a connected shell.
	ConnectCommand(ctx context.Context, shellID, commandID string) error
	// MaxPayload is the number of PSRP bytes one Send or Command carries.
	MaxPayload() int
	// SetMaxEnvelopeSize raises the envelope size once the server proved
	// protocol 2.2 or later.
	SetMaxEnvelopeSize(bytes int)
}

// CreateRequest is what Create needs.
type CreateRequest struct {
	ShellID     string // upper-case runspace pool id
	Name        string // friendly name (Get-PSSession Name); may be empty
	IdleTimeout time.Duration
	NoProfile   bool
	CreationXML []byte
}

// Received is one Receive response.
type Received struct {
	// Data holds the PSRP fragments of each stream element, in order.
	Data [][]byte
	// Done is set when the command reported CommandState Done.
	Done bool
	// ExitCode is the command's exit code when Done.
	ExitCode int
}

// Signal codes (MS-PSRP 3.1.5.3.9; shared/PROTOCOL.md §1.4).
const (
	// SignalStop stops a running pipeline. The typo is normative.
	SignalStop = "powershell/signal/crtl_c"
	// SignalTerminate releases a finished command.
	SignalTerminate = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/Terminate"
)
