package main

import (
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-id/gatehouse/secretkey"
)

// A valid secret key for tests: 32 bytes in standard base64.
const testKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

// clearEnv hides any GATEHOUSE_* settings of the environment running the
// tests; an empty variable counts as unset.
func clearEnv(t *testing.T) {
	t.Helper()
	t.Setenv(envName(flagConfig), "")
	for _, s := range settings {
		t.Setenv(envName(s.name), "")
	}
}

// newLoadCmd returns a root command with a hidden subcommand that loads the
// configuration and stores the result.
func newLoadCmd(cfg **Config, loadErr *error) *cobra.Command {
	root := newRootCmd()
	root.AddCommand(&cobra.Command{
		Use:    "load-config",
		Hidden: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			*cfg, *loadErr = loadConfig(cmd)
			return *loadErr
		},
	})
	return root
}

// load runs "gatehouse load-config args..." and returns what loadConfig gave.
func load(t *testing.T, args ...string) (*Config, error) {
	t.Helper()
	var cfg *Config
	var loadErr error
	root := newLoadCmd(&cfg, &loadErr)
	root.SetArgs(append([]string{"load-config"}, args...))
	root.SetOut(io.Discard)
	root.SetErr(io.Discard)
	if err := root.Execute(); err != nil && err != loadErr {
		t.Fatalf("command line refused before loading: %v", err)
	}
	return cfg, loadErr
}

func mustLoad(t *testing.T, args ...string) *Config {
	t.Helper()
	cfg, err := load(t, args...)
	if err != nil {
		t.Fatalf("loadConfig: %v", err)
	}
	return cfg
}

func writeConfigFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gatehouse.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadConfigDefaults(t *testing.T) {
	clearEnv(t)
	got := mustLoad(t)
	want := &Config{
		Addr:            ":8080",
		MetricsAddr:     "127.0.0.1:9090",
		Issuer:          "http://localhost:8080",
		Database:        "sqlite:gatehouse.db",
		SigningAlg:      "RS256",
		MailFrom:        "gatehouse@localhost",
		LogFormat:       "text",
		AccessTokenTTL:  15 * time.Minute,
		IDTokenTTL:      time.Hour,
		RefreshTokenTTL: 720 * time.Hour, RefreshTokenMax: 2160 * time.Hour, RefreshReuseGrace: 10 * time.Second,
		SessionIdle:    30 * time.Minute,
		SessionMax:     12 * time.Hour,
		AuditRetention: 400 * 24 * time.Hour,
		// Prepared statements, unless a pooler is in the way.
		PreparedStatements: true,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("defaults:\n got %+v\nwant %+v", got, want)
	}
}

