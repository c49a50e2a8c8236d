package op

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/prometheus/client_golang/prometheus"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/gatehouse-id/gatehouse/op/signing"
	"github.com/gatehouse-id/gatehouse/storage"
)

var _ KeySource = (*signing.Manager)(nil)

// Config is what the provider needs from the command line.
type Config struct {
	Issuer string

	// What the provider shares with the hosted pages (package ui), given
	// once by main: the browser session cookie's name, where a sign-in and a
	// sign-out happen, and the error page. All required.
	SessionCookie string
	// FlowCookie names the cookie that binds a sign-in to the browser that
	// started it; the hosted pages check it at every step.
	FlowCookie string
	SignInURL  func(authRequestID string) string
	SignOutURL func(q url.Values) string
	ErrorPage  ErrorPage
	// SignIn, when set, is the dispatcher at SignInURL called in the same
	// response: /authorize hands it a valid request not stored yet, with the
	// request as the browser sends it (its flow cookie included), and store,
	// which stores the request or answers why it could not (false). A
	// sign-in that completes at once comes back through FinishSignIn and is
	// stored completed, in one statement. Optional.
	SignIn func(w http.ResponseWriter, r *http.Request, a *storage.AuthRequest, store func(http.ResponseWriter) bool)
	// Clients is the client cache /authorize shares with the hosted pages;
	// nil: one of its own.
	Clients *storage.ClientCache

	AccessTokenTTL  time.Duration // default 15m
	IDTokenTTL      time.Duration // default 1h
	RefreshTokenTTL time.Duration // default 720h, sliding: renewed on each rotation
	RefreshTokenMax time.Duration // default 2160h: a refresh token family's absolute lifetime
	// RefreshReuseGrace: a refresh token presented again by its client this
	// soon after its rotation is a retry, not a reuse. Zero turns it off.
	RefreshReuseGrace time.Duration
	SessionIdle       time.Duration // default 30m
	// SecurityKeys: the hosted pages offer security keys and passkeys, so
	// the phishing-resistant level can be reached and discovery lists it.
	SecurityKeys bool

	// CryptoKey encrypts opaque access tokens. Every replica must derive the
	// same key from the secret key, or tokens break across replicas.
	CryptoKey [32]byte

	KeysCacheMaxAge time.Duration // Cache-Control max-age of /keys, default 1h
	// MaxPendingPerNetwork bounds the unfinished sign-ins stored for one
	// client address (an IPv6 /64). Default 10,000.
	MaxPendingPerNetwork int
	Logger               *slog.Logger
	Metrics              prometheus.Registerer // nil: metrics are kept but not exported
}

// KeySource provides the signing keys (*signing.Manager). It is expected
// to cache: Active is called for every token issued.
type KeySource interface {
	Active(ctx context.Context) (*signing.Key, error)
	Published(ctx context.Context) ([]jose.JSONWebKey, error)
	Algorithms(ctx context.Context) ([]string, error)
	JWKS(ctx context.Context) ([]byte, error)
}

// Provider is the OpenID provider.
type Provider struct {
	cfg     Config
	issuer  string
	secure  bool // issuer is https: cookies are Secure
	store   *storage.Store
	keys    KeySource
	storage *Storage
	lib     *zop.Provider
	log     *slog.Logger
	metrics *metrics
	disco   discoveryCache
	clients *storage.ClientCache // for /authorize only: never to authenticate a client
	handler http.Handler
}

// New builds the provider. The store must be migrated.
func New(cfg Config, store *storage.Store, keys KeySource) (*Provider, error) {
	if store == nil || keys == nil {
		return nil, errors.New("op: a store and a key source are required")
	}
	cfg, err := withDefaults(cfg)
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.Metrics)
	if err != nil {
		return nil, err
	}
	p := &Provider{
		cfg:     cfg,
		issuer:  cfg.Issuer,
		secure:  strings.HasPrefix(cfg.Issuer, "https://"),
		store:   store,
		keys:    keys,
		log:     cfg.Logger,
		metrics: m,
		clients: cfg.Clients,
	}
	if p.clients == nil {
		p.clients = storage.NewClientCache(store)
	}
	p.storage = &Storage{p: p}
	if p.lib, err = p.newLibraryProvider(); err != nil {
		return nil, err
	}
	srv := &server{LegacyServer: zop.NewLegacyServer(p.lib, endpoints()), p: p}
	// The library's router gets no CORS of its own: routes() applies the
	// policy per path, so /authorize and /end_session get none.
	lib := zop.RegisterLegacyServer(srv, p.callback, zop.WithServerCORSOptions(nil))
	p.handler = p.routes(lib)
	return p, nil
}

