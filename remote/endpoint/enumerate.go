package endpoint

import (
	"strconv"
	"strings"
)

// enumeration is a pending WS-Enumeration context (MS-WSMV 3.1.4.7/3.1.4.8).
type enumeration struct {
	owner string
	items []string
	seq   uint64
}

const selectorFilterDialect = "http://schemas.dmtf.org/wbem/wsman/1/wsman/SelectorFilter"

// enumerateShells lists the caller's shells (Get-PSSession -ComputerName).
func (h *Handler) enumerateShells(c *call) (string, *Fault) {
	h.mu.Lock()
	var items []string
	for _, s := range h.sortedShellsLocked(c.user) {
		items = append(items, h.shellXMLLocked(s, true))
	}
	h.mu.Unlock()
	return h.enumerateResponse(c, items)
}

// enumerateCommands lists a shell's commands (resource windows/shell/Command
// with a SelectorFilter on ShellId).
func (h *Handler) enumerateCommands(c *call) (string, *Fault) {
	b := c.req.Body.Enumerate
	if b == nil {
		return "", faultSchema("Enumerate needs a wsen:Enumerate body")
	}
	shellID := ""
	if b.Filter != nil {
		if d := strings.TrimSpace(b.Filter.Dialect); d != "" && d != selectorFilterDialect {
			return "", &Fault{Subcode: "w:FilterDialectRequestedUnavailable", WSManCode: 2150858781,
				Message: "The requested filter dialect is not supported: " + d}
		}
		for _, s := range b.Filter.Selectors {
			if strings.EqualFold(s.Name, "ShellId") {
				shellID = strings.ToUpper(strings.TrimSpace(s.Value))
			}
		}
	}
	h.mu.Lock()
	var items []string
	for _, s := range h.sortedShellsLocked(c.user) {
		if shellID != "" && s.id != shellID {
			continue
		}
		for _, id := range s.order {
			cmd := s.commands[id]
			if cmd == nil {
				continue
			}
			state := "Running"
			if cmd.doneLocked() {
				state = "Done"
			}
			items = append(items, `<rsp:Command xmlns:rsp="`+nsShell+`">`+elem("rsp:CommandId", cmd.id)+
				elem("rsp:CommandLine", cmd.line)+elem("rsp:CommandState", state)+`</rsp:Command>`)
		}
	}
	h.mu.Unlock()
	return h.enumerateResponse(c, items)
}

// doneLocked reports whether the command finished.
func (c *command) doneLocked() bool {
	if c.w != nil {
		return c.w.finished
	}
	return c.p != nil && c.p.finished
}

// enumerateResponse answers optimized enumerations with the items inline
// (wsman:Items) and others with a context for Pull.
func (h *Handler) enumerateResponse(c *call, items []string) (string, *Fault) {
	b := c.req.Body.Enumerate
	if b == nil {
		return "", faultSchema("Enumerate needs a wsen:Enumerate body")
	}
	max := maxElements(b.MaxElements)
	var out strings.Builder
	out.WriteString(`<n:EnumerateResponse>`)
	if b.Optimize != nil {
		first := items[:min(max, len(items))]
		rest := items[len(first):]
		ctx := ""
		if len(rest) > 0 {
			ctx = h.saveEnumeration(c.user, rest)
		}
		out.WriteString(elem("n:EnumerationContext", ctx))
		if len(first) > 0 {
			out.WriteString(`<w:Items>` + strings.Join(first, "") + `</w:Items>`)
		}
		if len(rest) == 0 {
			out.WriteString(`<w:EndOfSequence/>`)
		}
	} else {
		out.WriteString(elem("n:EnumerationContext", h.saveEnumeration(c.user, items)))
	}
	out.WriteString(`</n:EnumerateResponse>`)
	return out.String(), nil
}

func maxElements(s string) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n <= 0 {
		return 32000
	}
	return min(n, 32000)
}

func (h *Handler) saveEnumeration(owner string, items []string) string {
	id := "uuid:" + newGUID()
	h.mu.Lock()
	defer h.mu.Unlock()
	var seq uint64
	for _, e := range h.enums {
		seq = max(seq, e.seq)
	}
	if len(h.enums) >= maxEnumerations {
		oldest := ""
		for k, e := range h.enums {
			if oldest == "" || e.seq < h.enums[oldest].seq {
				oldest = k
			}
		}
		delete(h.enums, oldest)
	}
	h.enums[id] = &enumeration{owner: owner, items: items, seq: seq + 1}
	return id
}

// pull returns the next items of an enumeration context (wsen:Items).
func (h *Handler) pull(c *call) (string, *Fault) {
	b := c.req.Body.Pull
	if b == nil {
		return "", faultSchema("Pull needs a wsen:Pull body")
	}
	id := strings.TrimSpace(b.Context)
	h.mu.Lock()
	defer h.mu.Unlock()
	e := h.enums[id]
	if e == nil || e.owner != c.user {
		return "", &Fault{Subcode: "n:InvalidEnumerationContext", WSManCode: CodeInvalidContext,
			Message: "The enumeration context supplied in the message is not valid: " + id}
	}
	max := maxElements(b.MaxElements)
	first := e.items[:min(max, len(e.items))]
	e.items = e.items[len(first):]
	var out strings.Builder
	out.WriteString(`<n:PullResponse>`)
	if len(e.items) > 0 {
		out.WriteString(elem("n:EnumerationContext", id))
	} else {
		delete(h.enums, id)
	}
	out.WriteString(`<n:Items>` + strings.Join(first, "") + `</n:Items>`)
	if len(e.items) == 0 {
		out.WriteString(`<n:EndOfSequence/>`)
	}
	out.WriteString(`</n:PullResponse>`)
	return out.String(), nil
}
