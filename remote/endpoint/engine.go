package endpoint

import (
	"context"
	"errors"
	"fmt"
)

// Engine runs the pipelines of runspace pools. Config.Engine chooses one:
// Scripted (deterministic, for tests) or Sh (a persistent POSIX shell per
// pool, for demos).
type Engine interface {
	// Open starts the state of one runspace: a PowerShell shell's pool, or
	// a one-shot run for the WinRS "powershell -EncodedCommand" path.
	// ctx bounds the runspace's whole life.
	Open(ctx context.Context, opts RunspaceOptions) (Runspace, error)
}

// RunspaceOptions configures a new runspace.
type RunspaceOptions struct {
	// WorkingDirectory is the initial location ("" = the engine's default).
	WorkingDirectory string
	// Env holds extra environment variables as NAME=value.
	Env []string
}

// Runspace runs one pipeline at a time; Close releases it (kills the sh
// engine's shell).
type Runspace interface {
	// Run runs p, writing its streams to w. It returns nil when the
	// pipeline completed, a *ScriptError when it failed, and ctx.Err()
	// when it was stopped.
	Run(ctx context.Context, p Pipeline, w Writer) error
	Close() error
}

// Pipeline is what a client asked to run (MS-PSRP 2.2.3.11 PowerShell).
type Pipeline struct {
	Commands []Command
	// Input holds the pipeline input objects received so far.
	Input []any
}

// Command is one command of a pipeline.
type Command struct {
	// Text is a script when IsScript, else a command name.
	Text     string
	IsScript bool
	Args     []Arg
}

// Arg is one parameter; Name is empty for a positional argument.
type Arg struct {
	Name  string
	Value any
}

// Writer receives a running pipeline's streams and answers its host calls
// (MS-PSRP 2.2.2.x records, 2.2.3.17 host methods). Methods may block (a
// disconnected session in Block mode) and return an error once the
// pipeline is stopped.
type Writer interface {
	Output(v any) error
	Error(message string) error
	Warning(message string) error
	Verbose(message string) error
	Debug(message string) error
	Information(message string) error
	// Host is Write-Host: text for the host UI.
	Host(text string, opt HostText) error
	Progress(p Progress) error
	// ReadLine is Read-Host (secure: -AsSecureString).
	ReadLine(ctx context.Context, prompt string, secure bool) (string, error)
	PromptForCredential(ctx context.Context, caption, message, userName string) (Credential, error)
	PromptForChoice(ctx context.Context, caption, message string, choices []string, defaultChoice int) (int, error)
	// SetShouldExit is the host's exit request (exit N).
	SetShouldExit(code int) error
}

// HostText is how Write-Host text is to be shown.
type HostText struct {
	Foreground, Background string // colour names; "" = default
	NoNewline              bool
}

// Progress is a progress record (MS-PSRP 2.2.3.25).
type Progress struct {
	Activity        string
	Status          string
	PercentComplete int
	Completed       bool
}

// Credential answers PromptForCredential.
type Credential struct {
	UserName, Password string
}

// ScriptError is a pipeline failure (PowerShell's terminating error).
type ScriptError struct {
	Message string
}

func (e *ScriptError) Error() string { return "endpoint: script failed: " + e.Message }

// errNoHost is returned by writers that cannot answer host calls.
var errNoHost = errors.New("endpoint: no interactive host is available")

// errStopped is returned by writers after their pipeline was stopped.
var errStopped = errors.New("endpoint: the pipeline was stopped")

// EngineByName returns the engine named by `pssession serve --engine`.
func EngineByName(name string) (Engine, error) {
	switch name {
	case "", "scripted":
		return Scripted{}, nil
	case "sh":
		return Sh{}, nil
	}
	return nil, fmt.Errorf("endpoint: unknown engine %q (want scripted or sh)", name)
}
