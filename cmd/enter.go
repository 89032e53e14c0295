package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/pssession/pssession/history"
	"github.com/pssession/pssession/remote/session"
	"github.com/pssession/pssession/shell"
)

// enterOptions are the options of `pssession enter`.
type enterOptions struct {
	Conn          ConnOptions
	NoColor       bool
	CancelTimeout time.Duration
}

const enterLong = `Open an interactive prompt on a remote host, as Enter-PSSession does: every
line runs in one persistent remote runspace, so variables, functions and the
current location carry over from one line to the next. The prompt is
"[HOST]: " followed by the remote prompt function's text.

The session is temporary: it is closed on the server when you leave (exit,
Exit-PSSession or Ctrl+D), also after an error, SIGTERM or SIGHUP.

Keys: Ctrl+C stops the running command (the session survives; a command
that does not stop within --cancel-timeout is abandoned) and clears the line
at the prompt; Tab completes from the remote TabExpansion2 where the endpoint
has it; Up/Down and Ctrl+R search the history, kept per host across runs
(lines that look like they hold secrets are never written to disk).
A statement left open (braces, quotes, here-strings, a trailing pipe or
backtick) continues on a ">> " line; an empty line there submits it.
clear, cls and Clear-Host clear the local screen.

When standard input is not a terminal, its lines are run one statement at a
time with no prompt, and the exit status is:
  N    a script called "exit N"
  1    otherwise, the last statement failed or wrote an error record
  0    otherwise
  255  connection, authentication or protocol failure
Interactively the status is 0, or N after "exit N".`

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
			if err := o.Conn.Validate(); err != nil {
				return err
			}
			if _, err := o.Conn.EndpointURL(args[0]); err != nil {
				return err
			}
			password, err := o.Conn.password(f, "Password: ")
			if err != nil {
				return err
			}
			return enterInteractive(c.Context(), f, &o.Conn, args[0], password, o.NoColor, o.CancelTimeout)
		},
	}
	fl := c.Flags()
	fl.BoolVar(&o.NoColor, "no-color", false, "plain output, no colours (also with NO_COLOR or when stdout is not a terminal)")
	fl.DurationVar(&o.CancelTimeout, "cancel-timeout", 10*time.Second, "how long Ctrl+C waits for a command to stop before abandoning it")
	o.Conn.AddFlags(fl)
	return c
}

// enterInteractive opens a temporary session on target and runs the REPL
// on it until the user leaves; the session is closed on the way out.
func enterInteractive(ctx context.Context, f *Factory, conn *ConnOptions, target, password string, noColor bool, cancelTimeout time.Duration) error {
	u, err := conn.EndpointURL(target)
	if err != nil {
		return err
	}
	computer := u.Hostname()
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
	go func() {
		select {
		case <-term:
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
	sess, err := dialSession(openCtx, f, conn, target, password, cfg)
	cancelOpen()
	if err != nil {
		if errors.Is(err, context.Canceled) && ctx.Err() == nil {
			err = errors.New("interrupted while connecting")
		}
		return &ExitError{Code: ExitConnection, Err: errors.New(describeError(err))}
	}
	defer func() {
		// Always close the temporary session, even after an error or signal.
		cctx, ccancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer ccancel()
		if err := sess.Close(cctx); err != nil {
			f.Logger.Debug("closing the session", "target", target, "err", err)
		}
	}()
	repl.Session = sess
	completer.Session = sess
	if interactive {
		if dir, err := history.DefaultDir(f.Getenv); err == nil {
			repl.History = &history.Store{Dir: dir}
			repl.HistoryKey = history.Key("", computer)
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
		return &ExitError{Code: 143}
	}
	if code != 0 {
		return &ExitError{Code: code}
	}
	return nil
}
