package cmd

import (
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/pssession/pssession/internal/config"
)

// configEnv maps the environment variables that default connection options
// to the option they set. They sit between flags and the config file.
func configEnv() [][2]string {
	return [][2]string{
		{"PSSESSION_USER", "user"},
		{"PSSESSION_AUTH", "auth"},
		{"PSSESSION_PORT", "port"},
		{"PSSESSION_SSL", "ssl"},
		{"PSSESSION_CA_FILE", "ca-file"},
		{"PSSESSION_CONFIGURATION_NAME", "configuration-name"},
	}
}

// effective is the value one option takes and where it came from.
type effective struct {
	Key, Value, Source string
}

// configPath is the configuration file this process reads.
func configPath(f *Factory) (string, error) {
	return config.DefaultPath(f.Getenv)
}

// loadConfig reads the configuration file (absent: empty).
func loadConfig(f *Factory) (*config.File, error) {
	p, err := configPath(f)
	if err != nil {
		return nil, err
	}
	return config.Load(p)
}

// hostOf extracts the host name a target (computer name, host:port or URI)
// is matched by in the configuration file.
func hostOf(target string) string {
	if strings.Contains(target, "://") {
		if u, err := url.Parse(target); err == nil {
			return u.Hostname()
		}
		return target
	}
	if h, _, err := net.SplitHostPort(target); err == nil {
		return h
	}
	return strings.Trim(target, "[]")
}

// ApplyConfig fills the connection options the user did not set on the
// command line, for target: from the environment (PSSESSION_USER,
// PSSESSION_AUTH, PSSESSION_PORT, PSSESSION_SSL, PSSESSION_CA_FILE,
// PSSESSION_CONFIGURATION_NAME), then from the configuration file's options
// for the target's host. Precedence: flags > environment > file > built-in
// defaults. fs is the command's flag set, to which o is bound (AddFlags);
// fs itself is left unchanged, so ApplyConfig may be called once per target.
func ApplyConfig(f *Factory, fs *pflag.FlagSet, o *ConnOptions, target string) error {
	c, _, err := connFor(f, fs, target)
	if err != nil {
		return err
	}
	*o = c
	return nil
}

// ConnForTarget returns the connection options for target: the flags set
// on fs, then the environment, then the configuration file (see ApplyConfig).
func ConnForTarget(f *Factory, fs *pflag.FlagSet, target string) (ConnOptions, error) {
	c, _, err := connFor(f, fs, target)
	return c, err
}

// connFor builds the connection options for target on a fresh flag set:
// the flags the user set on fs, then the environment, then the file. It
// also reports each configurable option's value and source.
func connFor(f *Factory, fs *pflag.FlagSet, target string) (ConnOptions, []effective, error) {
	var c ConnOptions
	tmp := pflag.NewFlagSet("config", pflag.ContinueOnError)
	c.AddFlags(tmp)
	var err error
	tmp.VisitAll(func(fl *pflag.Flag) {
		if src := fs.Lookup(fl.Name); src != nil && src.Changed && err == nil {
			err = tmp.Set(fl.Name, src.Value.String())
		}
	})
	if err != nil {
		return c, nil, err
	}
	file, err := loadConfig(f)
	if err != nil {
		return c, nil, err
	}
	settings := file.Resolve(hostOf(target))
	env := map[string]string{}
	if f.Getenv != nil {
		for _, kv := range configEnv() {
			if f.Getenv(kv[0]) != "" {
				env[kv[1]] = kv[0]
			}
		}
	}
	var out []effective
	for _, key := range config.Keys() {
		fl := tmp.Lookup(key)
		e := effective{Key: key, Value: fl.Value.String(), Source: "default"}
		switch {
		case fl.Changed:
			e.Source = "flag --" + key
		case env[key] != "":
			v := f.Getenv(env[key])
			if err := tmp.Set(key, v); err != nil {
				return c, nil, usageError{fmt.Errorf("%s=%q: %w", env[key], v, err)}
			}
			e.Value, e.Source = fl.Value.String(), env[key]
		case settings[key] != (config.Setting{}):
			s := settings[key]
			v := s.Value
			if key == "ca-file" || key == "keytab" || key == "krb5-conf" {
				v = expandHome(f, v)
			}
			if err := tmp.Set(key, v); err != nil {
				return c, nil, fmt.Errorf("config: %s:%d: %w", file.Path, s.Line, err)
			}
			e.Value = fl.Value.String()
			e.Source = fmt.Sprintf("%s:%d", file.Path, s.Line)
			if s.Host != "" {
				e.Source += " (Host " + s.Host + ")"
			}
		}
		if key == "proxy" {
			e.Value = redactProxy(e.Value)
		}
		out = append(out, e)
	}
	return c, out, nil
}

