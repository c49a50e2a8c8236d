package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"

	"github.com/gatehouse-id/gatehouse/mail"
	"github.com/gatehouse-id/gatehouse/middleware"
	"github.com/gatehouse-id/gatehouse/secretkey"
)

// Config is the server configuration every command reads.
type Config struct {
	Addr, MetricsAddr, Issuer, Database, SecretKey, SigningAlg, SMTPURL, MailFrom, LogFormat                 string
	TrustedProxies                                                                                           []netip.Prefix
	AccessTokenTTL, IDTokenTTL, RefreshTokenTTL, RefreshTokenMax, RefreshReuseGrace, SessionIdle, SessionMax time.Duration
	// AuditRetention is how long audit events are kept.
	AuditRetention time.Duration
	// PreparedStatements: PostgreSQL queries run as statements prepared
	// once per connection; off behind a pooler in transaction mode.
	PreparedStatements bool
	// RequestDeadline bounds each request (0: defaultRequestDeadline);
	// not a flag, tests shorten it.
	RequestDeadline time.Duration
	// SigningAlgSet: --signing-alg was given (flag, environment or file),
	// not left to its default.
	SigningAlgSet bool
}

// setting is one configuration flag; its name is also its YAML key and,
// upper-cased, its environment variable.
type setting struct {
	name, def, usage string
}

var settings = []setting{
	{"addr", ":8080", "listen `address` (host:port)"},
	{"metrics-addr", "127.0.0.1:9090", "`address` (host:port) where /metrics is served, apart from the public listener; empty turns it off"},
	{"issuer", "http://localhost:8080", "issuer `URL`; https unless the host is localhost or 127.0.0.1"},
	{"database", "sqlite:gatehouse.db", "database `URL`: sqlite:PATH or postgres://user:pass@host/db"},
	{"database-prepared-statements", "true", "prepare each PostgreSQL query once per connection (`true or false`); false behind a connection pooler in transaction mode, such as PgBouncer before 1.21"},
	{"secret-key", "", "secret `key`: 32 random bytes in standard base64 (openssl rand -base64 32); default: generated into gatehouse.key beside a SQLite database, required with PostgreSQL"},
	{"signing-alg", "RS256", "ID token signing `algorithm`: RS256 or ES256"},
	{"smtp-url", "", "mail server `URL`: smtp://user:pass@host:port (STARTTLS) or smtps://user:pass@host:port; empty: no mail"},
	{"mail-from", "", "sender `address` (default gatehouse@<issuer host>)"},
	{"trusted-proxies", "", "comma-separated `CIDRs` whose X-Forwarded-For is believed"},
	{"access-token-ttl", "15m", "access token lifetime (`duration`)"},
	{"id-token-ttl", "1h", "ID token lifetime (`duration`)"},
	{"refresh-token-ttl", "720h", "refresh token lifetime, sliding (`duration`)"},
	{"refresh-token-max", "2160h", "absolute lifetime of a refresh token family, however often it rotates (`duration`)"},
	{"refresh-reuse-grace", "10s", "a refresh token presented again by its client within this `duration` is a retry, not a reuse; 0 turns it off"},
	{"session-idle", "30m", "browser session idle lifetime (`duration`)"},
	{"session-max", "12h", "browser session absolute lifetime (`duration`)"},
	{"audit-retention", "9600h", "how long audit events are kept (`duration`; 9600h is 400 days)"},
	{"log-format", "text", "log `format`: text or json"},
}

const (
	flagConfig = "config"
	flagOutput = "output"

	keyFileName = "gatehouse.key"

	errSecretKeyRequired = "--secret-key is required with PostgreSQL (make one with: openssl rand -base64 32)"
	expectedDatabase     = "expected sqlite:PATH or postgres://…"
)

