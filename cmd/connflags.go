package cmd

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/pssession/pssession/remote/wsman/transport"
)

// Default WinRM ports (MS-WSMV 2.2.1).
const (
	defaultHTTPPort  = 5985
	defaultHTTPSPort = 5986
)

// ConnOptions are the connection options shared by every command that
// connects (shared/DESIGN.md §1).
type ConnOptions struct {
	Port               int
	SSL                bool
	URI                string
	ApplicationName    string
	ConfigurationName  string
	User               string
	Auth               string
	SPN                string
	Keytab             string
	Krb5Conf           string
	CertFile, KeyFile  string
	CAFile             string
	InsecureSkipVerify bool
	AllowUnencrypted   bool
	IdleTimeout        time.Duration
	OperationTimeout   time.Duration
	OpenTimeout        time.Duration
	RetryTimeout       time.Duration
	OutputBuffering    string
	PasswordStdin      bool
	Debug              bool
	// Proxy is --proxy: a proxy URL, or "none"/"direct"; empty means the
	// environment (HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, NO_PROXY).
	Proxy string
	// NTHashHex is --nt-hash (else PSSESSION_NT_HASH is read when
	// connecting). The hash is never saved or logged.
	NTHashHex string
}

// AddFlags registers the connection flags on fs.
func (o *ConnOptions) AddFlags(fs *pflag.FlagSet) {
	fs.IntVar(&o.Port, "port", 0, "WinRM port (default 5985, or 5986 with --ssl)")
	fs.BoolVar(&o.SSL, "ssl", false, "use HTTPS")
	fs.StringVar(&o.URI, "uri", "", "full endpoint URI, e.g. https://host:5986/wsman")
	fs.StringVar(&o.ApplicationName, "application-name", "wsman", "WinRM application path")
	fs.StringVar(&o.ConfigurationName, "configuration-name", "Microsoft.PowerShell", "session configuration (JEA endpoint) name")
	fs.StringVarP(&o.User, "user", "u", "", `user name: DOMAIN\user or user@REALM`)
	fs.StringVar(&o.Auth, "auth", "negotiate", "authentication: negotiate|ntlm|kerberos|basic|certificate")
	fs.StringVar(&o.SPN, "spn", "", "Kerberos service principal of the server (default HTTP/HOST, then WSMAN/HOST)")
	fs.StringVar(&o.Keytab, "keytab", "", "Kerberos keytab FILE with the user's keys (instead of a password or kinit's ticket)")
	fs.StringVar(&o.Krb5Conf, "krb5-conf", "", "krb5.conf FILE (default $KRB5_CONFIG, else /etc/krb5.conf)")
	fs.StringVar(&o.CertFile, "cert-file", "", "client certificate (PEM) for certificate authentication")
	fs.StringVar(&o.KeyFile, "key-file", "", "client certificate key (PEM)")
	fs.StringVar(&o.CAFile, "ca-file", "", "PEM bundle of CA certificates to trust for HTTPS")
	fs.BoolVar(&o.InsecureSkipVerify, "insecure-skip-verify", false, "do not verify the server's TLS certificate (insecure)")
	fs.BoolVar(&o.AllowUnencrypted, "allow-unencrypted", false, "allow Basic authentication and unsealed bodies over plain HTTP (insecure)")
	fs.DurationVar(&o.IdleTimeout, "idle-timeout", 0, "server-side idle timeout of the session (0: server default)")
	fs.DurationVar(&o.OperationTimeout, "operation-timeout", 20*time.Second, "WS-Man operation timeout (long-poll length)")
	fs.DurationVar(&o.OpenTimeout, "open-timeout", 3*time.Minute, "time allowed to open the session")
	fs.DurationVar(&o.RetryTimeout, "retry-timeout", 4*time.Minute, "how long to retry a dropped network connection before leaving the session disconnected (0: do not retry)")
	fs.StringVar(&o.OutputBuffering, "output-buffering", "block", "output buffering while disconnected: block|drop")
	fs.BoolVar(&o.PasswordStdin, "password-stdin", false, "read the password from the first line of standard input")
	fs.BoolVar(&o.Debug, "debug", false, "log the wire exchange to stderr (secrets redacted)")
	fs.StringVar(&o.Proxy, "proxy", "", `proxy: http://[user:pw@]host:port (CONNECT), socks5://... or socks5h://..., or "none"; default: HTTPS_PROXY/HTTP_PROXY/ALL_PROXY/NO_PROXY`)
	fs.StringVar(&o.NTHashHex, "nt-hash", "", "NTLM with this NT hash (32 hex digits) instead of a password; prefer PSSESSION_NT_HASH, argv is visible to other local users")
}

