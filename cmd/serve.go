package cmd

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/pssession/pssession/remote/endpoint"
	"github.com/pssession/pssession/remote/wsman/transport"
	"github.com/spf13/cobra"
)

// serveOptions are the flags of `pssession serve`.
type serveOptions struct {
	Listen    string
	TLS       bool
	CertFile  string
	KeyFile   string
	Auth      []string
	UsersFile string
	Keytab    string
	SPN       string
	Engine    string
	Verbose   bool
	// AllowUnencrypted accepts Basic and unsealed bodies over plain HTTP.
	AllowUnencrypted bool
	// ClientCA and CertMaps enable certificate authentication.
	ClientCA string
	CertMaps []string
	// RequireChannelBinding refuses NTLM and Kerberos over HTTPS without
	// channel bindings.
	RequireChannelBinding bool
}

func newServeCmd(f *Factory) *cobra.Command {
	opts := &serveOptions{}
	c := &cobra.Command{
		Use:   "serve",
		Short: "Run the loopback WinRM/PSRP test endpoint",
		Long: `Run pssession's WinRM/PSRP endpoint: a TEST AND DEMO TARGET that serves
PowerShell remoting sessions (scripted or POSIX-shell engine) and the WinRS cmd
shell on /wsman, so clients can be tried without a Windows host.

Users come from --users FILE (one "user:password" or "DOMAIN\user:password" per
line, # starts a comment). With users, Basic (over --tls, or with
--allow-unencrypted) and Negotiate/NTLM (with WinRM message encryption over
plain HTTP) are accepted; --auth narrows the list. With --keytab FILE, Kerberos
is accepted too (SPNEGO or raw tokens under Negotiate, and the Kerberos
scheme), for the service principals in the keytab (--spn picks one, e.g.
HTTP/host.example.com@REALM); the user is then the client's principal
(user@REALM). Without users, keytab and --auth, requests are accepted as user
"anonymous". Each user sees only their own sessions.

Certificate authentication (clients: --auth certificate) needs --tls,
--client-ca FILE (PEM of the CAs that issue client certificates) and one
--cert-map MATCH=USER per mapping, tried in order, like WinRM's client
certificate mappings. MATCH is sha1:THUMBPRINT or sha256:THUMBPRINT of the
client certificate, upn:NAME@DOMAIN (the UPN in its subject alternative
name), or cn:NAME (its subject common name), optionally followed by
,issuer:THUMBPRINT of a CA that must be in its chain. USER is the local user
the session runs as; it need not be in --users.

--require-channel-binding (with --tls) refuses NTLM and Kerberos clients that
send no channel bindings, like WinRM's CbtHardeningLevel=Strict; bindings that
do not match the certificate are refused in any case.

With --tls and no --cert/--key a self-signed certificate is generated; its PEM
path and SHA-256 fingerprint are printed so clients can trust it with
--ca-file. The listening URL is printed on stdout; SIGINT or SIGTERM stops the
server after closing every session.`,
		Example: `  pssession serve --listen 127.0.0.1:5985
  pssession serve --listen 127.0.0.1:5986 --tls --auth basic --users users.txt --engine sh
  pssession serve --listen 127.0.0.1:5985 --keytab /etc/pssession/http.keytab --spn HTTP/localhost
  pssession serve --listen 127.0.0.1:5986 --tls --client-ca ca.pem --cert-map 'upn:alice@lab.test=LAB\alice'`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runServe(ctx, f, opts)
		},
	}
	fs := c.Flags()
	fs.StringVar(&opts.Listen, "listen", "127.0.0.1:5985", "address to listen on (host:port; port 0 picks a free one)")
	fs.BoolVar(&opts.TLS, "tls", false, "serve HTTPS")
	fs.StringVar(&opts.CertFile, "cert", "", "TLS certificate (PEM); default: a generated self-signed one")
	fs.StringVar(&opts.KeyFile, "key", "", "TLS private key (PEM)")
	fs.StringSliceVar(&opts.Auth, "auth", nil, "authentication schemes to accept: basic,negotiate,kerberos,certificate (default: none, or what --users, --keytab and --cert-map enable)")
	fs.StringVar(&opts.UsersFile, "users", "", "file of user:password lines")
	fs.StringVar(&opts.Keytab, "keytab", "", "keytab FILE with the service keys: enables Kerberos")
	fs.StringVar(&opts.SPN, "spn", "", "service principal of the keytab to accept (default: any in the keytab)")
	fs.StringVar(&opts.Engine, "engine", "scripted", "pipeline engine: scripted|sh")
	fs.BoolVar(&opts.Verbose, "verbose", false, "log one line per request to stderr")
	fs.BoolVar(&opts.AllowUnencrypted, "allow-unencrypted", false, "accept Basic and unsealed bodies over plain HTTP (insecure)")
	fs.StringVar(&opts.ClientCA, "client-ca", "", "PEM file of CAs trusted for client certificates (with --tls and --cert-map)")
	fs.StringArrayVar(&opts.CertMaps, "cert-map", nil, "map a client certificate to a user: MATCH[,issuer:THUMBPRINT]=USER, MATCH one of sha1:HEX, sha256:HEX, upn:NAME, cn:NAME (repeatable)")
	fs.BoolVar(&opts.RequireChannelBinding, "require-channel-binding", false, "refuse NTLM and Kerberos over HTTPS without channel bindings (CbtHardeningLevel=Strict; needs --tls)")
	return c
}

