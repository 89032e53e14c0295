package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/pssession/pssession/internal/store"
	"github.com/pssession/pssession/remote/psrp"
	"github.com/pssession/pssession/remote/psrp/clixml"
	"github.com/pssession/pssession/remote/session"
	"github.com/pssession/pssession/shell"
)

// InvokeOptions are the options of `pssession invoke`.
type InvokeOptions struct {
	Conn          ConnOptions
	Targets       []string
	Command       string
	File          string
	FromStdin     bool
	Args          []string
	Output        string
	NoPrefix      bool
	ThrottleLimit int
	Verbose       bool
	DebugStream   bool
	CancelTimeout time.Duration
	// Session runs in a saved session (which is disconnected again after).
	Session string
	// InDisconnected starts the script in a new saved session named Name,
	// disconnects it and returns at once (-InDisconnectedSession).
	InDisconnected bool
	Name           string
	BusyTimeout    time.Duration
	// flags are the command's flags, to resolve the configuration file per
	// target when there are several (ApplyConfig).
	flags *pflag.FlagSet
}

const invokeLong = `Run a script on one or more hosts, as Invoke-Command does, in a temporary
session that is always closed on the server afterwards.

The script comes from -c/--command, -f/--file, or standard input ("-").
--arg values are passed as $args and bind to a param() block.

Output is written as text on stdout (formatted remotely with Out-String at the
terminal width, or 120 columns), errors on stderr in PowerShell's format.
With several targets each line is prefixed "[HOST] " and the hosts run
concurrently, at most --throttle-limit at a time.

Exit status:
  N    the script called "exit N"
  N    otherwise, the last native command's non-zero $LASTEXITCODE
  1    otherwise, the pipeline failed or wrote an error record
  0    success
  2    usage error
  130  interrupted (SIGINT or SIGTERM): the remote command was stopped
  255  connection, authentication or protocol failure
With several targets, the first non-zero status in target order.`

func newInvokeCmd(f *Factory) *cobra.Command {
	o := &InvokeOptions{}
	c := &cobra.Command{
		Use:   "invoke TARGET[,TARGET...] (-c SCRIPT | -f FILE.ps1 | -)",
		Short: "Run a script on one or more hosts (Invoke-Command)",
		Long:  invokeLong,
		Args:  cobra.RangeArgs(0, 2),
		RunE: func(c *cobra.Command, args []string) error {
			if o.Session != "" {
				// The target is the saved session; a lone "-" is the script.
				args = append([]string{""}, args...)
			}
			if len(args) == 0 {
				return usageError{errors.New("give a target (or --session NAME)")}
			}
			if len(args) > 2 {
				return usageError{errors.New("too many arguments")}
			}
			for _, t := range strings.Split(args[0], ",") {
				if t = strings.TrimSpace(t); t != "" {
					o.Targets = append(o.Targets, t)
				}
			}
			if len(args) == 2 {
				if args[1] != "-" {
					return usageError{fmt.Errorf("unexpected argument %q (use - to read the script from stdin)", args[1])}
				}
				o.FromStdin = true
			}
			target := ""
			switch {
			case o.Session != "":
				target = savedTarget(f, o.Session)
			case len(o.Targets) == 1:
				target = o.Targets[0]
			}
			if err := ApplyConfig(f, c.Flags(), &o.Conn, target); err != nil {
				return err
			}
			o.flags = c.Flags()
			return runInvoke(c.Context(), f, o)
		},
	}
	fl := c.Flags()
	fl.StringVarP(&o.Command, "command", "c", "", "script text to run")
	fl.StringVarP(&o.File, "file", "f", "", "script file to run")
	fl.StringArrayVar(&o.Args, "arg", nil, "argument passed to the script ($args, param()); repeatable")
	fl.StringVarP(&o.Output, "output", "o", "text", "output format: text|json|jsonl")
	fl.BoolVar(&o.NoPrefix, "no-prefix", false, "do not prefix lines with [HOST] when running on several hosts")
	fl.IntVar(&o.ThrottleLimit, "throttle-limit", 32, "maximum number of hosts at once")
	fl.BoolVar(&o.Verbose, "verbose", false, "show the verbose stream")
	fl.BoolVar(&o.DebugStream, "debug-stream", false, "show the debug stream")
	fl.DurationVar(&o.CancelTimeout, "cancel-timeout", 10*time.Second, "how long to wait for a stopped command before closing the session")
	fl.StringVar(&o.Session, "session", "", "run in this saved session (it is disconnected and kept afterwards)")
	fl.BoolVar(&o.InDisconnected, "in-disconnected-session", false, "start the script in a new saved session (--name), disconnect and return at once")
	fl.StringVar(&o.Name, "name", "", "with --in-disconnected-session: the new session's name")
	fl.DurationVar(&o.BusyTimeout, "busy-timeout", session.DefaultBusyTimeout, "how long to wait for a busy saved session")
	o.Conn.AddFlags(fl)
	return c
}

