package op

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/op/signing"
	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

// testRSAKey is generated once per test binary: RSA generation is slow.
var testRSAKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// testKeys is a one-key KeySource.
type testKeys struct {
	key  *signing.Key
	jwks []byte
}

func newTestKeys(t testing.TB) *testKeys {
	k := testRSAKey()
	pub := jose.JSONWebKey{Key: &k.PublicKey, KeyID: "test-key-1", Algorithm: string(jose.RS256), Use: "sig"}
	jwks, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{pub}})
	if err != nil {
		t.Fatal(err)
	}
	return &testKeys{key: &signing.Key{ID: "test-key-1", Alg: jose.RS256, Signer: k}, jwks: jwks}
}

func (k *testKeys) Active(context.Context) (*signing.Key, error) { return k.key, nil }
func (k *testKeys) JWKS(context.Context) ([]byte, error)         { return k.jwks, nil }
func (k *testKeys) Algorithms(context.Context) ([]string, error) {
	return []string{string(k.key.Alg)}, nil
}
func (k *testKeys) Published(context.Context) ([]jose.JSONWebKey, error) {
	var set jose.JSONWebKeySet
	err := json.Unmarshal(k.jwks, &set)
	return set.Keys, err
}

// env is a running provider with one user and two clients, and a stand-in
// for package ui's sign-in dispatcher at /login.
type env struct {
	t         testing.TB
	ctx       context.Context
	store     *storage.Store
	p         *Provider
	srv       *httptest.Server
	issuer    string
	metrics   *prometheus.Registry
	user      *storage.User
	conf      *storage.Client // confidential
	secret    string          // conf's secret
	pub       *storage.Client // public
	keys      *testKeys
	signInAs  *storage.User // who the sign-in stand-in signs in; default user
	failWith  string        // when set, the stand-in fails the request with this error
	signInAMR []string      // what the stand-in's sign-in proves; default the password
	nonce     string        // of the last authorization request
}

const (
	confRedirect = "https://app.example.com/callback"
	pubRedirect  = "http://127.0.0.1:8765/callback"
	postLogout   = "https://app.example.com/signed-out"
	acrPassword  = "urn:gatehouse:acr:pwd"
)

// eachBackend runs fn against every configured database.
func eachBackend(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) { fn(t, newEnv(t, storagetest.Open(t, b.URL(t)))) })
	}
}

func newEnv(t testing.TB, store *storage.Store) *env {
	t.Helper()
	keys := newTestKeys(t)
	var cryptoKey [32]byte
	rand.Read(cryptoKey[:])
	e := newEnvWith(t, store, keys, cryptoKey)
	e.keys = keys
	return e
}

// newEnvWith runs a provider with the given keys and token crypto key.
func newEnvWith(t testing.TB, store *storage.Store, keys KeySource, cryptoKey [32]byte) *env {
	t.Helper()
	e := &env{t: t, ctx: context.Background(), store: store, metrics: prometheus.NewRegistry()}
	mux := http.NewServeMux()
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	e.issuer = e.srv.URL
	e.p = newTestProvider(t, e.issuer, store, keys, cryptoKey, e.metrics)
	mux.Handle("/", e.p.Handler())
	mux.HandleFunc("/login", e.signInStandIn)

	e.user = &storage.User{Email: "ada@example.com", Name: "Ada Lovelace"}
	must(t, store.Users().Create(e.ctx, e.user))
	e.signInAs = e.user
	var digest []byte
	e.secret, digest = storage.NewSecret()
	e.conf = &storage.Client{Name: "App", SecretHash: digest, RedirectURIs: storage.StringList{confRedirect},
		PostLogoutRedirectURIs: storage.StringList{postLogout}}
	must(t, store.Clients().Create(e.ctx, e.conf))
	e.pub = &storage.Client{Name: "CLI", Public: true, RedirectURIs: storage.StringList{pubRedirect}}
	must(t, store.Clients().Create(e.ctx, e.pub))
	return e
}

