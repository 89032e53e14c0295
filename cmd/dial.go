package cmd

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/pssession/pssession/remote/session"
	"github.com/pssession/pssession/remote/wsman"
	"github.com/pssession/pssession/remote/wsman/transport"
)

// dialClient builds the WS-Man client for a target from the connection
// options. The returned close function releases its connections.
func dialClient(f *Factory, o *ConnOptions, target, password string) (*wsman.Client, func(), error) {
	u, err := o.EndpointURL(target)
	if err != nil {
		return nil, nil, err
	}
	auth := o.Auth
	logger := slog.New(slog.DiscardHandler)
	if o.Debug {
		logger = slog.New(slog.NewTextHandler(f.IO.ErrOut, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	proxy, err := o.proxyFunc(f.Getenv)
	if err != nil {
		return nil, nil, err
	}
	var ntHash []byte
	if !strings.EqualFold(auth, "certificate") {
		if ntHash, err = o.lookupNTHash(f); err != nil {
			return nil, nil, err
		}
	}
	tcfg := transport.Config{
		URL:              u.String(),
		Auth:             auth,
		Username:         o.User,
		Password:         password,
		SPN:              o.SPN,
		Keytab:           o.Keytab,
		Krb5Conf:         o.Krb5Conf,
		NTHash:           ntHash,
		Proxy:            proxy,
		AllowUnencrypted: o.AllowUnencrypted,
		TLS:              transport.TLSConfig{CAFile: o.CAFile, InsecureSkipVerify: o.InsecureSkipVerify},
		// A long-poll answers within the operation timeout; a response
		// later than this margin means the connection is dead.
		ResponseTimeout: o.OperationTimeout + max(5*time.Second, o.OperationTimeout/2),
		Logger:          logger,
	}
	if o.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, nil, usageError{fmt.Errorf("client certificate: %w", err)}
		}
		tcfg.TLS.ClientCert = &cert
	}
	tc, err := transport.New(tcfg)
	if err != nil {
		return nil, nil, usageError{err}
	}
	c := wsman.NewClient(tc, u.String())
	c.ResourceURI = wsman.PowerShellResourceURI(o.ConfigurationName)
	c.OperationTimeout = o.OperationTimeout
	return c, func() { tc.Close() }, nil
}

// dialSession opens a new temporary session on target.
func dialSession(ctx context.Context, f *Factory, o *ConnOptions, target, password string, cfg session.Config) (*closingSession, error) {
	c, closeFn, err := dialClient(f, o, target, password)
	if err != nil {
		return nil, err
	}
	cfg.Transport = session.WSMan{C: c}
	cfg.IdleTimeout = o.IdleTimeout
	cfg.Logger = f.Logger
	cfg.RetryTimeout = retryTimeout(o)
	s, err := session.Open(ctx, cfg)
	if err != nil {
		closeFn()
		return nil, err
	}
	return &closingSession{Session: s, release: closeFn, wsman: c}, nil
}

// closingSession releases the transport's connections when the session
// is closed.
type closingSession struct {
	*session.Session
	release func()
	wsman   *wsman.Client
}

// Close closes the remote session, then the connections.
func (c *closingSession) Close(ctx context.Context) error {
	defer c.release()
	return c.Session.Close(ctx)
}

// retryTimeout maps --retry-timeout to session.Config.RetryTimeout, where
// a negative value disables retrying.
func retryTimeout(o *ConnOptions) time.Duration {
	if o.RetryTimeout <= 0 {
		return -1
	}
	return o.RetryTimeout
}
