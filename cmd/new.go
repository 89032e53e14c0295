package cmd

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/pssession/pssession/internal/store"
	"github.com/pssession/pssession/remote/session"
)

// NewOptions are the options of `pssession new`.
type NewOptions struct {
	Conn ConnOptions
	Name string
}

func newNewCmd(f *Factory) *cobra.Command {
	o := &NewOptions{}
	c := &cobra.Command{
		Use:   "new HOST --name NAME",
		Short: "Create a saved session, left disconnected on the server (New-PSSession + Disconnect-PSSession)",
		Long: `Create a PowerShell session on HOST that carries NAME, disconnect it with the
chosen idle timeout and output buffering, and save it locally. Later
"pssession enter NAME" reconnects to it from any process or machine.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if err := ApplyConfig(f, c.Flags(), &o.Conn, args[0]); err != nil {
				return err
			}
			return runNew(c.Context(), f, o, args[0])
		},
	}
	c.Flags().StringVar(&o.Name, "name", "", "name of the session (required)")
	o.Conn.AddFlags(c.Flags())
	return c
}

func runNew(ctx context.Context, f *Factory, o *NewOptions, target string) error {
	if o.Name == "" {
		return usageError{errors.New("--name is required")}
	}
	if err := o.Conn.Validate(); err != nil {
		return err
	}
	u, err := o.Conn.EndpointURL(target)
	if err != nil {
		return err
	}
	st, err := openStore(f)
	if err != nil {
		return err
	}
	if _, err := st.Find(o.Name); err == nil {
		return usageError{fmt.Errorf("a saved session named %q already exists", o.Name)}
	}
	password, err := o.Conn.password(f, "Password: ")
	if err != nil {
		return err
	}
	openCtx, cancel := context.WithTimeout(ctx, o.Conn.OpenTimeout)
	defer cancel()
	s, err := dialSession(openCtx, f, &o.Conn, target, password, session.Config{Name: o.Name})
	if err != nil {
		return &ExitError{Code: ExitConnection, Err: err}
	}
	rec, err := st.Add(recordFor(o.Name, &o.Conn, u, s.Session))
	if err != nil {
		s.Close(context.WithoutCancel(ctx))
		return err
	}
	if err := disconnectAndSave(ctx, st, o.Name, s, o.Conn, "", ""); err != nil {
		return &ExitError{Code: ExitConnection, Err: err}
	}
	fmt.Fprintf(f.IO.Out, "%d  %s  %s  %s\n", rec.ID, rec.Name, rec.ComputerName, stateDisconnected)
	return nil
}

// idleExpiry predicts when a disconnected session expires on the server.
func idleExpiry(rec store.Session) time.Time {
	if rec.DisconnectedAt.IsZero() || rec.IdleTimeout == 0 {
		return time.Time{}
	}
	return rec.DisconnectedAt.Add(time.Duration(rec.IdleTimeout))
}
