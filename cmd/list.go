package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/pssession/pssession/internal/store"
	"github.com/pssession/pssession/remote/wsman"
)

// ListOptions are the options of `pssession list`.
type ListOptions struct {
	Conn     ConnOptions
	Computer string
	State    string
	Output   string
	Offline  bool
}

// sessionRow is one line of `pssession list`.
type sessionRow struct {
	ID            int    `json:"Id,omitempty"`
	Name          string `json:"Name"`
	ComputerName  string `json:"ComputerName"`
	InstanceID    string `json:"InstanceId"`
	State         string `json:"State"`
	Availability  string `json:"Availability"`
	Configuration string `json:"ConfigurationName,omitempty"`
	ExpiresOn     string `json:"ExpiresOn,omitempty"`
	ClientIP      string `json:"ClientIP,omitempty"`
}

func newListCmd(f *Factory) *cobra.Command {
	o := &ListOptions{}
	c := &cobra.Command{
		Use:   "list [--computer HOST [--state STATE]]",
		Short: "List saved sessions, or a server's sessions (Get-PSSession)",
		Long: `Without --computer, list the saved sessions with their live state on the
server (Opened, Disconnected, Broken, Closed), availability and idle expiry.
With --computer, list the current user's PowerShell sessions on that server,
as Get-PSSession -ComputerName does.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := ApplyConfig(f, c.Flags(), &o.Conn, o.Computer); err != nil {
				return err
			}
			return runList(c.Context(), f, o)
		},
	}
	fl := c.Flags()
	fl.StringVar(&o.Computer, "computer", "", "list the sessions on this server")
	fl.StringVar(&o.State, "state", "", "with --computer: only sessions in this state (Opened, Disconnected)")
	fl.StringVarP(&o.Output, "output", "o", "table", "table|json")
	fl.BoolVar(&o.Offline, "offline", false, "show the last known state without asking the servers")
	o.Conn.AddFlags(fl)
	return c
}

func runList(ctx context.Context, f *Factory, o *ListOptions) error {
	if o.Output != "table" && o.Output != "json" {
		return usageError{fmt.Errorf("--output %q: want table or json", o.Output)}
	}
	if o.State != "" && o.Computer == "" {
		return usageError{fmt.Errorf("--state goes with --computer")}
	}
	var rows []sessionRow
	var err error
	if o.Computer != "" {
		rows, err = listServer(ctx, f, o)
	} else {
		rows, err = listSaved(ctx, f, o)
	}
	if err != nil {
		return err
	}
	if o.Output == "json" {
		if rows == nil {
			rows = []sessionRow{}
		}
		enc := json.NewEncoder(f.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	tw := tabwriter.NewWriter(f.IO.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "Id\tName\tComputerName\tState\tAvailability\tExpiresOn")
	for _, r := range rows {
		id := "-"
		if r.ID != 0 {
			id = fmt.Sprint(r.ID)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", id, r.Name, r.ComputerName, r.State, r.Availability, r.ExpiresOn)
	}
	return tw.Flush()
}

// availability maps a server shell state to PowerShell's availability.
func availability(state string) string {
	switch state {
	case stateDisconnected:
		return "None"
	case stateOpened:
		return "Busy"
	}
	return "None"
}

// serverState maps the WS-Man shell state to a PSSession state.
func serverState(s string) string {
	if strings.EqualFold(s, "Disconnected") {
		return stateDisconnected
	}
	return stateOpened
}

func listSaved(ctx context.Context, f *Factory, o *ListOptions) ([]sessionRow, error) {
	st, err := openStore(f)
	if err != nil {
		return nil, err
	}
	recs, err := st.List()
	if err != nil {
		return nil, err
	}
	password := ""
	if !o.Offline && len(recs) > 0 {
		if password, err = o.Conn.password(f, "Password: "); err != nil {
			return nil, err
		}
	}
	var rows []sessionRow
	for _, rec := range recs {
		row := sessionRow{ID: rec.ID, Name: rec.Name, ComputerName: rec.ComputerName, InstanceID: rec.InstanceID,
			State: rec.State, Availability: "None", Configuration: rec.ConfigurationName}
		if exp := idleExpiry(rec); !exp.IsZero() {
			row.ExpiresOn = exp.Local().Format(time.DateTime)
		}
		if !o.Offline {
			if sh, err := queryShell(ctx, f, rec, o.Conn, password); err == nil {
				row.State = serverState(sh.State)
				row.Availability = availability(row.State)
				row.ClientIP = sh.ClientIP
				if row.State == stateDisconnected && sh.IdleTimeout > 0 {
					row.ExpiresOn = time.Now().Add(sh.IdleTimeout - sh.ShellInactivity).Local().Format(time.DateTime)
				}
				st.Update(rec.Name, func(x *store.Session) { x.State = row.State })
			} else if isShellGone(err) {
				row.State, row.ExpiresOn = stateClosed, ""
				st.Update(rec.Name, func(x *store.Session) { x.State = stateClosed })
			} else {
				row.State = rec.State + " (unreachable)"
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// queryShell asks the server for a saved session's shell (WS-Man Get).
func queryShell(ctx context.Context, f *Factory, rec store.Session, base ConnOptions, password string) (*wsman.Shell, error) {
	o := savedConn(rec, base)
	c, release, err := dialClient(f, &o, "", password)
	if err != nil {
		return nil, err
	}
	defer release()
	qctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return c.Get(qctx, rec.ShellID)
}

func listServer(ctx context.Context, f *Factory, o *ListOptions) ([]sessionRow, error) {
	if err := o.Conn.Validate(); err != nil {
		return nil, err
	}
	password, err := o.Conn.password(f, "Password: ")
	if err != nil {
		return nil, err
	}
	c, release, err := dialClient(f, &o.Conn, o.Computer, password)
	if err != nil {
		return nil, err
	}
	defer release()
	shells, err := c.EnumerateShells(ctx)
	if err != nil {
		return nil, &ExitError{Code: ExitConnection, Err: err}
	}
	u, _ := o.Conn.EndpointURL(o.Computer)
	var rows []sessionRow
	for _, sh := range shells {
		if !sh.IsPowerShell() {
			continue
		}
		state := serverState(sh.State)
		if o.State != "" && !strings.EqualFold(o.State, state) {
			continue
		}
		row := sessionRow{Name: sh.Name, ComputerName: u.Hostname(), InstanceID: strings.ToLower(sh.ShellID),
			State: state, Availability: availability(state), ClientIP: sh.ClientIP,
			Configuration: strings.TrimPrefix(sh.ResourceURI, wsman.ResourcePowerShellPrefix)}
		if state == stateDisconnected && sh.IdleTimeout > 0 {
			row.ExpiresOn = time.Now().Add(sh.IdleTimeout - sh.ShellInactivity).Local().Format(time.DateTime)
		}
		rows = append(rows, row)
	}
	return rows, nil
}
