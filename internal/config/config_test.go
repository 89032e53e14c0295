package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const sample = `# pssession config
user CORP\alice
auth = negotiate
operation-timeout 30s

Host web?.corp.example.com *.lab   # two patterns
  ssl yes
  port 5986
  ca-file "/etc/pki/corp ca.pem"

Host *.lab !db.lab
  user LAB\admin
  port 5985
  idle-timeout 2h

Host *
  output-buffering drop
`

func TestResolve(t *testing.T) {
	f, err := Parse("sample", strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		host string
		want map[string]Setting
	}{
		{"first block wins per option", "web1.corp.example.com", map[string]Setting{
			"ssl":               {Value: "true", Line: 7, Host: "web?.corp.example.com *.lab"},
			"port":              {Value: "5986", Line: 8, Host: "web?.corp.example.com *.lab"},
			"ca-file":           {Value: "/etc/pki/corp ca.pem", Line: 9, Host: "web?.corp.example.com *.lab"},
			"output-buffering":  {Value: "drop", Line: 17, Host: "*"},
			"user":              {Value: `CORP\alice`, Line: 2},
			"auth":              {Value: "negotiate", Line: 3},
			"operation-timeout": {Value: "30s", Line: 4},
		}},
		{"second pattern and later block", "x.LAB", map[string]Setting{
			"ssl":               {Value: "true", Line: 7, Host: "web?.corp.example.com *.lab"},
			"port":              {Value: "5986", Line: 8, Host: "web?.corp.example.com *.lab"},
			"ca-file":           {Value: "/etc/pki/corp ca.pem", Line: 9, Host: "web?.corp.example.com *.lab"},
			"user":              {Value: `LAB\admin`, Line: 12, Host: "*.lab !db.lab"},
			"idle-timeout":      {Value: "2h0m0s", Line: 14, Host: "*.lab !db.lab"},
			"output-buffering":  {Value: "drop", Line: 17, Host: "*"},
			"auth":              {Value: "negotiate", Line: 3},
			"operation-timeout": {Value: "30s", Line: 4},
		}},
		{"negated pattern excludes", "db.lab", map[string]Setting{
			"ssl":               {Value: "true", Line: 7, Host: "web?.corp.example.com *.lab"},
			"port":              {Value: "5986", Line: 8, Host: "web?.corp.example.com *.lab"},
			"ca-file":           {Value: "/etc/pki/corp ca.pem", Line: 9, Host: "web?.corp.example.com *.lab"},
			"output-buffering":  {Value: "drop", Line: 17, Host: "*"},
			"user":              {Value: `CORP\alice`, Line: 2},
			"auth":              {Value: "negotiate", Line: 3},
			"operation-timeout": {Value: "30s", Line: 4},
		}},
		{"only defaults and catch-all", "web10.corp.example.com", map[string]Setting{
			"output-buffering":  {Value: "drop", Line: 17, Host: "*"},
			"user":              {Value: `CORP\alice`, Line: 2},
			"auth":              {Value: "negotiate", Line: 3},
			"operation-timeout": {Value: "30s", Line: 4},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, f.Resolve(tt.host)); diff != "" {
				t.Errorf("Resolve(%q) (-want +got):\n%s", tt.host, diff)
			}
		})
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		name, pattern, host string
		want                bool
	}{
		{"literal", "server1", "server1", true},
		{"literal differs", "server1", "server2", false},
		{"case-insensitive", "Server1.CORP", "server1.corp", true},
		{"star suffix", "*.corp", "a.b.corp", true},
		{"star needs the dot", "*.corp", "corp", false},
		{"star matches empty", "web*", "web", true},
		{"question one char", "web?", "web1", true},
		{"question not zero chars", "web?", "web", false},
		{"question not two chars", "web?", "web12", false},
		{"star in the middle backtracks", "a*b*c", "axxbyybzc", true},
		{"star in the middle fails", "a*b*c", "axxbyy", false},
		{"lone star", "*", "anything.example", true},
		{"ip address", "10.0.0.*", "10.0.0.7", true},
		{"ip prefix only", "10.0.0.*", "10.0.1.7", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Match(tt.pattern, tt.host); got != tt.want {
				t.Errorf("Match(%q, %q) = %v, want %v", tt.pattern, tt.host, got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, text string
		line       int
		msg        string
	}{
		{"unknown key", "user a\nfrobnicate yes\n", 2, `unknown option "frobnicate"`},
		{"bad port", "Host x\n  port 70000\n", 2, `port "70000"`},
		{"bad bool", "\n\nssl maybe\n", 3, `ssl "maybe": want yes or no`},
		{"bad auth", "auth digest\n", 1, `auth "digest"`},
		{"bad duration", "idle-timeout soon\n", 1, `idle-timeout "soon"`},
		{"bad buffering", "output-buffering keep\n", 1, `output-buffering "keep"`},
		{"host without pattern", "# c\nHost\n", 2, "Host needs at least one pattern"},
		{"key without value", "user\n", 1, `"user" has no value`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("cfg", strings.NewReader(tt.text))
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse: %v, want a *SyntaxError", err)
			}
			if se.Line != tt.line || se.Path != "cfg" || !strings.Contains(se.Msg, tt.msg) {
				t.Errorf("got %v, want cfg:%d: …%s…", err, tt.line, tt.msg)
			}
			if !strings.HasPrefix(err.Error(), "config: cfg:") {
				t.Errorf("error %q lacks the config: path:line prefix", err)
			}
		})
	}
}

