package shell

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/pssession/pssession/remote/psrp"
	"github.com/pssession/pssession/remote/psrp/clixml"
	"github.com/pssession/pssession/remote/session"
)

// ErrNotInteractive is PowerShell's error for a prompt in a host that
// cannot interact with a user (stdin is not a terminal).
var ErrNotInteractive error = notInteractiveError{}

// notInteractiveError carries PowerShell's own message text, capital
// letter and full stop included, as users search for it.
type notInteractiveError struct{}

func (notInteractiveError) Error() string {
	return "A command that prompts the user failed because the host program or the command type does not support user interaction. " +
		"Try a host program that supports user interaction, such as the PowerShell Console or PowerShell ISE, and remove prompt-related commands " +
		"from command types that do not support user interaction, such as PowerShell workflows."
}

// LineReader reads what the user types at a host prompt.
type LineReader interface {
	// ReadLine reads one line after showing prompt.
	ReadLine(prompt string) (string, error)
	// ReadPassword reads one line without echo after showing prompt.
	ReadPassword(prompt string) (string, error)
}

// Host is the PSHost the server sees (MS-PSRP 2.2.3.17): it answers the
// remote host calls of Read-Host, Get-Credential, PromptForChoice, the
// Write* calls and the RawUI queries. It implements session.Host.
type Host struct {
	// Reader reads user input; nil means the host is not interactive and
	// prompts fail at once with ErrNotInteractive.
	Reader LineReader
	// Out and Err receive the host's Write* output.
	Out, Err io.Writer
	// Renderer shows WriteProgress; may be nil.
	Renderer *Renderer
	// Size returns the terminal's columns and rows.
	Size func() (int, int)
	// OnExit is called when the script calls exit (SetShouldExit).
	OnExit func(code int32)
	// Title is the window title reported to the server.
	Title string

	mu sync.Mutex
}

var _ session.Host = (*Host)(nil)

func (h *Host) size() (int, int) {
	if h.Size != nil {
		if w, r := h.Size(); w > 0 && r > 0 {
			return w, r
		}
	}
	return 120, 50
}

// HostCall answers one remote host call.
func (h *Host) HostCall(ctx context.Context, call psrp.HostCall) (clixml.Value, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	p := call.Params
	str := func(i int) string {
		if i < len(p) {
			if s, ok := p[i].(string); ok {
				return s
			}
			if p[i] != nil {
				return clixml.ToDisplayString(p[i])
			}
		}
		return ""
	}
	switch call.Method {
	case psrp.HostGetName:
		return "pssession", nil
	case psrp.HostGetVersion:
		return clixml.NewVersion(1, 0), nil
	case psrp.HostGetInstanceID:
		return clixml.GUID{}, nil
	case psrp.HostGetCurrentCulture, psrp.HostGetCurrentUICulture:
		return "en-US", nil
	case psrp.HostSetShouldExit:
		if h.OnExit != nil && len(p) > 0 {
			if code, ok := p[0].(int32); ok {
				h.OnExit(code)
			}
		}
		return nil, nil
	case psrp.HostNotifyBeginApplication, psrp.HostNotifyEndApplication,
		psrp.HostSetForegroundColor, psrp.HostSetBackgroundColor, psrp.HostSetCursorPosition,
		psrp.HostSetWindowPosition, psrp.HostSetCursorSize, psrp.HostSetBufferSize,
		psrp.HostSetWindowSize, psrp.HostSetWindowTitle, psrp.HostFlushInputBuffer:
		return nil, nil
	case psrp.HostWrite1:
		fmt.Fprint(h.Out, str(0))
		return nil, nil
	case psrp.HostWrite2:
		fmt.Fprint(h.Out, h.colorize(p, str(2)))
		return nil, nil
	case psrp.HostWriteLine1:
		fmt.Fprintln(h.Out)
		return nil, nil
	case psrp.HostWriteLine2:
		fmt.Fprintln(h.Out, str(0))
		return nil, nil
	case psrp.HostWriteLine3:
		fmt.Fprintln(h.Out, h.colorize(p, str(2)))
		return nil, nil
	case psrp.HostWriteErrorLine:
		fmt.Fprintln(h.Err, str(0))
		return nil, nil
	case psrp.HostWriteDebugLine:
		fmt.Fprintln(h.Err, "DEBUG: "+str(0))
		return nil, nil
	case psrp.HostWriteVerboseLine:
		fmt.Fprintln(h.Err, "VERBOSE: "+str(0))
		return nil, nil
	case psrp.HostWriteWarningLine:
		fmt.Fprintln(h.Err, "WARNING: "+str(0))
		return nil, nil
	case psrp.HostWriteProgress:
		// The same record also arrives as a PROGRESS_RECORD, which the
		// renderer shows; drawing it twice would flicker.
		return nil, nil
	case psrp.HostReadLine:
		if h.Reader == nil {
			return nil, ErrNotInteractive
		}
		return h.Reader.ReadLine("")
	case psrp.HostReadLineAsSecureString:
		if h.Reader == nil {
			return nil, ErrNotInteractive
		}
		s, err := h.Reader.ReadPassword("")
		return session.SecureText(s), err
	case psrp.HostPrompt:
		return h.prompt(str(0), str(1), p)
	case psrp.HostPromptForCredential1, psrp.HostPromptForCredential2:
		return h.promptForCredential(str(0), str(1), str(2))
	case psrp.HostPromptForChoice:
		return h.promptForChoice(p, false)
	case psrp.HostPromptForChoiceMultipleSelection:
		return h.promptForChoice(p, true)
	case psrp.HostGetForegroundColor:
		return consoleColorObject(7), nil
	case psrp.HostGetBackgroundColor:
		return consoleColorObject(0), nil
	case psrp.HostGetCursorPosition, psrp.HostGetWindowPosition:
		return coordinatesObject(0, 0), nil
	case psrp.HostGetCursorSize:
		return int32(25), nil
	case psrp.HostGetBufferSize:
		w, _ := h.size()
		return sizeObject(w, 9999), nil
	case psrp.HostGetWindowSize, psrp.HostGetMaxWindowSize, psrp.HostGetMaxPhysicalWindowSize:
		return sizeObject(h.size()), nil
	case psrp.HostGetWindowTitle:
		return h.Title, nil
	case psrp.HostGetKeyAvailable:
		return false, nil
	case psrp.HostGetIsRunspacePushed:
		return false, nil
	}
	return nil, fmt.Errorf("the host method %s is not supported by pssession", call.Method)
}

