package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gatehouse-id/gatehouse/adminapi"
	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/mfa/recovery"
	"github.com/gatehouse-id/gatehouse/mfa/webauthn"
	"github.com/gatehouse-id/gatehouse/middleware"
	"github.com/gatehouse-id/gatehouse/op"
	"github.com/gatehouse-id/gatehouse/op/signing"
	"github.com/gatehouse-id/gatehouse/password"
	"github.com/gatehouse-id/gatehouse/secretkey"
	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/ui"
)

// mailPollInterval is how often queued mail is looked for.
const mailPollInterval = 2 * time.Second

// maxBodyBytes bounds every request body; forms and token requests are small.
const maxBodyBytes = 1 << 20

// server is one running Gatehouse: the HTTP handler and its background work.
type server struct {
	log     *slog.Logger
	store   *storage.Store
	handler http.Handler
	// metrics serves /metrics, on a listener of its own (--metrics-addr).
	metrics http.Handler

	background []func(ctx context.Context)
	wg         sync.WaitGroup
	cancel     context.CancelFunc
	// pages finish work they started after an answer before the server stops.
	pages *ui.UI
}

// defaultRequestDeadline bounds every request, so that none waits on an
// unreachable database for long; a member list exported as CSV is the
// longest request there is.
const defaultRequestDeadline = 30 * time.Second

// newServer wires storage, the provider and the hosted pages into one router.
func newServer(ctx context.Context, cfg *Config, key secretkey.Key, st *storage.Store, log *slog.Logger) (*server, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s := &server{log: log, store: st}

	deadline := cfg.RequestDeadline
	if deadline <= 0 {
		deadline = defaultRequestDeadline
	}
	// During a database outage a failed request is answered 503 with
	// Retry-After, in its endpoint's form, rather than 500.
	outage := middleware.Outage{
		Down: func(ctx context.Context) bool { return st.Ping(ctx) != nil },
		Page: func(w http.ResponseWriter, r *http.Request) {
			s.pages.ErrorPage(w, r, http.StatusServiceUnavailable, "Gatehouse is unavailable for a moment",
				"It cannot reach its database just now. Nothing was lost: try again in a minute.")
		},
		JSON:     op.JSONPaths,
		Problem:  "/api/",
		Deadline: deadline,
	}
	r := chi.NewRouter()
	r.Use(middleware.RequestID, middleware.ClientIP(cfg.TrustedProxies), middleware.Logger(log),
		middleware.NewMetrics(reg).Handler, outage.Handler, middleware.Recover(log),
		middleware.LimitBody(maxBodyBytes))
	r.Get("/healthz", s.healthz)
	r.Get("/readyz", s.readyz)
	if err := s.mountProvider(ctx, r, cfg, key, reg); err != nil {
		return nil, err
	}
	s.handler = r
	m := http.NewServeMux()
	m.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	s.metrics = m
	return s, nil
}