func withDefaults(cfg Config) (Config, error) {
	u, err := url.Parse(cfg.Issuer)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.RawQuery != "" || u.Fragment != "" {
		return cfg, fmt.Errorf("op: issuer %q must be an absolute http(s) URL without query or fragment", cfg.Issuer)
	}
	if u.Path != "" && u.Path != "/" {
		return cfg, fmt.Errorf("op: issuer %q must not have a path: the endpoints are served at the root", cfg.Issuer)
	}
	cfg.Issuer = strings.TrimSuffix(cfg.Issuer, "/")
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.AccessTokenTTL, 15*time.Minute)
	def(&cfg.IDTokenTTL, time.Hour)
	def(&cfg.RefreshTokenTTL, 720*time.Hour)
	def(&cfg.RefreshTokenMax, 2160*time.Hour)
	def(&cfg.SessionIdle, 30*time.Minute)
	def(&cfg.KeysCacheMaxAge, time.Hour)
	if cfg.SessionCookie == "" || cfg.FlowCookie == "" || cfg.SignInURL == nil || cfg.SignOutURL == nil || cfg.ErrorPage == nil {
		return cfg, errors.New("op: the session and flow cookies, the sign-in and sign-out pages and the error page are required")
	}
	if cfg.MaxPendingPerNetwork <= 0 {
		cfg.MaxPendingPerNetwork = 10000
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.CryptoKey == ([32]byte{}) {
		return cfg, errors.New("op: the token crypto key is not set")
	}
	return cfg, nil
}

// signingAlgorithms are the algorithms a token signed by Gatehouse may use
// (--signing-alg). Both are accepted when verifying id_token_hint and JWT
// access tokens, so tokens stay valid across a change of algorithm; only
// keys Gatehouse published can verify them.
var signingAlgorithms = []string{string(jose.RS256), string(jose.ES256)}

func (p *Provider) newLibraryProvider() (*zop.Provider, error) {
	config := &zop.Config{
		CryptoKey:             p.cfg.CryptoKey,
		CodeMethodS256:        true,
		AuthMethodPost:        true,
		GrantTypeRefreshToken: true,
		SupportedScopes:       scopesSupported,
		SupportedClaims:       claimsSupported,
	}
	cors := corsOptions()
	opts := []zop.Option{
		// AES-GCM only: the library's default also decrypts unauthenticated AES-CFB.
		zop.WithCrypto(zop.NewAES256GCMCrypto(p.cfg.CryptoKey, "")),
		zop.WithCORSOptions(&cors),
		zop.WithIDTokenHintVerifierOpts(zop.WithSupportedIDTokenHintSigningAlgorithms(signingAlgorithms...)),
		zop.WithAccessTokenVerifierOpts(zop.WithSupportedAccessTokenSigningAlgorithms(signingAlgorithms...)),
	}
	if !p.secure {
		opts = append(opts, zop.WithAllowInsecure())
	}
	lib, err := zop.NewProvider(config, p.storage, zop.StaticIssuer(p.issuer), opts...)
	if err != nil {
		return nil, fmt.Errorf("op: %w", err)
	}
	return lib, nil
}

// Handler serves every OIDC endpoint at the paths of the contract with ui.
func (p *Provider) Handler() http.Handler { return p.handler }

// Storage is the library's storage, backed by the Gatehouse store.
func (p *Provider) Storage() *Storage { return p.storage }

// withIssuer gives handlers outside the library's router the issuer the
// library's helpers (verifiers, token builders) read from the context.
func (p *Provider) withIssuer(ctx context.Context) context.Context {
	return zop.ContextWithIssuer(ctx, p.issuer)
}
