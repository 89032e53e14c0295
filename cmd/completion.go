package cmd

import (
	"slices"

	"github.com/spf13/cobra"
)

// completionHelp documents shell completion on cobra's `completion` command.
const completionHelp = `Generate the completion script for bash, zsh, fish or PowerShell.

Besides commands and flags, the scripts complete saved session names (enter,
receive, remove, history, invoke --session) and the host names of the
configuration file's Host blocks (enter, new, invoke, --computer); see
"pssession config --help". Release archives and the deb/rpm packages carry
ready-made scripts.

  bash:       source <(pssession completion bash)
  zsh:        pssession completion zsh > "${fpath[1]}/_pssession"
  fish:       pssession completion fish > ~/.config/fish/completions/pssession.fish
  PowerShell: pssession completion powershell | Out-String | Invoke-Expression`

// registerCompletions adds dynamic completion to the commands of root:
// saved session names and configured hosts. It runs after every command is
// added and leaves alone a command that already completes its arguments.
func registerCompletions(f *Factory, root *cobra.Command) {
	root.InitDefaultCompletionCmd()
	sessions := func(c *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		return completeSessions(f, args), cobra.ShellCompDirectiveNoFileComp
	}
	hosts := func(c *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		return completeHosts(f), cobra.ShellCompDirectiveNoFileComp
	}
	first := func(fn cobra.CompletionFunc) cobra.CompletionFunc {
		return func(c *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return fn(c, args, toComplete)
		}
	}
	both := func(c *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		return append(completeSessions(f, args), completeHosts(f)...), cobra.ShellCompDirectiveNoFileComp
	}
	args := map[string]cobra.CompletionFunc{
		"enter":   first(both),
		"receive": first(sessions),
		"history": first(sessions),
		"remove":  sessions,
		"new":     first(hosts),
		"invoke":  first(hosts),
	}
	for _, c := range root.Commands() {
		switch c.Name() {
		case "completion":
			c.Long = completionHelp
		case "config":
			if show, _, err := c.Find([]string{"show"}); err == nil && show != c && show.ValidArgsFunction == nil {
				show.ValidArgsFunction = first(hosts)
			}
		}
		if fn, ok := args[c.Name()]; ok && c.ValidArgsFunction == nil {
			c.ValidArgsFunction = fn
		}
		for flag, fn := range map[string]cobra.CompletionFunc{"session": sessions, "computer": hosts} {
			if c.Flags().Lookup(flag) == nil {
				continue
			}
			if _, exists := c.GetFlagCompletionFunc(flag); !exists {
				c.RegisterFlagCompletionFunc(flag, fn)
			}
		}
	}
}

// completeSessions lists saved session names, with their computer as the
// description, leaving out those already on the command line.
func completeSessions(f *Factory, already []string) []string {
	st, err := openStore(f)
	if err != nil {
		return nil
	}
	recs, err := st.List()
	if err != nil {
		return nil
	}
	var out []string
	for _, r := range recs {
		if slices.Contains(already, r.Name) {
			continue
		}
		out = append(out, r.Name+"\tsaved session on "+r.ComputerName)
	}
	return out
}

// completeHosts lists the literal host names of the configuration file.
func completeHosts(f *Factory) []string {
	file, err := loadConfig(f)
	if err != nil {
		return nil
	}
	var out []string
	for _, h := range file.Hosts() {
		out = append(out, h+"\tconfigured host")
	}
	return out
}
