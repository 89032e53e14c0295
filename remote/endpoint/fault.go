package endpoint

import (
	"fmt"
	"strconv"

	"github.com/pssession/pssession/remote/wsman"
)

// WSManFault codes sent by this endpoint (MS-WSMV 2.2.4.43 WSManFault, the
// values of the Windows ERROR_WSMAN_* constants; 5 is ERROR_ACCESS_DENIED).
const (
	CodeAccessDenied       = wsman.CodeAccessDenied
	CodeInternalError      = 1359 // ERROR_INTERNAL_ERROR
	CodeInvalidHeader      = wsman.CodeInvalidHeader
	CodeActionNotSupported = 2150858771
	CodeEnvelopeTooLarge   = 2150858790
	CodeTimedOut           = wsman.CodeOperationTimeout
	CodeInvalidOptions     = 2150858809
	CodeInvalidParameter   = 2150858810
	CodeInvalidResourceURI = wsman.CodeInvalidResourceURI
	CodeSchemaValidation   = 2150858817
	CodeInvalidSelectors   = wsman.CodeShellNotFound
	CodeInvalidContext     = 2150858796 // ERROR_WSMAN_INVALID_ENUMERATION_CONTEXT
	CodeInUseCannotConnect = wsman.CodeShellInUse
	CodeQuotaMaxShells     = 2150859173
	CodeQuotaMaxCommands   = 2150859241
)

// Fault is a WS-Man SOAP fault (MS-WSMV 2.2.4.43) as this endpoint sends it.
// Subcode carries its prefix as declared in the response envelope (w:, a:).
type Fault struct {
	Receiver  bool   // s:Receiver rather than s:Sender
	Subcode   string // e.g. "w:InvalidSelectors"
	Detail    string // optional wsman:FaultDetail URI
	WSManCode uint32
	Message   string
	// Status is the HTTP status; 0 means 500.
	Status int
}

func (f *Fault) Error() string {
	return fmt.Sprintf("endpoint: fault %s (%d): %s", f.Subcode, f.WSManCode, f.Message)
}

// body renders the s:Fault element.
func (f *Fault) body(machine string) string {
	code := "s:Sender"
	if f.Receiver {
		code = "s:Receiver"
	}
	detail := ""
	if f.Detail != "" {
		detail = "<w:FaultDetail>" + esc(f.Detail) + "</w:FaultDetail>"
	}
	return `<s:Fault><s:Code><s:Value>` + code + `</s:Value><s:Subcode><s:Value>` + esc(f.Subcode) +
		`</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">` + esc(f.Message) +
		`</s:Text></s:Reason><s:Detail>` + detail + `<f:WSManFault xmlns:f="` + nsFault + `" Code="` +
		strconv.FormatUint(uint64(f.WSManCode), 10) + `" Machine="` + esc(machine) + `"><f:Message>` +
		esc(f.Message) + `</f:Message></f:WSManFault></s:Detail></s:Fault>`
}

func faultSchema(msg string) *Fault {
	return &Fault{Subcode: "w:SchemaValidationError", WSManCode: CodeSchemaValidation,
		Message: "The SOAP XML in the message does not match the corresponding XML schema definition: " + msg}
}

func faultHeader(msg string) *Fault {
	return &Fault{Subcode: "a:InvalidMessageInformationHeader", WSManCode: CodeInvalidHeader,
		Message: "The WS-Management service cannot process the request. The request contains one or more invalid SOAP headers: " + msg}
}

func faultInvalidSelectors() *Fault {
	return &Fault{Subcode: "w:InvalidSelectors", WSManCode: CodeInvalidSelectors,
		Detail:  "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/UnexpectedSelectors",
		Message: "The WS-Management service cannot process the request because the request contained invalid selectors for the resource. "}
}

func faultTimedOut() *Fault {
	return &Fault{Receiver: true, Subcode: "w:TimedOut", WSManCode: CodeTimedOut,
		Message: "The WS-Management service cannot complete the operation within the time specified in OperationTimeout.  "}
}

func faultAccessDenied() *Fault {
	return &Fault{Subcode: "w:AccessDenied", WSManCode: CodeAccessDenied, Message: "Access is denied. "}
}

func faultActionNotSupported(action string) *Fault {
	return &Fault{Subcode: "a:ActionNotSupported", WSManCode: CodeActionNotSupported,
		Message: "The WS-Management service does not support the specified action for this resource: " + action}
}

func faultInvalidOptions(msg string) *Fault {
	return &Fault{Subcode: "w:InvalidOptions", WSManCode: CodeInvalidOptions,
		Detail:  "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/NotSupported",
		Message: "The WS-Management service cannot process the request because one or more options are not valid: " + msg}
}

func faultResourceURI(uri string) *Fault {
	return &Fault{Subcode: "w:InvalidResourceURI", WSManCode: CodeInvalidResourceURI,
		Message: "The WS-Management service cannot process the request. The resource URI is not served here: " + uri}
}

func faultInvalidParameter(msg string) *Fault {
	return &Fault{Subcode: "w:InvalidParameter", WSManCode: CodeInvalidParameter,
		Message: "The WS-Management service cannot process the request because a parameter is not valid: " + msg}
}

func faultInternal(msg string) *Fault {
	return &Fault{Receiver: true, Subcode: "w:InternalError", WSManCode: CodeInternalError,
		Message: "The WS-Management service cannot process the request because of an internal error: " + msg}
}

func faultTooLarge(limit int) *Fault {
	return &Fault{Subcode: "w:EncodingLimit", WSManCode: CodeEnvelopeTooLarge,
		Detail:  "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/MaxEnvelopeSize",
		Message: fmt.Sprintf("The WS-Management service cannot process the request because the envelope is larger than %d bytes.", limit)}
}

func faultInUse(msg string) *Fault {
	return &Fault{Subcode: "w:InvalidParameter", WSManCode: CodeInUseCannotConnect, Message: msg}
}
