package shell

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pssession/pssession/remote/psrp/clixml"
)

func TestJSONValue(t *testing.T) {
	svc := &clixml.Object{
		TypeNames: []string{"System.ServiceProcess.ServiceController", "System.Object"},
		ToString:  "System.ServiceProcess.ServiceController", HasToString: true,
		Props: []clixml.Property{
			{Name: "Name", Value: "WinRM"},
			{Name: "Status", Value: &clixml.Object{
				TypeNames: []string{"System.ServiceProcess.ServiceControllerStatus", "System.Enum"},
				ToString:  "Running", HasToString: true,
				Content: clixml.ContentPrimitive, Value: int32(4),
			}},
		},
		Members: []clixml.Property{{Name: "PSComputerName", Value: "web01"}},
	}
	list := &clixml.Object{Content: clixml.ContentList, Items: []clixml.Value{int32(1), "two", nil}}
	dict := &clixml.Object{Content: clixml.ContentDict, Entries: []clixml.DictEntry{{Key: "a", Value: true}, {Key: int32(2), Value: 1.5}}}
	self := &clixml.Object{ToString: "loop", HasToString: true}
	self.Members = []clixml.Property{{Name: "Self", Value: self}}

	tests := []struct {
		name string
		in   clixml.Value
		want any
	}{
		{"string", "x", "x"},
		{"char", clixml.Char('A'), "A"},
		{"bytes", []byte{1, 2, 3}, "AQID"},
		{"nan", math.NaN(), "NaN"},
		{"secure string hidden", clixml.SecureString("c2VjcmV0"), "System.Security.SecureString"},
		{"object", svc, map[string]any{
			"PSTypeNames":    []string{"System.ServiceProcess.ServiceController", "System.Object"},
			"Name":           "WinRM",
			"Status":         "Running",
			"PSComputerName": "web01",
		}},
		{"list", list, []any{int32(1), "two", nil}},
		{"dict", dict, map[string]any{"a": true, "2": 1.5}},
		{"cycle cut", self, map[string]any{"Self": "loop"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, JSONValue(tc.in)); diff != "" {
				t.Fatalf("(-want +got)\n%s", diff)
			}
		})
	}
}
