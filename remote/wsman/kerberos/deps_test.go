package kerberos

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps the GSS layer free of HTTP: carrying tokens is the
// transport's job. net itself comes in through gokrb5's KDC client.
func TestDependencies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		switch {
		case p == "net/http", strings.HasPrefix(p, "net/http/"), p == "os/exec",
			strings.HasPrefix(p, "github.com/pssession/pssession/") && p != "github.com/pssession/pssession/remote/wsman/kerberos":
			t.Errorf("remote/wsman/kerberos depends on %s", p)
		}
	}
}
