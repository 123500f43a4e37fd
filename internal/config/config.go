// Package config holds Custodia's one Config struct and how it is read: from
// command-line flags, CUSTODIA_* environment variables and a YAML config file,
// with flags winning over the environment and the environment over the file.
package config

import (
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is passed explicitly to whatever needs it; there is no global.
type Config struct {
	// Store.
	DataDir     string // --data-dir: SQLite database, keys, backups
	DatabaseURL string // --database: postgres://… to use PostgreSQL

	// Server.
	Addr           string        // --addr
	TLSCert        string        // --tls-cert
	TLSKey         string        // --tls-key
	TrustedProxies string        // --trusted-proxies: comma-separated CIDRs
	BaseURL        string        // --base-url: public URL (OIDC redirects, links in e-mails)
	Demo           bool          // --demo: seed a demo operator on first start
	LogLevel       string        // --log-level: debug, info, warn, error
	LogFormat      string        // --log-format: json or text
	SessionIdle    time.Duration // --session-idle
	SessionMax     time.Duration // --session-max
	ShutdownGrace  time.Duration // --shutdown-timeout
	MaxBodyBytes   int64         // --max-body

	// OpenID Connect single sign-on (optional).
	OIDCIssuer       string // --oidc-issuer
	OIDCClientID     string // --oidc-client-id
	OIDCClientSecret string // --oidc-client-secret (prefer the environment)
	OIDCRoleClaim    string // --oidc-role-claim
	OIDCClientsClaim string // --oidc-clients-claim
	OIDCRoleMap      string // --oidc-role-map: "claimvalue=role,…"
	OIDCDisplayName  string // --oidc-name: the button's label

	// Product modules' settings, each declared in its own file
	// (fleet.go, incidents.go, isms.go, dataprotection.go).
	Fleet          FleetConfig
	Incidents      IncidentsConfig
	ISMS           ISMSConfig
	DataProtection DataProtectionConfig
	Notify         NotifyConfig

	// MasterKey comes only from CUSTODIA_MASTER_KEY (never a flag, so it is not in ps output).
	MasterKey string `yaml:"-"`
}

// Defaults returns a Config with every default filled in.
func Defaults() Config {
	return Config{
		DataDir:          "./custodia-data",
		Addr:             "127.0.0.1:8080",
		LogLevel:         "info",
		LogFormat:        "json",
		SessionIdle:      30 * time.Minute,
		SessionMax:       12 * time.Hour,
		ShutdownGrace:    30 * time.Second,
		MaxBodyBytes:     10 << 20,
		OIDCRoleClaim:    "custodia_role",
		OIDCClientsClaim: "custodia_clients",
		OIDCDisplayName:  "Single sign-on",
		Fleet:            defaultFleet(),
		Incidents:        defaultIncidents(),
		ISMS:             defaultISMS(),
		DataProtection:   defaultDataProtection(),
		Notify:           defaultNotify(),
	}
}

// RegisterStore adds the flags every command that opens the database needs.
func (c *Config) RegisterStore(fs *flag.FlagSet) {
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "`directory` for the SQLite database, keys and backups")
	fs.StringVar(&c.DatabaseURL, "database", c.DatabaseURL, "PostgreSQL `URL` (postgres://user@host:5432/db); empty uses SQLite in --data-dir")
}