// savedTarget is the computer name of a saved session, for matching the
// configuration file; "" when ref names none.
func savedTarget(f *Factory, ref string) string {
	st, err := openStore(f)
	if err != nil {
		return ""
	}
	rec, err := st.Find(ref)
	if err != nil {
		return ""
	}
	return rec.ComputerName
}

// expandHome turns a leading "~/" into the home directory.
func expandHome(f *Factory, p string) string {
	rest, ok := strings.CutPrefix(p, "~/")
	if !ok || f.Getenv == nil {
		return p
	}
	home := f.Getenv("HOME")
	if home == "" {
		home = f.Getenv("USERPROFILE")
	}
	if home == "" {
		return p
	}
	return filepath.Join(home, rest)
}

func newConfigCmd(f *Factory) *cobra.Command {
	c := &cobra.Command{
		Use:   "config (path | show [HOST])",
		Short: "Show where the configuration file is and the settings it gives a host",
		Long: `pssession reads connection defaults from a configuration file:
$PSSESSION_CONFIG, or pssession/config in the user's configuration directory
($XDG_CONFIG_HOME or ~/.config on Linux, ~/Library/Application Support on
macOS, %AppData% on Windows). A missing file is fine.

The file holds "key value" lines (or "key = value"); "#" starts a comment.
Lines before the first "Host" line are defaults. "Host PATTERN..." starts a
block that applies to hosts matching one of its patterns ("*" any run of
characters, "?" one character, "!PATTERN" excludes; case-insensitive). For
each option, the first matching block that sets it wins; the defaults apply
to options no matching block sets. Keys: ` + strings.Join(config.Keys(), ", ") + `.
Booleans take yes/no, durations Go syntax (30s, 2h).

  user CORP\alice
  Host *.corp.example.com
    ssl yes
    ca-file ~/corp-ca.pem
  Host lab-*
    auth ntlm
    port 5985

Precedence: command-line flags, then the environment (PSSESSION_USER,
PSSESSION_AUTH, PSSESSION_PORT, PSSESSION_SSL, PSSESSION_CA_FILE,
PSSESSION_CONFIGURATION_NAME), then the file, then built-in defaults.`,
	}
	c.AddCommand(&cobra.Command{
		Use:   "path",
		Short: "Print the configuration file's path",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			p, err := configPath(f)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(f.IO.Out, p)
			return err
		},
	})
	var conn ConnOptions
	show := &cobra.Command{
		Use:   "show [HOST]",
		Short: "Print the effective connection settings for HOST and where each comes from",
		Long: `Print the connection settings a command would use for HOST (or the
defaults without HOST), after flags, the environment and the configuration
file, with the source of each.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			host := ""
			if len(args) == 1 {
				host = args[0]
			}
			_, eff, err := connFor(f, c.Flags(), host)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(f.IO.Out, 0, 4, 2, ' ', 0)
			for _, e := range eff {
				v := e.Value
				if v == "" {
					v = `""`
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\n", e.Key, v, e.Source)
			}
			return tw.Flush()
		},
	}
	conn.AddFlags(show.Flags())
	c.AddCommand(show)
	return c
}

// redactProxy hides the password of a proxy URL shown by `config show`.
func redactProxy(v string) string {
	if u, err := url.Parse(v); err == nil && u.User != nil {
		return u.Redacted()
	}
	return v
}