func newTestProvider(t testing.TB, issuer string, store *storage.Store, keys KeySource, cryptoKey [32]byte, reg *prometheus.Registry) *Provider {
	t.Helper()
	cfg := withTestPages(Config{Issuer: issuer, CryptoKey: cryptoKey, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if reg != nil {
		cfg.Metrics = reg
	}
	p, err := New(cfg, store, keys)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// signInStandIn does what package ui's dispatcher does once the user has
// proved their password: a new session, the completed request, and back
// to the callback.
func (e *env) signInStandIn(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	if e.failWith != "" {
		if err := e.store.AuthRequests().Fail(r.Context(), id, e.failWith, "no session"); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		http.Redirect(w, r, "/authorize/callback?id="+url.QueryEscape(id), http.StatusFound)
		return
	}
	value, digest := storage.NewSecret()
	authTime := time.Now().Add(-time.Minute).UTC().Truncate(time.Second)
	amr := []string{"pwd"}
	if e.signInAMR != nil {
		amr = e.signInAMR
	}
	sess := &storage.Session{IDHash: digest, UserID: e.signInAs.ID, AuthTime: authTime, AMR: amr,
		ExpiresAt: time.Now().Add(12 * time.Hour)}
	if err := e.store.Sessions().Create(r.Context(), sess); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: e.p.cfg.SessionCookie, Value: value, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	err := e.store.AuthRequests().Complete(r.Context(), id, storage.Completion{Subject: e.signInAs.ID, SessionHash: digest,
		AuthTime: authTime, AMR: amr, ACR: mfa.ACRFor(amr)})
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	http.Redirect(w, r, "/authorize/callback?id="+url.QueryEscape(id), http.StatusFound)
}

// browser follows redirects within the provider and stops at the client.
func (e *env) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	host := e.srv.Listener.Addr().String()
	return &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if req.URL.Host != host {
			return http.ErrUseLastResponse
		}
		return nil
	}}
}

// noRedirects answers every redirect itself.
func noRedirects() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// visit sends a browser to authURL and returns where the provider finally
// sends it (the client's redirect URI, with the response).
func (e *env) visit(b *http.Client, authURL string) *url.URL {
	e.t.Helper()
	resp, err := b.Get(authURL)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		body, _ := io.ReadAll(resp.Body)
		e.t.Fatalf("GET %s: status %d, want a redirect to the client: %s", resp.Request.URL, resp.StatusCode, body)
	}
	loc, err := resp.Location()
	if err != nil {
		e.t.Fatal(err)
	}
	return loc
}

// rp is a relying party built with go-oidc and x/oauth2.
type rp struct {
	conf     oauth2.Config
	verifier *gooidc.IDTokenVerifier
}

func (e *env) rp(c *storage.Client, secret string, scopes ...string) *rp {
	e.t.Helper()
	provider, err := gooidc.NewProvider(e.ctx, e.issuer)
	if err != nil {
		e.t.Fatal(err)
	}
	if len(scopes) == 0 {
		scopes = []string{gooidc.ScopeOpenID, "email", "profile", gooidc.ScopeOfflineAccess}
	}
	return &rp{
		conf: oauth2.Config{ClientID: c.ID, ClientSecret: secret, Endpoint: provider.Endpoint(),
			RedirectURL: c.RedirectURIs[0], Scopes: scopes},
		verifier: provider.Verifier(&gooidc.Config{ClientID: c.ID}),
	}
}

// idClaims are the ID token claims Gatehouse promises.
type idClaims struct {
	Subject       string   `json:"sub"`
	Email         string   `json:"email"`
	EmailVerified bool     `json:"email_verified"`
	Name          string   `json:"name"`
	ACR           string   `json:"acr"`
	AMR           []string `json:"amr"`
	AuthTime      int64    `json:"auth_time"`
	Nonce         string   `json:"nonce"`
}

// signedIn is the outcome of a whole code flow.
type signedIn struct {
	token  *oauth2.Token
	id     *gooidc.IDToken
	claims idClaims
}

// authURL starts a code flow with PKCE; it returns the URL, the state and
// the verifier.
func (r *rp) authURL(opts ...oauth2.AuthCodeOption) (u, state, verifier string) {
	verifier = oauth2.GenerateVerifier()
	state = randomHex()
	opts = append(opts, oauth2.S256ChallengeOption(verifier), gooidc.Nonce("nonce-"+state))
	return r.conf.AuthCodeURL(state, opts...), state, verifier
}

// code runs the browser part of the flow and returns the code.
func (e *env) code(r *rp) (code, verifier string) {
	e.t.Helper()
	return e.codeIn(e.browser(), r)
}

func (e *env) codeIn(b *http.Client, r *rp) (code, verifier string) {
	e.t.Helper()
	u, state, verifier := r.authURL()
	loc := e.visit(b, u)
	q := loc.Query()
	if q.Get("state") != state || q.Get("iss") != e.issuer || q.Get("code") == "" {
		e.t.Fatalf("authorization response %s: want code, state %q and iss %q", loc, state, e.issuer)
	}
	e.nonce = "nonce-" + state
	return q.Get("code"), verifier
}

// signIn runs a whole code flow and verifies the ID token as a relying
// party would.
func (e *env) signIn(r *rp) *signedIn {
	e.t.Helper()
	return e.signInWith(e.browser(), r)
}