// Validate checks option values that flags cannot check by type.
func (o *ConnOptions) Validate() error {
	switch strings.ToLower(o.Auth) {
	case "negotiate", "ntlm", "kerberos", "basic", "certificate":
	default:
		return usageError{fmt.Errorf("--auth %q: want negotiate, ntlm, kerberos, basic or certificate", o.Auth)}
	}
	switch strings.ToLower(o.OutputBuffering) {
	case "block", "drop":
	default:
		return usageError{fmt.Errorf("--output-buffering %q: want block or drop", o.OutputBuffering)}
	}
	if o.Port < 0 || o.Port > 65535 {
		return usageError{fmt.Errorf("--port %d: out of range", o.Port)}
	}
	if (o.CertFile == "") != (o.KeyFile == "") {
		return usageError{errors.New("--cert-file and --key-file go together")}
	}
	if strings.EqualFold(o.Auth, "certificate") && o.CertFile == "" {
		return usageError{errors.New("--auth certificate needs --cert-file and --key-file")}
	}
	if o.NTHashHex != "" {
		if _, err := parseNTHash(o.NTHashHex, "--nt-hash"); err != nil {
			return err
		}
		if err := ntHashAuth(o.Auth, "--nt-hash"); err != nil {
			return err
		}
	}
	if _, err := o.proxyFunc(nil); err != nil {
		return err
	}
	return nil
}

// parseNTHash decodes an NT hash given as 32 hex digits (the form
// secretsdump and evil-winrm's -H use; an "LM:NT" pair is accepted too).
func parseNTHash(s, what string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if lm, nt, ok := strings.Cut(s, ":"); ok && len(lm) == 32 {
		s = nt
	}
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 16 {
		return nil, usageError{fmt.Errorf("%s: want the NT hash as 32 hex digits", what)}
	}
	return b, nil
}

// ntHashAuth checks that the authentication method can use an NT hash.
func ntHashAuth(auth, what string) error {
	switch strings.ToLower(auth) {
	case "negotiate", "ntlm":
		return nil
	}
	return usageError{fmt.Errorf("%s works with --auth ntlm or negotiate (NTLM), not %s", what, auth)}
}

// proxyFunc turns --proxy into the transport's proxy function; without
// --proxy it reads the environment through getenv (nil: os.Getenv).
func (o *ConnOptions) proxyFunc(getenv func(string) string) (func(*url.URL) (*url.URL, error), error) {
	switch strings.ToLower(strings.TrimSpace(o.Proxy)) {
	case "":
		return transport.ProxyFromEnvironment(getenv), nil
	case "none", "direct":
		return func(*url.URL) (*url.URL, error) { return nil, nil }, nil
	}
	u, err := transport.ParseProxy(strings.TrimSpace(o.Proxy))
	if err != nil {
		return nil, usageError{fmt.Errorf("--proxy: %w", err)}
	}
	return func(*url.URL) (*url.URL, error) { return u, nil }, nil
}

// resolveNTHash checks --nt-hash or PSSESSION_NT_HASH and reports whether
// one was given (then no password is needed). A hash on the command line
// gets a warning: other local users can read a process's arguments.
func (o *ConnOptions) resolveNTHash(f *Factory) (bool, error) {
	h, err := o.lookupNTHash(f)
	if err != nil || h == nil {
		return false, err
	}
	if o.NTHashHex != "" {
		fmt.Fprintln(f.IO.ErrOut, "pssession: warning: --nt-hash is visible to other local users (process list); prefer PSSESSION_NT_HASH")
	}
	return true, nil
}

// lookupNTHash decodes --nt-hash, else PSSESSION_NT_HASH; nil when neither
// is set.
func (o *ConnOptions) lookupNTHash(f *Factory) ([]byte, error) {
	if o.NTHashHex != "" {
		return parseNTHash(o.NTHashHex, "--nt-hash")
	}
	if f.Getenv == nil {
		return nil, nil
	}
	v := f.Getenv("PSSESSION_NT_HASH")
	if v == "" {
		return nil, nil
	}
	if err := ntHashAuth(o.Auth, "PSSESSION_NT_HASH"); err != nil {
		return nil, err
	}
	return parseNTHash(v, "PSSESSION_NT_HASH")
}

// EndpointURL turns a target (computer name, host:port, or URI) and the
// options into the WinRM endpoint URL. --uri wins over the target.
// Certificate authentication needs an https URL.
func (o *ConnOptions) EndpointURL(target string) (*url.URL, error) {
	u, err := o.endpointURL(target)
	if err == nil && strings.EqualFold(o.Auth, "certificate") && u.Scheme != "https" {
		return nil, usageError{errors.New("--auth certificate needs HTTPS (--ssl, port 5986 or an https:// URI): the certificate is presented in the TLS handshake")}
	}
	return u, err
}

