package cmd

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// manDate is the date printed in the generated man pages. It is fixed so that
// regenerating them gives the same files (the CI staleness check).
func manDate() time.Time { return time.Date(2026, time.November, 1, 0, 0, 0, 0, time.UTC) }

func newGenDocsCmd(f *Factory) *cobra.Command {
	var dir string
	var completions bool
	c := &cobra.Command{
		Use:    "gen-docs --dir DIR",
		Short:  "Generate the command reference (DIR/reference), man pages (DIR/man) and completion scripts",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if dir == "" {
				return usageError{fmt.Errorf("--dir is required")}
			}
			if err := genDocs(c.Root(), dir); err != nil {
				return err
			}
			if completions {
				return genCompletions(c.Root(), filepath.Join(dir, "completions"))
			}
			return nil
		},
	}
	c.Flags().StringVar(&dir, "dir", "", "output directory (docs/ in the repository)")
	c.Flags().BoolVar(&completions, "completions", false, "also write bash, zsh, fish and PowerShell completion scripts to DIR/completions")
	return c
}

// genDocs writes the Markdown reference and the man pages of root's tree,
// replacing the files generated before.
func genDocs(root *cobra.Command, dir string) error {
	root.InitDefaultCompletionCmd()
	disableAutoGenTag(root)
	ref, man := filepath.Join(dir, "reference"), filepath.Join(dir, "man")
	for _, d := range []struct{ path, ext string }{{ref, ".md"}, {man, ".1"}} {
		if err := clearGenerated(d.path, d.ext); err != nil {
			return err
		}
	}
	if err := doc.GenMarkdownTree(root, ref); err != nil {
		return fmt.Errorf("generating the reference: %w", err)
	}
	date := manDate()
	header := &doc.GenManHeader{Title: "PSSESSION", Section: "1", Source: "pssession", Manual: "pssession manual", Date: &date}
	if err := doc.GenManTree(root, header, man); err != nil {
		return fmt.Errorf("generating man pages: %w", err)
	}
	return nil
}

// clearGenerated creates dir and removes its files ending in ext, so that a
// removed command leaves no page behind.
func clearGenerated(dir, ext string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if !e.IsDir() && strings.HasPrefix(e.Name(), "pssession") && strings.HasSuffix(e.Name(), ext) {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

func disableAutoGenTag(c *cobra.Command) {
	c.DisableAutoGenTag = true
	for _, sub := range c.Commands() {
		disableAutoGenTag(sub)
	}
}

// genCompletions writes the four completion scripts into dir.
func genCompletions(root *cobra.Command, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, s := range []struct {
		name string
		gen  func(path string) error
	}{
		{"pssession.bash", func(p string) error { return root.GenBashCompletionFileV2(p, true) }},
		{"_pssession", root.GenZshCompletionFile},
		{"pssession.fish", func(p string) error { return root.GenFishCompletionFile(p, true) }},
		{"pssession.ps1", root.GenPowerShellCompletionFileWithDesc},
	} {
		if err := s.gen(filepath.Join(dir, s.name)); err != nil {
			return fmt.Errorf("writing %s: %w", s.name, err)
		}
	}
	return nil
}
