package cmd

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/pssession/pssession/internal/store"
	"github.com/pssession/pssession/remote/psrp"
	"github.com/pssession/pssession/remote/session"
	"github.com/pssession/pssession/remote/wsman"
)

// State names of saved sessions (about_PSSession_Details).
const (
	stateOpened       = "Opened"
	stateDisconnected = "Disconnected"
	stateBroken       = "Broken"
	stateClosed       = "Closed"
)

// openStore returns the saved-session store in the user's state directory.
func openStore(f *Factory) (*store.Store, error) {
	dir, err := store.DefaultDir(f.Getenv)
	if err != nil {
		return nil, err
	}
	return &store.Store{Dir: dir}, nil
}

// savedConn rebuilds the connection options of a saved session.
func savedConn(s store.Session, base ConnOptions) ConnOptions {
	o := base
	o.URI = s.URL
	o.Auth = s.Auth
	if s.User != "" {
		o.User = s.User
	}
	o.ConfigurationName = s.ConfigurationName
	if s.CAFile != "" {
		o.CAFile = s.CAFile
	}
	if s.SPN != "" {
		o.SPN = s.SPN
	}
	if s.Keytab != "" {
		o.Keytab = s.Keytab
	}
	if s.Krb5Conf != "" {
		o.Krb5Conf = s.Krb5Conf
	}
	o.InsecureSkipVerify = o.InsecureSkipVerify || s.SkipVerify
	if s.CertFile != "" && o.CertFile == "" {
		o.CertFile, o.KeyFile = s.CertFile, s.KeyFile
	}
	o.AllowUnencrypted = o.AllowUnencrypted || s.AllowUnencrypted
	if s.IdleTimeout != 0 {
		o.IdleTimeout = time.Duration(s.IdleTimeout)
	}
	if s.BufferMode != "" {
		o.OutputBuffering = s.BufferMode
	}
	return o
}

// recordFor describes a new saved session.
func recordFor(name string, o *ConnOptions, u *url.URL, sess *session.Session) store.Session {
	return store.Session{
		Name:              name,
		InstanceID:        sess.InstanceID().String(),
		ShellID:           sess.ShellID(),
		URL:               u.String(),
		ComputerName:      u.Hostname(),
		ConfigurationName: o.ConfigurationName,
		Auth:              o.Auth,
		User:              o.User,
		IdleTimeout:       store.Duration(o.IdleTimeout),
		BufferMode:        bufferMode(o.OutputBuffering),
		CAFile:            o.CAFile,
		SPN:               o.SPN,
		Keytab:            absPath(o.Keytab),
		Krb5Conf:          absPath(o.Krb5Conf),
		SkipVerify:        o.InsecureSkipVerify,
		CertFile:          absPath(o.CertFile),
		KeyFile:           absPath(o.KeyFile),
		AllowUnencrypted:  o.AllowUnencrypted,
	}
}

