package endpoint

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf16"

	"github.com/pssession/pssession/remote/wsman"
)

// winrsCommand is a WinRS process (or one-shot engine run) with its
// buffered output (MS-WSMV 3.1.4.14 Command, 3.1.4.16 Receive). Guarded by
// Handler.mu.
type winrsCommand struct {
	stdout, stderr []byte
	outEOF, errEOF bool
	finished       bool // process exited and both streams ended
	exitCode       int
	reported       bool // CommandState Done was delivered
	stdin          chan []byte
	stdinClosed    bool
	cancel         context.CancelFunc
}

func (h *Handler) winrsCreate(c *call) (string, *Fault) {
	b := c.req.Body.Shell
	if b == nil {
		return "", faultSchema("Create on the cmd resource needs an rsp:Shell body")
	}
	s, f := h.newShell(c, kindCmd, newGUID(), b)
	if f != nil {
		return "", f
	}
	s.workdir = strings.TrimSpace(b.WorkingDirectory)
	s.winWorkdir = s.workdir
	if isWindowsPath(s.workdir) {
		// A Windows client's directory (C:\Windows): echoed, not used.
		s.workdir = ""
	}
	if s.workdir != "" {
		if st, err := os.Stat(s.workdir); err != nil || !st.IsDir() {
			s.cancel()
			return "", faultInvalidParameter("WorkingDirectory " + s.workdir + " is not a directory")
		}
	}
	for _, v := range b.Variables {
		if v.Name == "" || strings.ContainsAny(v.Name, "=\x00") {
			s.cancel()
			return "", faultInvalidParameter("environment variable name " + strconv.Quote(v.Name))
		}
		s.env = append(s.env, v.Name+"="+v.Value)
	}
	if s.inputStreams == "" {
		s.inputStreams = "stdin"
	}
	if s.outputStreams == "" {
		s.outputStreams = "stdout stderr"
	}
	if f := h.register(s); f != nil {
		s.cancel()
		return "", f
	}
	return h.resourceCreated(c, s), nil
}

func (h *Handler) winrsDispatch(c *call, s *shell) (string, *Fault) {
	switch c.req.Header.Action {
	case actionDelete:
		h.deleteShell(s)
		return "", nil
	case actionCommand:
		return h.winrsCommandStart(c, s)
	case actionSend:
		return h.winrsSend(c, s)
	case actionReceive:
		return h.winrsReceive(c, s)
	case actionSignal:
		return h.winrsSignal(c, s)
	}
	return "", faultActionNotSupported(c.req.Header.Action)
}

func (h *Handler) winrsCommandStart(c *call, s *shell) (string, *Fault) {
	b := c.req.Body.CommandLine
	if b == nil {
		return "", faultSchema("Command needs an rsp:CommandLine body")
	}
	id := strings.ToUpper(strings.TrimSpace(b.CommandID))
	if id == "" {
		id = newGUID()
	}
	line := strings.TrimSpace(b.Command)
	for _, a := range b.Arguments {
		if a = strings.TrimSpace(a); a != "" {
			line += " " + a
		}
	}
	line = strings.TrimSpace(line)
	if line == "" {
		return "", faultInvalidParameter("the command line is empty")
	}
	ctx, cancel := context.WithCancel(s.ctx)
	wc := &winrsCommand{stdin: make(chan []byte, winrsStdinQueue), cancel: cancel}
	cmd := &command{id: id, line: line, w: wc}
	h.mu.Lock()
	if f := h.checkCommandQuotaLocked(s, id); f != nil {
		h.mu.Unlock()
		cancel()
		return "", f
	}
	s.commands[id] = cmd
	s.order = append(s.order, id)
	h.mu.Unlock()

	skipCmd := false
	for _, o := range c.req.Header.Options {
		if o.Name == "WINRS_SKIP_CMD_SHELL" && isTrue(o.Value) {
			skipCmd = true
		}
	}
	if skipCmd {
		// Without cmd.exe the program is started directly: it must exist
		// (test_winrs_no_cmd_shell.yml).
		exe := strings.TrimSpace(b.Command)
		if _, err := exec.LookPath(exe); err != nil && !(isWindowsPath(exe) && isPowerShellExe(exe)) {
			h.mu.Lock()
			delete(s.commands, id)
			s.order = s.order[:len(s.order)-1]
			h.mu.Unlock()
			cancel()
			return "", &Fault{Receiver: true, Subcode: "w:InternalError", WSManCode: wsman.CodeFileNotFound,
				Message: "The system cannot find the file specified. "}
		}
	}
	if script, ok := powershellScript(line); ok {
		h.wg.Add(1)
		go h.runOneShot(ctx, s, cmd, script)
	} else if err := h.startProcess(ctx, s, cmd, stripCmdC(line)); err != nil {
		h.mu.Lock()
		delete(s.commands, id)
		s.order = s.order[:len(s.order)-1]
		h.mu.Unlock()
		cancel()
		return "", &Fault{Subcode: "w:InternalError", WSManCode: wsman.CodeFileNotFound, Receiver: true,
			Message: "The system cannot start the command: " + err.Error()}
	}
	return `<rsp:CommandResponse>` + elem("rsp:CommandId", id) + `</rsp:CommandResponse>`, nil
}

