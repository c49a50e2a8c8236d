package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// discover fetches the provider's discovery document once and prepares the
// client every worker shares.
func discover(ctx context.Context, cfg config) (*provider, error) {
	redirectURI, err := url.Parse(cfg.redirectURI)
	if !cfg.clientCredentials && (err != nil || redirectURI.Scheme == "" || redirectURI.Host == "") {
		return nil, fmt.Errorf("--redirect-uri %q is not an absolute URL", cfg.redirectURI)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = cfg.workers * 2

	client := &http.Client{Transport: transport, Timeout: cfg.timeout}
	op, err := oidc.NewProvider(oidc.ClientContext(ctx, client), cfg.issuer)
	if err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	var meta struct {
		AuthMethods []string `json:"token_endpoint_auth_methods_supported"`
		IssInAnswer bool     `json:"authorization_response_iss_parameter_supported"`
	}
	if err := op.Claims(&meta); err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	endpoint := op.Endpoint()
	endpoint.AuthStyle = authStyle(cfg.clientSecret, meta.AuthMethods)

	return &provider{
		issuer:      cfg.issuer,
		issInAnswer: meta.IssInAnswer,
		oauth: oauth2.Config{
			ClientID:     cfg.clientID,
			ClientSecret: cfg.clientSecret,
			Endpoint:     endpoint,
			RedirectURL:  cfg.redirectURI,
			Scopes:       scopes(cfg),
		},
		verifier:    op.Verifier(&oidc.Config{ClientID: cfg.clientID}),
		redirectURI: redirectURI,
		fields:      formFields{username: cfg.usernameField, password: cfg.passwordField, otp: cfg.otpField},
		transport:   transport,
		timeout:     cfg.timeout,
	}, nil
}

// scopes are the scopes asked for: --scope, with offline_access for
// --refresh, which needs a refresh token, and without openid for
// --client-credentials, where no user signs in.
func scopes(cfg config) []string {
	s := strings.Fields(cfg.scope)
	switch {
	case cfg.refresh && !slices.Contains(s, "offline_access"):
		s = append(s, "offline_access")
	case cfg.clientCredentials:
		s = slices.DeleteFunc(s, func(v string) bool { return v == "openid" || v == "email" || v == "profile" })
	}
	return s
}

// authStyle picks how the client authenticates at the token endpoint, so
// that no token request is wasted on guessing: a public client sends only its
// id; a confidential one prefers HTTP Basic, the default of OpenID
// Connect Discovery when the provider lists no methods.
func authStyle(secret string, methods []string) oauth2.AuthStyle {
	if secret == "" {
		return oauth2.AuthStyleInParams
	}
	if len(methods) == 0 || slices.Contains(methods, "client_secret_basic") {
		return oauth2.AuthStyleInHeader
	}
	return oauth2.AuthStyleInParams
}

// run discovers the provider, optionally measures the argon2id baseline,
// then runs flows on cfg.workers workers until cfg.flows flows have run or
// cfg.duration has passed. Cancelling ctx stops the run early; the flows cut
// short are left out and the report covers the rest.
func run(ctx context.Context, cfg config, users []user, progress io.Writer) (*report, error) {
	prov, err := discover(ctx, cfg)
	if err != nil {
		return nil, err
	}

	var baseline *baselineReport
	if cfg.argon2Baseline {
		hashers := baselineHashers(cfg.workers)
		fmt.Fprintf(progress, "measuring argon2id (%s) on %d workers for %s\n", cfg.argon2, hashers, baselineDuration)
		baseline = &baselineReport{
			Params:          cfg.argon2.String(),
			Workers:         hashers,
			HashesPerSecond: measureArgon2(ctx, cfg.argon2, hashers, baselineDuration),
		}
	}

	stop := ctx
	if cfg.limitDuration {
		var cancel context.CancelFunc
		stop, cancel = context.WithTimeout(ctx, cfg.duration)
		defer cancel()
	}
	var started atomic.Int64
	claim := func() bool {
		if stop.Err() != nil {
			return false
		}
		return cfg.flows <= 0 || started.Add(1) <= int64(cfg.flows)
	}

	fmt.Fprintf(progress, "running %s\n", cfg.describeRun())
	pool := newUserPool(users)
	recorders := make([]*recorder, cfg.workers)
	var wg sync.WaitGroup
	begin := time.Now()
	for i := range recorders {
		rec := newRecorder()
		recorders[i] = rec
		w := &worker{p: prov, users: pool, sso: cfg.sso || cfg.refresh, clientCredentials: cfg.clientCredentials, refresh: cfg.refresh}
		wg.Go(func() {
			for claim() {
				outcome, err := w.runFlow(ctx, stop)
				if err != nil {
					return
				}
				rec.add(outcome)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(begin)

	total := newRecorder()
	for _, rec := range recorders {
		total.merge(rec)
	}
	return buildReport(cfg, total, elapsed, baseline), nil
}
