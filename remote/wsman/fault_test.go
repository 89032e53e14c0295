package wsman

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	msgInvalidSelectors = "The WS-Management service cannot process the request because the request contained invalid selectors for the resource."
	msgTimedOut         = "The WS-Management service cannot complete the operation within the time specified in OperationTimeout."
	msgBadCommandID     = "The Windows Remote Shell received a request to perform an operation on a command identifier that does not exist. Either the command has completed execution or the client specified an invalid command identifier."
)

func TestRecordedFaults(t *testing.T) {
	tests := []struct {
		file string
		msg  int
		want Fault
	}{
		{"test_psrp_is_alive_invalid_selectors.yml", 4, Fault{
			Code: CodeShellNotFound, Value: "Sender", Subcode: "InvalidSelectors", Reason: msgInvalidSelectors,
			Machine: "127.0.0.1", Message: msgInvalidSelectors, Detail: FaultDetailUnexpectedSelectors,
		}},
		{"test_psrp_is_alive_other_wsman_error.yml", 3, Fault{
			Code: CodeInvalidHeader, Value: "Sender", Subcode: "InvalidMessageInformationHeader",
			Reason:  "The WS-Management service cannot process the request. The request contains one or more invalid SOAP headers.",
			Machine: "127.0.0.1", Message: "The WS-Management service cannot process the request. The XML contains an invalid timeout field in the SOAP header: PT-1S.",
		}},
		{"test_psrp_long_running_cmdlet.yml", 4, Fault{
			Code: CodeOperationTimeout, Value: "Receiver", Subcode: "TimedOut", Reason: msgTimedOut, Machine: "127.0.0.1", Message: msgTimedOut,
		}},
		{"test_psrp_receive_failure.yml", 3, Fault{
			Code: CodeShellNotFound, Value: "Sender", Subcode: "InvalidSelectors", Reason: msgInvalidSelectors,
			Machine: "127.0.0.1", Message: msgBadCommandID, Detail: FaultDetailUnexpectedSelectors,
		}},
		{"test_winrs_bad_cmd_id.yml", 2, Fault{
			Code: CodeShellNotFound, Value: "Sender", Subcode: "InvalidSelectors", Reason: msgInvalidSelectors,
			Machine: "192.168.56.15", Message: msgBadCommandID, Detail: FaultDetailUnexpectedSelectors,
		}},
		{"test_winrs_fail_poll_process.yml", 1, Fault{
			Code: CodeInvalidParameter, Value: "Sender", Subcode: "InvalidParameter", Reason: "The parameter is incorrect.",
			Machine: "127.0.0.1", Message: "The parameter is incorrect.", Detail: FaultDetailInvalidValue,
		}},
		{"test_winrs_no_cmd_shell.yml", 1, Fault{
			Code: CodeFileNotFound, Value: "Receiver", Subcode: "InternalError", Reason: "The system cannot find the file specified.",
			Machine: "server2008r2.domain.local", Message: "The system cannot find the file specified.",
		}},
		{"test_winrs_operation_timeout.yml", 3, Fault{
			Code: CodeOperationTimeout, Value: "Receiver", Subcode: "TimedOut", Reason: msgTimedOut, Machine: "192.168.56.11", Message: msgTimedOut,
		}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s#%d", tt.file, tt.msg), func(t *testing.T) {
			body := []byte(loadVector(t, tt.file).Messages[tt.msg].Response)
			got, err := ParseFault(body)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(&tt.want, got); d != "" {
				t.Error(d)
			}
			// ParseResponse returns the same fault as its error.
			_, err = ParseResponse(body)
			var f *Fault
			if !errors.As(err, &f) || f.Code != tt.want.Code {
				t.Errorf("ParseResponse error = %v, want fault %d", err, tt.want.Code)
			}
			if got, want := IsOperationTimeout(err), tt.want.Code == CodeOperationTimeout; got != want {
				t.Errorf("IsOperationTimeout = %v", got)
			}
			if got, want := IsShellNotFound(err), tt.want.Code == CodeShellNotFound; got != want {
				t.Errorf("IsShellNotFound = %v", got)
			}
		})
	}
}