func TestLoadConfigPrecedence(t *testing.T) {
	addr := func(c *Config) any { return c.Addr }
	secret := func(c *Config) any { return c.SecretKey }
	accessTTL := func(c *Config) any { return c.AccessTokenTTL }
	proxies := func(c *Config) any { return c.TrustedProxies }
	prefixes := func(s ...string) []netip.Prefix {
		var out []netip.Prefix
		for _, p := range s {
			out = append(out, netip.MustParsePrefix(p))
		}
		return out
	}

	tests := []struct {
		name string
		file string
		env  map[string]string
		args []string
		get  func(*Config) any
		want any
	}{
		{name: "addr default", get: addr, want: ":8080"},
		{name: "addr from file", file: "addr: :9000\n", get: addr, want: ":9000"},
		{name: "addr env over file", file: "addr: :9000\n",
			env: map[string]string{"GATEHOUSE_ADDR": ":9001"}, get: addr, want: ":9001"},
		{name: "addr flag over env", file: "addr: :9000\n",
			env: map[string]string{"GATEHOUSE_ADDR": ":9001"}, args: []string{"--addr", ":9002"}, get: addr, want: ":9002"},
		{name: "flag set to the default still wins", env: map[string]string{"GATEHOUSE_ADDR": ":9001"},
			args: []string{"--addr", ":8080"}, get: addr, want: ":8080"},
		{name: "empty env leaves the file's value", file: "addr: :9000\n",
			env: map[string]string{"GATEHOUSE_ADDR": ""}, get: addr, want: ":9000"},
		{name: "secret key default", get: secret, want: ""},
		{name: "secret key from file", file: "secret-key: " + testKey + "\n", get: secret, want: testKey},
		{name: "secret key from env", env: map[string]string{"GATEHOUSE_SECRET_KEY": testKey}, get: secret, want: testKey},
		{name: "duration default", get: accessTTL, want: 15 * time.Minute},
		{name: "duration from file", file: "access-token-ttl: 5m\n", get: accessTTL, want: 5 * time.Minute},
		{name: "duration env over file", file: "access-token-ttl: 5m\n",
			env: map[string]string{"GATEHOUSE_ACCESS_TOKEN_TTL": "10m"}, get: accessTTL, want: 10 * time.Minute},
		{name: "duration flag over env", env: map[string]string{"GATEHOUSE_ACCESS_TOKEN_TTL": "10m"},
			args: []string{"--access-token-ttl", "1m"}, get: accessTTL, want: time.Minute},
		{name: "proxies default", get: proxies, want: []netip.Prefix(nil)},
		{name: "proxies as a YAML list, bare IP is one address", file: "trusted-proxies: [10.0.0.0/8, 192.168.1.7]\n",
			get: proxies, want: prefixes("10.0.0.0/8", "192.168.1.7/32")},
		{name: "proxies as a comma string in the file", file: "trusted-proxies: 10.0.0.0/8, ::1\n",
			get: proxies, want: prefixes("10.0.0.0/8", "::1/128")},
		{name: "proxies env over file", file: "trusted-proxies: [10.0.0.0/8]\n",
			env: map[string]string{"GATEHOUSE_TRUSTED_PROXIES": "172.16.0.0/12,fd00::/8"},
			get: proxies, want: prefixes("172.16.0.0/12", "fd00::/8")},
		{name: "proxies flag, comma-separated and repeated",
			env:  map[string]string{"GATEHOUSE_TRUSTED_PROXIES": "172.16.0.0/12"},
			args: []string{"--trusted-proxies", "10.0.0.0/8,192.168.0.0/16", "--trusted-proxies", "127.0.0.1"},
			get:  proxies, want: prefixes("10.0.0.0/8", "192.168.0.0/16", "127.0.0.1/32")},
		{name: "proxy CIDR with host bits is masked", args: []string{"--trusted-proxies", "10.1.2.3/8"},
			get: proxies, want: prefixes("10.0.0.0/8")},
		{name: "mail-from defaults to the issuer host without port", args: []string{"--issuer", "https://id.example.com:8443"},
			get: func(c *Config) any { return c.MailFrom }, want: "gatehouse@id.example.com"},
		{name: "mail-from set", file: "issuer: https://id.example.com\nmail-from: Gatehouse <no-reply@example.com>\n",
			get: func(c *Config) any { return c.MailFrom }, want: "Gatehouse <no-reply@example.com>"},
		{name: "null value in the file leaves the default", file: "smtp-url:\naddr: :9000\n",
			get: func(c *Config) any { return c.SMTPURL }, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			args := tt.args
			if tt.file != "" {
				args = append([]string{"--config", writeConfigFile(t, tt.file)}, args...)
			}
			cfg := mustLoad(t, args...)
			if got := tt.get(cfg); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestConfigFileFromEnvironment(t *testing.T) {
	clearEnv(t)
	fromEnv := writeConfigFile(t, "addr: :9100\n")
	fromFlag := writeConfigFile(t, "addr: :9200\n")
	t.Setenv("GATEHOUSE_CONFIG", fromEnv)

	if got := mustLoad(t).Addr; got != ":9100" {
		t.Errorf("GATEHOUSE_CONFIG file: addr %q, want :9100", got)
	}
	if got := mustLoad(t, "--config", fromFlag).Addr; got != ":9200" {
		t.Errorf("--config over GATEHOUSE_CONFIG: addr %q, want :9200", got)
	}
}

func TestLoadConfigAcceptsValidSettings(t *testing.T) {
	tests := [][]string{
		{"--issuer", "http://127.0.0.1:8080"},
		{"--issuer", "http://[::1]:8080"},
		{"--issuer", "http://LOCALHOST"},
		{"--issuer", "https://id.example.com/realms/main"},
		{"--database", "postgres://gatehouse:pw@db:5432/gatehouse?sslmode=disable", "--secret-key", testKey},
		{"--database", "postgresql://db/gatehouse", "--secret-key", testKey},
		{"--database", "sqlite:/var/lib/gatehouse/gatehouse.db"},
		{"--signing-alg", "ES256"},
		{"--smtp-url", "smtp://user:pass@mail.example.com:587"},
		{"--smtp-url", "smtps://mail.example.com:465/"},
		{"--smtp-url", "smtp://mailpit:1025?tls=none"},
		{"--smtp-url", "smtp://localhost:1025"},
		{"--addr", "127.0.0.1:9000"},
		{"--addr", "[::1]:http"},
		{"--log-format", "json", "--output", "json"},
		{"--session-idle", "12h", "--session-max", "12h"},
	}
	for _, args := range tests {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			clearEnv(t)
			mustLoad(t, args...)
		})
	}
}

func TestLoadConfigProblems(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		env    map[string]string
		file   string // written to a temporary file passed with --config
		want   string // one line of the error; {file} stands for the config file
		prefix bool   // want is only the start of the line
	}{
		{name: "issuer not a URL", args: []string{"--issuer", "http://[::1"},
			want: `--issuer: "http://[::1" is not a URL`},
		{name: "issuer relative", args: []string{"--issuer", "id.example.com"},
			want: `--issuer: "id.example.com" is not an absolute URL (like https://id.example.com)`},
		{name: "issuer with query", args: []string{"--issuer", "https://id.example.com/?tenant=1"},
			want: `--issuer must not have a query or fragment`},
		{name: "issuer with fragment", args: []string{"--issuer", "https://id.example.com#top"},
			want: `--issuer must not have a query or fragment`},
		{name: "issuer with user info", args: []string{"--issuer", "https://admin@id.example.com"},
			want: `--issuer must not contain a user name or password`},
		{name: "issuer http on a public host", args: []string{"--issuer", "http://id.example.com"},
			want: `--issuer must use https unless the host is localhost or 127.0.0.1`},
		{name: "issuer other scheme", args: []string{"--issuer", "ftp://localhost"},
			want: `--issuer must use https unless the host is localhost or 127.0.0.1`},
		{name: "issuer from env names the variable", env: map[string]string{"GATEHOUSE_ISSUER": "http://id.example.com"},
			want: `GATEHOUSE_ISSUER must use https unless the host is localhost or 127.0.0.1`},
		{name: "database empty sqlite path", args: []string{"--database", "sqlite:"},
			want: `--database: the SQLite path is empty; expected sqlite:PATH or postgres://…`},
		{name: "database other scheme", args: []string{"--database", "mysql://root@db/gatehouse"},
			want: `--database: "mysql" databases are not supported; expected sqlite:PATH or postgres://…`},
		{name: "database bare path", args: []string{"--database", "gatehouse.db"},
			want: `--database: expected sqlite:PATH or postgres://…`},
		{name: "database postgres without host", args: []string{"--database", "postgres:///gatehouse", "--secret-key", testKey},
			want: `--database: the PostgreSQL URL has no host; expected sqlite:PATH or postgres://…`},
		{name: "database postgres unparsable", args: []string{"--database", "postgres://u:hunter2@db:port/x", "--secret-key", testKey},
			want: `--database: the PostgreSQL URL does not parse; expected sqlite:PATH or postgres://…`},
		{name: "postgres without a secret key", args: []string{"--database", "postgres://gatehouse@db/gatehouse"},
			want: `--secret-key is required with PostgreSQL (make one with: openssl rand -base64 32)`},
		{name: "secret key malformed", args: []string{"--secret-key", "c2hvcnQ="},
			want: `--secret-key: the secret key must be 32 random bytes in standard base64 (make one with: openssl rand -base64 32)`},
		{name: "signing alg", args: []string{"--signing-alg", "HS256"},
			want: `--signing-alg: "HS256" is not supported; use RS256 or ES256`},
		{name: "smtp scheme", args: []string{"--smtp-url", "http://mail.example.com:25"},
			want: `--smtp-url scheme "http" is not supported; expected smtp://user:pass@host:port (STARTTLS), smtps://host:port (TLS) or smtp://host:port?tls=none (plain)`},
		{name: "smtp without host", args: []string{"--smtp-url", "smtp://:25"},
			want: `--smtp-url has no host; expected smtp://user:pass@host:port (STARTTLS), smtps://host:port (TLS) or smtp://host:port?tls=none (plain)`},
		{name: "smtp opaque", args: []string{"--smtp-url", "smtp:mail.example.com"},
			want: `--smtp-url has no host; expected smtp://user:pass@host:port (STARTTLS), smtps://host:port (TLS) or smtp://host:port?tls=none (plain)`},
		{name: "smtp without port", args: []string{"--smtp-url", "smtps://mail.example.com"},
			want: `--smtp-url has no port; expected smtp://host:587 or smtps://host:465`},
		{name: "smtp with path", args: []string{"--smtp-url", "smtp://mail.example.com:587/relay"},
			want: `--smtp-url must not have a path or fragment; expected smtp://user:pass@host:port (STARTTLS), smtps://host:port (TLS) or smtp://host:port?tls=none (plain)`},
		{name: "smtp unparsable", args: []string{"--smtp-url", "smtp://u:hunter2@mail:port"},
			want: `--smtp-url does not parse as a URL; expected smtp://user:pass@host:port (STARTTLS), smtps://host:port (TLS) or smtp://host:port?tls=none (plain)`},
		{name: "smtp with another query", args: []string{"--smtp-url", "smtp://mail.example.com:25?tls=off"},
			want: `--smtp-url takes no query but ?tls=none (plain SMTP, with smtp:// only); expected smtp://user:pass@host:port (STARTTLS), smtps://host:port (TLS) or smtp://host:port?tls=none (plain)`},
		{name: "smtp with more than tls=none", args: []string{"--smtp-url", "smtp://mail.example.com:25?tls=none&x=1"},
			want: `--smtp-url takes no query but ?tls=none (plain SMTP, with smtp:// only); expected smtp://user:pass@host:port (STARTTLS), smtps://host:port (TLS) or smtp://host:port?tls=none (plain)`},
		{name: "smtps with tls=none", args: []string{"--smtp-url", "smtps://mail.example.com:465?tls=none"},
			want: `--smtp-url takes no query but ?tls=none (plain SMTP, with smtp:// only); expected smtp://user:pass@host:port (STARTTLS), smtps://host:port (TLS) or smtp://host:port?tls=none (plain)`},
		{name: "mail-from with a line break", args: []string{"--mail-from", "a@example.com\r\nBcc: all@example.com"},
			want: `--mail-from: "a@example.com\r\nBcc: all@example.com" is not an email address`},
		{name: "issuer with a trailing slash", args: []string{"--issuer", "https://id.example.com/"},
			want: `--issuer: "https://id.example.com/" ends in a slash; use "https://id.example.com": tokens carry the issuer exactly, and relying parties compare it byte for byte`},
		{name: "metrics-addr", args: []string{"--metrics-addr", "9090"},
			want: `--metrics-addr: "9090" is not host:port (like 127.0.0.1:9090), or empty to serve no metrics`},
		{name: "mail-from", args: []string{"--mail-from", "not an address"},
			want: `--mail-from: "not an address" is not an email address`},
		{name: "trusted proxy", args: []string{"--trusted-proxies", "10.0.0.0/8,10.0.0/8"},
			want: `--trusted-proxies: "10.0.0/8" is not a CIDR`},
		{name: "trusted proxy from env", env: map[string]string{"GATEHOUSE_TRUSTED_PROXIES": "proxy.local"},
			want: `GATEHOUSE_TRUSTED_PROXIES: "proxy.local" is not a CIDR`},
		{name: "duration zero", args: []string{"--access-token-ttl", "0s"},
			want: `--access-token-ttl must be greater than zero`},
		{name: "duration negative", args: []string{"--id-token-ttl", "-1h"},
			want: `--id-token-ttl must be greater than zero`},
		{name: "duration malformed flag", args: []string{"--refresh-token-ttl", "soon"},
			want: `--refresh-token-ttl: "soon" is not a duration (like 15m or 12h)`},
		{name: "duration malformed env", env: map[string]string{"GATEHOUSE_SESSION_IDLE": "30"},
			want: `GATEHOUSE_SESSION_IDLE: "30" is not a duration (like 15m or 12h)`},
		{name: "duration malformed file", file: "addr: :8080\nsession-max: forever\n",
			want: `{file}:2: session-max: "forever" is not a duration (like 15m or 12h)`},
		{name: "session idle longer than max", args: []string{"--session-idle", "2h", "--session-max", "1h"},
			want: `--session-idle (2h0m0s) must not be longer than --session-max (1h0m0s)`},
		{name: "log format", args: []string{"--log-format", "xml"},
			want: `--log-format: "xml" is not supported; use text or json`},
		{name: "prepared statements", args: []string{"--database-prepared-statements", "no"},
			want: `--database-prepared-statements: "no" is not supported; use true or false`},
		{name: "output", args: []string{"--output", "yaml"},
			want: `--output: "yaml" is not supported; use text or json`},
		{name: "addr without port", args: []string{"--addr", "8080"},
			want: `--addr: "8080" is not host:port (like :8080 or 127.0.0.1:8080)`},
		{name: "addr with empty port", args: []string{"--addr", "localhost:"},
			want: `--addr: "localhost:" is not host:port (like :8080 or 127.0.0.1:8080)`},
		{name: "file unknown key", file: "addr: :8080\nsecret_key: x\n",
			want: `{file}:2: unknown key "secret_key"`},
		{name: "file output is not configuration", file: "output: json\n",
			want: `{file}:1: unknown key "output"`},
		{name: "file duplicate key", file: "addr: :8080\naddr: :9090\n",
			want: `{file}:2: addr is already set on line 1`},
		{name: "file list where one value is expected", file: "addr: [a, b]\n",
			want: `{file}:1: addr: expected a single value`},
		{name: "file malformed", file: "addr: :8080\n  issuer: [\n",
			want: `config file {file}: yaml: `, prefix: true},
		{name: "file not a mapping", file: "- addr\n- issuer\n",
			want: `config file {file}: expected settings as key: value lines`},
		{name: "file missing", args: []string{"--config", "/nonexistent/gatehouse.yaml"},
			want: `config file /nonexistent/gatehouse.yaml: no such file or directory`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			args := tt.args
			want := tt.want
			if tt.file != "" {
				path := writeConfigFile(t, tt.file)
				args = append([]string{"--config", path}, args...)
				want = strings.ReplaceAll(want, "{file}", path)
			}
			_, err := load(t, args...)
			if err == nil {
				t.Fatalf("loaded without error; want %q", want)
			}
			lines := strings.Split(err.Error(), "\n")
			found := slices.ContainsFunc(lines, func(l string) bool {
				return l == want || tt.prefix && strings.HasPrefix(l, want)
			})
			if !found {
				t.Errorf("error:\n%v\nwant a line %q", err, want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error repeats a password: %v", err)
			}
		})
	}
}