func (e *env) signInWith(b *http.Client, r *rp) *signedIn {
	e.t.Helper()
	code, verifier := e.codeIn(b, r)
	tok, err := r.conf.Exchange(e.ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		e.t.Fatalf("exchange: %v", err)
	}
	return e.verifyID(r, tok)
}

func (e *env) verifyID(r *rp, tok *oauth2.Token) *signedIn {
	e.t.Helper()
	raw, _ := tok.Extra("id_token").(string)
	id, err := r.verifier.Verify(e.ctx, raw)
	if err != nil {
		e.t.Fatalf("verify ID token: %v", err)
	}
	s := &signedIn{token: tok, id: id}
	must(e.t, id.Claims(&s.claims))
	return s
}

// post sends a form to an endpoint, with HTTP Basic credentials when user
// is not empty, and decodes a JSON answer.
func (e *env) post(path string, form url.Values, user, pass string) (int, map[string]any) {
	e.t.Helper()
	return e.postTo(e.issuer, path, form, user, pass)
}

// postTo is post to the server at base (another replica).
func (e *env) postTo(base, path string, form url.Values, user, pass string) (int, map[string]any) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	return e.do(req)
}

func (e *env) do(req *http.Request) (int, map[string]any) {
	e.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(strings.TrimSpace(string(body))) > 0 {
		if err := json.Unmarshal(body, &m); err != nil {
			e.t.Fatalf("%s %s: status %d, body is not a JSON object: %q", req.Method, req.URL.Path, resp.StatusCode, body)
		}
	}
	return resp.StatusCode, m
}

// introspect asks about a token as the confidential client.
func (e *env) introspect(token string) map[string]any {
	e.t.Helper()
	status, m := e.post(pathIntrospection, url.Values{"token": {token}}, e.conf.ID, e.secret)
	if status != http.StatusOK {
		e.t.Fatalf("introspect: status %d %v", status, m)
	}
	return m
}

func active(m map[string]any) bool { return m["active"] == true }

// exchange redeems a code (without PKCE) as the confidential client.
func (e *env) exchange(code string) (int, map[string]any) {
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {confRedirect}}
	return e.post(pathToken, form, e.conf.ID, e.secret)
}

// refresh redeems a refresh token as the given client.
func (e *env) refresh(c *storage.Client, secret, token string, extra url.Values) (int, map[string]any) {
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token}}
	for k, v := range extra {
		form[k] = v
	}
	if c.Public {
		form.Set("client_id", c.ID)
		return e.post(pathToken, form, "", "")
	}
	return e.post(pathToken, form, c.ID, secret)
}

// expireTokens moves every stored token's expiry into the past.
func (e *env) expireTokens() {
	_, err := e.store.DB().ExecContext(e.ctx, `UPDATE tokens SET expires_at = $1`, time.Now().Add(-time.Hour).UTC())
	must(e.t, err)
}

// b64 is base64url without padding.
func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// signClaims makes a compact JWS of claims.
func signClaims(t testing.TB, signer jose.Signer, claims map[string]any) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	must(t, err)
	jws, err := signer.Sign(payload)
	must(t, err)
	s, err := jws.CompactSerialize()
	must(t, err)
	return s
}

// signToken signs claims with the provider's published key, as an ID token.
func (e *env) signToken(t testing.TB, claims map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256,
		Key: jose.JSONWebKey{Key: testRSAKey(), KeyID: e.keys.key.ID}}, (&jose.SignerOptions{}).WithType("JWT"))
	must(t, err)
	return signClaims(t, signer, claims)
}

func jsonMust(t testing.TB, body []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
}

// The hosted pages' side of the contract, as the tests stand in for them.
const (
	testCookie     = "gatehouse_session"
	testFlowCookie = "gatehouse_flow"
	testSignInPath = "/login"
	testLogoutPath = "/logout"
)

// withTestPages fills what main gives the provider from the hosted pages.
func withTestPages(cfg Config) Config {
	cfg.SessionCookie = testCookie
	cfg.FlowCookie = testFlowCookie
	cfg.SignInURL = func(id string) string { return testSignInPath + "?id=" + url.QueryEscape(id) }
	cfg.SignOutURL = func(q url.Values) string { return testLogoutPath + "?" + q.Encode() }
	cfg.ErrorPage = func(w http.ResponseWriter, r *http.Request, status int, heading, message string) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprintf(w, "<!doctype html><title>%s</title><p>%s</p>", html.EscapeString(heading), html.EscapeString(message))
	}
	return cfg
}
