package session

import (
	"context"
	"time"

	"github.com/pssession/pssession/remote/wsman"
)

// WSMan adapts a *wsman.Client to Transport.
type WSMan struct {
	C *wsman.Client
}

var _ Transport = WSMan{}

// Create implements Transport.
func (w WSMan) Create(ctx context.Context, req CreateRequest) error {
	_, err := w.C.Create(ctx, wsman.CreateRequest{
		ShellID:     req.ShellID,
		Name:        req.Name,
		IdleTimeout: req.IdleTimeout,
		NoProfile:   req.NoProfile,
		CreationXML: req.CreationXML,
	})
	return err
}

// Command implements Transport.
func (w WSMan) Command(ctx context.Context, shellID, commandID, commandLine string, args []byte) error {
	_, err := w.C.Command(ctx, shellID, commandID, commandLine, args)
	return err
}

// Send implements Transport.
func (w WSMan) Send(ctx context.Context, shellID, commandID, stream string, data []byte) error {
	return w.C.Send(ctx, shellID, commandID, stream, data)
}

// Receive implements Transport.
func (w WSMan) Receive(ctx context.Context, shellID, commandID string) (*Received, error) {
	r, err := w.C.Receive(ctx, shellID, commandID)
	if err != nil {
		return nil, err
	}
	out := &Received{Done: r.Done()}
	for _, s := range r.Streams {
		if len(s.Data) > 0 {
			out.Data = append(out.Data, s.Data)
		}
	}
	if r.State != nil && r.State.ExitCode != nil {
		out.ExitCode = *r.State.ExitCode
	}
	return out, nil
}

// Signal implements Transport.
func (w WSMan) Signal(ctx context.Context, shellID, commandID, code string) error {
	return w.C.Signal(ctx, shellID, commandID, code)
}

// Delete implements Transport.
func (w WSMan) Delete(ctx context.Context, shellID string) error { return w.C.Delete(ctx, shellID) }

// Disconnect implements Transport.
func (w WSMan) Disconnect(ctx context.Context, shellID string, idle time.Duration, bufferMode string) error {
	return w.C.Disconnect(ctx, shellID, idle, bufferMode)
}

// Reconnect implements Transport.
func (w WSMan) Reconnect(ctx context.Context, shellID string) error {
	return w.C.Reconnect(ctx, shellID)
}

// Connect implements Transport.
func (w WSMan) Connect(ctx context.Context, shellID string, connectXML []byte) ([]byte, error) {
	return w.C.Connect(ctx, shellID, connectXML)
}

// ConnectCommand implements Transport.
func (w WSMan) ConnectCommand(ctx context.Context, shellID, commandID string) error {
	return w.C.ConnectCommand(ctx, shellID, commandID)
}

// MaxPayload implements Transport.
func (w WSMan) MaxPayload() int { return w.C.MaxPayload() }

// SetMaxEnvelopeSize implements Transport.
func (w WSMan) SetMaxEnvelopeSize(n int) { w.C.SetMaxEnvelopeSize(n) }
