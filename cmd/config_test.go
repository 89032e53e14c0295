package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/pflag"

	"github.com/pssession/pssession/shell"
)

const precedenceConfig = `user file\default
idle-timeout 1h
Host *.corp
  ssl yes
  ca-file ~/corp.pem
  output-buffering drop
  user file\corp
Host web1.corp
  user file\web1
  port 6000
`

// TestConfigPrecedence checks flags > environment > file > defaults, per
// option, for the host the target names.
func TestConfigPrecedence(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(cfg, []byte(precedenceConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	defaults := ConnOptions{}
	defaults.AddFlags(pflag.NewFlagSet("d", pflag.ContinueOnError))
	tests := []struct {
		name   string
		target string
		env    map[string]string
		flags  []string
		want   func(o *ConnOptions)
	}{
		{"defaults block only", "other.example", nil, nil, func(o *ConnOptions) {
			o.User, o.IdleTimeout = `file\default`, time.Hour
		}},
		{"first matching block wins per option", "https://web2.corp:5986/wsman", nil, nil, func(o *ConnOptions) {
			o.User, o.IdleTimeout, o.SSL, o.CAFile, o.OutputBuffering = `file\corp`, time.Hour, true, "/home/u/corp.pem", "drop"
		}},
		{"only the first block that sets a key counts", "web1.corp:5985", nil, nil, func(o *ConnOptions) {
			// *.corp comes first, so its user wins over web1.corp's; port is only in web1.corp.
			o.User, o.IdleTimeout, o.SSL, o.CAFile, o.OutputBuffering, o.Port = `file\corp`, time.Hour, true, "/home/u/corp.pem", "drop", 6000
		}},
		{"environment beats the file", "web2.corp", map[string]string{"PSSESSION_USER": `env\u`, "PSSESSION_SSL": "false", "PSSESSION_PORT": "7000"}, nil, func(o *ConnOptions) {
			o.User, o.IdleTimeout, o.SSL, o.CAFile, o.OutputBuffering, o.Port = `env\u`, time.Hour, false, "/home/u/corp.pem", "drop", 7000
		}},
		{"flags beat the environment", "web2.corp", map[string]string{"PSSESSION_USER": `env\u`, "PSSESSION_AUTH": "ntlm"}, []string{"-u", `flag\u`, "--idle-timeout", "5m", "--output-buffering", "block"}, func(o *ConnOptions) {
			o.User, o.Auth, o.IdleTimeout, o.SSL, o.CAFile, o.OutputBuffering = `flag\u`, "ntlm", 5*time.Minute, true, "/home/u/corp.pem", "block"
		}},
		{"a flag set to its default still wins", "web2.corp", nil, []string{"--ssl=false"}, func(o *ConnOptions) {
			o.User, o.IdleTimeout, o.CAFile, o.OutputBuffering = `file\corp`, time.Hour, "/home/u/corp.pem", "drop"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"PSSESSION_CONFIG": cfg, "HOME": "/home/u"}
			for k, v := range tt.env {
				env[k] = v
			}
			io, _, _, _ := shell.Test()
			f := &Factory{IO: io, Getenv: func(k string) string { return env[k] }}
			var got ConnOptions
			fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
			got.AddFlags(fs)
			if err := fs.Parse(tt.flags); err != nil {
				t.Fatal(err)
			}
			if err := ApplyConfig(f, fs, &got, tt.target); err != nil {
				t.Fatal(err)
			}
			want := defaults
			tt.want(&want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestConfigBadEnvironment(t *testing.T) {
	io, _, _, _ := shell.Test()
	env := map[string]string{"PSSESSION_CONFIG": filepath.Join(t.TempDir(), "none"), "PSSESSION_PORT": "many"}
	f := &Factory{IO: io, Getenv: func(k string) string { return env[k] }}
	var o ConnOptions
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	o.AddFlags(fs)
	err := ApplyConfig(f, fs, &o, "host")
	if err == nil || !strings.Contains(err.Error(), `PSSESSION_PORT="many"`) {
		t.Fatalf("ApplyConfig: %v, want an error naming PSSESSION_PORT", err)
	}
}

func TestHostOf(t *testing.T) {
	for target, want := range map[string]string{
		"server1":                     "server1",
		"server1:5986":                "server1",
		"https://server1.corp/wsman":  "server1.corp",
		"http://[fe80::1]:5985/wsman": "fe80::1",
		"[fe80::1]:5985":              "fe80::1",
		"fe80::1":                     "fe80::1",
		"":                            "",
	} {
		if got := hostOf(target); got != want {
			t.Errorf("hostOf(%q) = %q, want %q", target, got, want)
		}
	}
}
