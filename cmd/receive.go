package cmd

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/pssession/pssession/internal/store"
	"github.com/pssession/pssession/remote/session"
	"github.com/pssession/pssession/shell"
)

// ReceiveOptions are the options of `pssession receive`.
type ReceiveOptions struct {
	Conn        ConnOptions
	BusyTimeout time.Duration
}

func newReceiveCmd(f *Factory) *cobra.Command {
	o := &ReceiveOptions{}
	c := &cobra.Command{
		Use:   "receive NAME|ID",
		Short: "Reattach to a command that ran while disconnected and print its output (Receive-PSSession)",
		Long: `Connect to a saved session, reattach to the command it left running, print
the output buffered while disconnected and what follows, and exit with the
command's status. The session is disconnected and kept afterwards.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if err := ApplyConfig(f, c.Flags(), &o.Conn, savedTarget(f, args[0])); err != nil {
				return err
			}
			return runReceive(c.Context(), f, o, args[0])
		},
	}
	c.Flags().DurationVar(&o.BusyTimeout, "busy-timeout", session.DefaultBusyTimeout, "how long to wait for a session in use by another client")
	o.Conn.AddFlags(c.Flags())
	return c
}

func runReceive(ctx context.Context, f *Factory, o *ReceiveOptions, ref string) error {
	st, err := openStore(f)
	if err != nil {
		return err
	}
	rec, err := st.Find(ref)
	if err != nil {
		return usageError{err}
	}
	password, err := o.Conn.password(f, "Password: ")
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	r := &shell.Renderer{Out: f.IO.Out, Err: f.IO.ErrOut, Color: f.IO.ColorEnabled(), Progress: f.IO.IsStderrTTY()}
	s, err := connectSaved(ctx, f, st, rec, o.Conn, password, session.Config{}, o.BusyTimeout)
	if err != nil {
		return &ExitError{Code: ExitConnection, Err: err}
	}
	conn := savedConn(rec, o.Conn)
	if rec.CommandID == "" {
		// A client that died mid-command recorded nothing: the server's
		// command list says what kept running (shared/PROTOCOL.md §4).
		if cmds, err := s.wsman.EnumerateCommands(ctx, rec.ShellID); err == nil && len(cmds) > 0 {
			rec.CommandID = strings.ToUpper(cmds[len(cmds)-1].CommandID)
			rec.CommandText = cmds[len(cmds)-1].CommandLine
		}
	}
	if rec.CommandID == "" {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		disconnectAndSave(dctx, st, rec.Name, s, conn, "", "")
		return fmt.Errorf("the session %q has no command left to receive", rec.Name)
	}
	res, rerr := s.Attach(ctx, rec.CommandID, true, session.RunRequest{OnEvent: r.Event})
	r.Flush()
	cmdID, cmdText := "", ""
	if rerr != nil && ctx.Err() != nil {
		// Interrupted: the command keeps running on the server.
		cmdID, cmdText = rec.CommandID, rec.CommandText
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if err := disconnectAndSave(dctx, st, rec.Name, s, conn, cmdID, cmdText); err != nil {
		fmt.Fprintln(f.IO.ErrOut, "pssession: keeping the session:", err)
	}
	if rerr != nil {
		if isShellGone(rerr) {
			st.Update(rec.Name, func(x *store.Session) { x.CommandID = "" })
			return fmt.Errorf("the command of %q is no longer on the server", rec.Name)
		}
		return &ExitError{Code: ExitConnection, Err: rerr}
	}
	if res.Error != nil {
		r.WriteErrorText(res.Error.ConsoleText())
	}
	if code := resultStatus(res, r.ErrorCount); code != 0 {
		return &ExitError{Code: code}
	}
	return nil
}