// script returns the script text from -c, -f or stdin.
func (o *InvokeOptions) script(f *Factory) (string, error) {
	n := 0
	for _, set := range []bool{o.Command != "", o.File != "", o.FromStdin} {
		if set {
			n++
		}
	}
	if n != 1 {
		return "", usageError{errors.New("give the script with exactly one of -c, -f or -")}
	}
	switch {
	case o.Command != "":
		return o.Command, nil
	case o.File != "":
		b, err := os.ReadFile(o.File)
		if err != nil {
			return "", usageError{fmt.Errorf("reading the script: %w", err)}
		}
		return strings.TrimPrefix(string(b), "\ufeff"), nil
	default:
		b, err := io.ReadAll(f.IO.In)
		if err != nil {
			return "", fmt.Errorf("reading the script from stdin: %w", err)
		}
		return string(b), nil
	}
}

func parseOutputMode(s string) (shell.OutputMode, error) {
	switch strings.ToLower(s) {
	case "text":
		return shell.OutputText, nil
	case "json":
		return shell.OutputJSON, nil
	case "jsonl":
		return shell.OutputJSONL, nil
	}
	return 0, usageError{fmt.Errorf("--output %q: want text, json or jsonl", s)}
}

// exitInterrupted is the status after SIGINT, as shells report 128+2.
const exitInterrupted = 130

// hostOutcome is how one target ended.
type hostOutcome struct {
	target string
	code   int
	err    error
}

