package session

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pssession/pssession/remote/wsman"
	"github.com/pssession/pssession/remote/wsman/transport"
)

// DefaultRetryTimeout is how long a dropped network is retried before a
// session gives up (about_PSSession_Details: robust connections, 4 minutes).
const DefaultRetryTimeout = 4 * time.Minute

// transient reports whether err is a network failure worth retrying, as
// opposed to an answer from the server (fault, HTTP or auth error), a TLS
// verdict, or cancellation.
func transient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var (
		fault   *wsman.Fault
		httpErr *wsman.HTTPError
		authErr *transport.AuthError
		tlsErr  *transport.TLSError
		thErr   *transport.HTTPError
	)
	return !errors.As(err, &fault) && !errors.As(err, &httpErr) && !errors.As(err, &authErr) &&
		!errors.As(err, &tlsErr) && !errors.As(err, &thErr)
}

// ConnectionLostError is returned when the network stayed down for longer
// than the retry timeout. The server keeps the session (disconnected) and
// CommandID, if set, keeps running there: a later Connect and Attach
// recover it.
type ConnectionLostError struct {
	CommandID string
	Err       error
}

func (e *ConnectionLostError) Error() string {
	return fmt.Sprintf("session: the connection to the server was lost: %v", e.Err)
}

func (e *ConnectionLostError) Unwrap() error { return e.Err }

// retrier retries a long-poll through network drops for up to the retry
// timeout, telling the user once when it starts and when it recovers.
type retrier struct {
	s        *Session
	deadline time.Time
	backoff  time.Duration
	failing  bool
	// reconnected is set once a Reconnect was tried in this episode.
	reconnected bool
	// gaveUp is set when the retry timeout ran out.
	gaveUp bool
}

func (s *Session) newRetrier() *retrier { return &retrier{s: s} }

func (s *Session) retryTimeout() time.Duration {
	switch {
	case s.cfg.RetryTimeout < 0:
		return 0
	case s.cfg.RetryTimeout == 0:
		return DefaultRetryTimeout
	}
	return s.cfg.RetryTimeout
}

func (s *Session) notice(msg string) {
	if s.cfg.OnNotice != nil {
		s.cfg.OnNotice(msg)
	}
}

// failed decides after an error whether to try again; it waits before
// returning true.
func (r *retrier) failed(ctx context.Context, err error) bool {
	limit := r.s.retryTimeout()
	if limit == 0 {
		return false
	}
	if !transient(err) {
		// Back after a drop, the server may have disconnected the shell
		// meanwhile (its client looked gone): reconnect and go on.
		var f *wsman.Fault
		if !r.failing || !errors.As(err, &f) || f.Code == wsman.CodeShellNotFound || r.reconnected {
			return false
		}
		r.reconnected = true
		if rerr := r.s.t.Reconnect(ctx, r.s.shellID); rerr != nil {
			return false
		}
		r.s.notice("the server had disconnected the session; reconnected")
		return true
	}
	if !r.failing {
		r.failing = true
		r.deadline = time.Now().Add(limit)
		r.backoff = 250 * time.Millisecond
		r.s.notice(fmt.Sprintf("the network connection to the server was interrupted (%v); retrying for up to %s", err, limit.Round(time.Second)))
	}
	if time.Now().After(r.deadline) {
		r.s.notice("the network connection could not be restored; giving up")
		r.gaveUp = true
		return false
	}
	t := time.NewTimer(r.backoff)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
	}
	if r.backoff < 5*time.Second {
		r.backoff *= 2
	}
	return true
}

// succeeded ends a retry episode.
func (r *retrier) succeeded() {
	if r.failing {
		r.failing, r.reconnected = false, false
		r.s.notice("the network connection was restored")
	}
}

// longPoll receives on the pool stream (cmdID empty) or a command's stream
// until ctx ends (nil) or onData reports done, feeding every packet to the
// pool. Network drops are retried (robust connections); when the retry
// window runs out the error is a *ConnectionLostError.
func (s *Session) longPoll(ctx context.Context, cmdID string, onDone func(*Received)) error {
	retry := s.newRetrier()
	for ctx.Err() == nil {
		rec, err := s.t.Receive(ctx, s.shellID, cmdID)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			if retry.failed(ctx, err) {
				continue
			}
			if retry.gaveUp {
				return &ConnectionLostError{CommandID: cmdID, Err: err}
			}
			return fmt.Errorf("session: receive: %w", err)
		}
		retry.succeeded()
		for _, d := range rec.Data {
			if err := s.pump(d, false); err != nil {
				return err
			}
		}
		if rec.Done && onDone != nil {
			onDone(rec)
			return nil
		}
	}
	return nil
}
