package endpoint

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/pssession/pssession/remote/wsman"
)

type shellKind int

const (
	kindCmd shellKind = iota // WinRS cmd shell
	kindPS                   // PowerShell runspace pool
)

// shell is one server-side shell (PROTOCOL.md §1.7). Mutable fields are
// guarded by Handler.mu.
type shell struct {
	id, name, resourceURI, owner, clientIP string
	kind                                   shellKind
	inputStreams, outputStreams            string
	locale, dataLocale                     string
	idleTimeout                            time.Duration
	bufferMode                             string // Block or Drop
	disconnected                           bool
	created, lastActivity, disconnectedAt  time.Time
	inFlight                               int // requests being served (long-polls)

	commands map[string]*command
	order    []string // command ids in creation order

	ctx    context.Context
	cancel context.CancelFunc

	// WinRS
	workdir    string // where processes run
	winWorkdir string // the WorkingDirectory the client asked for
	env        []string

	// PowerShell
	ps *psShell
}

// command is one WinRS process or PowerShell pipeline of a shell.
type command struct {
	id, line string
	w        *winrsCommand
	p        *psCommand
}

func (h *Handler) newShell(c *call, kind shellKind, id string, b *shellBody) (*shell, *Fault) {
	idle := h.cfg.IdleTimeout
	if b.IdleTimeOut != "" {
		d, err := wsman.ParseDuration(b.IdleTimeOut)
		if err != nil || d <= 0 {
			return nil, faultInvalidParameter("IdleTimeOut " + b.IdleTimeOut)
		}
		idle = d
	}
	idle = min(idle, h.cfg.MaxIdleTimeout)
	now := h.clock.Now()
	s := &shell{id: id, resourceURI: c.req.Header.ResourceURI, owner: c.user, clientIP: c.clientIP, kind: kind,
		inputStreams: strings.TrimSpace(b.InputStreams), outputStreams: strings.TrimSpace(b.OutputStreams),
		locale: orDefault(c.req.Header.Locale.Lang, "en-US"), dataLocale: orDefault(c.req.Header.DataLocale.Lang, "en-US"),
		idleTimeout: idle, bufferMode: "Block", created: now, lastActivity: now, commands: map[string]*command{}}
	s.name = strings.TrimSpace(b.Name)
	if s.name == "" {
		s.name = strings.TrimSpace(b.NameAttr)
	}
	s.ctx, s.cancel = context.WithCancel(h.ctx)
	return s, nil
}

// register adds s to the table, numbering unnamed shells Runspace1, 2…
func (h *Handler) register(s *shell) *Fault {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return faultInternal("the endpoint is shutting down")
	}
	n := 0
	for _, other := range h.shells {
		if other.owner == s.owner {
			n++
		}
	}
	if n >= h.cfg.MaxShellsPerUser {
		return &Fault{Subcode: "w:QuotaLimit", WSManCode: CodeQuotaMaxShells,
			Message: fmt.Sprintf("The WS-Management service cannot process the request. This user is allowed a maximum number of %d shells, which has been exceeded.", h.cfg.MaxShellsPerUser)}
	}
	if _, dup := h.shells[s.id]; dup {
		return &Fault{Subcode: "w:AlreadyExists", WSManCode: 2150858803,
			Message: "The WS-Management service cannot create the resource because it already exists: shell " + s.id}
	}
	if s.name == "" {
		n := 1
		for {
			name := fmt.Sprintf("Runspace%d", n)
			if !h.nameUsedLocked(name) {
				s.name = name
				break
			}
			n++
		}
	}
	h.shells[s.id] = s
	h.notifyLocked()
	return nil
}

func (h *Handler) nameUsedLocked(name string) bool {
	for _, s := range h.shells {
		if s.name == name {
			return true
		}
	}
	return false
}

// checkCommandQuotaLocked refuses a duplicate command id or one command
// too many. h.mu must be held.
func (h *Handler) checkCommandQuotaLocked(s *shell, id string) *Fault {
	if _, dup := s.commands[id]; dup {
		return faultInvalidParameter("command " + id + " already exists")
	}
	if len(s.commands) >= h.cfg.MaxCommandsPerShell {
		return &Fault{Subcode: "w:QuotaLimit", WSManCode: CodeQuotaMaxCommands,
			Message: fmt.Sprintf("The WS-Management service cannot process the request: a shell may run at most %d commands.", h.cfg.MaxCommandsPerShell)}
	}
	return nil
}

// expired reports whether s outlived its idle timeout at now.
func (s *shell) expired(now time.Time) bool {
	since := s.lastActivity
	if s.disconnected {
		since = s.disconnectedAt
	}
	return s.inFlight == 0 && now.Sub(since) > s.idleTimeout
}

// close stops everything the shell runs.
func (s *shell) close() {
	s.cancel()
	if s.ps != nil {
		s.ps.close()
	}
}