func (h *Host) colorize(p []clixml.Value, text string) string {
	if h.Renderer == nil || !h.Renderer.Color || len(p) < 2 {
		return text
	}
	fg, _ := p[0].(int32)
	bg, _ := p[1].(int32)
	return ConsoleColorize(text, clixml.ConsoleColor(fg), clixml.ConsoleColor(bg))
}

func (h *Host) banner(caption, message string) {
	if caption != "" {
		fmt.Fprintln(h.Err, caption)
	}
	if message != "" {
		fmt.Fprintln(h.Err, message)
	}
}

// prompt answers Prompt (Read-Host with fields, mandatory parameters):
// a Hashtable of field name → value.
func (h *Host) prompt(caption, message string, p []clixml.Value) (clixml.Value, error) {
	if h.Reader == nil {
		return nil, ErrNotInteractive
	}
	h.banner(caption, message)
	var fields []clixml.Value
	if len(p) > 2 {
		if o, ok := p[2].(*clixml.Object); ok {
			fields = o.Items
		}
	}
	var entries []clixml.DictEntry
	for _, f := range fields {
		fo, ok := f.(*clixml.Object)
		if !ok {
			continue
		}
		name := memberString(fo, "name", "Name")
		label := memberString(fo, "label", "Label")
		if label == "" {
			label = name
		}
		typ := memberString(fo, "parameterTypeFullName", "ParameterTypeFullName", "parameterTypeName", "ParameterTypeName")
		var v clixml.Value
		switch {
		case strings.Contains(typ, "SecureString"):
			s, err := h.Reader.ReadPassword(label + ": ")
			if err != nil {
				return nil, err
			}
			v = session.SecureText(s)
		case strings.Contains(typ, "PSCredential"):
			c, err := h.promptForCredential("", "", "")
			if err != nil {
				return nil, err
			}
			v = c
		default:
			s, err := h.Reader.ReadLine(label + ": ")
			if err != nil {
				return nil, err
			}
			v = s
		}
		entries = append(entries, clixml.DictEntry{Key: name, Value: v})
	}
	return &clixml.Object{
		TypeNames: []string{"System.Collections.Hashtable", "System.Object"},
		Content:   clixml.ContentDict,
		Entries:   entries,
	}, nil
}

func memberString(o *clixml.Object, names ...string) string {
	for _, n := range names {
		if v, ok := o.Member(n); ok {
			if s, ok := v.(string); ok {
				return s
			}
		}
	}
	return ""
}

func (h *Host) promptForCredential(caption, message, user string) (clixml.Value, error) {
	if h.Reader == nil {
		return nil, ErrNotInteractive
	}
	h.banner(caption, message)
	if user == "" {
		u, err := h.Reader.ReadLine("User: ")
		if err != nil {
			return nil, err
		}
		user = u
	}
	pw, err := h.Reader.ReadPassword("Password for user " + user + ": ")
	if err != nil {
		return nil, err
	}
	return session.Credential{UserName: user, Password: session.SecureText(pw)}, nil
}

// Choice is one ChoiceDescription of PromptForChoice.
type Choice struct {
	Label, Help string
}

// hotkey returns a choice's accelerator (the letter after '&') and its
// label without the ampersand.
func (c Choice) hotkey() (string, string) {
	i := strings.IndexByte(c.Label, '&')
	if i < 0 || i+1 >= len(c.Label) {
		return "", c.Label
	}
	return strings.ToUpper(c.Label[i+1 : i+2]), c.Label[:i] + c.Label[i+1:]
}