func runServe(ctx context.Context, f *Factory, opts *serveOptions) error {
	engine, err := endpoint.EngineByName(opts.Engine)
	if err != nil {
		return usageError{err}
	}
	tuneGC(f.Getenv, serveGCPercent, serveMemoryGoal)
	if (opts.CertFile == "") != (opts.KeyFile == "") {
		return usageError{errors.New("--cert and --key go together")}
	}
	if opts.CertFile != "" && !opts.TLS {
		return usageError{errors.New("--cert/--key need --tls")}
	}
	users := map[string]string{}
	if opts.UsersFile != "" {
		if users, err = readUsersFile(opts.UsersFile); err != nil {
			return err
		}
	}
	if opts.SPN != "" && opts.Keytab == "" {
		return usageError{errors.New("--spn needs --keytab FILE")}
	}
	extras, err := serveAuthExtras(opts)
	if err != nil {
		return err
	}
	schemes, err := authSchemes(opts.Auth, len(users) > 0, opts.Keytab != "")
	if err != nil {
		return usageError{err}
	}
	for _, s := range schemes {
		switch {
		case s == "negotiate" && len(users) == 0 && opts.Keytab == "":
			return usageError{errors.New("--auth needs --users FILE or --keytab FILE")}
		case s == "basic" && len(users) == 0:
			return usageError{errors.New("--auth basic needs --users FILE")}
		case s == "kerberos" && opts.Keytab == "":
			return usageError{errors.New("--auth kerberos needs --keytab FILE")}
		case s == "certificate" && len(extras.CertMappings) == 0:
			return usageError{errors.New("--auth certificate needs --tls, --client-ca FILE and --cert-map")}
		}
	}
	if len(extras.CertMappings) > 0 && !slices.Contains(schemes, "certificate") {
		schemes = append(schemes, "certificate")
	}
	if opts.RequireChannelBinding && !slices.Contains(schemes, "negotiate") && !slices.Contains(schemes, "kerberos") {
		return usageError{errors.New("--require-channel-binding applies to NTLM and Kerberos (negotiate, kerberos), neither of which is offered")}
	}
	var cert tls.Certificate
	if opts.TLS {
		if cert, err = serveCertificate(f, opts); err != nil {
			return err
		}
		if cert.Leaf == nil {
			if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
				return fmt.Errorf("serve: certificate: %w", err)
			}
		}
	}
	logger := slog.New(slog.DiscardHandler)
	if opts.Verbose {
		logger = slog.New(slog.NewTextHandler(f.IO.ErrOut, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	h := endpoint.New(endpoint.Config{Engine: engine, Logger: logger})
	defer h.Close()
	var handler http.Handler = h
	var connContext func(context.Context, net.Conn) context.Context
	tlsConf := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if len(schemes) > 0 {
		scfg := transport.ServerConfig{Users: users, Schemes: schemes,
			KeytabFile: opts.Keytab, ServicePrincipal: opts.SPN,
			AllowUnencrypted: opts.AllowUnencrypted, Logger: logger,
			ClientCAs: extras.ClientCAs, CertMappings: extras.CertMappings,
			RequireChannelBinding: opts.RequireChannelBinding}
		if opts.TLS {
			// Clients that bind their authentication to the TLS channel
			// must name this certificate (CbtHardeningLevel=Relaxed, or
			// Strict with --require-channel-binding).
			scfg.ChannelBindingCert = cert.Leaf
		}
		sa, err := transport.NewServerAuth(h, scfg)
		if err != nil {
			return usageError{err}
		}
		handler, connContext = sa, sa.ConnContext
		if opts.TLS {
			tlsConf = sa.TLSConfig(cert)
		}
	}

	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	srv := &http.Server{Handler: handler, ConnContext: connContext, ReadHeaderTimeout: 30 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	scheme := "http"
	if opts.TLS {
		scheme = "https"
		srv.TLSConfig = tlsConf
		ln = tls.NewListener(ln, srv.TLSConfig)
	}
	fmt.Fprintf(f.IO.Out, "Listening on %s://%s/wsman (engine %s)\n", scheme, ln.Addr(), opts.Engine)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Long-polling Receives hold connections; closing the handler first
	// ends them.
	h.Close()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		_ = srv.Close()
	}
	fmt.Fprintln(f.IO.ErrOut, "pssession serve: stopped")
	return nil
}

// authSchemes validates --auth; without --auth, users enable Basic and
// Negotiate (NTLM), and a keytab Negotiate and Kerberos.
func authSchemes(list []string, haveUsers, haveKeytab bool) ([]string, error) {
	var out []string
	for _, s := range list {
		s = strings.ToLower(strings.TrimSpace(s))
		switch s {
		case "basic", "negotiate", "kerberos", "certificate":
			// certificate is also implied by --cert-map; listed alone it
			// must not fall back to the defaults below.
			out = append(out, s)
		case "ntlm":
			out = append(out, "negotiate")
		case "":
		default:
			return nil, fmt.Errorf("--auth %q: the endpoint accepts basic, negotiate, kerberos and certificate", s)
		}
	}
	if len(out) == 0 {
		if haveUsers {
			out = append(out, "basic", "negotiate")
		}
		if haveKeytab {
			out = append(out, "kerberos")
		}
	}
	return out, nil
}

// serveAuthExtras validates --client-ca, --cert-map and
// --require-channel-binding and returns the client CA pool and mappings.
func serveAuthExtras(opts *serveOptions) (transport.ServerConfig, error) {
	var out transport.ServerConfig
	if (opts.ClientCA == "") != (len(opts.CertMaps) == 0) {
		return out, usageError{errors.New("--client-ca and --cert-map go together")}
	}
	if (opts.ClientCA != "" || opts.RequireChannelBinding) && !opts.TLS {
		return out, usageError{errors.New("--client-ca, --cert-map and --require-channel-binding need --tls")}
	}
	for _, m := range opts.CertMaps {
		cm, err := transport.ParseCertMapping(m)
		if err != nil {
			return out, usageError{fmt.Errorf("--cert-map: %w", err)}
		}
		out.CertMappings = append(out.CertMappings, cm)
	}
	if opts.ClientCA != "" {
		pemData, err := os.ReadFile(opts.ClientCA)
		if err != nil {
			return out, fmt.Errorf("serve: --client-ca: %w", err)
		}
		out.ClientCAs = x509.NewCertPool()
		if !out.ClientCAs.AppendCertsFromPEM(pemData) {
			return out, usageError{fmt.Errorf("--client-ca %s holds no PEM certificate", opts.ClientCA)}
		}
	}
	return out, nil
}

// readUsersFile reads "user:password" / "DOMAIN\user:password" lines.
func readUsersFile(path string) (map[string]string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("serve: users file: %w", err)
	}
	defer fh.Close()
	return parseUsers(fh, path)
}

func parseUsers(r io.Reader, name string) (map[string]string, error) {
	users := map[string]string{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		user, pass, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(user) == "" {
			return nil, fmt.Errorf("serve: %s:%d: want user:password", name, n)
		}
		users[strings.TrimSpace(user)] = pass
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("serve: users file: %w", err)
	}
	if len(users) == 0 {
		return nil, fmt.Errorf("serve: %s holds no users", name)
	}
	return users, nil
}

// serveCertificate loads --cert/--key or generates a self-signed
// certificate for localhost, writes its PEM next to the temp dir and
// prints where and its fingerprint.
func serveCertificate(f *Factory, opts *serveOptions) (tls.Certificate, error) {
	if opts.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(opts.CertFile, opts.KeyFile)
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("serve: %w", err)
		}
		return cert, nil
	}
	cert, certPEM, err := transport.SelfSignedCert("localhost", "127.0.0.1", "::1")
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("serve: %w", err)
	}
	pemPath := filepath.Join(os.TempDir(), fmt.Sprintf("pssession-serve-%d.pem", os.Getpid()))
	if err := os.WriteFile(pemPath, certPEM, 0o644); err != nil {
		return tls.Certificate{}, fmt.Errorf("serve: writing the certificate: %w", err)
	}
	sum := sha256.Sum256(cert.Certificate[0])
	fmt.Fprintf(f.IO.Out, "Self-signed certificate %s (SHA-256 %X); trust it with --ca-file %s\n", pemPath, sum, pemPath)
	return cert, nil
}
