package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/pssession/pssession/history"
	"github.com/pssession/pssession/internal/store"
	"github.com/pssession/pssession/remote/session"
	"github.com/pssession/pssession/shell"
)

// enterOptions are the options of `pssession enter`.
type enterOptions struct {
	Conn          ConnOptions
	NoColor       bool
	CancelTimeout time.Duration
	BusyTimeout   time.Duration
	// Name saves a new session under this name (enter HOST --name NAME):
	// leaving disconnects and keeps it.
	Name string
}

// target is what enter opens: how to open the session, how to leave it,
// and what to call it.
type enterTarget struct {
	// Computer is shown as "[Computer]: " in the prompt.
	Computer string
	// HistoryKey names the history file (history.Key).
	HistoryKey string
	// Open opens (or reconnects) the session.
	Open func(ctx context.Context, cfg session.Config) (*closingSession, error)
	// Leave closes a temporary session, or disconnects and keeps a saved one.
	Leave func(ctx context.Context, s *closingSession) error
	// Resume, when set, runs once the session is open and before the first
	// prompt: a saved session reattaches the command it left running and
	// prints its buffered output.
	Resume func(ctx context.Context, s *closingSession, r *shell.Renderer)
}

// runEnter resolves TARGET, a saved session's name or id or else a
// computer, and enters it.
func runEnter(ctx context.Context, f *Factory, o *enterOptions, fs *pflag.FlagSet, ref string) error {
	var rec *store.Session
	var st *store.Store
	if s, err := openStore(f); err == nil {
		if r, err := s.Find(ref); err == nil {
			st, rec = s, &r
		}
	}
	cfgTarget := ref
	if rec != nil {
		cfgTarget = rec.ComputerName
	}
	if err := ApplyConfig(f, fs, &o.Conn, cfgTarget); err != nil {
		return err
	}
	if err := o.Conn.Validate(); err != nil {
		return err
	}
	var t enterTarget
	if rec == nil {
		u, err := o.Conn.EndpointURL(ref)
		if err != nil {
			return err
		}
		t = enterTarget{
			Computer:   u.Hostname(),
			HistoryKey: history.Key("", u.Hostname()),
			Leave:      func(ctx context.Context, s *closingSession) error { return s.Close(ctx) },
		}
	} else {
		t = savedEnterTarget(f, st, *rec, o)
	}
	password, err := o.Conn.password(f, "Password: ")
	if err != nil {
		return err
	}
	switch {
	case rec == nil && o.Name != "":
		if err := newSavedEnterTarget(f, o, ref, password, &t); err != nil {
			return err
		}
	case rec == nil:
		t.Open = func(ctx context.Context, cfg session.Config) (*closingSession, error) {
			return dialSession(ctx, f, &o.Conn, ref, password, cfg)
		}
	default:
		r := *rec
		t.Open = func(ctx context.Context, cfg session.Config) (*closingSession, error) {
			return connectSaved(ctx, f, st, r, o.Conn, password, cfg, o.BusyTimeout)
		}
		t.Resume = func(ctx context.Context, s *closingSession, rd *shell.Renderer) {
			resumePending(ctx, f, st, r, s, rd)
		}
	}
	return enterInteractive(ctx, f, &o.Conn, t, o.NoColor, o.CancelTimeout)
}

// savedEnterTarget enters a saved session: reconnect it, and on leaving
// disconnect it and keep it (the server keeps it running).
func savedEnterTarget(f *Factory, st *store.Store, rec store.Session, o *enterOptions) enterTarget {
	computer := rec.ComputerName
	if computer == "" {
		computer = rec.Name
	}
	return enterTarget{
		Computer:   computer,
		HistoryKey: history.Key(rec.Name, ""),
		Leave: func(ctx context.Context, s *closingSession) error {
			err := disconnectAndSave(ctx, st, rec.Name, s, savedConn(rec, o.Conn), "", "")
			if err == nil {
				fmt.Fprintf(f.IO.ErrOut, "pssession: the session %q is disconnected and kept; enter it again with: pssession enter %s\n", rec.Name, rec.Name)
			}
			return err
		},
	}
}

