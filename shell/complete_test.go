package shell

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pssession/pssession/remote/psrp/clixml"
)

// commandCompletion builds a CommandCompletion object shaped like the one
// TabExpansion2 returns (deserialized: properties as <Props>).
func commandCompletion(idx, length int32, texts ...string) *clixml.Object {
	var items []clixml.Value
	for _, s := range texts {
		items = append(items, &clixml.Object{
			TypeNames: []string{"System.Management.Automation.CompletionResult", "System.Object"},
			Props: []clixml.Property{
				{Name: "CompletionText", Value: s},
				{Name: "ListItemText", Value: s},
				{Name: "ResultType", Value: "Command"},
				{Name: "ToolTip", Value: s},
			},
		})
	}
	return &clixml.Object{
		TypeNames: []string{"System.Management.Automation.CommandCompletion", "System.Object"},
		Props: []clixml.Property{
			{Name: "CurrentMatchIndex", Value: int32(-1)},
			{Name: "ReplacementIndex", Value: idx},
			{Name: "ReplacementLength", Value: length},
			{Name: "CompletionMatches", Value: &clixml.Object{
				TypeNames: []string{"System.Collections.ObjectModel.Collection`1[[System.Management.Automation.CompletionResult]]", "System.Object"},
				Content:   clixml.ContentList,
				Items:     items,
			}},
		},
	}
}

func TestParseCompletion(t *testing.T) {
	tests := []struct {
		name    string
		in      clixml.Value
		want    Completion
		wantErr bool
	}{
		{"matches", commandCompletion(0, 6, "Get-ChildItem", "Get-Command"), Completion{0, 6, []string{"Get-ChildItem", "Get-Command"}}, false},
		{"no matches", commandCompletion(3, 0), Completion{ReplacementIndex: 3}, false},
		{"int64 indexes", &clixml.Object{Props: []clixml.Property{{Name: "ReplacementIndex", Value: int64(2)}, {Name: "ReplacementLength", Value: int64(1)}}}, Completion{2, 1, nil}, false},
		{"not an object", "Get-Date", Completion{}, true},
		{"no replacement index", &clixml.Object{}, Completion{}, true},
		{"negative index", commandCompletion(-1, 0), Completion{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseCompletion(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want error %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestCompletionCandidates(t *testing.T) {
	tests := []struct {
		name    string
		comp    Completion
		line    string
		pos     int
		want    []string
		wantLen int
	}{
		{"command name", Completion{0, 6, []string{"Get-ChildItem", "Get-Command"}}, "Get-Ch", 6, []string{"ildItem"}, 6},
		{"case-insensitive prefix", Completion{0, 6, []string{"Get-ChildItem"}}, "get-ch", 6, []string{"ildItem"}, 6},
		{"parameter after command", Completion{14, 2, []string{"-Force", "-Filter"}}, "Get-ChildItem -F", 16, []string{"orce", "ilter"}, 2},
		{"nothing typed yet", Completion{4, 0, []string{"$true"}}, "$a = ", 4, []string{"$true"}, 0},
		{"non-prefix replacement left out", Completion{0, 4, []string{".\\foo"}}, "./fo", 4, nil, 4},
		{"index past cursor", Completion{9, 0, []string{"x"}}, "abc", 3, nil, 0},
		{"cursor past line", Completion{0, 0, []string{"x"}}, "abc", 7, nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, n := tc.comp.Candidates([]rune(tc.line), tc.pos)
			var gs []string
			for _, g := range got {
				gs = append(gs, string(g))
			}
			if diff := cmp.Diff(tc.want, gs); diff != "" {
				t.Errorf("candidates (-want +got):\n%s", diff)
			}
			if n != tc.wantLen {
				t.Errorf("length %d, want %d", n, tc.wantLen)
			}
		})
	}
}

// The scripted endpoint has no
// TabExpansion2, so this is how "quietly absent" is checked end to end.
func TestCompleterQuietWithoutTabExpansion2(t *testing.T) {
	sess := openLoopback(t, nil)
	c := &Completer{Session: sess}
	got, n := c.Do([]rune("Get-Ch"), 6)
	if got != nil || n != 0 {
		t.Errorf("Do = %q, %d; want nothing", got, n)
	}
	if got, n := (&Completer{}).Do([]rune("x"), 1); got != nil || n != 0 {
		t.Errorf("Do without a session = %q, %d; want nothing", got, n)
	}
}

func TestCompleterOnChangeFixesCase(t *testing.T) {
	tests := []struct {
		name   string
		single *singleMatch
		line   string
		pos    int
		key    rune
		want   string
		wantOK bool
	}{
		{"typed part takes the match's case", &singleMatch{0, []rune("Get-ChildItem")}, "get-chIldItem -Force", 13, '\t', "Get-ChildItem -Force", true},
		{"after other text", &singleMatch{4, []rune("Write-Host")}, "1 | write-Host", 14, '\t', "1 | Write-Host", true},
		{"not after Tab", &singleMatch{0, []rune("Get-Date")}, "get-date", 8, 'x', "", false},
		{"no single match", nil, "get-date", 8, '\t', "", false},
		{"line changed meanwhile", &singleMatch{0, []rune("Get-Date")}, "get-dat", 7, '\t', "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &Completer{single: tc.single}
			got, pos, ok := c.OnChange([]rune(tc.line), tc.pos, tc.key)
			if ok != tc.wantOK {
				t.Fatalf("ok = %v, want %v", ok, tc.wantOK)
			}
			if !ok {
				return
			}
			if diff := cmp.Diff(tc.want, string(got)); diff != "" {
				t.Errorf("line (-want +got):\n%s", diff)
			}
			if pos != tc.pos {
				t.Errorf("pos %d, want %d", pos, tc.pos)
			}
			if c.single != nil {
				t.Errorf("the match was not forgotten")
			}
		})
	}
}
