package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// config is the command line.
type config struct {
	issuer        string
	clientID      string
	clientSecret  string
	redirectURI   string
	scope         string
	usersFile     string
	usernameField string
	passwordField string
	otpField      string
	workers       int
	duration      time.Duration
	limitDuration bool // stop after duration; off when only --flows is given
	flows         int
	sso           bool
	// clientCredentials: each flow is one client-credentials grant, no
	// browser and no user.
	clientCredentials bool
	// refresh: each worker signs in once, unmeasured, and each flow is
	// then one refresh-token rotation.
	refresh bool
	timeout time.Duration

	argon2Baseline bool
	argon2         argon2Params

	output string
}

func (c config) describeRun() string {
	mode := "password flows"
	switch {
	case c.sso:
		mode = "single sign-on flows"
	case c.clientCredentials:
		mode = "client-credentials grants"
	case c.refresh:
		mode = "refresh-token rotations"
	}
	limit := fmt.Sprintf("for %s", c.duration)
	switch {
	case c.flows > 0 && c.limitDuration:
		limit = fmt.Sprintf("until %d flows or %s", c.flows, c.duration)
	case c.flows > 0:
		limit = fmt.Sprintf("until %d flows", c.flows)
	}
	return fmt.Sprintf("%s on %d workers against %s %s", mode, c.workers, c.issuer, limit)
}

const usageText = `Usage: loadgen --issuer URL --client-id ID --redirect-uri URL --users FILE [options]

Runs OpenID Connect sign-in flows (code flow with PKCE) against the provider
at --issuer and reports flows/s and the p50/p99/max latency of each step.
The relying party at --redirect-uri is never contacted; the client must be
registered with that redirect URI.

The users file is CSV, one user a line: email,password[,totp_secret]
(lines starting with # are comments; totp_secret is base32). A user with a
TOTP secret signs in at most once per 30-second time step, because providers
refuse a code already used; give the file at least workers x 2 users so that
workers do not wait for one, and wait 30 seconds between two runs with the
same users.

With --sso each worker keeps its browser session after its first sign-in, so
later flows go from authorize straight to the callback: this measures the
provider's own overhead without the cost of the password hash.

With --client-credentials each flow is one client-credentials grant at the
token endpoint (no browser, no users file). With --refresh each worker signs
in once, unmeasured (offline_access is added to --scope), and each flow is
then one refresh grant, rotating the refresh token.

With --argon2-baseline loadgen first computes argon2id hashes for a few
seconds, one at a time per CPU of this machine (at most --workers at once),
and reports flows/s as a share of that rate. The password hash is the floor
of a password sign-in: with the provider on this machine (or one alike), the
share says how little of its CPU everything else takes.

The client secret may also be given in $LOADGEN_CLIENT_SECRET, which keeps it
out of the process list.

Options:
`

