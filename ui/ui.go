package ui

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/mfa/totp"
	"github.com/gatehouse-id/gatehouse/mfa/webauthn"
	"github.com/gatehouse-id/gatehouse/middleware"
	"github.com/gatehouse-id/gatehouse/password"
	"github.com/gatehouse-id/gatehouse/storage"
)

// maxFormBody is the largest form body the pages accept.
const maxFormBody = 64 << 10

// Config holds the settings of the hosted pages.
type Config struct {
	// Issuer is the provider's issuer URL; its origin is trusted for forms.
	Issuer string
	// ProductName is shown at the top of every page. Default "Gatehouse".
	ProductName string
	// SessionCookie names the browser session cookie, which the provider
	// reads too. Default SessionCookieName(SecureCookies).
	SessionCookie string
	// FlowCookie names the cookie the provider sets at /authorize to bind
	// a sign-in to its browser. Default FlowCookieName(SecureCookies).
	FlowCookie string
	// SecureCookies marks cookies Secure (an https issuer).
	SecureCookies bool
	// SessionIdle and SessionMax are the browser session's idle and
	// absolute lifetimes. Defaults 30m and 12h.
	SessionIdle, SessionMax time.Duration
	// Logger receives the details of errors. Default: discard.
	Logger *slog.Logger
	// Metrics registers the sign-in metrics; nil leaves them unregistered.
	Metrics prometheus.Registerer
	// TOTPKey encrypts authenticator secrets: the secret key derived with
	// secretkey.PurposeTOTPSecrets (32 bytes).
	TOTPKey []byte
	// DeviceKey signs device cookies: the secret key derived with
	// secretkey.PurposeDeviceCookies. Empty: no browser is known, so a
	// lock on an email or address holds for its owner too.
	DeviceKey []byte
	// RecoveryKey is the HMAC key of recovery codes: the secret key derived
	// with secretkey.PurposeRecoveryCodes (32 bytes).
	RecoveryKey []byte
	// AccessPassKey is the HMAC key of temporary access passes: the secret
	// key derived with secretkey.PurposeAccessPasses (32 bytes).
	AccessPassKey []byte
	// CallbackURL is the provider's address where a finished sign-in for
	// the auth request id continues (required).
	CallbackURL func(id string) string
	// FinishSignIn, when set, answers a sign-in the dispatcher completes in
	// the same response: the provider records the completion with a code
	// and sends the browser back to the client (one hop and one statement
	// fewer than the callback). A request without an ID, which /authorize
	// handed to Dispatch, is stored completed. storage.ErrNotFound: the
	// request expired or ended. Default: record the completion and send the
	// browser to CallbackURL.
	FinishSignIn func(w http.ResponseWriter, r *http.Request, a *storage.AuthRequest, c storage.Completion) error
	// Clients is the client cache the pages share with /authorize. The
	// pages read a client for its name and what it asks of a sign-in, and
	// the token endpoint checks the fresh client again. Default: one of
	// their own.
	Clients *storage.ClientCache
	// MailConfigured: mail reaches users (security notices are sent). The
	// pages that would send mail say so when it does not.
	MailConfigured bool
	// Directory runs the changes the pages make. Default: the operations on
	// the store, telling nobody.
	Directory *directory.Directory
	// Now is the clock the sign-in policy reads (deadlines, max_age).
	// Default time.Now.
	Now func() time.Time
	// SecurityKeys offers security keys and passkeys, checked by this
	// relying party (the issuer's); nil offers only the authenticator app,
	// as for an issuer whose host is an IP address.
	SecurityKeys *webauthn.RelyingParty
}

// SessionCookieName is the browser session cookie's name: with secure
// cookies (an https issuer) the __Host- prefix pins it to this origin
// (RFC 6265bis §4.1.3.2).
func SessionCookieName(secure bool) string {
	if secure {
		return "__Host-gatehouse_session"
	}
	return "gatehouse_session"
}

// FlowCookieName is the name of the cookie that binds a sign-in to the
// browser that started it.
func FlowCookieName(secure bool) string {
	if secure {
		return "__Host-gatehouse_flow"
	}
	return "gatehouse_flow"
}

// passwordHasher is what the password step needs of *password.Hasher.
type passwordHasher interface {
	Verify(ctx context.Context, plain, encoded string) (bool, error)
	VerifyDummy(ctx context.Context, plain string) error
	NeedsRehash(encoded string) bool
	Hash(ctx context.Context, plain string) (string, error)
}

// UI is the set of hosted pages.
type UI struct {
	cfg     Config
	store   *storage.Store
	dir     *directory.Directory
	hasher  passwordHasher
	log     *slog.Logger
	pages   *pages
	metrics *metrics
	csrf    *http.CrossOriginProtection
	assets  *assets
	// offered are the second factors the sign-in can ask for, the
	// preferred first; keys is the security-key factor when offered.
	offered []mfa.Factor
	keys    *webauthn.Factor
	// background is the work started after an answer (see afterAnswer).
	background sync.WaitGroup
}

