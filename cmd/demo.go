package cmd

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/pssession/pssession/history"
	"github.com/pssession/pssession/remote/endpoint"
	"github.com/pssession/pssession/remote/session"
	"github.com/pssession/pssession/remote/wsman/transport"
)

// demoOptions are the options of `pssession demo`.
type demoOptions struct {
	Engine  string
	NoColor bool
}

func newDemoCmd(f *Factory) *cobra.Command {
	o := &demoOptions{}
	c := &cobra.Command{
		Use:   "demo",
		Short: "Try pssession against a local demo endpoint (no Windows host needed)",
		Long: `Start pssession's loopback WinRM/PSRP endpoint on 127.0.0.1 (a free port, a
generated user and password, NTLM with message encryption over HTTP, as
Windows does by default) and enter it, exactly as "pssession enter" enters a
Windows host. The endpoint is a TEST AND DEMO TARGET: with the default sh
engine every line runs in one persistent /bin/sh, so try "cd /tmp", "pwd",
"echo $HOME", "exit". The endpoint stops when you leave.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return runDemo(c.Context(), f, o)
		},
	}
	c.Flags().StringVar(&o.Engine, "engine", "sh", "endpoint engine: sh|scripted")
	c.Flags().BoolVar(&o.NoColor, "no-color", false, "plain output, no colours")
	return c
}

// randomToken returns n random bytes as hex.
func randomToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

func runDemo(ctx context.Context, f *Factory, o *demoOptions) error {
	engine, err := endpoint.EngineByName(o.Engine)
	if err != nil {
		return usageError{err}
	}
	suffix, err := randomToken(4)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	password, err := randomToken(16)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	user := `DEMO\user` + suffix
	h := endpoint.New(endpoint.Config{Engine: engine, Machine: "PSSESSION-DEMO"})
	defer h.Close()
	sa, err := transport.NewServerAuth(h, transport.ServerConfig{Users: map[string]string{user: password}, Schemes: []string{"negotiate"}})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	srv := &http.Server{Handler: sa, ConnContext: sa.ConnContext, ReadHeaderTimeout: 30 * time.Second,
		ErrorLog: slog.NewLogLogger(slog.DiscardHandler, slog.LevelWarn)}
	go srv.Serve(ln)
	defer func() {
		h.Close() // ends long-polls first
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			srv.Close()
		}
	}()

	target := ln.Addr().String()
	fmt.Fprintf(f.IO.ErrOut, "pssession demo: a local demo endpoint (%s engine, not a Windows host) on http://%s/wsman; type exit to leave\n", o.Engine, target)
	conn := &ConnOptions{
		ApplicationName:   "wsman",
		ConfigurationName: "Microsoft.PowerShell",
		User:              user,
		Auth:              "negotiate",
		OperationTimeout:  20 * time.Second,
		OpenTimeout:       time.Minute,
		OutputBuffering:   "block",
	}
	t := enterTarget{
		Computer: "127.0.0.1",
		// A demo's history is its own, whatever port it got.
		HistoryKey: history.Key("", "pssession-demo"),
		Open: func(ctx context.Context, cfg session.Config) (*closingSession, error) {
			return dialSession(ctx, f, conn, target, password, cfg)
		},
		Leave: func(ctx context.Context, s *closingSession) error { return s.Close(ctx) },
	}
	return enterInteractive(ctx, f, conn, t, o.NoColor, 10*time.Second)
}
