package cmd

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// Exit codes shared by every command (documented in `pssession invoke --help`).
const (
	ExitOK         = 0
	ExitFailure    = 1
	ExitUsage      = 2
	ExitConnection = 255
)

// ExitError carries an explicit exit status out of a command.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// usageError marks errors caused by how the command was called.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// NewRootCmd builds the whole command tree for one invocation.
func NewRootCmd(f *Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "pssession",
		Short: "Interactive and one-shot PowerShell remoting (WinRM/PSRP) from any OS",
		Long: `pssession gives Linux, macOS and Windows users what Enter-PSSession gives
Windows users: a prompt in one persistent remote runspace, saved sessions that
survive the client, and one-shot execution for scripts. It speaks WinRM
(MS-WSMV) and the PowerShell Remoting Protocol (MS-PSRP).`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(f.IO.In)
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newVersionCmd(f))
	root.AddCommand(newInvokeCmd(f))
	root.AddCommand(newNewCmd(f), newListCmd(f), newConnectCmd(f), newReceiveCmd(f), newRemoveCmd(f))
	root.AddCommand(newServeCmd(f))
	root.AddCommand(newHistoryCmd(f))
	root.AddCommand(newEnterCmd(f))
	root.AddCommand(newDemoCmd(f))
	root.AddCommand(newConfigCmd(f))
	root.AddCommand(newGenDocsCmd(f))
	registerCompletions(f, root)
	return root
}

// Execute runs the command line args and returns the process exit code.
func Execute(f *Factory, args []string) int {
	root := NewRootCmd(f)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		if ee.Err != nil {
			fmt.Fprintln(f.IO.ErrOut, "pssession:", ee.Err)
		}
		return ee.Code
	}
	fmt.Fprintln(f.IO.ErrOut, "pssession:", err)
	var ue usageError
	if errors.As(err, &ue) || isCobraUsageError(err) {
		return ExitUsage
	}
	return ExitFailure
}

// isCobraUsageError recognises the argument-validation errors cobra returns
// without a typed error.
func isCobraUsageError(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "accepts ", "requires at least", "requires at most", "unknown flag", "unknown shorthand flag", "invalid argument"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}