// mountProvider adds the OpenID provider and the hosted pages.
func (s *server) mountProvider(ctx context.Context, r chi.Router, cfg *Config, key secretkey.Key, reg prometheus.Registerer) error {
	keys := newSigningManager(s.store, cfg, key)
	if err := keys.EnsureKey(ctx); err != nil {
		return err
	}
	secure := strings.HasPrefix(cfg.Issuer, "https://")
	// The one browser session cookie, which the pages set and the provider reads.
	cookie, flow := ui.SessionCookieName(secure), ui.FlowCookieName(secure)
	mailing, err := setUpMail(cfg, key, s.store, s.log, reg, true)
	if err != nil {
		return err
	}
	if mailing.outbox != nil {
		s.background = append(s.background, func(ctx context.Context) { mailing.outbox.Run(ctx, mailPollInterval) },
			func(ctx context.Context) { mailing.bulk.Run(ctx, mailPollInterval) })
	}
	dir := directory.New(s.store, mailing.notifier)
	dir.SetOfferedFactors(offeredFactors(cfg.Issuer))
	var securityKeys *webauthn.RelyingParty
	if webauthn.Offered(cfg.Issuer) {
		if securityKeys, err = webauthn.New(cfg.Issuer, "Gatehouse"); err != nil {
			return err
		}
	}
	if mailing.outbox != nil {
		s.background = append(s.background, func(ctx context.Context) { remindMembers(ctx, dir, s.log) })
	}
	// The sign-in pages and /authorize read their clients through one cache.
	clients := storage.NewClientCache(s.store)
	// The pages answer a finished sign-in through the provider, made below
	// with the pages' error page and dispatcher.
	var provider *op.Provider
	finish := func(w http.ResponseWriter, r *http.Request, a *storage.AuthRequest, c storage.Completion) error {
		return provider.FinishSignIn(w, r, a, c)
	}
	pages, err := ui.New(ui.Config{
		Issuer: cfg.Issuer, ProductName: "Gatehouse", SessionCookie: cookie, FlowCookie: flow, SecureCookies: secure,
		SessionIdle: cfg.SessionIdle, SessionMax: cfg.SessionMax, Logger: s.log, Metrics: reg,
		TOTPKey: key.Derive(secretkey.PurposeTOTPSecrets), RecoveryKey: key.Derive(secretkey.PurposeRecoveryCodes),
		DeviceKey: key.Derive(secretkey.PurposeDeviceCookies), AccessPassKey: key.Derive(secretkey.PurposeAccessPasses),
		CallbackURL: op.CallbackURL, FinishSignIn: finish, Directory: dir, MailConfigured: mailing.configured, SecurityKeys: securityKeys,
		Clients: clients,
	}, s.store, password.NewHasher(password.DefaultParams, 0))
	if err != nil {
		return err
	}
	var cryptoKey [32]byte
	copy(cryptoKey[:], key.Derive(secretkey.PurposeTokenCrypto))
	provider, err = op.New(op.Config{
		Issuer:        cfg.Issuer,
		SessionCookie: cookie, FlowCookie: flow, SignInURL: ui.SignInURL, SignIn: pages.Dispatch, SignOutURL: ui.SignOutURL, ErrorPage: pages.ErrorPage, Clients: clients,
		AccessTokenTTL: cfg.AccessTokenTTL, IDTokenTTL: cfg.IDTokenTTL, RefreshTokenTTL: cfg.RefreshTokenTTL, RefreshTokenMax: cfg.RefreshTokenMax, RefreshReuseGrace: cfg.RefreshReuseGrace,
		SessionIdle: cfg.SessionIdle, CryptoKey: cryptoKey, KeysCacheMaxAge: signing.DefaultCacheMaxAge, SecurityKeys: securityKeys != nil,
		Logger: s.log, Metrics: reg,
	}, s.store, keys)
	if err != nil {
		return err
	}
	s.pages = pages
	if err := pages.EnsureAccountClient(ctx); err != nil {
		return err
	}
	pages.Routes(r)
	passKey := key.Derive(secretkey.PurposeAccessPasses)
	api, err := adminapi.New(adminapi.Config{Store: s.store, Directory: dir, Tokens: provider, Logger: s.log,
		Passes: func() (string, []byte, error) {
			passes, err := recovery.Generate(1)
			if err != nil {
				return "", nil, err
			}
			return passes[0], recovery.Hash(passKey, passes[0]), nil
		}})
	if err != nil {
		return err
	}
	api.Routes(r)
	// Each endpoint on its own route, so logs and metrics name it; the
	// rest falls to the provider's own 404.
	for _, path := range op.Paths {
		r.Handle(path, provider.Handler())
	}
	r.Handle("/*", provider.Handler())
	s.background = append(s.background, func(ctx context.Context) { s.store.RunCleanup(ctx, time.Minute, s.log) })
	return nil
}

// reminderInterval is how often members near an organisation's deadline
// are looked for.
const reminderInterval = 10 * time.Minute

// remindMembers mails the reminders before organisations' deadlines until
// ctx ends; each replica looks, each reminder goes once.
func remindMembers(ctx context.Context, dir *directory.Directory, log *slog.Logger) {
	t := time.NewTicker(reminderInterval)
	defer t.Stop()
	for {
		if _, err := dir.RemindMembers(ctx, time.Now()); err != nil && ctx.Err() == nil {
			log.ErrorContext(ctx, "reminding members of their organisations' deadlines failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 while the database is reachable and its schema is at
// least the version this binary needs (a newer schema is fine: migrations
// are additive, so an older replica keeps serving during a rolling upgrade).
func (s *server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	// A database that has gone silent can hold the driver past the
	// deadline; the probe answers when the deadline passes regardless.
	type version struct {
		have, want int64
		err        error
	}
	answer := make(chan version, 1)
	go func() {
		have, want, err := s.store.SchemaVersion(ctx)
		answer <- version{have, want, err}
	}()
	var v version
	select {
	case v = <-answer:
	case <-ctx.Done():
		v.err = ctx.Err()
	}
	have, want, err := v.have, v.want, v.err
	switch {
	case err != nil:
		s.log.Warn("readiness check failed", "err", err)
		w.Header().Set("Retry-After", "5")
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": "database unreachable"})
	case have < want:
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "reason": "database schema too old",
			"schema_version": have, "required_version": want})
	default:
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "schema_version": have})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// startBackground runs every background job until stopBackground.
func (s *server) startBackground(ctx context.Context) {
	ctx, s.cancel = context.WithCancel(ctx)
	for _, job := range s.background {
		s.wg.Go(func() { job(ctx) })
	}
}

func (s *server) stopBackground() {
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
	if s.pages != nil {
		s.pages.Wait()
	}
}