// ChoicePrompt renders PromptForChoice's line as the console does:
// `[Y] Yes  [N] No  [?] Help (default is "Y"): `.
func ChoicePrompt(choices []Choice, defaults []int) string {
	var b strings.Builder
	for _, c := range choices {
		k, l := c.hotkey()
		if k == "" {
			k = l
		}
		fmt.Fprintf(&b, "[%s] %s  ", k, l)
	}
	b.WriteString("[?] Help")
	if len(defaults) > 0 {
		var ds []string
		for _, d := range defaults {
			if d >= 0 && d < len(choices) {
				k, l := choices[d].hotkey()
				if k == "" {
					k = l
				}
				ds = append(ds, k)
			}
		}
		if len(ds) > 0 {
			fmt.Fprintf(&b, " (default is %q)", strings.Join(ds, ","))
		}
	}
	b.WriteString(": ")
	return b.String()
}

// MatchChoice maps an answer to a choice index: its hotkey or its label
// (case-insensitive), or -1.
func MatchChoice(choices []Choice, answer string) int {
	answer = strings.TrimSpace(answer)
	for i, c := range choices {
		k, l := c.hotkey()
		if (k != "" && strings.EqualFold(answer, k)) || strings.EqualFold(answer, l) {
			return i
		}
	}
	return -1
}

func (h *Host) promptForChoice(p []clixml.Value, multi bool) (clixml.Value, error) {
	if h.Reader == nil {
		return nil, ErrNotInteractive
	}
	caption, message := "", ""
	if len(p) > 0 {
		caption, _ = p[0].(string)
	}
	if len(p) > 1 {
		message, _ = p[1].(string)
	}
	var choices []Choice
	if len(p) > 2 {
		if o, ok := p[2].(*clixml.Object); ok {
			for _, it := range o.Items {
				if co, ok := it.(*clixml.Object); ok {
					choices = append(choices, Choice{Label: memberString(co, "label", "Label"), Help: memberString(co, "helpMessage", "HelpMessage")})
				}
			}
		}
	}
	if len(choices) == 0 {
		return nil, errors.New("PromptForChoice called with no choices")
	}
	var defaults []int
	if len(p) > 3 {
		switch d := p[3].(type) {
		case int32:
			if d >= 0 {
				defaults = []int{int(d)}
			}
		case *clixml.Object:
			for _, it := range d.Items {
				if n, ok := it.(int32); ok {
					defaults = append(defaults, int(n))
				}
			}
		}
	}
	h.banner(caption, message)
	var picked []int
	for {
		answer, err := h.Reader.ReadLine(ChoicePrompt(choices, defaults))
		if err != nil {
			return nil, err
		}
		answer = strings.TrimSpace(answer)
		switch {
		case answer == "?":
			for _, c := range choices {
				k, l := c.hotkey()
				fmt.Fprintf(h.Err, "%s - %s\n", firstNonEmpty(k, l), c.Help)
			}
			continue
		case answer == "" && len(picked) == 0 && len(defaults) > 0:
			picked = defaults
		case answer == "" && multi:
		default:
			i := MatchChoice(choices, answer)
			if i < 0 {
				continue
			}
			picked = append(picked, i)
			if multi {
				continue
			}
		}
		break
	}
	if !multi {
		return int32(picked[0]), nil
	}
	items := make([]clixml.Value, len(picked))
	for i, n := range picked {
		items[i] = int32(n)
	}
	return &clixml.Object{
		TypeNames: []string{"System.Collections.ObjectModel.Collection`1[[System.Int32, mscorlib, Version=4.0.0.0, Culture=neutral, PublicKeyToken=b77a5c561934e089]]", "System.Object"},
		Content:   clixml.ContentList,
		Items:     items,
	}, nil
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

func consoleColorObject(c int32) *clixml.Object {
	return clixml.NewEnum("System.ConsoleColor", clixml.ConsoleColor(c).String(), c)
}

func sizeObject(w, h int) *clixml.Object {
	return &clixml.Object{
		TypeNames:   []string{"System.Management.Automation.Host.Size", "System.ValueType", "System.Object"},
		ToString:    strconv.Itoa(w) + "," + strconv.Itoa(h),
		HasToString: true,
		Props:       []clixml.Property{{Name: "Width", Value: int32(w)}, {Name: "Height", Value: int32(h)}},
	}
}

func coordinatesObject(x, y int) *clixml.Object {
	return &clixml.Object{
		TypeNames:   []string{"System.Management.Automation.Host.Coordinates", "System.ValueType", "System.Object"},
		ToString:    strconv.Itoa(x) + "," + strconv.Itoa(y),
		HasToString: true,
		Props:       []clixml.Property{{Name: "X", Value: int32(x)}, {Name: "Y", Value: int32(y)}},
	}
}