// RegisterServe adds the server's flags (and the store's).
func (c *Config) RegisterServe(fs *flag.FlagSet) {
	c.RegisterStore(fs)
	fs.StringVar(&c.Addr, "addr", c.Addr, "`host:port` to listen on")
	fs.StringVar(&c.TLSCert, "tls-cert", c.TLSCert, "TLS certificate `file` (PEM); with --tls-key serves HTTPS")
	fs.StringVar(&c.TLSKey, "tls-key", c.TLSKey, "TLS private key `file` (PEM)")
	fs.StringVar(&c.TrustedProxies, "trusted-proxies", c.TrustedProxies, "comma-separated `CIDRs` of reverse proxies whose X-Forwarded-For/-Proto are believed")
	fs.StringVar(&c.BaseURL, "base-url", c.BaseURL, "public `URL` of the console (for SSO redirects and links); default derived from --addr")
	fs.BoolVar(&c.Demo, "demo", c.Demo, "seed a realistic demo operator (once) and print a one-time administrator password")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "log `level`: debug, info, warn or error")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "log `format`: json or text")
	fs.DurationVar(&c.SessionIdle, "session-idle", c.SessionIdle, "sign out a session idle for this `duration`")
	fs.DurationVar(&c.SessionMax, "session-max", c.SessionMax, "sign out a session this `duration` after sign-in, active or not")
	fs.DurationVar(&c.ShutdownGrace, "shutdown-timeout", c.ShutdownGrace, "how long in-flight requests may run after SIGTERM")
	fs.Int64Var(&c.MaxBodyBytes, "max-body", c.MaxBodyBytes, "largest request body accepted, in `bytes` (413 beyond)")
	fs.StringVar(&c.OIDCIssuer, "oidc-issuer", c.OIDCIssuer, "OpenID Connect issuer `URL` for single sign-on (Entra ID, Google, Keycloak…)")
	fs.StringVar(&c.OIDCClientID, "oidc-client-id", c.OIDCClientID, "OpenID Connect client `id`")
	fs.StringVar(&c.OIDCClientSecret, "oidc-client-secret", c.OIDCClientSecret, "OpenID Connect client `secret` (prefer CUSTODIA_OIDC_CLIENT_SECRET)")
	fs.StringVar(&c.OIDCRoleClaim, "oidc-role-claim", c.OIDCRoleClaim, "ID-token `claim` that names the user's role")
	fs.StringVar(&c.OIDCClientsClaim, "oidc-clients-claim", c.OIDCClientsClaim, "ID-token `claim` listing the client codes the user may see (\"*\" for all)")
	fs.StringVar(&c.OIDCRoleMap, "oidc-role-map", c.OIDCRoleMap, "map claim values to roles: `value=role,…` (e.g. cc-sec=security); unmapped values are used as role names")
	fs.StringVar(&c.OIDCDisplayName, "oidc-name", c.OIDCDisplayName, "`label` of the single sign-on button")
	c.Fleet.register(fs)
	c.Incidents.register(fs)
	c.ISMS.register(fs)
	c.DataProtection.register(fs)
	c.Notify.register(fs)
}

// Parse parses args into fs and then fills every flag not given on the command
// line from CUSTODIA_<FLAG> in the environment (--data-dir is
// CUSTODIA_DATA_DIR) or, failing that, from the YAML file named by --config
// (keys are flag names). It also reads CUSTODIA_MASTER_KEY.
func (c *Config) Parse(fs *flag.FlagSet, args []string, getenv func(string) string) error {
	var file string
	if fs.Lookup("config") == nil {
		fs.StringVar(&file, "config", "", "YAML configuration `file` whose keys are flag names (flags and CUSTODIA_* variables win)")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["config"] {
		if v := getenv("CUSTODIA_CONFIG"); v != "" {
			file = v
		}
	}
	fromFile := map[string]string{}
	if file != "" {
		var err error
		if fromFile, err = readFile(file); err != nil {
			return err
		}
		known := map[string]bool{}
		fs.VisitAll(func(f *flag.Flag) { known[f.Name] = true })
		for k := range fromFile {
			if !known[k] {
				return fmt.Errorf("config file %s: unknown setting %q", file, k)
			}
		}
	}
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || f.Name == "config" {
			return
		}
		env := "CUSTODIA_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(env); v != "" {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", env, v, err))
			}
			return
		}
		if v, ok := fromFile[f.Name]; ok {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("config file %s: %s: %w", file, f.Name, err))
			}
		}
	})
	c.MasterKey = getenv("CUSTODIA_MASTER_KEY")
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return c.validate(fs)
}

func readFile(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config file: %w", err)
	}
	var raw map[string]any
	if err := yaml.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		switch x := v.(type) {
		case string:
			out[k] = x
		case bool:
			out[k] = strconv.FormatBool(x)
		case int:
			out[k] = strconv.Itoa(x)
		case float64:
			out[k] = strconv.FormatFloat(x, 'f', -1, 64)
		case []any:
			parts := make([]string, 0, len(x))
			for _, p := range x {
				parts = append(parts, fmt.Sprint(p))
			}
			out[k] = strings.Join(parts, ",")
		case nil:
			out[k] = ""
		default:
			return nil, fmt.Errorf("config file %s: %s: unsupported value %v", path, k, v)
		}
	}
	return out, nil
}

func (c *Config) validate(fs *flag.FlagSet) error {
	if fs.Lookup("tls-cert") != nil && (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	if _, err := c.ParseTrustedProxies(); err != nil {
		return err
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		return errors.New("--database must be a postgres:// URL")
	}
	if fs.Lookup("log-format") != nil && c.LogFormat != "json" && c.LogFormat != "text" {
		return fmt.Errorf("--log-format %q: want json or text", c.LogFormat)
	}
	return nil
}

// ParseTrustedProxies parses --trusted-proxies into prefixes (a bare address is a /32 or /128).
func (c *Config) ParseTrustedProxies() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range strings.Split(c.TrustedProxies, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !strings.Contains(s, "/") {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, fmt.Errorf("--trusted-proxies: %q is not an address or CIDR", s)
			}
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("--trusted-proxies: %q is not a CIDR", s)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// TLS reports whether the server serves HTTPS itself.
func (c *Config) TLS() bool { return c.TLSCert != "" }