// absPath makes a saved file path independent of the working directory.
func absPath(p string) string {
	if p == "" {
		return ""
	}
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// bufferMode maps --output-buffering to the WS-Man BufferMode value.
func bufferMode(s string) string {
	if strings.EqualFold(s, "drop") {
		return "Drop"
	}
	return "Block"
}

// errClosedOnServer reports a saved session the server no longer has.
func errClosedOnServer(name string) error {
	return fmt.Errorf("the session %q was closed on the server (removed or idle-timed-out); it cannot be reconnected", name)
}

// isShellGone reports whether err says the shell no longer exists.
func isShellGone(err error) bool {
	var f *wsman.Fault
	return errors.As(err, &f) && f.Code == wsman.CodeShellNotFound
}

// isShellInUse reports whether err says another client holds the shell.
func isShellInUse(err error) bool {
	var f *wsman.Fault
	return errors.As(err, &f) && (f.Code == wsman.CodeShellInUse || f.Code == wsman.CodeCannotConnect)
}

// connectSaved connects this process to a saved, disconnected session. It
// waits up to busyTimeout while the session is connected to another client
// (one pipeline at a time), and marks the record Closed when the server no
// longer has the session.
func connectSaved(ctx context.Context, f *Factory, st *store.Store, rec store.Session, base ConnOptions, password string, cfg session.Config, busyTimeout time.Duration) (*closingSession, error) {
	o := savedConn(rec, base)
	c, release, err := dialClient(f, &o, "", password)
	if err != nil {
		return nil, err
	}
	cfg.Transport = session.WSMan{C: c}
	cfg.Logger = f.Logger
	cfg.RetryTimeout = retryTimeout(&o)
	deadline := time.Now().Add(busyTimeout)
	noticed := false
	for {
		s, err := session.Connect(ctx, cfg, rec.ShellID)
		if err == nil {
			st.Update(rec.Name, func(x *store.Session) { x.State = stateOpened })
			return &closingSession{Session: s, release: release, wsman: c}, nil
		}
		switch {
		case isShellGone(err):
			release()
			st.Update(rec.Name, func(x *store.Session) { x.State = stateClosed })
			return nil, errClosedOnServer(rec.Name)
		case isShellInUse(err):
			who := ""
			if sh, gerr := c.Get(ctx, rec.ShellID); gerr == nil && sh.ClientIP != "" {
				who = " from " + sh.ClientIP
			}
			if time.Now().After(deadline) {
				release()
				return nil, fmt.Errorf("the session %q is in use by another client%s; it stayed busy for %s", rec.Name, who, busyTimeout)
			}
			if !noticed {
				fmt.Fprintf(f.IO.ErrOut, "pssession: the session %q is in use by another client%s; waiting up to %s for it to become free (Ctrl+C to give up)\n", rec.Name, who, busyTimeout.Round(time.Second))
				noticed = true
			}
			select {
			case <-ctx.Done():
				release()
				return nil, ctx.Err()
			case <-time.After(time.Second):
			}
		default:
			release()
			return nil, err
		}
	}
}

// disconnectAndSave disconnects a saved session and records its state and
// any command left running.
func disconnectAndSave(ctx context.Context, st *store.Store, name string, s *closingSession, o ConnOptions, cmdID, cmdText string) error {
	err := s.Disconnect(ctx, o.IdleTimeout, bufferMode(o.OutputBuffering))
	s.release()
	_, uerr := st.Update(name, func(x *store.Session) {
		if err != nil {
			x.State = stateBroken
			return
		}
		x.State = stateDisconnected
		x.DisconnectedAt = time.Now().UTC()
		x.CommandID, x.CommandText = cmdID, cmdText
	})
	return errors.Join(err, uerr)
}

// waitForPendingCommand waits while a command the session left running
// while disconnected is still running: a session runs one pipeline at a
// time (about_PSSession_Details). Its output stays buffered for
// `pssession receive`.
func waitForPendingCommand(ctx context.Context, f *Factory, s *closingSession, rec store.Session, busyTimeout time.Duration) error {
	if rec.CommandID == "" {
		return nil
	}
	deadline := time.Now().Add(busyTimeout)
	noticed := false
	for {
		cmds, err := s.wsman.EnumerateCommands(ctx, rec.ShellID)
		if err != nil {
			return nil // cannot tell; let the server decide
		}
		running := false
		for _, x := range cmds {
			if strings.EqualFold(x.CommandID, rec.CommandID) && strings.HasSuffix(x.CommandState, "Running") {
				running = true
			}
		}
		if !running {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the session %q is busy running %q; it stayed busy for %s (collect it with: pssession receive %s)", rec.Name, rec.CommandText, busyTimeout, rec.Name)
		}
		if !noticed {
			fmt.Fprintf(f.IO.ErrOut, "pssession: the session %q is still running %q; waiting up to %s for it to finish (Ctrl+C to give up)\n", rec.Name, rec.CommandText, busyTimeout.Round(time.Second))
			noticed = true
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// resultStatus maps a finished pipeline to an exit status, as invoke does.
func resultStatus(res *session.Result, errorCount int) int {
	switch {
	case res.ShouldExit != nil:
		return int(*res.ShouldExit)
	case res.State != psrp.PipelineCompleted || errorCount > 0:
		return ExitFailure
	}
	return ExitOK
}