func TestFaultText(t *testing.T) {
	tests := []struct {
		name          string
		f             Fault
		err, friendly string
	}{
		{"shell gone", Fault{Code: CodeShellNotFound, Subcode: "InvalidSelectors", Machine: "srv", Message: "gone"},
			"wsman: fault 2150858843 (0x8033805B) InvalidSelectors from srv: gone",
			"the shell or command no longer exists on the server (closed, timed out, or never created)"},
		{"in use", Fault{Code: CodeShellInUse},
			"wsman: fault 2150859213 (0x803381CD)",
			"the session is in use by another client; disconnect it there first"},
		{"access denied", Fault{Code: CodeAccessDenied, Message: "Access is denied."},
			"wsman: fault 5 (0x00000005): Access is denied.",
			"access denied: the user may not use this endpoint or session"},
		{"subcode only", Fault{Subcode: "AccessDenied", Message: "Access is denied."},
			"wsman: fault AccessDenied: Access is denied.",
			"access denied: the user may not use this endpoint or session"},
		{"unknown code", Fault{Code: 1234, Reason: "why", Message: "why"},
			"wsman: fault 1234 (0x000004D2): why", "why"},
		{"provider error", Fault{Code: CodeFileNotFound, Message: "The system cannot find the file specified."},
			"wsman: fault 2147942402 (0x80070002): The system cannot find the file specified.",
			"the server could not find the file to run: The system cannot find the file specified."},
		{"empty", Fault{}, "wsman: fault", "the server returned a fault"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.f.Error(); got != tt.err {
				t.Errorf("Error() = %q, want %q", got, tt.err)
			}
			if got := tt.f.Friendly(); got != tt.friendly {
				t.Errorf("Friendly() = %q, want %q", got, tt.friendly)
			}
		})
	}
}

func TestFaultShapes(t *testing.T) {
	env := func(detail string) string {
		return `<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope" xmlns:x="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"><e:Body><e:Fault><e:Code><e:Value>e:Receiver</e:Value><e:Subcode><e:Value>q:TimedOut</e:Value></e:Subcode></e:Code><e:Reason><e:Text xml:lang="en-US">reason</e:Text></e:Reason>` + detail + `</e:Fault></e:Body></e:Envelope>`
	}
	tests := []struct {
		name, body string
		want       Fault
	}{
		{"no detail: code 0, message from reason", env(""),
			Fault{Value: "Receiver", Subcode: "TimedOut", Reason: "reason", Message: "reason"}},
		{"nested provider faults, other prefixes", env(`<e:Detail><x:WSManFault Code="5" Machine="m"><x:Message><x:ProviderFault provider="p"><x:WSManFault Code="87"><x:Message><x:ProviderFault>deepest</x:ProviderFault></x:Message></x:WSManFault></x:ProviderFault></x:Message></x:WSManFault></e:Detail>`),
			Fault{Code: 5, Value: "Receiver", Subcode: "TimedOut", Reason: "reason", Machine: "m", Message: "deepest"}},
		{"bad code attribute", env(`<e:Detail><x:WSManFault Code="-1"><x:Message>m</x:Message></x:WSManFault></e:Detail>`),
			Fault{Value: "Receiver", Subcode: "TimedOut", Reason: "reason", Message: "m"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseFault([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(&tt.want, got); d != "" {
				t.Error(d)
			}
		})
	}
	// Without WSManFault a TimedOut subcode still counts as a timeout.
	f, _ := ParseFault([]byte(tests[0].body))
	if !IsOperationTimeout(fmt.Errorf("wrapped: %w", f)) {
		t.Error("IsOperationTimeout(subcode TimedOut) = false")
	}
	if IsOperationTimeout(errors.New("x")) || IsShellNotFound(nil) {
		t.Error("non-fault errors reported as faults")
	}
	if _, err := ParseFault([]byte(receiveEnvelope(""))); err == nil || !strings.Contains(err.Error(), "no SOAP fault") {
		t.Errorf("ParseFault(non-fault) err = %v", err)
	}
}
