package session

import (
	"context"
	"slices"
	"strings"

	"github.com/pssession/pssession/remote/psrp"
	"github.com/pssession/pssession/remote/psrp/clixml"
)

// collect runs a pipeline and returns its output objects.
func (s *Session) collect(ctx context.Context, spec psrp.PipelineSpec) ([]clixml.Value, *Result, error) {
	var out []clixml.Value
	res, err := s.Run(ctx, RunRequest{Spec: spec, OnEvent: func(ev psrp.Event) {
		if o, ok := ev.(psrp.PipelineOutput); ok {
			out = append(out, o.Value)
		}
	}})
	return out, res, err
}

// Prompt runs the remote `prompt` function, as ConsoleHost does after
// every command (shared/PROTOCOL.md §2.10), and returns its text, or
// "PS>" when it gives nothing.
func (s *Session) Prompt(ctx context.Context) (string, error) {
	out, res, err := s.collect(ctx, psrp.PipelineSpec{
		Commands: []psrp.Command{{Cmd: "prompt", IsScript: true}},
		NoInput:  true,
	})
	if err != nil {
		return "", err
	}
	if res.State != psrp.PipelineCompleted || len(out) == 0 {
		return "PS>", nil
	}
	p := clixml.ToDisplayString(out[0])
	if strings.TrimSpace(p) == "" {
		return "PS>", nil
	}
	return p, nil
}

// CommandExists reports whether the endpoint exposes a command, using
// GET_COMMAND_METADATA (MS-PSRP 2.2.2.14), which works on restricted (JEA)
// endpoints too. Answers are cached for the session.
func (s *Session) CommandExists(ctx context.Context, name string) bool {
	key := strings.ToLower(name)
	s.mu.Lock()
	if v, ok := s.commandCache[key]; ok {
		s.mu.Unlock()
		return v
	}
	s.mu.Unlock()
	found := s.lookupCommand(ctx, name)
	s.mu.Lock()
	if s.commandCache == nil {
		s.commandCache = map[string]bool{}
	}
	s.commandCache[key] = found
	s.mu.Unlock()
	return found
}

func (s *Session) lookupCommand(ctx context.Context, name string) bool {
	var out []clixml.Value
	res, err := s.execute(ctx, RunRequest{OnEvent: func(ev psrp.Event) {
		if o, ok := ev.(psrp.PipelineOutput); ok {
			out = append(out, o.Value)
		}
	}}, func(p *psrp.ClientPool) (*psrp.ClientPipeline, error) {
		return p.CreateCommandMetadataPipeline(psrp.GetCommandMetadataBody{Name: []string{name}, CommandType: 511})
	})
	if err != nil || res.State != psrp.PipelineCompleted {
		return false
	}
	for _, v := range out {
		o, ok := v.(*clixml.Object)
		if !ok {
			continue
		}
		if n, ok := o.Member("Name"); ok {
			if sn, ok := n.(string); ok && strings.EqualFold(sn, name) {
				return true
			}
		}
	}
	return false
}

// RunFormatted runs req with formatter appended as the pipeline's last
// command (`… | Out-String -Stream`) when the endpoint has it, and req as
// it is otherwise. Unless a CommandExists answer is cached, it does not
// ask first: it runs the formatted pipeline and, when that fails with
// CommandNotFoundException for the formatter before anything arrived,
// runs req again without it. PowerShell resolves every command of a
// pipeline before running any, so the script has not run when that
// error comes; the answer is cached for the session either way. This
// saves the GET_COMMAND_METADATA pipeline (three WS-Man requests) that
// CommandExists costs.
func (s *Session) RunFormatted(ctx context.Context, req RunRequest, formatter psrp.Command) (*Result, error) {
	key := strings.ToLower(formatter.Cmd)
	s.mu.Lock()
	known, cached := s.commandCache[key]
	s.mu.Unlock()
	if cached && !known {
		return s.Run(ctx, req)
	}
	formatted := req
	formatted.Spec.Commands = append(slices.Clip(req.Spec.Commands), formatter)
	res, err := s.Run(ctx, formatted)
	if err != nil || cached {
		return res, err
	}
	missing := res.State == psrp.PipelineFailed && !res.delivered && notFound(res.Error, formatter.Cmd)
	s.mu.Lock()
	if s.commandCache == nil {
		s.commandCache = map[string]bool{}
	}
	if missing {
		s.commandCache[key] = false
	} else if res.State == psrp.PipelineCompleted {
		s.commandCache[key] = true
	}
	s.mu.Unlock()
	if !missing {
		return res, nil
	}
	s.log.Debug("formatter not found; running without it", "command", formatter.Cmd)
	return s.Run(ctx, req)
}

// notFound reports whether rec is the CommandNotFoundException PowerShell
// fails a pipeline with when name does not resolve while the pipeline is
// built: no script position (a script that calls a missing command at
// run time has one).
func notFound(rec *clixml.ErrorRecord, name string) bool {
	if rec == nil {
		return false
	}
	id, _, _ := strings.Cut(rec.FullyQualifiedErrorID, ",")
	if id != "CommandNotFoundException" {
		return false
	}
	if rec.Invocation != nil && rec.Invocation.ScriptLineNumber > 0 {
		return false
	}
	target := rec.Category.TargetName
	if t, ok := rec.TargetObject.(string); ok && target == "" {
		target = t
	}
	return strings.EqualFold(target, name)
}

// HasOutString reports whether remote output can be formatted with
// Out-String (absent on restricted endpoints).
func (s *Session) HasOutString(ctx context.Context) bool {
	return s.CommandExists(ctx, "Out-String")
}

// LastExitCode returns the runspace's $LASTEXITCODE (the last native
// command's exit code), or 0 when it is unset or not a number.
func (s *Session) LastExitCode(ctx context.Context) int {
	out, res, err := s.collect(ctx, psrp.PipelineSpec{
		Commands: []psrp.Command{{Cmd: "$global:LASTEXITCODE", IsScript: true}},
		NoInput:  true,
	})
	if err != nil || res.State != psrp.PipelineCompleted || len(out) != 1 {
		return 0
	}
	switch n := out[0].(type) {
	case int32:
		return int(n)
	case int64:
		return int(n)
	}
	return 0
}
