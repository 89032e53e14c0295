package shell

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/pssession/pssession/remote/psrp"
	"github.com/pssession/pssession/remote/psrp/clixml"
	"github.com/pssession/pssession/remote/session"
)

// Completion is what the remote TabExpansion2 returns (a
// System.Management.Automation.CommandCompletion): the texts that may
// replace the runes [ReplacementIndex, ReplacementIndex+ReplacementLength)
// of the input line.
type Completion struct {
	ReplacementIndex  int
	ReplacementLength int
	Matches           []string
}

// ParseCompletion reads a CommandCompletion object.
func ParseCompletion(v clixml.Value) (Completion, error) {
	o, ok := v.(*clixml.Object)
	if !ok {
		return Completion{}, fmt.Errorf("shell: completion: got %T, want a CommandCompletion object", v)
	}
	var c Completion
	idx, ok1 := intMember(o, "ReplacementIndex")
	n, ok2 := intMember(o, "ReplacementLength")
	if !ok1 || !ok2 {
		return Completion{}, errors.New("shell: completion: no ReplacementIndex/ReplacementLength")
	}
	if idx < 0 || n < 0 {
		return Completion{}, fmt.Errorf("shell: completion: bad replacement %d+%d", idx, n)
	}
	c.ReplacementIndex, c.ReplacementLength = idx, n
	mv, _ := o.Member("CompletionMatches")
	if mo, ok := mv.(*clixml.Object); ok {
		for _, it := range mo.Items {
			io, ok := it.(*clixml.Object)
			if !ok {
				continue
			}
			if t, ok := io.Member("CompletionText"); ok {
				if s, ok := t.(string); ok && s != "" {
					c.Matches = append(c.Matches, s)
				}
			}
		}
	}
	return c, nil
}

func intMember(o *clixml.Object, name string) (int, bool) {
	v, ok := o.Member(name)
	if !ok {
		return 0, false
	}
	switch n := v.(type) {
	case int32:
		return int(n), true
	case int64:
		return int(n), true
	}
	return 0, false
}

// Candidates turns a completion of line with the cursor at pos into what
// readline's AutoCompleter inserts at the cursor: the rest of each match
// after the text already typed, and the length of that typed text. A match
// the typed text is not a (case-insensitive) prefix of cannot be expressed
// as an insertion and is left out.
func (c Completion) Candidates(line []rune, pos int) ([][]rune, int) {
	if c.ReplacementIndex > pos || pos > len(line) {
		return nil, 0
	}
	typed := line[c.ReplacementIndex:pos]
	var out [][]rune
	for _, m := range c.Matches {
		mr := []rune(m)
		if len(mr) < len(typed) || !strings.EqualFold(string(mr[:len(typed)]), string(typed)) {
			continue
		}
		out = append(out, mr[len(typed):])
	}
	return out, len(typed)
}

// CompletionTimeout bounds one remote TabExpansion2 call, so that Tab on a
// slow link never hangs the prompt.
const CompletionTimeout = 5 * time.Second

// Completer asks the remote TabExpansion2 for completions. It implements
// readline.AutoCompleter and is quietly empty where the endpoint has no
// TabExpansion2 or the call fails.
type Completer struct {
	Session Remote
	// Ctx is the session's context; nil means context.Background().
	Ctx context.Context

	mu sync.Mutex
	// single is the one match Do offered last, to fix the case of what
	// was typed once readline inserted the rest (OnChange).
	single *singleMatch
}

type singleMatch struct {
	index int    // where the replaced text starts
	text  []rune // the whole completion text
}

// Complete runs TabExpansion2 -inputScript line -cursorColumn pos.
func (c *Completer) Complete(ctx context.Context, line string, pos int) (Completion, error) {
	if !c.Session.CommandExists(ctx, "TabExpansion2") {
		return Completion{}, errors.New("shell: completion: the endpoint has no TabExpansion2")
	}
	spec := psrp.PipelineSpec{Commands: []psrp.Command{{Cmd: "TabExpansion2", Args: []psrp.Argument{
		{Name: "inputScript", Value: line},
		{Name: "cursorColumn", Value: int32(pos)},
	}}}}
	var out []clixml.Value
	res, err := c.Session.Run(ctx, session.RunRequest{Spec: spec, OnEvent: func(ev psrp.Event) {
		if o, ok := ev.(psrp.PipelineOutput); ok {
			out = append(out, o.Value)
		}
	}})
	if err != nil {
		return Completion{}, err
	}
	if res.State != psrp.PipelineCompleted || len(out) == 0 {
		return Completion{}, errors.New("shell: completion: TabExpansion2 gave nothing")
	}
	return ParseCompletion(out[0])
}

// Do implements readline.AutoCompleter.
func (c *Completer) Do(line []rune, pos int) ([][]rune, int) {
	if c.Session == nil {
		return nil, 0
	}
	ctx := c.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, CompletionTimeout)
	defer cancel()
	// TabExpansion2 counts UTF-16 code units; the rune index is right for
	// everything in the Basic Multilingual Plane.
	comp, err := c.Complete(ctx, string(line), pos)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.single = nil
	if err != nil {
		return nil, 0
	}
	cands, n := comp.Candidates(line, pos)
	if len(cands) == 1 {
		full := append(append([]rune(nil), line[pos-n:pos]...), cands[0]...)
		for _, m := range comp.Matches {
			if strings.EqualFold(m, string(full)) {
				c.single = &singleMatch{index: pos - n, text: []rune(m)}
			}
		}
	}
	return cands, n
}

// OnChange implements readline.Listener: after Tab inserted the rest of
// the only match, the typed part takes the match's spelling, so
// "get-chi" becomes "Get-ChildItem" as in PowerShell.
func (c *Completer) OnChange(line []rune, pos int, key rune) ([]rune, int, bool) {
	if key != '\t' {
		return nil, 0, false
	}
	c.mu.Lock()
	m := c.single
	c.single = nil
	c.mu.Unlock()
	if m == nil {
		return nil, 0, false
	}
	end := m.index + len(m.text)
	if m.index < 0 || end > len(line) || end != pos || !strings.EqualFold(string(line[m.index:end]), string(m.text)) {
		return nil, 0, false
	}
	out := append(append(append([]rune(nil), line[:m.index]...), m.text...), line[end:]...)
	return out, pos, true
}