// startProcess runs line under /bin/sh -c in its own process group.
func (h *Handler) startProcess(ctx context.Context, s *shell, cmd *command, line string) error {
	p := exec.CommandContext(ctx, "/bin/sh", "-c", line)
	p.Dir = s.workdir
	p.Env = append(os.Environ(), s.env...)
	ownProcessGroup(p)
	p.Cancel = func() error {
		if p.Process == nil {
			return nil
		}
		return killGroup(p.Process.Pid)
	}
	p.WaitDelay = 2 * time.Second
	stdin, err := p.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := p.StdoutPipe()
	if err != nil {
		return err
	}
	stderr, err := p.StderrPipe()
	if err != nil {
		return err
	}
	if err := p.Start(); err != nil {
		return err
	}
	wc := cmd.w
	h.wg.Add(4)
	go func() {
		defer h.wg.Done()
		defer stdin.Close()
		for {
			select {
			case data, ok := <-wc.stdin:
				if !ok {
					return
				}
				if _, err := stdin.Write(data); err != nil {
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	readers := make(chan struct{}, 2)
	pump := func(r io.Reader, stderr bool) {
		defer h.wg.Done()
		buf := make([]byte, 32<<10)
		for {
			n, err := r.Read(buf)
			if n > 0 {
				h.winrsAppend(ctx, wc, stderr, buf[:n])
			}
			if err != nil {
				break
			}
		}
		h.mu.Lock()
		if stderr {
			wc.errEOF = true
		} else {
			wc.outEOF = true
		}
		h.notifyLocked()
		h.mu.Unlock()
		readers <- struct{}{}
	}
	go pump(stdout, false)
	go pump(stderr, true)
	go func() {
		defer h.wg.Done()
		<-readers
		<-readers
		err := p.Wait()
		code := 0
		if err != nil {
			code = 1
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
				if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
					code = 128 + int(ws.Signal())
				}
			}
		}
		h.winrsFinish(wc, code)
	}()
	return nil
}

// winrsAppend buffers output, waiting while the unreceived data exceeds
// winrsMaxBuffered.
func (h *Handler) winrsAppend(ctx context.Context, wc *winrsCommand, stderr bool, data []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for {
		buf := &wc.stdout
		if stderr {
			buf = &wc.stderr
		}
		if len(*buf) < winrsMaxBuffered {
			*buf = append(*buf, data...)
			h.notifyLocked()
			return
		}
		ch := h.changedLocked()
		h.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
		}
		h.mu.Lock()
		if ctx.Err() != nil {
			return
		}
	}
}

func (h *Handler) winrsFinish(wc *winrsCommand, code int) {
	h.mu.Lock()
	wc.outEOF, wc.errEOF, wc.finished, wc.exitCode = true, true, true, code
	h.notifyLocked()
	h.mu.Unlock()
}

func (h *Handler) winrsCommand(s *shell, id string) (*command, *Fault) {
	h.mu.Lock()
	defer h.mu.Unlock()
	cmd := s.commands[strings.ToUpper(strings.TrimSpace(id))]
	if cmd == nil || cmd.w == nil {
		return nil, faultInvalidSelectors()
	}
	return cmd, nil
}

func (h *Handler) winrsSend(c *call, s *shell) (string, *Fault) {
	b := c.req.Body.Send
	if b == nil {
		return "", faultSchema("Send needs an rsp:Send body")
	}
	for _, st := range b.Streams {
		if st.Name != "stdin" {
			return "", faultInvalidParameter("stream " + strconv.Quote(st.Name) + " is not an input stream of this shell")
		}
		cmd, f := h.winrsCommand(s, st.CommandID)
		if f != nil {
			return "", f
		}
		data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(st.Data))
		if err != nil {
			return "", faultInvalidParameter("stream data is not base64: " + err.Error())
		}
		wc := cmd.w
		h.mu.Lock()
		closed := wc.stdinClosed
		end := isTrue(st.End)
		if end {
			wc.stdinClosed = true
		}
		h.mu.Unlock()
		if closed {
			return "", faultInvalidParameter("the input stream of command " + cmd.id + " has ended")
		}
		if len(data) > 0 {
			select {
			case wc.stdin <- data:
			case <-c.ctx.Done():
				return "", faultInternal("the client went away")
			case <-s.ctx.Done():
				return "", faultInvalidSelectors()
			}
		}
		if end {
			close(wc.stdin)
		}
	}
	return `<rsp:SendResponse/>`, nil
}