// New checks cfg, parses every page template and registers the metrics. It
// fails if a required template is missing or does not parse.
func New(cfg Config, store *storage.Store, hasher *password.Hasher) (*UI, error) {
	if store == nil || hasher == nil {
		return nil, errors.New("ui: a store and a password hasher are required")
	}
	if err := cfg.fillDefaults(); err != nil {
		return nil, err
	}
	if cfg.Directory == nil {
		cfg.Directory = directory.New(store, nil)
		if cfg.SecurityKeys != nil {
			cfg.Directory.SetOfferedFactors([]mfa.FactorKind{mfa.FactorWebAuthn, mfa.FactorTOTP})
		}
	}
	if cfg.Clients == nil {
		cfg.Clients = storage.NewClientCache(store)
	}
	u := &UI{cfg: cfg, store: store, dir: cfg.Directory, hasher: hasher, log: cfg.Logger, offered: []mfa.Factor{totp.Factor{}}}
	if cfg.SecurityKeys != nil {
		u.keys = &webauthn.Factor{RP: cfg.SecurityKeys}
		u.offered = []mfa.Factor{*u.keys, totp.Factor{}}
	}
	var err error
	if u.assets, err = loadAssets(); err != nil {
		return nil, err
	}
	if u.pages, err = parsePages(templateFiles, cfg.ProductName, u.assets.url(stylesheet)); err != nil {
		return nil, err
	}
	if u.metrics, err = newMetrics(cfg.Metrics); err != nil {
		return nil, err
	}
	if u.csrf, err = u.newCrossOriginProtection(); err != nil {
		return nil, err
	}
	return u, nil
}

func (c *Config) fillDefaults() error {
	if c.ProductName == "" {
		c.ProductName = "Gatehouse"
	}
	if c.CallbackURL == nil {
		return errors.New("ui: the provider's callback URL is required")
	}
	if c.SessionCookie == "" {
		c.SessionCookie = SessionCookieName(c.SecureCookies)
	}
	if c.FlowCookie == "" {
		c.FlowCookie = FlowCookieName(c.SecureCookies)
	}
	if strings.HasPrefix(c.SessionCookie, "__Host-") && !c.SecureCookies {
		return fmt.Errorf("ui: the cookie name %q needs SecureCookies (browsers drop __Host- cookies without Secure)", c.SessionCookie)
	}
	if c.SessionIdle <= 0 {
		c.SessionIdle = 30 * time.Minute
	}
	if c.SessionMax <= 0 {
		c.SessionMax = 12 * time.Hour
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

// newCrossOriginProtection refuses state-changing requests from other
// origins with a friendly page. The issuer's own origin is trusted by name,
// so forms keep working behind a proxy that rewrites the Host header.
func (u *UI) newCrossOriginProtection() (*http.CrossOriginProtection, error) {
	p := http.NewCrossOriginProtection()
	if u.cfg.Issuer != "" {
		iss, err := url.Parse(u.cfg.Issuer)
		if err != nil || iss.Scheme == "" || iss.Host == "" {
			return nil, fmt.Errorf("ui: issuer %q is not an absolute URL", u.cfg.Issuer)
		}
		if err := p.AddTrustedOrigin(iss.Scheme + "://" + iss.Host); err != nil {
			return nil, fmt.Errorf("ui: issuer origin: %w", err)
		}
	}
	p.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.log.WarnContext(r.Context(), "refused a cross-origin form submission", slog.String("path", r.URL.Path))
		u.renderError(w, r, errCrossOrigin)
	}))
	return p, nil
}

// Routes mounts the hosted pages on r: /login, /login/password, /logout,
// /login/enroll, /account/* and /static/*.
func (u *UI) Routes(r chi.Router) {
	r.Group(func(r chi.Router) {
		r.Use(middleware.SecurityHeaders, middleware.LimitBody(maxFormBody))
		r.Get("/login", u.dispatch)
		r.Get("/login/password", u.showPassword)
		r.Get("/login/select", u.showSelectAccount)
		r.Get("/login/consent", u.showConsent)
		r.Get("/logout", u.showLogout)
		r.Group(func(r chi.Router) {
			r.Use(u.csrf.Handler)
			r.Post("/login/password", u.submitPassword)
			r.Post("/login/select", u.submitSelectAccount)
			r.Post("/login/consent", u.submitConsent)
			r.Post("/logout", u.submitLogout)
		})
		u.otpRoutes(r)
		u.keyRoutes(r)
		u.recoveryRoutes(r)
		r.Get("/login/pass", u.showAccessPass)
		r.Get(directory.PathInvitation, u.showInvitation)
		r.With(u.csrf.Handler).Post(directory.PathInvitation, u.acceptInvitation)
		r.With(u.csrf.Handler).Post("/login/pass", u.submitAccessPass)
		u.reenrollRoutes(r)
		u.forgotRoutes(r)
		u.enrollmentRoutes(r)
		u.accountRoutes(r)
		u.consoleRoutes(r)
		r.HandleFunc("/login/*", u.notFound)
		r.HandleFunc("/logout/*", u.notFound)
	})
	r.Get("/static/*", u.assets.serve)
	r.Get("/favicon.ico", u.assets.serveFavicon)
}

func (u *UI) notFound(w http.ResponseWriter, r *http.Request) {
	u.renderError(w, r, errNotFound)
}
