package shell

import "testing"

func TestIncomplete(t *testing.T) {
	tests := []struct {
		name   string
		script string
		want   bool
	}{
		{"empty", "", false},
		{"simple command", "Get-Date", false},
		{"open brace", "if ($true) {", true},
		{"closed brace", "if ($true) { 1 }", false},
		{"multi-line block closed", "if ($true) {\n  'a'\n}", false},
		{"nested braces open", "foreach ($x in 1..3) { if ($x) {\n }", true},
		{"open paren", "Get-Item (Join-Path a", true},
		{"open bracket", "$a = @(1, 2", true},
		{"index bracket open", "$a[0", true},
		{"unmatched closer is complete", "}", false},
		{"single quote open", "'abc", true},
		{"single quote closed", "'abc'", false},
		{"doubled single quote stays open", "'it''s", true},
		{"doubled single quote closed", "'it''s'", false},
		{"double quote open", `"abc`, true},
		{"double quote closed", `"abc"`, false},
		{"backtick-escaped quote in double quotes", "\"a`\"b", true},
		{"backtick-escaped quote closed", "\"a`\"b\"", false},
		{"doubled double quote", `"a""b"`, false},
		{"brace inside string ignored", `"{"`, false},
		{"brace inside single quotes ignored", `'{'`, false},
		{"subexpression in string open", `"$(Get-Date"`, true},
		{"subexpression in string closed", `"$(Get-Date)"`, false},
		{"string inside subexpression", `"$("x)")"`, false},
		{"here-string single open", "@'\nabc", true},
		{"here-string single closed", "@'\nabc\n'@", false},
		{"here-string double open", "$x = @\"\nline {\n", true},
		{"here-string double closed", "$x = @\"\nline {\n\"@", false},
		{"here-string opener alone", "@'", true},
		{"here-string terminator must start line", "@'\nabc '@", true},
		{"at-quote not here-string when text follows", "@'abc'", false},
		{"trailing pipe", "Get-Process |", true},
		{"trailing pipe with blanks", "Get-Process |  ", true},
		{"trailing pipe then comment", "Get-Process | # next", true},
		{"pipe then command", "Get-Process | Select -First 1", false},
		{"pipe continued next line", "Get-Process |\nSelect -First 1", false},
		{"trailing chain and", "a &&", true},
		{"trailing chain or", "a ||", true},
		{"trailing backtick", "Get-ChildItem `", true},
		{"backtick continuation then text", "Get-ChildItem `\n-Force", false},
		{"backtick continuation then nothing", "Get-ChildItem `\n", true},
		{"escaped character in code", "Write-Output `{", false},
		{"line comment hides brace", "# {", false},
		{"comment after code hides quote", "Get-Date # don't", false},
		{"hash inside word is not a comment", "a#{", true},
		{"block comment open", "<# note", true},
		{"block comment closed", "<# { ' #> Get-Date", false},
		{"block comment multi-line closed", "<#\n{\n#>", false},
		{"pipe inside string", "'a |'", false},
		{"semicolon ends pipe", "a |;", false},
		{"function definition open", "function f {\n param($a)\n", true},
		{"hashtable literal open", "@{ a = 1;", true},
		{"hashtable literal closed", "@{ a = 1 }", false},
		{"crlf continuation", "a `\r\nb", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Incomplete(tc.script); got != tc.want {
				t.Errorf("Incomplete(%q) = %v, want %v", tc.script, got, tc.want)
			}
		})
	}
}

func FuzzIncomplete(f *testing.F) {
	for _, s := range []string{"if (1) {", "@'\nx\n'@", "\"$(\"a\")\"", "<# #>", "a `\n|"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		Incomplete(s) // must not panic or loop
	})
}