// envName is the environment variable for a flag: GATEHOUSE_SECRET_KEY for secret-key.
func envName(flag string) string {
	return "GATEHOUSE_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// addConfigFlags adds the configuration flags to root, persistent so that
// every subcommand reads the same configuration as serve.
func addConfigFlags(root *cobra.Command) {
	fs := root.PersistentFlags()
	fs.String(flagConfig, "", "YAML configuration `file` ["+envName(flagConfig)+"]")
	for _, s := range settings {
		usage := s.usage + " [" + envName(s.name) + "]"
		if s.name == "trusted-proxies" {
			fs.StringSlice(s.name, nil, usage)
			continue
		}
		fs.String(s.name, s.def, usage)
	}
	fs.String(flagOutput, "text", "output `format` of commands: text or json")
}

// lookupFlag finds a flag of cmd or one it inherits from its parents,
// whether or not the command line has been parsed yet.
func lookupFlag(cmd *cobra.Command, name string) *pflag.Flag {
	for _, fs := range []*pflag.FlagSet{cmd.Flags(), cmd.PersistentFlags(), cmd.InheritedFlags()} {
		if f := fs.Lookup(name); f != nil {
			return f
		}
	}
	return nil
}

// value is a setting's raw text and where it came from, so that a message
// about it names what the user has to change.
type value struct {
	text      string
	label     string // --addr, GATEHOUSE_ADDR or gatehouse.yaml:3: addr
	isDefault bool   // nothing set it
}

// sources resolves settings: an explicitly set flag, else the environment,
// else the config file, else the default.
type sources struct {
	cmd  *cobra.Command
	file *configFile
}

func (s sources) get(name string) value {
	if f := lookupFlag(s.cmd, name); f != nil && f.Changed {
		if list, ok := f.Value.(pflag.SliceValue); ok {
			return value{text: strings.Join(list.GetSlice(), ","), label: "--" + name}
		}
		return value{text: f.Value.String(), label: "--" + name}
	}
	// An empty variable counts as unset, as in most deployment tools.
	if env := os.Getenv(envName(name)); env != "" {
		return value{text: env, label: envName(name)}
	}
	if s.file != nil {
		if v, ok := s.file.values[name]; ok {
			return value{text: v.text, label: fmt.Sprintf("%s:%d: %s", s.file.path, v.line, name)}
		}
	}
	for _, st := range settings {
		if st.name == name {
			return value{text: st.def, label: "--" + name, isDefault: true}
		}
	}
	return value{label: "--" + name, isDefault: true}
}

// configPath is the config file named by --config or GATEHOUSE_CONFIG.
func (s sources) configPath() string {
	if f := lookupFlag(s.cmd, flagConfig); f != nil && f.Changed {
		return f.Value.String()
	}
	return os.Getenv(envName(flagConfig))
}

// loadConfig reads the configuration from flags, environment and file, and
// validates it, reporting every problem found.
func loadConfig(cmd *cobra.Command) (*Config, error) {
	src := sources{cmd: cmd}
	var problems []error
	if path := src.configPath(); path != "" {
		file, errs := readConfigFile(path)
		if file == nil {
			return nil, errors.Join(errs...)
		}
		src.file = file
		problems = append(problems, errs...)
	}
	l := &loader{src: src, problems: problems}
	c := &Config{
		Addr:               l.addr(),
		MetricsAddr:        l.metricsAddr(),
		Issuer:             l.issuer(),
		Database:           l.database(),
		SigningAlg:         l.oneOf("signing-alg", "RS256", "ES256"),
		SigningAlgSet:      !src.get("signing-alg").isDefault,
		SMTPURL:            l.smtpURL(),
		TrustedProxies:     l.trustedProxies(),
		AccessTokenTTL:     l.duration("access-token-ttl"),
		IDTokenTTL:         l.duration("id-token-ttl"),
		RefreshTokenTTL:    l.duration("refresh-token-ttl"),
		RefreshTokenMax:    l.duration("refresh-token-max"),
		RefreshReuseGrace:  l.durationOrZero("refresh-reuse-grace"),
		SessionIdle:        l.duration("session-idle"),
		SessionMax:         l.duration("session-max"),
		AuditRetention:     l.duration("audit-retention"),
		PreparedStatements: l.oneOf("database-prepared-statements", "true", "false") == "true",
		LogFormat:          l.oneOf("log-format", "text", "json"),
	}
	c.SecretKey = l.secretKey(c.IsPostgres())
	c.MailFrom = l.mailFrom(c.Issuer)
	if c.SessionIdle > 0 && c.SessionMax > 0 && c.SessionIdle > c.SessionMax {
		l.fail("%s (%s) must not be longer than %s (%s)",
			src.get("session-idle").label, c.SessionIdle, src.get("session-max").label, c.SessionMax)
	}
	if _, err := outputFormat(cmd); err != nil {
		l.problems = append(l.problems, err)
	}
	if len(l.problems) > 0 {
		return nil, errors.Join(l.problems...)
	}
	return c, nil
}

// loader parses and checks settings one by one, collecting problems.
type loader struct {
	src      sources
	problems []error
}

func (l *loader) fail(format string, args ...any) {
	l.problems = append(l.problems, fmt.Errorf(format, args...))
}

func (l *loader) addr() string {
	v := l.src.get("addr")
	if _, port, err := net.SplitHostPort(v.text); err != nil || port == "" {
		l.fail("%s: %q is not host:port (like :8080 or 127.0.0.1:8080)", v.label, v.text)
	}
	return v.text
}

// metricsAddr is where /metrics is served, or "" for nowhere.
func (l *loader) metricsAddr() string {
	v := l.src.get("metrics-addr")
	if v.text == "" {
		return ""
	}
	if _, port, err := net.SplitHostPort(v.text); err != nil || port == "" {
		l.fail("%s: %q is not host:port (like 127.0.0.1:9090), or empty to serve no metrics", v.label, v.text)
	}
	return v.text
}

func (l *loader) issuer() string {
	v := l.src.get("issuer")
	issuer := v.text
	u, err := url.Parse(issuer)
	switch {
	case strings.HasSuffix(issuer, "/"):
		// Relying parties compare iss to the issuer byte for byte.
		l.fail("%s: %q ends in a slash; use %q: tokens carry the issuer exactly, and relying parties compare it byte for byte",
			v.label, v.text, strings.TrimRight(v.text, "/"))
	case err != nil:
		l.fail("%s: %q is not a URL", v.label, v.text)
	case !u.IsAbs() || u.Host == "":
		l.fail("%s: %q is not an absolute URL (like https://id.example.com)", v.label, v.text)
	case strings.ContainsAny(issuer, "?#"):
		l.fail("%s must not have a query or fragment", v.label)
	case u.User != nil:
		l.fail("%s must not contain a user name or password", v.label)
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopbackHost(u.Hostname()):
	default:
		l.fail("%s must use https unless the host is localhost or 127.0.0.1", v.label)
	}
	return issuer
}

func isLoopbackHost(host string) bool {
	return strings.EqualFold(host, "localhost") || host == "127.0.0.1" || host == "::1"
}

// database checks the database URL. Messages never repeat a PostgreSQL URL,
// which may carry a password.
func (l *loader) database() string {
	v := l.src.get("database")
	switch {
	case strings.HasPrefix(v.text, "sqlite:"):
		if strings.TrimPrefix(v.text, "sqlite:") == "" {
			l.fail("%s: the SQLite path is empty; %s", v.label, expectedDatabase)
		}
	case isPostgresURL(v.text):
		u, err := url.Parse(v.text)
		if err != nil {
			l.fail("%s: the PostgreSQL URL does not parse; %s", v.label, expectedDatabase)
		} else if u.Hostname() == "" {
			l.fail("%s: the PostgreSQL URL has no host; %s", v.label, expectedDatabase)
		}
	default:
		if u, err := url.Parse(v.text); err == nil && u.Scheme != "" {
			l.fail("%s: %q databases are not supported; %s", v.label, u.Scheme, expectedDatabase)
		} else {
			l.fail("%s: %s", v.label, expectedDatabase)
		}
	}
	return v.text
}

func isPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

func (l *loader) oneOf(name string, allowed ...string) string {
	v := l.src.get(name)
	if !slices.Contains(allowed, v.text) {
		l.fail("%s: %q is not supported; use %s", v.label, v.text, strings.Join(allowed, " or "))
	}
	return v.text
}

// secretKey checks the key's form; messages never repeat the key.
func (l *loader) secretKey(postgres bool) string {
	v := l.src.get("secret-key")
	switch {
	case v.text != "":
		if _, err := secretkey.Parse(v.text); err != nil {
			l.fail("%s: %w", v.label, err)
		}
	case postgres:
		l.problems = append(l.problems, errors.New(errSecretKeyRequired))
	}
	return v.text
}

// smtpURL checks the mail server URL; messages never repeat it, as it may
// carry a password.
func (l *loader) smtpURL() string {
	v := l.src.get("smtp-url")
	if v.text == "" {
		return ""
	}
	if _, err := mail.ParseSMTPURL(v.text); err != nil {
		l.fail("%s %s", v.label, err)
	}
	return v.text
}

// mailFrom is the sender address, by default gatehouse@ the issuer's host.
func (l *loader) mailFrom(issuer string) string {
	v := l.src.get("mail-from")
	if v.text == "" {
		if u, err := url.Parse(issuer); err == nil && u.Hostname() != "" {
			return "gatehouse@" + u.Hostname()
		}
		return ""
	}
	if err := mail.CheckAddress(v.text); err != nil {
		l.fail("%s: %q is not an email address", v.label, v.text)
	}
	return v.text
}

// trustedProxies reads comma-separated CIDRs; a bare IP is that one address.
func (l *loader) trustedProxies() []netip.Prefix {
	v := l.src.get("trusted-proxies")
	var out []netip.Prefix
	for part := range strings.SplitSeq(v.text, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if strings.Contains(part, "/") {
			p, err := netip.ParsePrefix(part)
			if err != nil {
				l.fail("%s: %q is not a CIDR", v.label, part)
				continue
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(part)
		if err != nil {
			l.fail("%s: %q is not a CIDR", v.label, part)
			continue
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out
}

func (l *loader) duration(name string) time.Duration {
	v := l.src.get(name)
	d, err := time.ParseDuration(v.text)
	switch {
	case err != nil:
		l.fail("%s: %q is not a duration (like 15m or 12h)", v.label, v.text)
	case d <= 0:
		l.fail("%s must be greater than zero", v.label)
	}
	return d
}

// durationOrZero is duration for a setting that 0 turns off.
func (l *loader) durationOrZero(name string) time.Duration {
	v := l.src.get(name)
	d, err := time.ParseDuration(v.text)
	switch {
	case err != nil:
		l.fail("%s: %q is not a duration (like 10s, or 0 for none)", v.label, v.text)
	case d < 0:
		l.fail("%s must not be negative", v.label)
	}
	return d
}

// configFile holds the settings read from a YAML file.
type configFile struct {
	path   string
	values map[string]fileValue
}

type fileValue struct {
	text string
	line int
}

// readConfigFile parses a YAML file of settings keyed by flag name. A nil
// file means it could not be used at all; otherwise the errors are
// problems with single keys.
func readConfigFile(path string) (*configFile, []error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, []error{fmt.Errorf("config file %s: %w", path, pathErrorCause(err))}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, []error{fmt.Errorf("config file %s: %w", path, err)}
	}
	file := &configFile{path: path, values: map[string]fileValue{}}
	if doc.Kind == 0 {
		return file, nil // an empty file sets nothing
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, []error{fmt.Errorf("config file %s: expected settings as key: value lines", path)}
	}
	var problems []error
	for i := 0; i+1 < len(root.Content); i += 2 {
		key, val := root.Content[i], root.Content[i+1]
		name := key.Value
		if !isSetting(name) {
			problems = append(problems, fmt.Errorf("%s:%d: unknown key %q", path, key.Line, name))
			continue
		}
		if prev, dup := file.values[name]; dup {
			problems = append(problems, fmt.Errorf("%s:%d: %s is already set on line %d", path, key.Line, name, prev.line))
			continue
		}
		text, ok := scalarText(val, name == "trusted-proxies")
		if !ok {
			problems = append(problems, fmt.Errorf("%s:%d: %s: expected a single value", path, key.Line, name))
			continue
		}
		if val.Tag == "!!null" {
			continue // "key:" with nothing after it leaves the setting alone
		}
		file.values[name] = fileValue{text: text, line: key.Line}
	}
	return file, problems
}

// scalarText is a YAML value as text; a list (where allowed) is joined
// with commas.
func scalarText(n *yaml.Node, listAllowed bool) (string, bool) {
	switch {
	case n.Kind == yaml.ScalarNode:
		return n.Value, true
	case n.Kind == yaml.SequenceNode && listAllowed:
		items := make([]string, 0, len(n.Content))
		for _, item := range n.Content {
			if item.Kind != yaml.ScalarNode {
				return "", false
			}
			items = append(items, item.Value)
		}
		return strings.Join(items, ","), true
	}
	return "", false
}

func isSetting(name string) bool {
	for _, s := range settings {
		if s.name == name {
			return true
		}
	}
	return false
}

// pathErrorCause drops the path from an *fs.PathError so a message that
// names the file already does not name it twice.
func pathErrorCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// IsPostgres reports whether the database is PostgreSQL.
func (c *Config) IsPostgres() bool { return isPostgresURL(c.Database) }

// SQLitePath is the SQLite database file, or "" for PostgreSQL.
func (c *Config) SQLitePath() string {
	path, ok := strings.CutPrefix(c.Database, "sqlite:")
	if !ok {
		return ""
	}
	return path
}

// Logger returns a logger writing to w in the configured format.
func (c *Config) Logger(w io.Writer) *slog.Logger {
	// Every line logged with a request's context names its request id.
	if c.LogFormat == "json" {
		return slog.New(middleware.LogHandler(slog.NewJSONHandler(w, nil)))
	}
	return slog.New(middleware.LogHandler(slog.NewTextHandler(w, nil)))
}

// secretKey returns the server secret: the configured one, or for SQLite
// the one in gatehouse.key beside the database, made on first start.
func (c *Config) secretKey() (secretkey.Key, error) {
	if c.SecretKey != "" {
		k, err := secretkey.Parse(c.SecretKey)
		if err != nil {
			return secretkey.Key{}, fmt.Errorf("--secret-key: %w", err)
		}
		return k, nil
	}
	db := c.SQLitePath()
	if db == "" {
		return secretkey.Key{}, errors.New(errSecretKeyRequired)
	}
	return secretkey.LoadOrCreateFile(filepath.Join(filepath.Dir(db), keyFileName))
}