func TestLoadConfigReportsEveryProblem(t *testing.T) {
	clearEnv(t)
	t.Setenv("GATEHOUSE_SESSION_IDLE", "soon")
	_, err := load(t,
		"--issuer", "http://id.example.com",
		"--signing-alg", "HS256",
		"--trusted-proxies", "10.0.0/8",
	)
	if err == nil {
		t.Fatal("loaded without error")
	}
	want := []string{
		`--issuer must use https unless the host is localhost or 127.0.0.1`,
		`--signing-alg: "HS256" is not supported; use RS256 or ES256`,
		`--trusted-proxies: "10.0.0/8" is not a CIDR`,
		`GATEHOUSE_SESSION_IDLE: "soon" is not a duration (like 15m or 12h)`,
	}
	got := strings.Split(err.Error(), "\n")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestSecretKeyErrorNeverRepeatsTheKey(t *testing.T) {
	clearEnv(t)
	const almostKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd" // 30 bytes
	t.Setenv("GATEHOUSE_SECRET_KEY", almostKey)
	_, err := load(t)
	if err == nil {
		t.Fatal("a 30-byte key was accepted")
	}
	if !strings.HasPrefix(err.Error(), "GATEHOUSE_SECRET_KEY: ") {
		t.Errorf("error %q does not name GATEHOUSE_SECRET_KEY", err)
	}
	if strings.Contains(err.Error(), almostKey) {
		t.Errorf("error repeats the key: %v", err)
	}
}

func TestKeyFileCreatedBesideSQLiteDatabase(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "gatehouse.db")
	keyPath := filepath.Join(dir, "gatehouse.key")

	first, err := mustLoad(t, "--database", db).secretKey()
	if err != nil {
		t.Fatalf("secretKey: %v", err)
	}
	info, err := os.Stat(keyPath)
	if err != nil {
		t.Fatalf("key file not created: %v", err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("key file mode %v, want 0600", perm)
	}
	data, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != first.String()+"\n" {
		t.Errorf("key file holds %q, want the base64 key and a newline", data)
	}
	if first == (secretkey.Key{}) {
		t.Error("generated key is all zeros")
	}

	second, err := mustLoad(t, "--database", db).secretKey()
	if err != nil {
		t.Fatalf("secretKey on second start: %v", err)
	}
	if second != first {
		t.Error("second start made a new key instead of reusing gatehouse.key")
	}
}

func TestKeyFileDefaultDatabaseIsInWorkingDirectory(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	t.Chdir(dir)
	k, err := mustLoad(t).secretKey()
	if err != nil {
		t.Fatalf("secretKey: %v", err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "gatehouse.key"))
	if err != nil {
		t.Fatalf("key file: %v", err)
	}
	if strings.TrimSpace(string(data)) != k.String() {
		t.Error("key file does not hold the returned key")
	}
}

func TestKeyFileConcurrentStartsAgree(t *testing.T) {
	dir := t.TempDir()
	cfg := &Config{Database: "sqlite:" + filepath.Join(dir, "gatehouse.db")}
	const starts = 8
	keys := make([]secretkey.Key, starts)
	errs := make([]error, starts)
	var wg sync.WaitGroup
	for i := range starts {
		wg.Go(func() { keys[i], errs[i] = cfg.secretKey() })
	}
	wg.Wait()
	for i := range starts {
		if errs[i] != nil {
			t.Fatalf("start %d: %v", i, errs[i])
		}
		if keys[i] != keys[0] {
			t.Fatalf("start %d got a different key than start 0", i)
		}
	}
}

func TestKeyFileMalformedIsRefused(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	keyPath := filepath.Join(dir, "gatehouse.key")
	if err := os.WriteFile(keyPath, []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := mustLoad(t, "--database", "sqlite:"+filepath.Join(dir, "gatehouse.db")).secretKey()
	if err == nil {
		t.Fatal("malformed key file accepted")
	}
	if !strings.Contains(err.Error(), keyPath) || !errors.Is(err, secretkey.ErrMalformed) {
		t.Errorf("error %q should name %s and say the key is malformed", err, keyPath)
	}
	if data, _ := os.ReadFile(keyPath); string(data) != "not a key\n" {
		t.Error("malformed key file was overwritten")
	}
}

func TestKeyFileUnreadableIsRefused(t *testing.T) {
	dir := t.TempDir()
	keyPath := filepath.Join(dir, "gatehouse.key")
	// A directory in its place cannot be read as a file, even by root.
	if err := os.Mkdir(keyPath, 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := &Config{Database: "sqlite:" + filepath.Join(dir, "gatehouse.db")}
	_, err := cfg.secretKey()
	if err == nil || !strings.Contains(err.Error(), keyPath) {
		t.Errorf("error %v should name %s", err, keyPath)
	}
}

func TestConfiguredSecretKeyIsUsedAndNoFileWritten(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	cfg := mustLoad(t, "--database", "sqlite:"+filepath.Join(dir, "gatehouse.db"), "--secret-key", testKey)
	k, err := cfg.secretKey()
	if err != nil {
		t.Fatalf("secretKey: %v", err)
	}
	if k.String() != testKey {
		t.Errorf("got key %s, want the configured one", k)
	}
	if _, err := os.Stat(filepath.Join(dir, "gatehouse.key")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a key file was written although a key is configured (stat: %v)", err)
	}
}

func TestPostgresWithoutSecretKeyIsRefused(t *testing.T) {
	clearEnv(t)
	const hint = "--secret-key is required with PostgreSQL (make one with: openssl rand -base64 32)"
	_, err := load(t, "--database", "postgres://gatehouse@db/gatehouse")
	if err == nil || err.Error() != hint {
		t.Errorf("loadConfig error %v, want %q", err, hint)
	}
	// Nor does secretKey fall back to a key file for a PostgreSQL database.
	_, err = (&Config{Database: "postgres://gatehouse@db/gatehouse"}).secretKey()
	if err == nil || err.Error() != hint {
		t.Errorf("secretKey error %v, want %q", err, hint)
	}
}

func TestDatabaseKind(t *testing.T) {
	tests := []struct {
		database   string
		postgres   bool
		sqlitePath string
	}{
		{"sqlite:gatehouse.db", false, "gatehouse.db"},
		{"sqlite:/var/lib/gatehouse/g.db", false, "/var/lib/gatehouse/g.db"},
		{"postgres://db/gatehouse", true, ""},
		{"postgresql://db/gatehouse", true, ""},
	}
	for _, tt := range tests {
		c := &Config{Database: tt.database}
		if c.IsPostgres() != tt.postgres || c.SQLitePath() != tt.sqlitePath {
			t.Errorf("%s: IsPostgres %v SQLitePath %q, want %v %q",
				tt.database, c.IsPostgres(), c.SQLitePath(), tt.postgres, tt.sqlitePath)
		}
	}
}

func TestLoggerFormat(t *testing.T) {
	for _, tt := range []struct{ format, want string }{
		{"json", `"msg":"started"`},
		{"text", `msg=started`},
	} {
		var b strings.Builder
		(&Config{LogFormat: tt.format}).Logger(&b).Info("started")
		if !strings.Contains(b.String(), tt.want) {
			t.Errorf("%s logger wrote %q, want it to contain %q", tt.format, b.String(), tt.want)
		}
	}
}
