package cmd

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

// RemoveOptions are the options of `pssession remove`.
type RemoveOptions struct {
	Conn ConnOptions
	All  bool
}

func newRemoveCmd(f *Factory) *cobra.Command {
	o := &RemoveOptions{}
	c := &cobra.Command{
		Use:   "remove (NAME|ID ... | --all)",
		Short: "Close saved sessions on the server and forget them (Remove-PSSession)",
		RunE: func(c *cobra.Command, args []string) error {
			if o.All == (len(args) > 0) {
				return usageError{errors.New("give session names or ids, or --all")}
			}
			target := ""
			if len(args) == 1 {
				target = savedTarget(f, args[0])
			}
			if err := ApplyConfig(f, c.Flags(), &o.Conn, target); err != nil {
				return err
			}
			return runRemove(c.Context(), f, o, args)
		},
	}
	c.Flags().BoolVar(&o.All, "all", false, "remove every saved session")
	o.Conn.AddFlags(c.Flags())
	return c
}

func runRemove(ctx context.Context, f *Factory, o *RemoveOptions, refs []string) error {
	st, err := openStore(f)
	if err != nil {
		return err
	}
	if o.All {
		recs, err := st.List()
		if err != nil {
			return err
		}
		for _, r := range recs {
			refs = append(refs, r.Name)
		}
	}
	password, err := o.Conn.password(f, "Password: ")
	if err != nil {
		return err
	}
	var failed error
	for _, ref := range refs {
		rec, err := st.Find(ref)
		if err != nil {
			failed = errors.Join(failed, err)
			continue
		}
		conn := savedConn(rec, o.Conn)
		c, release, err := dialClient(f, &conn, "", password)
		if err != nil {
			failed = errors.Join(failed, err)
			continue
		}
		dctx, cancel := context.WithTimeout(ctx, time.Minute)
		err = c.Delete(dctx, rec.ShellID)
		cancel()
		release()
		switch {
		case err == nil:
		case isShellGone(err):
			fmt.Fprintf(f.IO.ErrOut, "pssession: %q was already closed on the server; forgetting it\n", rec.Name)
		default:
			failed = errors.Join(failed, fmt.Errorf("removing %q: %w (kept locally)", rec.Name, err))
			continue
		}
		if _, err := st.Remove(rec.Name); err != nil {
			failed = errors.Join(failed, err)
		}
	}
	if failed != nil {
		return &ExitError{Code: ExitFailure, Err: failed}
	}
	return nil
}