func runInvoke(ctx context.Context, f *Factory, o *InvokeOptions) error {
	if err := o.Conn.Validate(); err != nil {
		return err
	}
	tuneGC(f.Getenv, invokeGCPercent, invokeMemoryGoal)
	mode, err := parseOutputMode(o.Output)
	if err != nil {
		return err
	}
	if o.InDisconnected && (o.Name == "" || len(o.Targets) != 1) {
		return usageError{errors.New("--in-disconnected-session needs --name and exactly one target")}
	}
	if o.Session != "" && (len(o.Targets) != 0 || o.InDisconnected) {
		return usageError{errors.New("--session takes no target")}
	}
	if o.Session != "" {
		o.Targets = []string{o.Session}
	}
	if o.ThrottleLimit < 1 {
		return usageError{errors.New("--throttle-limit must be at least 1")}
	}
	if o.FromStdin && o.Conn.PasswordStdin && f.IO.IsStdinTTY() {
		return usageError{errors.New("--password-stdin and a script on stdin need a pipe")}
	}
	// The password is read before the script so that --password-stdin takes
	// the first line and the script the rest.
	password, err := o.Conn.password(f, "Password: ")
	if err != nil {
		return err
	}
	script, err := o.script(f)
	if err != nil {
		return err
	}
	if o.Session == "" {
		for _, t := range o.Targets {
			if _, err := o.Conn.EndpointURL(t); err != nil {
				return err
			}
		}
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	width := 120
	if f.IO.IsStdoutTTY() {
		if w, _ := f.IO.TerminalSize(); w > 0 {
			width = w
		}
	}
	var outLock sync.Mutex
	multi := len(o.Targets) > 1
	outcomes := make([]hostOutcome, len(o.Targets))
	renderers := make([]*shell.Renderer, len(o.Targets))
	sem := make(chan struct{}, o.ThrottleLimit)
	var wg sync.WaitGroup
	for i, target := range o.Targets {
		r := &shell.Renderer{
			Out: f.IO.Out, Err: f.IO.ErrOut,
			Color:    f.IO.ColorEnabled(),
			Verbose:  o.Verbose,
			Debug:    o.DebugStream,
			Progress: f.IO.IsStderrTTY() && !multi,
			Mode:     mode,
			Lock:     &outLock,
			// Output lines are written per batch (RunRequest.Flush).
			BufferOutput: true,
		}
		if multi {
			r.Computer = target
			if !o.NoPrefix && mode == shell.OutputText {
				r.Prefix = "[" + target + "] "
			}
		}
		renderers[i] = r
		wg.Add(1)
		go func(i int, target string) {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				outcomes[i] = hostOutcome{target: target, code: ExitConnection, err: ctx.Err()}
				return
			}
			defer func() { <-sem }()
			code, err := invokeOne(ctx, f, o, target, password, script, width, r)
			r.Flush()
			outcomes[i] = hostOutcome{target: target, code: code, err: err}
			if err != nil {
				r.WriteErrorText(fmt.Sprintf("%s%s", prefixFor(multi, target), describeError(err)))
			}
		}(i, target)
	}
	wg.Wait()

	if mode == shell.OutputJSON {
		var all []any
		for _, r := range renderers {
			all = append(all, r.Collected()...)
		}
		if err := writeJSONArray(f.IO.Out, all); err != nil {
			return err
		}
	}
	status := 0
	failed := 0
	for _, oc := range outcomes {
		if oc.code != 0 {
			failed++
			if status == 0 {
				status = oc.code
			}
		}
	}
	if multi && failed > 0 {
		fmt.Fprintf(f.IO.ErrOut, "pssession: %d of %d hosts failed:\n", failed, len(outcomes))
		for _, oc := range outcomes {
			state := "ok"
			if oc.code != 0 {
				state = fmt.Sprintf("exit %d", oc.code)
			}
			fmt.Fprintf(f.IO.ErrOut, "  %-30s %s\n", oc.target, state)
		}
	}
	if status != 0 {
		return &ExitError{Code: status}
	}
	return nil
}

// GC settings of the invoke and serve processes (see tuneGC).
const (
	invokeGCPercent  = 400
	invokeMemoryGoal = 48 << 20
	serveGCPercent   = 400
	serveMemoryGoal  = 256 << 20
)

// tuneGC makes the process collect less often: GOGC percent under a
// soft memory limit, unless GOGC or GOMEMLIMIT is set in the environment.
//
// invoke (GOGC 400, 48 MiB) is short-lived: bulk output allocates a few
// bytes per byte received (decrypted envelopes, base64, decoded records);
// with the default GOGC 100 the collector, sweeper and scavenger took
// about a third of the process's CPU. The limit keeps peak RSS under the
// 64 MB budget of issue 4 (docs/performance.md): the collector runs more
// often near it instead.
//
// serve (GOGC 400, 256 MiB) keeps a small live heap (sessions, at most
// the buffer limit of output per command) but allocates a few bytes per
// byte of output it sends; with GOGC 100 the collector took about a
// quarter of its CPU in bulk output. The limit bounds what the laxer
// setting may cost a busy endpoint.
func tuneGC(getenv func(string) string, percent int, limit int64) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if getenv("GOGC") == "" {
		debug.SetGCPercent(percent)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(limit)
	}
}

