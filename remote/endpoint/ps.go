package endpoint

// psShell is the PowerShell side of a shell: a runspace pool.
type psShell struct{}

func (p *psShell) close() {}

// psCommand is one pipeline of a PowerShell shell.
type psCommand struct {
	finished bool
}

// psCreate opens a runspace pool (MS-PSRP 3.1.4.1 + 3.1.5.3.1).
func (h *Handler) psCreate(c *call) (string, *Fault) {
	return "", &Fault{Receiver: true, Subcode: "w:InternalError", WSManCode: CodeInternalError,
		Message: "PowerShell shells are not available in this build of the endpoint"}
}

func (h *Handler) psDispatch(c *call, s *shell) (string, *Fault) {
	return "", faultActionNotSupported(c.req.Header.Action)
}
