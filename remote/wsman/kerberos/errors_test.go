package kerberos

import (
	"errors"
	"fmt"
	"io"
	"testing"
)

func TestErrorFormatAndUnwrap(t *testing.T) {
	err := fmt.Errorf("transport: authenticate: %w", &Error{Kind: KindPreauthFailed, Principal: "alice@R", Err: io.ErrUnexpectedEOF})
	if got, want := err.Error(), "transport: authenticate: kerberos: pre-authentication failed (alice@R): unexpected EOF"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Error("Unwrap does not reach the cause")
	}
	if got := ErrorKind(99).String(); got != "ErrorKind(99)" {
		t.Errorf("unknown kind: %q", got)
	}
}

func TestIsKerberosUnavailable(t *testing.T) {
	for kind, want := range map[ErrorKind]bool{
		KindConfig: true, KindKDCUnreachable: true, KindPrincipalUnknown: true, KindNoCredentials: true,
		KindPreauthFailed: false, KindClockSkew: false, KindMutualAuth: false, KindChannelBinding: false,
		KindIntegrity: false, KindProtocol: false,
	} {
		if got := IsKerberosUnavailable(fmt.Errorf("x: %w", &Error{Kind: kind})); got != want {
			t.Errorf("%v: %v, want %v", kind, got, want)
		}
	}
	if IsKerberosUnavailable(errors.New("plain")) || IsKerberosUnavailable(nil) {
		t.Error("non-kerberos error counted as unavailable")
	}
}