func prefixFor(multi bool, target string) string {
	if multi {
		return "[" + target + "] "
	}
	return ""
}

// invokeOne runs the script on one target and returns its exit status.
func invokeOne(ctx context.Context, f *Factory, o *InvokeOptions, target, password, script string, width int, r *shell.Renderer) (int, error) {
	var exitCode *int32
	var host session.Host
	h := &shell.Host{Out: f.IO.Out, Err: f.IO.ErrOut, Renderer: r,
		Size:   func() (int, int) { return width, 50 },
		OnExit: func(c int32) { exitCode = &c },
	}
	if f.IO.IsStdinTTY() && !o.FromStdin {
		h.Reader = &shell.TerminalReader{IO: f.IO}
	}
	host = h

	cfg := session.Config{Host: host, CancelTimeout: o.CancelTimeout, HostInfo: session.DefaultHostInfo(width, 50),
		OnNotice: func(msg string) { r.WriteErrorText(prefixFor(len(o.Targets) > 1, target) + "pssession: " + msg) }}
	var st *store.Store
	if o.Session != "" || o.InDisconnected {
		var err error
		if st, err = openStore(f); err != nil {
			return ExitFailure, err
		}
	}
	var sess *closingSession
	var err error
	var runErr error // the pipeline's error, for the deferred session handling
	openCtx, cancelOpen := context.WithTimeout(ctx, o.Conn.OpenTimeout)
	switch {
	case o.Session != "":
		rec, ferr := st.Find(o.Session)
		if ferr != nil {
			cancelOpen()
			return ExitUsage, ferr
		}
		sess, err = connectSaved(openCtx, f, st, rec, o.Conn, password, cfg, o.BusyTimeout)
		if err == nil {
			conn := savedConn(rec, o.Conn)
			defer func() {
				dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
				defer cancel()
				var lost *session.ConnectionLostError
				if errors.As(runErr, &lost) {
					// The network is gone: the server keeps the session,
					// and the command keeps running there.
					sess.release()
					st.Update(rec.Name, func(x *store.Session) {
						x.State, x.DisconnectedAt = stateDisconnected, time.Now().UTC()
						x.CommandID, x.CommandText = lost.CommandID, session.CommandLineOf(script)
					})
					r.WriteErrorText(fmt.Sprintf("pssession: the session %q is kept on the server; collect the output with: pssession receive %s (or continue with: pssession enter %s)", rec.Name, rec.Name, rec.Name))
					return
				}
				if err := disconnectAndSave(dctx, st, rec.Name, sess, conn, rec.CommandID, rec.CommandText); err != nil {
					r.WriteErrorText("keeping the session: " + err.Error())
				}
			}()
			err = waitForPendingCommand(ctx, f, sess, rec, o.BusyTimeout)
		}
	default:
		if o.InDisconnected {
			cfg.Name = o.Name
		}
		conn := o.Conn
		if len(o.Targets) > 1 && o.flags != nil {
			if conn, err = ConnForTarget(f, o.flags, target); err != nil {
				cancelOpen()
				return ExitFailure, err
			}
		}
		sess, err = dialSession(openCtx, f, &conn, target, password, cfg)
		if err == nil && !o.InDisconnected {
			defer func() {
				// Always close the temporary session, even after an interrupt.
				cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
				defer cancel()
				if err := sess.Close(cctx); err != nil {
					f.Logger.Debug("closing the session", "target", target, "err", err)
				}
			}()
		}
	}
	cancelOpen()
	if err != nil {
		return ExitConnection, err
	}
	if o.InDisconnected {
		return startDisconnected(ctx, f, o, st, sess, target, script, width)
	}

	req := session.RunRequest{Spec: ScriptPipeline(script, toArgs(o.Args), width, false), CommandLine: session.CommandLineOf(script),
		OnEvent: r.Event, Flush: r.FlushOutput}
	var res *session.Result
	if r.Mode == shell.OutputText {
		// `| Out-String -Stream`, or the script alone where Out-String is
		// missing (restricted endpoints), without asking first.
		res, err = sess.RunFormatted(ctx, req, outStringCommand(width))
	} else {
		res, err = sess.Run(ctx, req)
	}
	runErr = err
	if ctx.Err() != nil && (err == nil || errors.Is(err, context.Canceled) || errors.Is(err, session.ErrAbandoned)) {
		// Interrupted (SIGINT/SIGTERM): the remote pipeline was stopped;
		// the deferred close removes the session.
		return exitInterrupted, nil
	}
	if err != nil {
		return ExitConnection, err
	}
	r.Flush()
	switch {
	case res.ShouldExit != nil:
		return int(*res.ShouldExit), nil
	case exitCode != nil:
		return int(*exitCode), nil
	}
	if res.State == psrp.PipelineFailed || res.State == psrp.PipelineStopped {
		if res.Error != nil {
			r.Event(psrp.PipelineErrorRecord{Record: res.Error.Object()})
		}
	}
	if code := sess.LastExitCode(ctx); code != 0 {
		return code, nil
	}
	if res.State != psrp.PipelineCompleted || r.ErrorCount > 0 {
		return ExitFailure, nil
	}
	return ExitOK, nil
}