// delete removes s from the table and stops it.
func (h *Handler) deleteShell(s *shell) {
	h.mu.Lock()
	if h.shells[s.id] == s {
		delete(h.shells, s.id)
	}
	h.notifyLocked()
	h.mu.Unlock()
	s.close()
}

// begin and end bracket a long request on s so it does not idle out.
func (h *Handler) begin(s *shell) {
	h.mu.Lock()
	s.inFlight++
	h.mu.Unlock()
}

func (h *Handler) end(s *shell) {
	h.mu.Lock()
	s.inFlight--
	s.lastActivity = h.clock.Now()
	h.mu.Unlock()
}

// shellXML renders rsp:Shell with the fields of a Windows Create/Get/
// Enumerate response (observed in test_psrp_open_runspace.yml and
// test_psrp_is_alive_state_disconnected.yml). h.mu must be held.
func (h *Handler) shellXMLLocked(s *shell, usage bool) string {
	now := h.clock.Now()
	state := "Connected"
	inactive := now.Sub(s.lastActivity)
	if s.disconnected {
		state = "Disconnected"
		inactive = now.Sub(s.disconnectedAt)
	}
	if s.inFlight > 0 && !s.disconnected {
		inactive = 0
	}
	owner := s.owner
	var b strings.Builder
	b.WriteString(`<rsp:Shell xmlns:rsp="` + nsShell + `">`)
	b.WriteString(elem("rsp:ShellId", s.id))
	b.WriteString(elem("rsp:Name", s.name))
	b.WriteString(elem("rsp:ResourceUri", s.resourceURI))
	b.WriteString(elem("rsp:Owner", owner))
	b.WriteString(elem("rsp:ClientIP", s.clientIP))
	if s.winWorkdir != "" {
		b.WriteString(elem("rsp:WorkingDirectory", s.winWorkdir))
	}
	b.WriteString(elem("rsp:ProcessId", fmt.Sprint(os.Getpid())))
	b.WriteString(elem("rsp:IdleTimeOut", formatSeconds(s.idleTimeout)))
	b.WriteString(elem("rsp:InputStreams", s.inputStreams))
	b.WriteString(elem("rsp:OutputStreams", s.outputStreams))
	b.WriteString(elem("rsp:MaxIdleTimeOut", formatSeconds(h.cfg.MaxIdleTimeout)))
	b.WriteString(elem("rsp:Locale", s.locale))
	b.WriteString(elem("rsp:DataLocale", s.dataLocale))
	b.WriteString(elem("rsp:CompressionMode", "NoCompression"))
	b.WriteString(elem("rsp:ProfileLoaded", "Yes"))
	b.WriteString(elem("rsp:Encoding", "UTF8"))
	b.WriteString(elem("rsp:BufferMode", s.bufferMode))
	b.WriteString(elem("rsp:State", state))
	b.WriteString(elem("rsp:ShellRunTime", formatDHMS(now.Sub(s.created))))
	b.WriteString(elem("rsp:ShellInactivity", formatDHMS(inactive)))
	if usage {
		b.WriteString(elem("rsp:MemoryUsed", "1MB"))
		b.WriteString(elem("rsp:ChildProcesses", fmt.Sprint(s.childProcessesLocked())))
	}
	b.WriteString(`</rsp:Shell>`)
	return b.String()
}

func (s *shell) childProcessesLocked() int {
	n := 0
	for _, c := range s.commands {
		if c.w != nil && !c.w.finished {
			n++
		}
	}
	return n
}

// resourceCreated renders a Create response body.
func (h *Handler) resourceCreated(c *call, s *shell) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	addr := c.scheme + "://" + c.host + "/wsman"
	return `<x:ResourceCreated><a:Address>` + esc(addr) + `</a:Address><a:ReferenceParameters>` +
		elem("w:ResourceURI", s.resourceURI) + `<w:SelectorSet><w:Selector Name="ShellId">` + esc(s.id) +
		`</w:Selector></w:SelectorSet></a:ReferenceParameters></x:ResourceCreated>` + h.shellXMLLocked(s, false)
}

// shellGet answers transfer/Get on a shell (liveness and state).
func (h *Handler) shellGet(c *call) (string, *Fault) {
	s, f := h.lookup(c)
	if f != nil {
		return "", f
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.shellXMLLocked(s, true), nil
}

// sortedShellsLocked returns the caller's shells, oldest first.
func (h *Handler) sortedShellsLocked(user string) []*shell {
	var out []*shell
	for _, s := range h.shells {
		if s.owner == user {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].created.Equal(out[j].created) {
			return out[i].created.Before(out[j].created)
		}
		return out[i].id < out[j].id
	})
	return out
}

func orDefault(s, def string) string {
	if s = strings.TrimSpace(s); s == "" {
		return def
	}
	return s
}