const enterLong = `Open an interactive prompt on a remote host, as Enter-PSSession does: every
line runs in one persistent remote runspace, so variables, functions and the
current location carry over from one line to the next. The prompt is
"[HOST]: " followed by the remote prompt function's text.

TARGET is a saved session's name or Id (see pssession new) or else a computer
name, host:port or URI. A computer gets a temporary session, closed on the
server when you leave (exit, Exit-PSSession or Ctrl+D), also after an error,
SIGTERM or SIGHUP. A saved session is reconnected, and on leaving it is
disconnected and kept on the server (Connect-PSSession/Disconnect-PSSession),
so you can enter it again later, from this machine or another.

Keys: Ctrl+C stops the running command (the session survives; a command
that does not stop within --cancel-timeout is abandoned) and clears the line
at the prompt; Tab completes from the remote TabExpansion2 where the endpoint
has it; Up/Down and Ctrl+R search the history, kept per host (or saved
session) across runs (lines that look like they hold secrets are never
written to disk).
A statement left open (braces, quotes, here-strings, a trailing pipe or
backtick) continues on a ">> " line; an empty line there submits it.
clear, cls and Clear-Host clear the local screen.

When standard input is not a terminal, its lines are run one statement at a
time with no prompt (Read-Host and other prompts fail, as nobody can answer
them), and the exit status is:
  N    a script called "exit N"
  1    otherwise, the last statement failed or wrote an error record
  0    otherwise
  130  Ctrl+C stopped a statement
  255  connection, authentication or protocol failure
Interactively the status is 0, or N after "exit N"; 128+N after signal N
(SIGTERM, SIGHUP).`

func newEnterCmd(f *Factory) *cobra.Command {
	o := &enterOptions{}
	c := &cobra.Command{
		Use:   "enter TARGET",
		Short: "Open an interactive prompt on a remote host (Enter-PSSession)",
		Long:  enterLong,
		Example: `  pssession enter server1 -u 'CORP\alice'
  pssession enter https://server1:5986/wsman --ca-file corp-ca.pem
  echo 'Get-Service WinRM' | pssession enter server1`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return runEnter(c.Context(), f, o, c.Flags(), args[0])
		},
	}
	fl := c.Flags()
	fl.BoolVar(&o.NoColor, "no-color", false, "plain output, no colours (also with NO_COLOR or when stdout is not a terminal)")
	fl.DurationVar(&o.CancelTimeout, "cancel-timeout", 10*time.Second, "how long Ctrl+C waits for a command to stop before abandoning it")
	fl.DurationVar(&o.BusyTimeout, "busy-timeout", session.DefaultBusyTimeout, "how long to wait for a busy saved session")
	fl.StringVar(&o.Name, "name", "", "save the new session under this name; leaving disconnects and keeps it")
	o.Conn.AddFlags(fl)
	return c
}

