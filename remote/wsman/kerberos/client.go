package kerberos

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jcmturner/gokrb5/v8/client"
	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/credentials"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/types"
)

// ClientConfig says where the client's credentials come from. The first of
// Password, KeytabFile and the credential cache that applies is used.
type ClientConfig struct {
	// Username is "user@REALM", `REALM\user` or "user" (realm: krb5.conf
	// default_realm). The realm is upper-cased. With a credential cache it
	// may be empty; when set it must match the cache's principal.
	Username   string
	Password   string // non-empty: AS exchange with the password
	KeytabFile string // else, non-empty: AS exchange with the keytab's key
	// CCacheFile is the credential cache used otherwise; "" means
	// $KRB5CCNAME (FILE: form only) or /tmp/krb5cc_<uid>.
	CCacheFile string
	// Krb5Conf is the krb5.conf path; "" means $KRB5_CONFIG, else
	// /etc/krb5.conf. A missing file is an error only when no realm is
	// known otherwise; the KDC is then looked up in DNS (SRV records).
	Krb5Conf string
	Logger   *slog.Logger // debug lines; never keys, passwords or tickets
}

// Client holds a TGT and caches service tickets (gokrb5's client). It is
// safe for concurrent use.
type Client struct {
	cl        *client.Client
	principal string
	log       *slog.Logger
	mu        sync.Mutex // serialises edits of cl.Config.DomainRealm
}