func (h *Handler) winrsSignal(c *call, s *shell) (string, *Fault) {
	b := c.req.Body.Signal
	if b == nil {
		return "", faultSchema("Signal needs an rsp:Signal body")
	}
	cmd, f := h.winrsCommand(s, b.CommandID)
	if f != nil {
		return "", f
	}
	code := strings.TrimSpace(b.Code)
	switch {
	case strings.EqualFold(code, signalTerminate):
		cmd.w.cancel()
		h.mu.Lock()
		delete(s.commands, cmd.id)
		h.notifyLocked()
		h.mu.Unlock()
	case strings.EqualFold(code, signalCtrlC), strings.EqualFold(code, signalCtrlBreak):
		cmd.w.cancel()
	default:
		return "", faultInvalidParameter("signal code " + strconv.Quote(code))
	}
	return `<rsp:SignalResponse/>`, nil
}

func (h *Handler) winrsReceive(c *call, s *shell) (string, *Fault) {
	b := c.req.Body.Receive
	if b == nil {
		return "", faultSchema("Receive needs an rsp:Receive body")
	}
	if strings.TrimSpace(b.DesiredStream.CommandID) == "" {
		// Windows' cmd plugin answers ERROR_INVALID_PARAMETER
		// (test_winrs_fail_poll_process.yml).
		return "", &Fault{Subcode: "w:InvalidParameter", WSManCode: wsman.CodeInvalidParameter,
			Detail: "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/InvalidValue", Message: "The parameter is incorrect. "}
	}
	cmd, f := h.winrsCommand(s, b.DesiredStream.CommandID)
	if f != nil {
		return "", f
	}
	h.begin(s)
	defer h.end(s)
	wc := cmd.w
	timeout, stop := h.clock.After(c.req.operationTimeout(DefaultOperationTimeout))
	defer stop()
	// Room for stream data: the envelope minus headers, base64-expanded.
	room := (c.req.envelopeSize() - 4096) * 3 / 4
	h.mu.Lock()
	for len(wc.stdout) == 0 && len(wc.stderr) == 0 && !wc.finished {
		ch := h.changedLocked()
		h.mu.Unlock()
		select {
		case <-ch:
		case <-timeout:
			return "", faultTimedOut()
		case <-c.ctx.Done():
			return "", faultTimedOut()
		case <-s.ctx.Done():
			return "", faultInvalidSelectors()
		}
		h.mu.Lock()
	}
	defer h.mu.Unlock()
	var out strings.Builder
	out.WriteString(`<rsp:ReceiveResponse>`)
	attr := ` CommandId="` + esc(cmd.id) + `"`
	take := func(buf *[]byte) []byte {
		n := min(len(*buf), room)
		room -= n
		d := (*buf)[:n:n]
		*buf = (*buf)[n:]
		return d
	}
	if d := take(&wc.stdout); len(d) > 0 {
		out.WriteString(`<rsp:Stream Name="stdout"` + attr + `>` + base64.StdEncoding.EncodeToString(d) + `</rsp:Stream>`)
	}
	if d := take(&wc.stderr); len(d) > 0 {
		out.WriteString(`<rsp:Stream Name="stderr"` + attr + `>` + base64.StdEncoding.EncodeToString(d) + `</rsp:Stream>`)
	}
	if wc.finished && len(wc.stdout) == 0 && len(wc.stderr) == 0 {
		out.WriteString(`<rsp:Stream Name="stdout"` + attr + ` End="true"></rsp:Stream>`)
		out.WriteString(`<rsp:Stream Name="stderr"` + attr + ` End="true"></rsp:Stream>`)
		out.WriteString(`<rsp:CommandState` + attr + ` State="` + commandStateDone + `"><rsp:ExitCode>` +
			strconv.Itoa(wc.exitCode) + `</rsp:ExitCode></rsp:CommandState>`)
		wc.reported = true
	} else {
		out.WriteString(`<rsp:CommandState` + attr + ` State="` + commandStateRunning + `"></rsp:CommandState>`)
	}
	out.WriteString(`</rsp:ReceiveResponse>`)
	h.notifyLocked() // a reader may be waiting for room
	return out.String(), nil
}