func parseFlags(args []string, errOut io.Writer) (config, error) {
	var c config
	var argon2Text string
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(errOut)
	fs.Usage = func() {
		fmt.Fprint(errOut, usageText)
		fs.PrintDefaults()
	}
	fs.StringVar(&c.issuer, "issuer", "", "issuer URL; discovery is fetched from `URL`/.well-known/openid-configuration")
	fs.StringVar(&c.clientID, "client-id", "", "client id")
	fs.StringVar(&c.clientSecret, "client-secret", "", "client secret; empty for a public client (see $LOADGEN_CLIENT_SECRET)")
	fs.StringVar(&c.redirectURI, "redirect-uri", "", "redirect URI registered for the client")
	fs.StringVar(&c.scope, "scope", "openid email", "scopes to request, space separated")
	fs.StringVar(&c.usersFile, "users", "", "users `FILE` (CSV: email,password[,totp_secret])")
	fs.StringVar(&c.usernameField, "username-field", "username", "name of the sign-in form's username input")
	fs.StringVar(&c.passwordField, "password-field", "password", "name of the sign-in form's password input")
	fs.StringVar(&c.otpField, "otp-field", "code", "name of the one-time code input")
	fs.IntVar(&c.workers, "workers", 8, "concurrent workers, each acting as one browser")
	fs.DurationVar(&c.duration, "duration", 30*time.Second, "how long to run; with --flows, a limit only when given")
	fs.IntVar(&c.flows, "flows", 0, "stop after `N` flows")
	fs.BoolVar(&c.sso, "sso", false, "keep each worker's session after its first sign-in")
	fs.BoolVar(&c.clientCredentials, "client-credentials", false, "each flow is a client-credentials grant")
	fs.BoolVar(&c.refresh, "refresh", false, "each flow rotates a refresh token obtained by one sign-in per worker")
	fs.DurationVar(&c.timeout, "timeout", 30*time.Second, "time limit of one HTTP request, redirects included")
	fs.BoolVar(&c.argon2Baseline, "argon2-baseline", false, "first measure the most argon2id hashes/s this machine computes (one hash per CPU, at most --workers), and compare flows/s to it")
	fs.StringVar(&argon2Text, "argon2-params", "m=19456,t=2,p=1", "argon2id costs for --argon2-baseline (memory KiB, passes, lanes)")
	fs.StringVar(&c.output, "output", "text", "report format: text or json")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if c.clientSecret == "" {
		// Read after parsing so that the help text never shows it.
		c.clientSecret = os.Getenv("LOADGEN_CLIENT_SECRET")
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	durationGiven := false
	fs.Visit(func(f *flag.Flag) { durationGiven = durationGiven || f.Name == "duration" })
	c.limitDuration = c.flows == 0 || durationGiven

	var err error
	if c.argon2, err = parseArgon2Params(argon2Text); err != nil {
		return c, err
	}
	return c, c.validate()
}

func (c config) validate() error {
	switch {
	case c.issuer == "":
		return errors.New("--issuer is required")
	case c.clientID == "":
		return errors.New("--client-id is required")
	case c.redirectURI == "" && !c.clientCredentials:
		return errors.New("--redirect-uri is required")
	case c.usersFile == "" && !c.clientCredentials:
		return errors.New("--users is required")
	case c.clientCredentials && c.clientSecret == "":
		return errors.New("--client-credentials needs the client's secret")
	case boolCount(c.sso, c.clientCredentials, c.refresh) > 1:
		return errors.New("choose one of --sso, --client-credentials and --refresh")
	case c.workers < 1:
		return errors.New("--workers must be at least 1")
	case c.flows < 0:
		return errors.New("--flows must not be negative")
	case c.limitDuration && c.duration <= 0:
		return errors.New("--duration must be positive")
	case c.timeout <= 0:
		return errors.New("--timeout must be positive")
	case c.usernameField == "" || c.passwordField == "" || c.otpField == "":
		return errors.New("form field names must not be empty")
	case c.output != "text" && c.output != "json":
		return fmt.Errorf("--output must be text or json, not %q", c.output)
	}
	return nil
}

func boolCount(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := loadgen(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// loadgen is the whole command; it returns the exit status: 0 when some
// flows succeeded, 1 when every flow failed or the run could not start, 2 for
// a bad command line.
func loadgen(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "loadgen:", err)
		return 2
	}
	var users []user
	if !cfg.clientCredentials {
		if users, err = loadUsers(cfg.usersFile); err != nil {
			fmt.Fprintln(stderr, "loadgen: users:", err)
			return 2
		}
		warnFewUsers(stderr, users, cfg.workers)
	}

	r, err := run(ctx, cfg, users, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "loadgen:", err)
		return 1
	}
	if cfg.output == "json" {
		err = r.writeJSON(stdout)
	} else {
		err = r.writeText(stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, "loadgen:", err)
		return 1
	}
	if r.Succeeded == 0 {
		fmt.Fprintln(stderr, "loadgen: no flow succeeded")
		return 1
	}
	return 0
}

// warnFewUsers says when users with a TOTP secret are likely to make
// workers wait for the next time step.
func warnFewUsers(w io.Writer, users []user, workers int) {
	withTOTP := 0
	for _, u := range users {
		if u.TOTPKey != nil {
			withTOTP++
		}
	}
	if withTOTP > 0 && len(users) < 2*workers {
		fmt.Fprintf(w, "loadgen: warning: %d users for %d workers; a user with a TOTP secret signs in once per 30 s, so give at least %d users\n",
			len(users), workers, 2*workers)
	}
}
