package endpoint

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Scripted is the deterministic test engine: it interprets the small
// language documented in the package comment. Each runspace keeps its own
// variables and location.
type Scripted struct {
	// Location is the initial location (default C:\Users\pssession).
	Location string
}

// Open starts a scripted runspace.
func (e Scripted) Open(_ context.Context, opts RunspaceOptions) (Runspace, error) {
	loc := e.Location
	if opts.WorkingDirectory != "" {
		loc = opts.WorkingDirectory
	}
	if loc == "" {
		loc = `C:\Users\pssession`
	}
	return &scriptedRunspace{vars: map[string]string{}, location: loc}, nil
}

type scriptedRunspace struct {
	mu       sync.Mutex
	vars     map[string]string
	location string
	// scriptArgs are the positional arguments of the running script
	// command (Invoke-Command -ArgumentList): $args, and param() binding.
	scriptArgs []string
}

func (r *scriptedRunspace) Close() error { return nil }

// scriptedCommands are the commands the scripted language knows.
var scriptedCommands = []string{"Write-Output", "Write-Error", "Write-Warning", "Write-Verbose", "Write-Debug",
	"Write-Information", "Write-Host", "Write-Progress", "Read-Host", "Get-Credential", "Read-Choice", "Start-Sleep",
	"Set-Location", "Get-Location", "Get-Output", "Out-String", "Out-Default", "prompt"}

// Commands lists the scripted language's commands (for GET_COMMAND_METADATA).
func (r *scriptedRunspace) Commands() []string { return scriptedCommands }

// Run interprets the pipeline's script statements in order.
func (r *scriptedRunspace) Run(ctx context.Context, p Pipeline, w Writer) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.scriptArgs = nil
	for _, c := range p.Commands {
		if !c.IsScript {
			continue
		}
		for _, a := range c.Args {
			if a.Name == "" {
				r.scriptArgs = append(r.scriptArgs, fmt.Sprint(a.Value))
			}
		}
	}
	r.vars["args"] = strings.Join(r.scriptArgs, " ")
	for _, stmt := range pipelineStatements(p) {
		if err := ctx.Err(); err != nil {
			return err
		}
		done, err := r.exec(ctx, stmt, p, w)
		if err != nil {
			return err
		}
		if done {
			return nil
		}
	}
	return ctx.Err()
}

// pipelineStatements flattens a pipeline into statements: scripts are
// split, commands become "name args", and formatting commands (Out-String,
// Out-Default, Format-*) are dropped since output is already text.
func pipelineStatements(p Pipeline) [][]token {
	var out [][]token
	for _, c := range p.Commands {
		if c.IsScript {
			out = append(out, splitStatements(c.Text)...)
			continue
		}
		if isFormatter(c.Text) {
			continue
		}
		stmt := []token{{text: c.Text}}
		for _, a := range c.Args {
			if a.Name != "" {
				stmt = append(stmt, token{text: "-" + a.Name})
			}
			if a.Value != nil {
				stmt = append(stmt, token{text: fmt.Sprint(a.Value), quoted: true})
			}
		}
		out = append(out, stmt)
	}
	return out
}

func isFormatter(name string) bool {
	n := strings.ToLower(name)
	return n == "out-string" || n == "out-default" || n == "out-host" || strings.HasPrefix(n, "format-")
}

// token is one word of a statement; quoted words are never commands,
// variables or flags.
type token struct {
	text   string
	quoted bool
	single bool // 'literal': no $variable expansion
}

// splitStatements splits script text on ';' and newlines outside quotes,
// and each statement into words; "| Out-String …" tails are dropped.
func splitStatements(script string) [][]token {
	var stmts [][]token
	var cur []token
	var word strings.Builder
	inWord, quoted, single := false, false, false
	flushWord := func() {
		if inWord {
			cur = append(cur, token{text: word.String(), quoted: quoted, single: single})
		}
		word.Reset()
		inWord, quoted, single = false, false, false
	}
	flushStmt := func() {
		flushWord()
		// Drop "| formatter" tails.
		for i, t := range cur {
			if !t.quoted && t.text == "|" {
				cur = cur[:i]
				break
			}
		}
		if len(cur) > 0 {
			stmts = append(stmts, cur)
		}
		cur = nil
	}
	rs := []rune(script)
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		switch {
		case c == '\'' || c == '"':
			inWord, quoted, single = true, true, c == '\''
			j := i + 1
			for j < len(rs) && rs[j] != c {
				j++
			}
			word.WriteString(string(rs[i+1 : min(j, len(rs))]))
			i = j
		case c == ';' || c == '\n' || c == '\r':
			flushStmt()
		case c == '#' && !inWord:
			for i < len(rs) && rs[i] != '\n' {
				i++
			}
			flushStmt()
		case c == ' ' || c == '\t':
			flushWord()
		case c == '|' && !inWord:
			flushWord()
			cur = append(cur, token{text: "|"})
		default:
			inWord = true
			word.WriteRune(c)
		}
	}
	flushStmt()
	return stmts
}