func TestParseNormalises(t *testing.T) {
	f, err := Parse("cfg", strings.NewReader("SSL No\nAuth NTLM\nallow-unencrypted=on\nidle-timeout 90m # trailing\nuser a#b\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{Key: "ssl", Value: "false", Line: 1},
		{Key: "auth", Value: "ntlm", Line: 2},
		{Key: "allow-unencrypted", Value: "true", Line: 3},
		{Key: "idle-timeout", Value: "1h30m0s", Line: 4},
		{Key: "user", Value: "a#b", Line: 5},
	}
	if diff := cmp.Diff(want, f.Defaults); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
}

func TestParseSizeLimit(t *testing.T) {
	big := strings.Repeat("# filler\n", MaxFileSize/9+1)
	if _, err := Parse("big", strings.NewReader(big)); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("Parse of %d bytes: %v, want a size error", len(big), err)
	}
}

func TestHosts(t *testing.T) {
	f, err := Parse("cfg", strings.NewReader("Host web1 web2 *.lab\nssl yes\nHost db !web1 web1\nport 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"web1", "web2", "db"}, f.Hosts()); diff != "" {
		t.Errorf("Hosts (-want +got):\n%s", diff)
	}
}

func TestLoadMissingAndDefaultPath(t *testing.T) {
	dir := t.TempDir()
	f, err := Load(filepath.Join(dir, "absent"))
	if err != nil || len(f.Blocks)+len(f.Defaults) != 0 {
		t.Fatalf("Load(missing) = %+v, %v; want an empty file", f, err)
	}
	p := filepath.Join(dir, "cfg")
	if err := os.WriteFile(p, []byte("Host a\nport 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if f, err = Load(p); err != nil || len(f.Blocks) != 1 {
		t.Fatalf("Load = %+v, %v", f, err)
	}
	env := map[string]string{"PSSESSION_CONFIG": "/x/cfg", "XDG_CONFIG_HOME": "/xdg"}
	if got, _ := DefaultPath(func(k string) string { return env[k] }); got != "/x/cfg" {
		t.Errorf("DefaultPath with PSSESSION_CONFIG = %q", got)
	}
	delete(env, "PSSESSION_CONFIG")
	if got, _ := DefaultPath(func(k string) string { return env[k] }); got != filepath.Join("/xdg", "pssession", "config") {
		t.Errorf("DefaultPath with XDG_CONFIG_HOME = %q", got)
	}
}