// stripCmdC removes a leading "cmd /c" or "cmd.exe /c".
func stripCmdC(line string) string {
	f := strings.Fields(line)
	if len(f) >= 2 && (strings.EqualFold(f[0], "cmd") || strings.EqualFold(f[0], "cmd.exe")) && strings.EqualFold(f[1], "/c") {
		rest := strings.TrimSpace(line)
		rest = strings.TrimSpace(rest[len(f[0]):])
		return strings.TrimSpace(rest[len(f[1]):])
	}
	return line
}

// powershellScript recognises "powershell[.exe] [-switches] -EncodedCommand
// <base64 UTF-16LE>" and "powershell[.exe] [-Command] script" and returns
// the script.
func powershellScript(line string) (string, bool) {
	line = stripCmdC(line)
	f := strings.Fields(line)
	if len(f) == 0 {
		return "", false
	}
	if !isPowerShellExe(f[0]) {
		return "", false
	}
	rest := strings.TrimSpace(line[len(f[0]):])
	for rest != "" {
		word, after, _ := strings.Cut(rest, " ")
		after = strings.TrimSpace(after)
		lw := strings.ToLower(word)
		if !strings.HasPrefix(lw, "-") {
			return rest, true
		}
		name := strings.TrimLeft(lw, "-")
		switch {
		case name == "e" || name == "ec" || strings.HasPrefix("encodedcommand", name) && len(name) >= 2 && name != "ex":
			enc, _, _ := strings.Cut(after, " ")
			return decodeUTF16Base64(enc)
		case name == "c" || strings.HasPrefix("command", name) && len(name) >= 2:
			return after, true
		case name == "executionpolicy" || name == "ex" || name == "ep" || name == "inputformat" ||
			name == "outputformat" || name == "windowstyle" || name == "version" || name == "configurationname":
			_, after, _ = strings.Cut(after, " ")
			rest = strings.TrimSpace(after)
		default: // -NoProfile, -NonInteractive, -NoLogo, …
			rest = after
		}
	}
	return "", true
}

// isPowerShellExe reports whether word names powershell or pwsh, bare or
// as a Windows path (C:\Windows\...\powershell.exe).
func isPowerShellExe(word string) bool {
	exe := strings.ToLower(word[strings.LastIndexAny(word, `\/`)+1:])
	return exe == "powershell" || exe == "powershell.exe" || exe == "pwsh" || exe == "pwsh.exe"
}

// isWindowsPath reports whether p is a drive-letter or UNC path.
func isWindowsPath(p string) bool {
	return len(p) >= 2 && p[1] == ':' && (p[0]|0x20 >= 'a' && p[0]|0x20 <= 'z') || strings.HasPrefix(p, `\\`)
}

func decodeUTF16Base64(s string) (string, bool) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b)%2 != 0 {
		return "", false
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
	}
	return string(utf16.Decode(u)), true
}