// expand replaces $name references in unquoted and double-quoted words.
func (r *scriptedRunspace) expand(t token) string {
	if t.single || !strings.Contains(t.text, "$") {
		return t.text
	}
	var b strings.Builder
	s := t.text
	for {
		i := strings.IndexByte(s, '$')
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		j := i + 1
		for j < len(s) && (isIdent(s[j])) {
			j++
		}
		if j == i+1 {
			b.WriteByte('$')
		} else {
			b.WriteString(r.vars[strings.ToLower(s[i+1:j])])
		}
		s = s[j:]
	}
}

func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// args holds a statement's parameters: named (-Name value / -Switch) and
// positional words, all expanded.
type args struct {
	named      map[string]string
	switches   map[string]bool
	positional []string
}

// parseArgs splits words after the command; names listed in switchNames
// take no value.
func (r *scriptedRunspace) parseArgs(words []token, switchNames ...string) args {
	a := args{named: map[string]string{}, switches: map[string]bool{}}
	isSwitch := func(n string) bool {
		for _, s := range switchNames {
			if strings.EqualFold(s, n) {
				return true
			}
		}
		return false
	}
	for i := 0; i < len(words); i++ {
		t := words[i]
		if !t.quoted && len(t.text) > 1 && t.text[0] == '-' && !isNumber(t.text) {
			name := strings.ToLower(t.text[1:])
			if isSwitch(name) || i+1 >= len(words) {
				a.switches[name] = true
				continue
			}
			a.named[name] = r.expand(words[i+1])
			i++
			continue
		}
		a.positional = append(a.positional, r.expand(t))
	}
	return a
}

func (a args) get(names ...string) (string, bool) {
	for _, n := range names {
		if v, ok := a.named[n]; ok {
			return v, true
		}
	}
	return "", false
}

func (a args) text() string { return strings.Join(a.positional, " ") }

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

// value turns a word into an output object: integers stay integers.
func value(s string, quoted bool) any {
	if !quoted {
		if n, err := strconv.ParseInt(s, 10, 32); err == nil {
			return int32(n)
		}
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n
		}
	}
	return s
}

