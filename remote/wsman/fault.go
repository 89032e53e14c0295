package wsman

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Fault is a SOAP fault returned by the server (MS-WSMV 2.2.4.13;
// shared/PROTOCOL.md §1.6), normally with HTTP 500.
type Fault struct {
	// Code is f:WSManFault@Code (a Win32 error or an ERROR_WSMAN_* value
	// such as CodeOperationTimeout), or 0 when the fault has none.
	Code uint32
	// Value is the SOAP code value without prefix: "Sender" or "Receiver".
	Value string
	// Subcode is the local part of s:Subcode/s:Value, e.g. "TimedOut",
	// "InvalidSelectors", "AccessDenied".
	Subcode string
	// Reason is s:Reason/s:Text.
	Reason string
	// Machine is f:WSManFault@Machine.
	Machine string
	// Message is the innermost f:Message (walking nested f:ProviderFault
	// and f:WSManFault elements), or Reason when there is none.
	Message string
	// Detail is wsman:FaultDetail, a URI such as
	// FaultDetailUnexpectedSelectors.
	Detail string
	// HTTPStatus is the status of the HTTP response that carried the fault.
	HTTPStatus int
}

// Error implements error.
func (f *Fault) Error() string {
	var sb strings.Builder
	sb.WriteString("wsman: fault")
	if f.Code != 0 {
		fmt.Fprintf(&sb, " %d (0x%08X)", f.Code, f.Code)
	}
	if f.Subcode != "" {
		fmt.Fprintf(&sb, " %s", f.Subcode)
	}
	if f.Machine != "" {
		fmt.Fprintf(&sb, " from %s", f.Machine)
	}
	if msg := strings.TrimSpace(f.Message); msg != "" {
		sb.WriteString(": ")
		sb.WriteString(msg)
	}
	return sb.String()
}

// Friendly explains the fault for a user, for the codes pssession meets in
// practice; other faults fall back to the server's message.
func (f *Fault) Friendly() string {
	switch f.Code {
	case CodeOperationTimeout:
		return "the server found no output within the operation timeout (normal while a command runs)"
	case CodeShellNotFound:
		return "the shell or command no longer exists on the server (closed, timed out, or never created)"
	case CodeShellInUse:
		return "the session is in use by another client; disconnect it there first"
	case CodeConnectMismatch:
		return "the session cannot be connected: it belongs to a different client session"
	case CodeCannotConnect:
		return "the session cannot be connected in its current state"
	case CodeAccessDenied:
		return "access denied: the user may not use this endpoint or session"
	case CodeInvalidResourceURI:
		return "the session configuration (configuration name) does not exist on the server"
	case CodeInvalidHeader:
		return "the server rejected a request header value (for example the operation timeout)"
	case CodeSendReceiveTimeout:
		return "the request could not complete in time"
	case CodeIncorrectProtocolVer:
		return "the server does not support this PowerShell remoting protocol version"
	case CodeInvalidParameter:
		return "the server rejected a parameter: " + f.text()
	case CodeFileNotFound:
		return "the server could not find the file to run: " + f.text()
	}
	switch f.Subcode {
	case "AccessDenied":
		return "access denied: the user may not use this endpoint or session"
	case "TimedOut":
		return "the server found no output within the operation timeout (normal while a command runs)"
	case "InvalidSelectors":
		return "the shell or command no longer exists on the server (closed, timed out, or never created)"
	}
	return f.text()
}

func (f *Fault) text() string {
	if m := strings.TrimSpace(f.Message); m != "" {
		return m
	}
	if r := strings.TrimSpace(f.Reason); r != "" {
		return r
	}
	return "the server returned a fault"
}

// IsOperationTimeout reports whether err is the operation-timeout fault a
// long-poll Receive gets when no output arrived in time.
func IsOperationTimeout(err error) bool {
	var f *Fault
	if !errors.As(err, &f) {
		return false
	}
	return f.Code == CodeOperationTimeout || f.Code == 0 && f.Subcode == "TimedOut"
}

// IsShellNotFound reports whether err says the shell or command is unknown
// to the server (deleted, expired, or never created).
func IsShellNotFound(err error) bool {
	var f *Fault
	if !errors.As(err, &f) {
		return false
	}
	return f.Code == CodeShellNotFound || f.Code == 0 && f.Subcode == "InvalidSelectors"
}

// ParseFault parses an envelope whose body is a SOAP fault. It returns an
// error when the body is not XML or holds no fault.
func ParseFault(body []byte) (*Fault, error) {
	root, err := parseTree(body)
	if err != nil {
		return nil, err
	}
	f := faultOf(root)
	if f == nil {
		return nil, errors.New("wsman: no SOAP fault in the envelope")
	}
	return f, nil
}

// faultOf returns the fault in the envelope root, or nil.
func faultOf(root *node) *Fault {
	fn := root.child(NsSOAP, "Body").child(NsSOAP, "Fault")
	if fn == nil {
		return nil
	}
	code := fn.child(NsSOAP, "Code")
	f := &Fault{
		Value:   localQName(code.child(NsSOAP, "Value").text()),
		Subcode: localQName(code.child(NsSOAP, "Subcode").child(NsSOAP, "Value").text()),
		Reason:  fn.child(NsSOAP, "Reason").child(NsSOAP, "Text").text(),
	}
	detail := fn.child(NsSOAP, "Detail")
	f.Detail = detail.child(NsWSMan, "FaultDetail").text()
	if wf := detail.child(NsFault, "WSManFault"); wf != nil {
		f.Machine = wf.attr("Machine")
		if c, err := strconv.ParseUint(strings.TrimSpace(wf.attr("Code")), 10, 32); err == nil {
			f.Code = uint32(c)
		}
		f.Message = innermostMessage(wf)
	}
	if f.Message == "" {
		f.Message = f.Reason
	}
	return f
}

// innermostMessage walks f:WSManFault/f:Message/f:ProviderFault/
// f:WSManFault... and returns the deepest message text. Depth is bounded
// by the parser.
func innermostMessage(wf *node) string {
	msg := ""
	for wf != nil {
		m := wf.child(NsFault, "Message")
		if m == nil {
			break
		}
		if t := m.text(); t != "" {
			msg = t
		}
		pf := m.child(NsFault, "ProviderFault")
		if pf == nil {
			break
		}
		if t := pf.text(); t != "" {
			msg = t
		}
		wf = pf.child(NsFault, "WSManFault")
	}
	return msg
}

// localQName returns the local part of a QName such as "w:TimedOut".
func localQName(q string) string {
	if i := strings.LastIndexByte(q, ':'); i >= 0 {
		return q[i+1:]
	}
	return q
}
