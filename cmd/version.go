package cmd

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newVersionCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version and commit of this build",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			v, commit := f.Build.Version, f.Build.Commit
			if v == "" {
				v = "dev"
			}
			if commit == "" {
				commit = "unknown"
			}
			_, err := fmt.Fprintf(f.IO.Out, "pssession %s (commit %s)\n", v, commit)
			return err
		},
	}
}