// exec runs one statement; done reports an exit.
func (r *scriptedRunspace) exec(ctx context.Context, stmt []token, p Pipeline, w Writer) (done bool, err error) {
	head := stmt[0]
	rest := stmt[1:]
	if !head.quoted && strings.HasPrefix(strings.ToLower(head.text), "param(") {
		// param($a, $b): bind the script's positional arguments in order.
		var words []string
		for _, t := range stmt {
			words = append(words, t.text)
		}
		decl := strings.TrimSuffix(strings.TrimSpace(strings.Join(words, " ")[len("param("):]), ")")
		for i, name := range strings.Split(decl, ",") {
			name = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(name), "$"))
			if name == "" {
				continue
			}
			if i < len(r.scriptArgs) {
				r.vars[name] = r.scriptArgs[i]
			} else {
				r.vars[name] = ""
			}
		}
		return false, nil
	}
	if head.quoted || isNumber(head.text) {
		for _, t := range stmt {
			if err := w.Output(value(r.expand(t), t.quoted)); err != nil {
				return false, err
			}
		}
		return false, nil
	}
	if strings.HasPrefix(head.text, "$") {
		name := strings.TrimPrefix(strings.TrimPrefix(strings.ToLower(head.text[1:]), "global:"), "script:")
		if len(rest) >= 1 && rest[0].text == "=" && !rest[0].quoted {
			vals := make([]string, 0, len(rest)-1)
			for _, t := range rest[1:] {
				vals = append(vals, r.expand(t))
			}
			r.vars[name] = strings.Join(vals, " ")
			return false, nil
		}
		if name == "input" {
			for _, v := range p.Input {
				if err := w.Output(v); err != nil {
					return false, err
				}
			}
			return false, nil
		}
		if v, ok := r.vars[name]; ok {
			return false, w.Output(v)
		}
		return false, nil
	}
	switch strings.ToLower(head.text) {
	case "write-output", "echo":
		a := r.parseArgs(rest, "noenumerate")
		for i, s := range a.positional {
			if err := w.Output(value(s, i < len(rest) && rest[i].quoted)); err != nil {
				return false, err
			}
		}
		if v, ok := a.get("inputobject"); ok {
			return false, w.Output(v)
		}
	case "write-error":
		a := r.parseArgs(rest)
		msg, ok := a.get("message")
		if !ok {
			msg = a.text()
		}
		return false, w.Error(msg)
	case "write-warning":
		return false, w.Warning(r.message(rest))
	case "write-verbose":
		return false, w.Verbose(r.message(rest))
	case "write-debug":
		return false, w.Debug(r.message(rest))
	case "write-information":
		a := r.parseArgs(rest)
		msg, ok := a.get("messagedata")
		if !ok {
			msg = a.text()
		}
		return false, w.Information(msg)
	case "write-host":
		a := r.parseArgs(rest, "nonewline")
		fg, _ := a.get("foregroundcolor")
		bg, _ := a.get("backgroundcolor")
		text, ok := a.get("object")
		if !ok {
			text = a.text()
		}
		return false, w.Host(text, HostText{Foreground: fg, Background: bg, NoNewline: a.switches["nonewline"]})
	case "write-progress":
		a := r.parseArgs(rest, "completed")
		pr := Progress{PercentComplete: -1, Completed: a.switches["completed"]}
		pr.Activity, _ = a.get("activity")
		if pr.Activity == "" && len(a.positional) > 0 {
			pr.Activity = a.positional[0]
		}
		pr.Status, _ = a.get("status")
		if pr.Status == "" {
			pr.Status = "Processing"
		}
		if v, ok := a.get("percentcomplete"); ok {
			pr.PercentComplete, _ = strconv.Atoi(v)
		}
		return false, w.Progress(pr)
	case "read-host":
		a := r.parseArgs(rest, "assecurestring", "maskinput")
		prompt, ok := a.get("prompt")
		if !ok {
			prompt = a.text()
		}
		ans, err := w.ReadLine(ctx, prompt, a.switches["assecurestring"] || a.switches["maskinput"])
		if err != nil {
			return false, r.hostFailure(ctx, w, err)
		}
		return false, w.Output(ans)
	case "get-credential":
		a := r.parseArgs(rest)
		user, ok := a.get("username", "credential")
		if !ok {
			user = a.text()
		}
		msg, _ := a.get("message")
		if msg == "" {
			msg = "Enter your credentials."
		}
		cred, err := w.PromptForCredential(ctx, "Windows PowerShell credential request", msg, user)
		if err != nil {
			return false, r.hostFailure(ctx, w, err)
		}
		return false, w.Output(cred.UserName)
	case "read-choice":
		a := r.parseArgs(rest)
		if len(a.positional) < 3 {
			return false, w.Error("Read-Choice needs a caption, a message and at least one choice")
		}
		idx, err := w.PromptForChoice(ctx, a.positional[0], a.positional[1], a.positional[2:], 0)
		if err != nil {
			return false, r.hostFailure(ctx, w, err)
		}
		return false, w.Output(int32(idx))
	case "start-sleep", "sleep":
		a := r.parseArgs(rest)
		var d time.Duration
		if v, ok := a.get("milliseconds", "m"); ok {
			n, _ := strconv.ParseFloat(v, 64)
			d = time.Duration(n * float64(time.Millisecond))
		} else {
			v, ok := a.get("seconds", "s")
			if !ok && len(a.positional) > 0 {
				v = a.positional[0]
			}
			n, _ := strconv.ParseFloat(v, 64)
			d = time.Duration(n * float64(time.Second))
		}
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return false, ctx.Err()
		}
	case "set-location", "cd", "sl", "chdir":
		a := r.parseArgs(rest)
		path, ok := a.get("path", "literalpath")
		if !ok {
			path = a.text()
		}
		r.location = joinWindowsPath(r.location, path)
	case "get-location", "pwd", "gl":
		return false, w.Output(r.location)
	case "prompt":
		return false, w.Output("PS " + r.location + "> ")
	case "get-output":
		a := r.parseArgs(rest)
		v, ok := a.get("lines", "count")
		if !ok && len(a.positional) > 0 {
			v = a.positional[0]
		}
		n, _ := strconv.Atoi(v)
		for i := 1; i <= n; i++ {
			if err := ctx.Err(); err != nil {
				return false, err
			}
			if err := w.Output(fmt.Sprintf("line %d", i)); err != nil {
				return false, err
			}
		}
	case "exit":
		code := 0
		if len(rest) > 0 {
			code, _ = strconv.Atoi(r.expand(rest[0]))
		}
		return true, w.SetShouldExit(code)
	case "throw":
		msg := r.message(rest)
		if msg == "" {
			msg = "ScriptHalted"
		}
		return false, &ScriptError{Message: msg}
	default:
		return false, w.Error(fmt.Sprintf("The term '%s' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again.", head.text))
	}
	return false, nil
}

// message joins a statement's words for the Write-* cmdlets, honouring
// -Message.
func (r *scriptedRunspace) message(rest []token) string {
	a := r.parseArgs(rest)
	if m, ok := a.get("message"); ok {
		return m
	}
	return a.text()
}

// hostFailure turns a failed host call into an error record, or the stop.
func (r *scriptedRunspace) hostFailure(ctx context.Context, w Writer, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return w.Error(err.Error())
}

// joinWindowsPath resolves path against the location like Set-Location.
func joinWindowsPath(loc, path string) string {
	path = strings.ReplaceAll(strings.TrimSpace(path), "/", `\`)
	switch {
	case path == "":
		return loc
	case len(path) >= 2 && path[1] == ':':
		loc = path[:2] + `\`
		path = path[2:]
	case strings.HasPrefix(path, `\`):
		loc = loc[:min(len(loc), 2)] + `\`
	}
	parts := strings.Split(strings.TrimRight(loc, `\`), `\`)
	for _, p := range strings.Split(path, `\`) {
		switch p {
		case "", ".":
		case "..":
			if len(parts) > 1 {
				parts = parts[:len(parts)-1]
			}
		default:
			parts = append(parts, p)
		}
	}
	if len(parts) == 1 {
		return parts[0] + `\`
	}
	return strings.Join(parts, `\`)
}