// NewClient logs in with the password or keytab (AS exchange with the KDC)
// or loads the credential cache, per cfg.
func NewClient(cfg ClientConfig) (*Client, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	user, realm, err := splitUsername(cfg.Username)
	if err != nil {
		return nil, err
	}
	explicitRealm := realm != ""
	conf, confErr := loadKrb5Conf(cfg.Krb5Conf)
	if realm == "" {
		realm = conf.LibDefaults.DefaultRealm
	} else if strings.Contains(cfg.Username, `\`) {
		realm = netbiosRealm(conf, realm)
	}
	settings := []func(*client.Settings){client.DisablePAFXFAST(true)}

	var cl *client.Client
	switch {
	case cfg.Password != "" || cfg.KeytabFile != "":
		if user == "" {
			return nil, newError(KindConfig, "", "a username is needed to log in with a password or keytab")
		}
		if realm == "" {
			return nil, &Error{Kind: KindConfig, Principal: user, Err: fmt.Errorf("no realm in the username and no default_realm: %w", confOrNoRealm(confErr))}
		}
		if cfg.Password != "" {
			cl = client.NewWithPassword(user, realm, cfg.Password, conf, settings...)
		} else {
			kt, err := loadKeytab(cfg.KeytabFile)
			if err != nil {
				return nil, err
			}
			cl = client.NewWithKeytab(user, realm, kt, conf, settings...)
		}
		principal := user + "@" + realm
		log.Debug("kerberos: AS exchange", "principal", principal, "keytab", cfg.KeytabFile != "")
		if err := cl.Login(); err != nil {
			return nil, classifyKDCError(err, "log in", principal, "krbtgt/"+realm)
		}
	default:
		path, err := ccachePath(cfg.CCacheFile)
		if err != nil {
			return nil, err
		}
		cc, err := loadCCache(path)
		if err != nil {
			return nil, err
		}
		ccPrincipal := cc.DefaultPrincipal.PrincipalName.PrincipalNameString() + "@" + cc.DefaultPrincipal.Realm
		// A username must name the cache's principal; its realm only
		// counts when the username gave one.
		if user != "" && (!strings.EqualFold(user, cc.DefaultPrincipal.PrincipalName.PrincipalNameString()) ||
			explicitRealm && realm != cc.DefaultPrincipal.Realm) {
			return nil, newError(KindNoCredentials, cfg.Username, "credential cache %s holds %s", path, ccPrincipal)
		}
		if err := checkTGT(cc, path); err != nil {
			return nil, err
		}
		cl, err = client.NewFromCCache(cc, conf, settings...)
		if err != nil {
			return nil, &Error{Kind: KindNoCredentials, Principal: ccPrincipal, Err: fmt.Errorf("credential cache %s: %w", path, err)}
		}
		log.Debug("kerberos: credential cache loaded", "principal", ccPrincipal, "path", path)
	}
	return &Client{
		cl:        cl,
		principal: cl.Credentials.CName().PrincipalNameString() + "@" + cl.Credentials.Domain(),
		log:       log,
	}, nil
}

// netbiosRealm maps the NetBIOS domain of `DOMAIN\user` to the default
// realm when that is DOMAIN.something and DOMAIN itself is no configured
// realm (CORP\alice in the realm CORP.EXAMPLE.COM).
func netbiosRealm(conf *config.Config, domain string) string {
	for _, r := range conf.Realms {
		if r.Realm == domain {
			return domain
		}
	}
	if dr := conf.LibDefaults.DefaultRealm; strings.EqualFold(strings.SplitN(dr, ".", 2)[0], domain) {
		return dr
	}
	return domain
}

// Close stops gokrb5's background TGT renewal and forgets the tickets and
// keys. The Client must not be used afterwards.
func (c *Client) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cl.Destroy()
}

func confOrNoRealm(confErr error) error {
	if confErr != nil {
		return confErr
	}
	return errors.New("no realm configured")
}

// Principal is the client principal, "user@REALM".
func (c *Client) Principal() string { return c.principal }

// splitUsername parses "user@REALM", `REALM\user` and "user".
func splitUsername(s string) (user, realm string, err error) {
	switch {
	case s == "":
		return "", "", nil
	case strings.Contains(s, `\`):
		realm, user, _ = strings.Cut(s, `\`)
	case strings.Contains(s, "@"):
		i := strings.LastIndexByte(s, '@')
		user, realm = s[:i], s[i+1:]
	default:
		user = s
	}
	if user == "" || strings.ContainsAny(user, `\@`) || strings.ContainsAny(realm, `\@/`) {
		return "", "", newError(KindConfig, s, "cannot parse the username (want user@REALM, REALM\\user or user)")
	}
	return user, strings.ToUpper(realm), nil
}

// loadKrb5Conf loads krb5.conf. A missing or unreadable file gives an
// empty configuration (KDCs from DNS) and the error, which is reported
// only if no realm turns up.
func loadKrb5Conf(path string) (*config.Config, error) {
	if path == "" {
		path = os.Getenv("KRB5_CONFIG")
		if i := strings.IndexByte(path, ':'); i >= 0 {
			path = path[:i] // MIT allows a list; the first file is the main one
		}
	}
	if path == "" {
		path = "/etc/krb5.conf"
	}
	conf, err := config.Load(path)
	var unsupported config.UnsupportedDirective
	if err != nil && errors.As(err, &unsupported) && conf != nil {
		err = nil // includedir and the like: the rest was read
	}
	if err != nil || conf == nil {
		conf = config.New()
		conf.LibDefaults.DNSLookupKDC = true
		return conf, fmt.Errorf("krb5.conf %s: %w", path, err)
	}
	return conf, nil
}

func loadKeytab(path string) (*keytab.Keytab, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{Kind: KindConfig, Err: fmt.Errorf("read keytab: %w", err)}
	}
	kt := keytab.New()
	if err := safeParse(func() error { return kt.Unmarshal(b) }); err != nil {
		return nil, &Error{Kind: KindConfig, Err: fmt.Errorf("keytab %s: %w", path, err)}
	}
	return kt, nil
}

// ccachePath resolves the credential cache file name.
func ccachePath(path string) (string, error) {
	if path == "" {
		path = os.Getenv("KRB5CCNAME")
	}
	if path == "" {
		return "/tmp/krb5cc_" + strconv.Itoa(os.Getuid()), nil
	}
	if typ, rest, ok := strings.Cut(path, ":"); ok && !strings.Contains(typ, "/") {
		if typ != "FILE" {
			return "", newError(KindNoCredentials, "", "credential cache type %s is not supported (only FILE:)", typ)
		}
		path = rest
	}
	return path, nil
}

func loadCCache(path string) (*credentials.CCache, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &Error{Kind: KindNoCredentials, Err: fmt.Errorf("no credential cache: %w", err)}
	}
	if err != nil {
		return nil, &Error{Kind: KindNoCredentials, Err: fmt.Errorf("read credential cache: %w", err)}
	}
	cc := new(credentials.CCache)
	if len(b) < 4 || b[0] != 5 {
		return nil, newError(KindNoCredentials, "", "%s is not a credential cache", path)
	}
	if err := safeParse(func() error { return cc.Unmarshal(b) }); err != nil {
		return nil, &Error{Kind: KindNoCredentials, Err: fmt.Errorf("credential cache %s: %w", path, err)}
	}
	return cc, nil
}

// checkTGT refuses a cache without a current TGT for its own realm.
func checkTGT(cc *credentials.CCache, path string) error {
	realm := cc.DefaultPrincipal.Realm
	tgt, ok := cc.GetEntry(types.PrincipalName{NameString: []string{"krbtgt", realm}})
	if !ok {
		return newError(KindNoCredentials, realm, "credential cache %s has no TGT", path)
	}
	if time.Now().After(tgt.EndTime) {
		return newError(KindNoCredentials, cc.DefaultPrincipal.PrincipalName.PrincipalNameString()+"@"+realm,
			"TGT in %s expired at %s", path, tgt.EndTime.UTC().Format(time.RFC3339))
	}
	return nil
}

// safeParse runs a gokrb5 parser of local files that indexes without
// bounds checks (keytab, ccache) and turns a panic into an error.
func safeParse(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed file: %v", r)
		}
	}()
	return f()
}

// InitSecContext gets a service ticket for spn ("HTTP/host.example.com" or
// "HTTP/host@REALM") and builds the AP-REQ: mutual authentication
// required, a fresh initiator subkey of the session key's etype, a random
// initial sequence number and the RFC 4121 §4.1.1 checksum with flags
// Mutual|Replay|Sequence|Conf|Integ and the hash of channelBindings (the
// application data, e.g. "tls-server-end-point:"+hash; nil for none).
func (c *Client) InitSecContext(ctx context.Context, spn string, channelBindings []byte) (*InitiatorContext, error) {
	name, realm, err := parseSPN(spn)
	if err != nil {
		return nil, err
	}
	type result struct {
		tkt ticket
		err error
	}
	ch := make(chan result, 1)
	go func() {
		// gokrb5 reads Config.DomainRealm without locking, so every ticket
		// request holds c.mu (most are answered from the ticket cache).
		c.mu.Lock()
		defer c.mu.Unlock()
		if realm != "" {
			// gokrb5 takes the realm from [domain_realm], else the client's.
			host := name[strings.IndexByte(name, '/')+1:]
			resolved := c.cl.Config.ResolveRealm(host)
			if resolved == "" {
				resolved = c.cl.Credentials.Domain()
			}
			if resolved != realm {
				if c.cl.Config.DomainRealm == nil {
					c.cl.Config.DomainRealm = config.DomainRealm{}
				}
				c.cl.Config.DomainRealm[host] = realm
			}
		}
		tkt, key, err := c.cl.GetServiceTicket(name)
		ch <- result{ticket{tkt, key}, err}
	}()
	var r result
	select {
	case <-ctx.Done():
		return nil, fmt.Errorf("kerberos: service ticket for %s: %w", spn, ctx.Err())
	case r = <-ch:
	}
	if r.err != nil {
		return nil, classifyKDCError(r.err, "service ticket", c.principal, spn)
	}
	c.log.Debug("kerberos: service ticket", "spn", spn, "etype", r.tkt.key.KeyType)
	return newInitiatorContext(r.tkt, c.cl.Credentials.Domain(), c.cl.Credentials.CName(), channelBindings, time.Now())
}

// parseSPN splits "SERVICE/host[@REALM]".
func parseSPN(spn string) (name, realm string, err error) {
	name = spn
	if i := strings.LastIndexByte(spn, '@'); i >= 0 {
		name, realm = spn[:i], spn[i+1:]
	}
	svc, host, ok := strings.Cut(name, "/")
	if !ok || svc == "" || host == "" || strings.Contains(host, "/") || (realm == "" && strings.HasSuffix(spn, "@")) {
		return "", "", newError(KindConfig, spn, "service principal name must be SERVICE/host or SERVICE/host@REALM")
	}
	return name, realm, nil
}
