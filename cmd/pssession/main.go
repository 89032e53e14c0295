// Command pssession is PowerShell remoting (WinRM/PSRP) for any OS.
package main

import (
	"log/slog"
	"os"

	"github.com/pssession/pssession/cmd"
	"github.com/pssession/pssession/shell"
)

// Set by the linker: -X main.version=… -X main.commit=… -X main.date=…
var (
	version = "dev"
	commit  = "unknown"
	date    = ""
)

func main() {
	io := shell.System()
	f := &cmd.Factory{
		IO:     io,
		Build:  cmd.BuildInfo{Version: version, Commit: commit, Date: date},
		Logger: slog.New(slog.NewTextHandler(io.ErrOut, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Getenv: os.Getenv,
	}
	os.Exit(cmd.Execute(f, os.Args[1:]))
}
