package cmd

import (
	"strings"
	"testing"

	"github.com/pssession/pssession/shell"
)

func TestEndpointURL(t *testing.T) {
	tests := []struct {
		name   string
		target string
		opts   ConnOptions
		want   string
		err    bool
	}{
		{name: "computer name", target: "web01", want: "http://web01:5985/wsman"},
		{name: "ssl", target: "web01", opts: ConnOptions{SSL: true}, want: "https://web01:5986/wsman"},
		{name: "host and port", target: "web01:8080", want: "http://web01:8080/wsman"},
		{name: "port flag", target: "web01", opts: ConnOptions{Port: 1234}, want: "http://web01:1234/wsman"},
		{name: "5986 implies https", target: "web01:5986", want: "https://web01:5986/wsman"},
		{name: "uri target", target: "https://h:5986/wsman", want: "https://h:5986/wsman"},
		{name: "uri without path", target: "http://h:80", want: "http://h:80/wsman"},
		{name: "uri flag wins", target: "ignored", opts: ConnOptions{URI: "http://u:1/wsman"}, want: "http://u:1/wsman"},
		{name: "ipv6 with port", target: "[::1]:5985", want: "http://[::1]:5985/wsman"},
		{name: "bare ipv6", target: "::1", want: "http://[::1]:5985/wsman"},
		{name: "application name", target: "h", opts: ConnOptions{ApplicationName: "custom"}, want: "http://h:5985/custom"},
		{name: "empty", target: "", err: true},
		{name: "bad scheme", target: "ftp://h/", err: true},
		{name: "bad port", target: "h:99999", err: true},
		{name: "path in name", target: "h/x", err: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.opts.ApplicationName == "" {
				tc.opts.ApplicationName = "wsman"
			}
			u, err := tc.opts.EndpointURL(tc.target)
			if tc.err {
				if err == nil {
					t.Fatalf("want error, got %v", u)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if u.String() != tc.want {
				t.Fatalf("got %s, want %s", u, tc.want)
			}
		})
	}
}

func TestConnOptionsValidate(t *testing.T) {
	ok := ConnOptions{Auth: "negotiate", OutputBuffering: "block"}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, o := range map[string]ConnOptions{
		"bad auth":      {Auth: "digest", OutputBuffering: "block"},
		"bad buffering": {Auth: "basic", OutputBuffering: "keep"},
		"cert no key":   {Auth: "certificate", OutputBuffering: "drop", CertFile: "c.pem"},
	} {
		if err := o.Validate(); err == nil {
			t.Errorf("%s: want error", name)
		}
	}
}

func TestPasswordSources(t *testing.T) {
	t.Run("environment first", func(t *testing.T) {
		io, in, _, _ := shell.Test()
		in.WriteString("from-stdin\n")
		f := &Factory{IO: io, Getenv: func(k string) string {
			if k == "PSSESSION_PASSWORD" {
				return "from-env"
			}
			return ""
		}}
		got, err := (&ConnOptions{PasswordStdin: true}).password(f, "")
		if err != nil || got != "from-env" {
			t.Fatalf("got %q, %v", got, err)
		}
	})
	t.Run("stdin line", func(t *testing.T) {
		io, in, _, _ := shell.Test()
		in.WriteString("s3cret\r\nrest of script\n")
		f := &Factory{IO: io, Getenv: func(string) string { return "" }}
		got, err := (&ConnOptions{PasswordStdin: true}).password(f, "")
		if err != nil || got != "s3cret" {
			t.Fatalf("got %q, %v", got, err)
		}
		if rest := in.String(); rest != "rest of script\n" {
			t.Fatalf("the rest of stdin was consumed: %q left", rest)
		}
	})
	t.Run("nothing when not a terminal", func(t *testing.T) {
		io, _, _, errOut := shell.Test()
		f := &Factory{IO: io, Getenv: func(string) string { return "" }}
		got, err := (&ConnOptions{}).password(f, "Password: ")
		if err != nil || got != "" || strings.Contains(errOut.String(), "Password") {
			t.Fatalf("got %q, %v, prompt %q", got, err, errOut)
		}
	})
}
