package endpoint

import (
	"context"
	"errors"
	"fmt"
)

// runOneShot runs a WinRS "powershell -EncodedCommand" script with the
// engine and renders its streams as text on stdout/stderr, as
// powershell.exe would for a non-interactive caller.
func (h *Handler) runOneShot(ctx context.Context, s *shell, cmd *command, script string) {
	defer h.wg.Done()
	wc := cmd.w
	tw := &textWriter{h: h, ctx: ctx, wc: wc}
	code := 0
	rs, err := h.engine.Open(ctx, RunspaceOptions{WorkingDirectory: s.workdir, Env: s.env})
	if err == nil {
		err = rs.Run(ctx, Pipeline{Commands: []Command{{Text: script, IsScript: true}}}, tw)
		_ = rs.Close()
	}
	var se *ScriptError
	switch {
	case err == nil:
		if tw.exit != nil {
			code = *tw.exit
		} else if tw.errors > 0 {
			code = 1
		}
	case errors.As(err, &se):
		h.winrsAppend(ctx, wc, true, []byte(se.Message+"\n"))
		code = 1
	case ctx.Err() != nil:
		code = 130
	default:
		h.winrsAppend(ctx, wc, true, []byte(err.Error()+"\n"))
		code = 1
	}
	h.winrsFinish(wc, code)
}

// textWriter is the Writer of a one-shot run: output and host text go to
// stdout, error records to stderr, the other streams are prefixed lines on
// stdout as powershell.exe prints them; host prompts fail (non-interactive).
type textWriter struct {
	h      *Handler
	ctx    context.Context
	wc     *winrsCommand
	exit   *int
	errors int
}

func (t *textWriter) line(stderr bool, s string) error {
	if t.ctx.Err() != nil {
		return errStopped
	}
	t.h.winrsAppend(t.ctx, t.wc, stderr, []byte(s))
	return nil
}

func (t *textWriter) Output(v any) error { return t.line(false, fmt.Sprint(v)+"\n") }
func (t *textWriter) Error(m string) error {
	t.errors++
	return t.line(true, m+"\n")
}
func (t *textWriter) Warning(m string) error     { return t.line(false, "WARNING: "+m+"\n") }
func (t *textWriter) Verbose(m string) error     { return t.line(false, "VERBOSE: "+m+"\n") }
func (t *textWriter) Debug(m string) error       { return t.line(false, "DEBUG: "+m+"\n") }
func (t *textWriter) Information(m string) error { return t.line(false, m+"\n") }
func (t *textWriter) Host(text string, o HostText) error {
	if !o.NoNewline {
		text += "\n"
	}
	return t.line(false, text)
}
func (t *textWriter) Progress(Progress) error { return nil }
func (t *textWriter) ReadLine(context.Context, string, bool) (string, error) {
	return "", errNoHost
}
func (t *textWriter) PromptForCredential(context.Context, string, string, string) (Credential, error) {
	return Credential{}, errNoHost
}
func (t *textWriter) PromptForChoice(context.Context, string, string, []string, int) (int, error) {
	return 0, errNoHost
}
func (t *textWriter) SetShouldExit(code int) error {
	t.exit = &code
	return nil
}