func (o *ConnOptions) endpointURL(target string) (*url.URL, error) {
	if o.URI != "" {
		target = o.URI
	}
	if target == "" {
		return nil, usageError{errors.New("no computer name or URI given")}
	}
	if strings.Contains(target, "://") {
		u, err := url.Parse(target)
		if err != nil {
			return nil, usageError{fmt.Errorf("target %q: %w", target, err)}
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			return nil, usageError{fmt.Errorf("target %q: scheme must be http or https", target)}
		}
		if u.Hostname() == "" {
			return nil, usageError{fmt.Errorf("target %q: no host", target)}
		}
		if u.Path == "" {
			u.Path = "/" + strings.Trim(o.ApplicationName, "/")
		}
		return u, nil
	}
	host, port := target, o.Port
	if h, p, err := net.SplitHostPort(target); err == nil {
		n, perr := strconv.Atoi(p)
		if perr != nil || n <= 0 || n > 65535 {
			return nil, usageError{fmt.Errorf("target %q: bad port", target)}
		}
		host, port = h, n
	} else if strings.Count(target, ":") > 1 { // bare IPv6 address
		host = strings.Trim(target, "[]")
	}
	if host == "" || strings.ContainsAny(host, "/?#@ ") {
		return nil, usageError{fmt.Errorf("target %q: not a computer name", target)}
	}
	ssl := o.SSL
	if port == 0 {
		port = defaultHTTPPort
		if ssl {
			port = defaultHTTPSPort
		}
	} else if port == defaultHTTPSPort && !o.SSL {
		// 5986 is WinRM's HTTPS listener; nobody speaks plain HTTP there.
		ssl = true
	}
	scheme := "http"
	if ssl {
		scheme = "https"
	}
	return &url.URL{
		Scheme: scheme,
		Host:   net.JoinHostPort(host, strconv.Itoa(port)),
		Path:   "/" + strings.Trim(o.ApplicationName, "/"),
	}, nil
}

// passwordSource resolves the password without it ever being a flag value:
// PSSESSION_PASSWORD, then --password-stdin, then a no-echo prompt when
// stdin is a terminal. It returns "" when none applies.
//
// With an NT hash (--nt-hash, PSSESSION_NT_HASH) there is no password.
func (o *ConnOptions) password(f *Factory, prompt string) (string, error) {
	if strings.EqualFold(o.Auth, "certificate") {
		return "", nil // the client certificate is the credential
	}
	if ok, err := o.resolveNTHash(f); err != nil || ok {
		return "", err
	}
	if f.Getenv != nil {
		if p := f.Getenv("PSSESSION_PASSWORD"); p != "" {
			return p, nil
		}
	}
	if o.PasswordStdin {
		line, err := readLine(f.IO.In)
		if err != nil && line == "" {
			return "", fmt.Errorf("--password-stdin: reading standard input: %w", err)
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	if o.kerberosWithoutPassword() {
		// Kerberos takes the keytab's keys, or kinit's ticket for the
		// current user when no user is named: nothing to prompt for.
		return "", nil
	}
	if f.IO.IsStdinTTY() {
		if fd, ok := f.IO.In.(interface{ Fd() uintptr }); ok {
			fmt.Fprint(f.IO.ErrOut, prompt)
			b, err := term.ReadPassword(int(fd.Fd()))
			fmt.Fprintln(f.IO.ErrOut)
			if err != nil {
				return "", fmt.Errorf("reading password: %w", err)
			}
			return string(b), nil
		}
	}
	return "", nil
}

// kerberosWithoutPassword reports whether Kerberos can authenticate without
// a password: with --keytab, or from the credential cache when no user is
// named (negotiate and kerberos).
func (o *ConnOptions) kerberosWithoutPassword() bool {
	switch strings.ToLower(o.Auth) {
	case "kerberos", "negotiate":
		return o.Keytab != "" || o.User == ""
	}
	return false
}

// readLine reads one line byte by byte, so that whatever follows the line on
// the reader (a script given on stdin after the password) stays unread.
func readLine(r io.Reader) (string, error) {
	var b strings.Builder
	var one [1]byte
	for {
		n, err := r.Read(one[:])
		if n == 1 {
			if one[0] == '\n' {
				return b.String(), nil
			}
			b.WriteByte(one[0])
		}
		if err != nil {
			return b.String(), err
		}
	}
}
