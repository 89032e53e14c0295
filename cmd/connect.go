package cmd

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pssession/pssession/internal/store"
	"github.com/pssession/pssession/remote/wsman"
)

// ConnectOptions are the options of `pssession connect`.
type ConnectOptions struct {
	Conn       ConnOptions
	Computer   string
	Name       string
	InstanceID string
	SaveAs     string
}

func newConnectCmd(f *Factory) *cobra.Command {
	o := &ConnectOptions{}
	c := &cobra.Command{
		Use:   "connect --computer HOST (--name NAME | --instance-id GUID) [--save-as NAME]",
		Short: "Adopt a disconnected session of the server into the saved sessions (Connect-PSSession)",
		Long: `Find a disconnected PowerShell session of the current user on HOST, by its
name or instance id, and save it locally so that "pssession enter NAME" and
"pssession receive NAME" can use it. A session connected to another client
is reported as in use.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := ApplyConfig(f, c.Flags(), &o.Conn, o.Computer); err != nil {
				return err
			}
			return runConnect(c.Context(), f, o)
		},
	}
	fl := c.Flags()
	fl.StringVar(&o.Computer, "computer", "", "server to look on (required)")
	fl.StringVar(&o.Name, "name", "", "the session's name on the server")
	fl.StringVar(&o.InstanceID, "instance-id", "", "the session's instance id")
	fl.StringVar(&o.SaveAs, "save-as", "", "local name (default: the server's name)")
	o.Conn.AddFlags(fl)
	return c
}

func runConnect(ctx context.Context, f *Factory, o *ConnectOptions) error {
	if o.Computer == "" || (o.Name == "") == (o.InstanceID == "") {
		return usageError{errors.New("give --computer and exactly one of --name or --instance-id")}
	}
	if err := o.Conn.Validate(); err != nil {
		return err
	}
	u, err := o.Conn.EndpointURL(o.Computer)
	if err != nil {
		return err
	}
	st, err := openStore(f)
	if err != nil {
		return err
	}
	password, err := o.Conn.password(f, "Password: ")
	if err != nil {
		return err
	}
	c, release, err := dialClient(f, &o.Conn, o.Computer, password)
	if err != nil {
		return err
	}
	defer release()
	shells, err := c.EnumerateShells(ctx)
	if err != nil {
		return &ExitError{Code: ExitConnection, Err: err}
	}
	var found *wsman.Shell
	for i, sh := range shells {
		if !sh.IsPowerShell() {
			continue
		}
		if (o.Name != "" && strings.EqualFold(sh.Name, o.Name)) || (o.InstanceID != "" && strings.EqualFold(sh.ShellID, o.InstanceID)) {
			if found != nil {
				return fmt.Errorf("several sessions on %s are named %q; use --instance-id", o.Computer, o.Name)
			}
			found = &shells[i]
		}
	}
	if found == nil {
		return fmt.Errorf("no PowerShell session of yours on %s matches", o.Computer)
	}
	if serverState(found.State) != stateDisconnected {
		who := ""
		if found.ClientIP != "" {
			who = " from " + found.ClientIP
		}
		return fmt.Errorf("the session %q is in use by another client%s; it can be connected once that client disconnects", found.Name, who)
	}
	name := o.SaveAs
	if name == "" {
		name = found.Name
	}
	conn := o.Conn
	if found.IdleTimeout > 0 {
		conn.IdleTimeout = found.IdleTimeout
	}
	if found.BufferMode != "" {
		conn.OutputBuffering = found.BufferMode
	}
	rec := store.Session{
		Name: name, InstanceID: strings.ToLower(found.ShellID), ShellID: strings.ToUpper(found.ShellID),
		URL: u.String(), ComputerName: u.Hostname(), ConfigurationName: strings.TrimPrefix(found.ResourceURI, wsman.ResourcePowerShellPrefix),
		Auth: conn.Auth, User: conn.User, IdleTimeout: store.Duration(conn.IdleTimeout), BufferMode: bufferMode(conn.OutputBuffering),
		CAFile: conn.CAFile, SkipVerify: conn.InsecureSkipVerify, AllowUnencrypted: conn.AllowUnencrypted, State: stateDisconnected,
		CertFile: absPath(conn.CertFile), KeyFile: absPath(conn.KeyFile),
	}
	if cmds, err := c.EnumerateCommands(ctx, found.ShellID); err == nil && len(cmds) > 0 {
		rec.CommandID, rec.CommandText = strings.ToUpper(cmds[0].CommandID), cmds[0].CommandLine
	}
	saved, err := st.Add(rec)
	if err != nil {
		return err
	}
	fmt.Fprintf(f.IO.Out, "%d  %s  %s  %s\n", saved.ID, saved.Name, saved.ComputerName, saved.State)
	return nil
}
