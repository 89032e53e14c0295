package cmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/pssession/pssession/history"
)

func newHistoryCmd(f *Factory) *cobra.Command {
	var host string
	c := &cobra.Command{
		Use:   "history [NAME]",
		Short: "Show the command history of a saved session, or of a host (--computer)",
		Long: `Show the lines typed in interactive sessions: those of the saved session
NAME, or with --computer those of temporary sessions to HOST. Lines that look
sensitive (password, token, secret, apikey, asplaintext) are never saved.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			name := ""
			if len(args) == 1 {
				name = args[0]
			}
			if (name == "") == (host == "") {
				return usageError{fmt.Errorf("give a saved session name or --computer HOST")}
			}
			if name != "" {
				if st, err := openStore(f); err == nil {
					if rec, err := st.Find(name); err == nil {
						name = rec.Name
					}
				}
			}
			dir, err := history.DefaultDir(f.Getenv)
			if err != nil {
				return err
			}
			lines, err := history.Store{Dir: dir}.Lines(history.Key(name, host))
			if err != nil {
				return err
			}
			for i, l := range lines {
				fmt.Fprintf(f.IO.Out, "%5d  %s\n", i+1, l)
			}
			return nil
		},
	}
	c.Flags().StringVar(&host, "computer", "", "show the history of temporary sessions to this host")
	return c
}
