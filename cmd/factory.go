// Package cmd is the cobra wiring of pssession: the Factory, one file per
// command, and the mapping from errors to exit codes. It holds no protocol
// logic (shared/DESIGN.md §3).
package cmd

import (
	"log/slog"

	"github.com/pssession/pssession/shell"
)

// BuildInfo is what the linker injects into the binary.
type BuildInfo struct {
	Version string
	Commit  string
	Date    string
}

// Factory carries the dependencies every command needs. Tests build one
// with buffers instead of the process's streams.
type Factory struct {
	IO     *shell.IOStreams
	Build  BuildInfo
	Logger *slog.Logger
	// Getenv reads the environment; tests replace it.
	Getenv func(string) string
}