func toArgs(vals []string) []clixml.Value {
	out := make([]clixml.Value, len(vals))
	for i, v := range vals {
		out[i] = v
	}
	return out
}

// ScriptPipeline builds the pipeline for a user script: the script as a
// script command with positional arguments (Invoke-Command -ArgumentList),
// followed by `Out-String -Stream -Width N` when the endpoint has it.
func ScriptPipeline(script string, args []clixml.Value, width int, outString bool) psrp.PipelineSpec {
	cmd := psrp.Command{Cmd: script, IsScript: true}
	for _, a := range args {
		cmd.Args = append(cmd.Args, psrp.Argument{Value: a})
	}
	cmds := []psrp.Command{cmd}
	if outString {
		cmds = append(cmds, outStringCommand(width))
	}
	return psrp.PipelineSpec{Commands: cmds, NoInput: true}
}

// outStringCommand is `Out-String -Stream -Width width`.
func outStringCommand(width int) psrp.Command {
	return psrp.Command{Cmd: "Out-String", Args: []psrp.Argument{
		{Name: "Stream", Value: true},
		{Name: "Width", Value: int32(width)},
	}}
}

// startDisconnected starts the script in a new named session, saves it,
// disconnects and returns (Invoke-Command -InDisconnectedSession).
func startDisconnected(ctx context.Context, f *Factory, o *InvokeOptions, st *store.Store, sess *closingSession, target, script string, width int) (int, error) {
	u, _ := o.Conn.EndpointURL(target)
	if _, err := st.Add(recordFor(o.Name, &o.Conn, u, sess.Session)); err != nil {
		sess.Close(context.WithoutCancel(ctx))
		return ExitFailure, err
	}
	spec := ScriptPipeline(script, toArgs(o.Args), width, sess.HasOutString(ctx))
	cmdID, err := sess.StartDetached(ctx, session.RunRequest{Spec: spec, CommandLine: session.CommandLineOf(script)})
	if err != nil {
		sess.Close(context.WithoutCancel(ctx))
		st.Remove(o.Name)
		return ExitConnection, err
	}
	if err := disconnectAndSave(context.WithoutCancel(ctx), st, o.Name, sess, o.Conn, cmdID, session.CommandLineOf(script)); err != nil {
		return ExitConnection, err
	}
	fmt.Fprintf(f.IO.ErrOut, "pssession: started in the disconnected session %q; collect the output with: pssession receive %s\n", o.Name, o.Name)
	return ExitOK, nil
}