// enterInteractive opens a temporary session on target and runs the REPL
// on it until the user leaves; the session is closed on the way out.
func enterInteractive(ctx context.Context, f *Factory, conn *ConnOptions, t enterTarget, noColor bool, cancelTimeout time.Duration) error {
	computer := t.Computer
	var err error
	interactive := f.IO.IsStdinTTY()
	size := func() (int, int) {
		w, h := f.IO.TerminalSize()
		if w <= 0 {
			w = 120
		}
		if h <= 0 {
			h = 50
		}
		return w, h
	}
	// Everything written on stdout passes the tracker, so a host prompt
	// knows the unfinished line on screen.
	hostOut := &shell.LineTracker{W: f.IO.Out}
	r := &shell.Renderer{
		Out: hostOut, Err: f.IO.ErrOut,
		Color:    f.IO.ColorEnabled() && !noColor,
		Progress: interactive && f.IO.IsStderrTTY(),
	}
	host := &shell.Host{Out: hostOut, Err: f.IO.ErrOut, Renderer: r, Size: size, Title: "[" + computer + "]"}
	repl := &shell.REPL{
		Computer:    computer,
		Interactive: interactive,
		Renderer:    r,
		Width:       func() int { w, _ := size(); return w },
		Notice:      func(msg string) { r.WriteErrorText(msg) },
	}
	completer := &shell.Completer{Ctx: ctx}
	var rl *shell.Readline
	if interactive {
		if rl, err = shell.NewReadline(f.IO, completer); err != nil {
			return err
		}
		defer rl.Close()
		rl.OnHostInterrupt = repl.Interrupt
		rl.Pending = hostOut
		host.Reader = rl.HostReader()
		repl.Lines = rl
		repl.Remember = rl.Remember
	} else {
		repl.Lines = &shell.PipeLines{R: f.IO.In}
	}

	// SIGTERM and SIGHUP end the REPL; the session is still closed.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(term)
	var termSignal atomic.Int32
	go func() {
		select {
		case sig := <-term:
			if s, ok := sig.(syscall.Signal); ok {
				termSignal.Store(int32(s))
			}
			cancel()
			if rl != nil {
				rl.Close()
			}
		case <-ctx.Done():
		}
	}()
	// Ctrl+C reaches the process as SIGINT while a command runs (the line
	// editor reads it as a key at the prompt).
	sigint := make(chan os.Signal, 4)
	signal.Notify(sigint, os.Interrupt)
	defer signal.Stop(sigint)
	interrupts := make(chan struct{}, 4)
	openCtx, cancelOpen := context.WithTimeout(ctx, conn.OpenTimeout)
	go func() {
		for {
			select {
			case <-sigint:
				cancelOpen() // no effect once the session is open
				select {
				case interrupts <- struct{}{}:
				default:
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	repl.Interrupts = interrupts

	w, h := size()
	cfg := session.Config{Host: host, HostInfo: session.DefaultHostInfo(w, h), CancelTimeout: cancelTimeout,
		OnNotice: func(msg string) { r.WriteErrorText("pssession: " + msg) }}
	sess, err := t.Open(openCtx, cfg)
	cancelOpen()
	if err != nil {
		if errors.Is(err, context.Canceled) && ctx.Err() == nil {
			return &ExitError{Code: 130, Err: errors.New("interrupted while connecting")}
		}
		return &ExitError{Code: ExitConnection, Err: errors.New(describeError(err))}
	}
	defer func() {
		// Always leave the session (close a temporary one), even after an
		// error or a signal.
		cctx, ccancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer ccancel()
		if err := t.Leave(cctx, sess); err != nil {
			r.WriteErrorText("pssession: leaving the session: " + err.Error())
		}
	}()
	repl.Session = sess
	completer.Session = sess
	if t.Resume != nil {
		t.Resume(ctx, sess, r)
	}
	if interactive {
		if dir, err := history.DefaultDir(f.Getenv); err == nil {
			repl.History = &history.Store{Dir: dir}
			repl.HistoryKey = t.HistoryKey
			lines, _ := repl.History.Lines(repl.HistoryKey)
			for _, l := range lines {
				rl.Remember(l)
			}
		}
		repl.ClearScreen = func() {
			if f.IO.IsStdoutTTY() {
				fmt.Fprint(f.IO.Out, "\x1b[H\x1b[2J\x1b[3J")
			}
		}
	}
	code, err := repl.Run(ctx)
	if err != nil && ctx.Err() == nil {
		return &ExitError{Code: ExitConnection, Err: errors.New(describeError(err))}
	}
	if err != nil {
		// Ended by SIGTERM/SIGHUP: 128 + signal number, as shells report it.
		return &ExitError{Code: 128 + int(termSignal.Load())}
	}
	if code != 0 {
		return &ExitError{Code: code}
	}
	return nil
}

// newSavedEnterTarget sets t up for `enter HOST --name NAME`: a new session
// carrying NAME, saved once open, disconnected and kept on leaving.
func newSavedEnterTarget(f *Factory, o *enterOptions, host, password string, t *enterTarget) error {
	st, err := openStore(f)
	if err != nil {
		return err
	}
	if _, err := st.Find(o.Name); err == nil {
		return usageError{fmt.Errorf("a saved session named %q already exists; enter it with: pssession enter %s", o.Name, o.Name)}
	}
	u, err := o.Conn.EndpointURL(host)
	if err != nil {
		return err
	}
	t.HistoryKey = history.Key(o.Name, "")
	t.Open = func(ctx context.Context, cfg session.Config) (*closingSession, error) {
		cfg.Name = o.Name
		s, err := dialSession(ctx, f, &o.Conn, host, password, cfg)
		if err != nil {
			return nil, err
		}
		if _, err := st.Add(recordFor(o.Name, &o.Conn, u, s.Session)); err != nil {
			s.Close(context.WithoutCancel(ctx))
			return nil, err
		}
		return s, nil
	}
	t.Leave = func(ctx context.Context, s *closingSession) error {
		err := disconnectAndSave(ctx, st, o.Name, s, o.Conn, "", "")
		if err == nil {
			fmt.Fprintf(f.IO.ErrOut, "pssession: the session %q is disconnected and kept; enter it again with: pssession enter %s\n", o.Name, o.Name)
		}
		return err
	}
	return nil
}

// resumePending reattaches a saved session's command that kept running
// while it was disconnected, printing what it buffered and what follows
// before the first prompt (Connect-PSSession + Receive-PSSession).
func resumePending(ctx context.Context, f *Factory, st *store.Store, rec store.Session, s *closingSession, r *shell.Renderer) {
	cmdID := rec.CommandID
	if cmdID == "" {
		return
	}
	if cmds, err := s.wsman.EnumerateCommands(ctx, rec.ShellID); err == nil {
		found := false
		for _, c := range cmds {
			found = found || strings.EqualFold(c.CommandID, cmdID)
		}
		if !found {
			st.Update(rec.Name, func(x *store.Session) { x.CommandID, x.CommandText = "", "" })
			return
		}
	}
	fmt.Fprintf(f.IO.ErrOut, "pssession: reattaching to %q, which kept running while disconnected\n", rec.CommandText)
	res, err := s.Attach(ctx, cmdID, true, session.RunRequest{OnEvent: r.Event})
	r.Flush()
	switch {
	case err != nil:
		r.WriteErrorText("pssession: reattaching: " + describeError(err))
		return
	case res.Error != nil:
		r.WriteErrorText(res.Error.ConsoleText())
	}
	st.Update(rec.Name, func(x *store.Session) { x.CommandID, x.CommandText = "", "" })
}
