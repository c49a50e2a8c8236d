package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"golang.org/x/net/html"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/mfa/webauthn"
	"github.com/gatehouse-id/gatehouse/middleware"
	"github.com/gatehouse-id/gatehouse/password"
	"github.com/gatehouse-id/gatehouse/storage"
)

const (
	testPassword   = "correct horse battery staple"
	testCookie     = "gatehouse_session"
	testClientName = "Example App"
	testLogoutURI  = "https://app.example/signed-out"
)

// testEnv is a browser (a cookie jar) in front of the hosted pages, served
// by a test server with a real store, a registered client and one user with
// a password.
type testEnv struct {
	t      *testing.T
	client *http.Client // keeps cookies, never follows redirects
	*server
}

// server is what the browsers of one test share.
type server struct {
	store    *storage.Store
	hasher   *password.Hasher
	ui       *UI
	handler  http.Handler
	http     *httptest.Server
	registry *prometheus.Registry
	app      *storage.Client
	user     *storage.User
	users    atomic.Int64

	mu        sync.Mutex
	callbacks []string // auth request ids the provider's callback received
}

type envOption func(*envOptions)

type envOptions struct {
	trusted []netip.Prefix
	keys    bool
	// localhost: the issuer is the test server itself, at localhost, as
	// a real browser's security keys need it to be.
	localhost bool
}

// servedAtLocalhost makes the issuer http://localhost:PORT, the test
// server's own address.
func servedAtLocalhost() envOption { return func(o *envOptions) { o.localhost = true } }

// withSecurityKeys offers security keys and passkeys.
func withSecurityKeys() envOption { return func(o *envOptions) { o.keys = true } }

// trustProxies makes the test server believe X-Forwarded-For from prefixes.
func trustProxies(prefixes ...string) envOption {
	return func(o *envOptions) {
		for _, p := range prefixes {
			o.trusted = append(o.trusted, netip.MustParsePrefix(p))
		}
	}
}

func newEnv(t *testing.T, store *storage.Store, opts ...envOption) *testEnv {
	t.Helper()
	var o envOptions
	for _, opt := range opts {
		opt(&o)
	}
	e := &testEnv{t: t, client: newBrowserClient(), server: &server{
		store:    store,
		hasher:   password.NewHasher(password.DefaultParams, 0),
		registry: prometheus.NewRegistry(),
	}}
	ts := httptest.NewUnstartedServer(nil)
	cfg := Config{
		Issuer:        "http://localhost:8080",
		SessionCookie: testCookie,
		Metrics:       e.registry,
		CallbackURL:   testCallbackURL,
	}
	if o.localhost {
		_, port, _ := strings.Cut(ts.Listener.Addr().String(), ":")
		cfg.Issuer = "http://localhost:" + port
	}
	var err error
	if o.keys {
		if cfg.SecurityKeys, err = webauthn.New(cfg.Issuer, "Gatehouse"); err != nil {
			t.Fatal(err)
		}
	}
	e.ui, err = New(cfg, store, e.hasher)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(e.ui.Wait)

	r := chi.NewRouter()
	r.Use(middleware.RequestID, middleware.ClientIP(o.trusted))
	e.ui.Routes(r)
	r.Get(testCallbackPath, func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.callbacks = append(e.callbacks, r.URL.Query().Get("id"))
		e.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, `<!doctype html><title>Callback</title><p id="callback">The provider's callback was reached.</p>`)
	})
	e.handler = r
	ts.Config.Handler = r
	ts.Start()
	if o.localhost {
		ts.URL = cfg.Issuer
	}
	e.http = ts
	t.Cleanup(e.http.Close)

	e.app = &storage.Client{
		Name:                   testClientName,
		RedirectURIs:           storage.StringList{"https://app.example/callback"},
		PostLogoutRedirectURIs: storage.StringList{testLogoutURI},
	}
	must(t, store.Clients().Create(context.Background(), e.app))
	e.user = e.addUser("alice@example.com", testPassword)
	return e
}

// browser is a new browser, without cookies, for test t.
func (e *testEnv) browser(t *testing.T) *testEnv {
	return &testEnv{t: t, client: newBrowserClient(), server: e.server}
}

func newBrowserClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// newUser stores a user with a fresh email and the test password.
func (e *testEnv) newUser() *storage.User {
	return e.addUser(fmt.Sprintf("user%d@example.com", e.users.Add(1)), testPassword)
}

// addUser stores a user; an empty password leaves them without one.
func (e *testEnv) addUser(email, plain string) *storage.User {
	e.t.Helper()
	u := &storage.User{Email: email, Name: "Test User"}
	if plain != "" {
		hash, err := e.hasher.Hash(context.Background(), plain)
		must(e.t, err)
		u.PasswordHash = &hash
	}
	must(e.t, e.store.Users().Create(context.Background(), u))
	return u
}

// addAuthRequest stores an authorization request as the provider would.
func (e *testEnv) addAuthRequest(change func(a *storage.AuthRequest)) *storage.AuthRequest {
	e.t.Helper()
	a := &storage.AuthRequest{
		ClientID:    e.app.ID,
		RedirectURI: e.app.RedirectURIs[0],
		Scopes:      storage.StringList{"openid"},
		State:       "state-123",
		ExpiresAt:   time.Now().Add(30 * time.Minute),
	}
	if change != nil {
		change(a)
	}
	must(e.t, e.store.AuthRequests().Create(context.Background(), a, 1<<20))
	return a
}

// authRequest reads a request back, whatever its state.
func (e *testEnv) authRequest(id string) *storage.AuthRequest {
	e.t.Helper()
	a, err := e.store.AuthRequests().Get(context.Background(), id)
	must(e.t, err)
	return a
}

// addSession stores a session for user and returns the cookie value.
func (e *testEnv) addSession(user *storage.User, authTime, expiresAt time.Time) string {
	e.t.Helper()
	secret, digest := storage.NewSecret()
	s := &storage.Session{IDHash: digest, UserID: user.ID, AuthTime: authTime, AMR: storage.StringList{"pwd"}, ExpiresAt: expiresAt}
	must(e.t, e.store.Sessions().Create(context.Background(), s))
	return secret
}

// sessionLive reports whether the session behind a cookie value is live.
func (e *testEnv) sessionLive(value string) bool {
	e.t.Helper()
	_, err := e.store.Sessions().Touch(context.Background(), storage.HashSecret(value), time.Hour)
	if errors.Is(err, storage.ErrNotFound) {
		return false
	}
	must(e.t, err)
	return true
}

// setCookie gives the test client's browser a session cookie.
func (e *testEnv) setCookie(value string) {
	u, _ := url.Parse(e.http.URL)
	e.client.Jar.SetCookies(u, []*http.Cookie{{Name: testCookie, Value: value, Path: "/"}})
}

// cookie is the session cookie the test client's browser holds, or "".
func (e *testEnv) cookie() string {
	u, _ := url.Parse(e.http.URL)
	for _, c := range e.client.Jar.Cookies(u) {
		if c.Name == testCookie {
			return c.Value
		}
	}
	return ""
}

func (e *testEnv) get(path string) *http.Response {
	e.t.Helper()
	resp, err := e.client.Get(e.http.URL + path)
	must(e.t, err)
	e.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// post sends form from the test client, with extra headers as name, value pairs.
func (e *testEnv) post(path string, form url.Values, headers ...string) *http.Response {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.http.URL+path, strings.NewReader(form.Encode()))
	must(e.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := e.client.Do(req)
	must(e.t, err)
	e.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// signIn posts the password form for request id.
func (e *testEnv) signIn(id, email, plain string, headers ...string) *http.Response {
	e.t.Helper()
	return e.post("/login/password", url.Values{"id": {id}, "email": {email}, "password": {plain}}, headers...)
}

func (e *testEnv) callbackHits() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.callbacks...)
}

// signins is the value of gatehouse_signins_total for the password factor.
func (e *testEnv) signins(outcome string) float64 {
	return testutil.ToFloat64(e.ui.metrics.signins.WithLabelValues(factorPassword, outcome))
}

// passwordSteps is the sample count of the password step latency histogram,
// as the registry reports it.
func (e *testEnv) passwordSteps() uint64 {
	e.t.Helper()
	families, err := e.registry.Gather()
	must(e.t, err)
	for _, f := range families {
		if f.GetName() == "gatehouse_signin_password_duration_seconds" {
			return f.GetMetric()[0].GetHistogram().GetSampleCount()
		}
	}
	e.t.Fatal("the password step latency is not registered")
	return 0
}

// auditEvents lists the recorded events of one type.
func (e *testEnv) auditEvents(typ directory.EventType) []storage.AuditEvent {
	e.t.Helper()
	es, err := e.store.Audit().List(context.Background(), storage.AuditFilter{Type: string(typ)})
	must(e.t, err)
	return es
}

func wantStatus(t testing.TB, resp *http.Response, want int) {
	t.Helper()
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, want)
	}
}

func wantRedirect(t testing.TB, resp *http.Response, want string) {
	t.Helper()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("%s %s: status %d, want 303 to %s", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, want)
	}
	if got := resp.Header.Get("Location"); got != want {
		t.Fatalf("%s %s: redirect to %q, want %q", resp.Request.Method, resp.Request.URL.Path, got, want)
	}
}

// page parses an HTML response.
func page(t testing.TB, resp *http.Response) *html.Node {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Fatalf("Content-Type %q, want an HTML page", ct)
	}
	doc, err := html.Parse(resp.Body)
	must(t, err)
	return doc
}

// find returns the elements under n that match.
func find(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var found []*html.Node
	for d := range n.Descendants() {
		if d.Type == html.ElementNode && match(d) {
			found = append(found, d)
		}
	}
	return found
}

func byID(id string) func(*html.Node) bool {
	return func(n *html.Node) bool { v, _ := attr(n, "id"); return v == id }
}

func byTag(tag string) func(*html.Node) bool {
	return func(n *html.Node) bool { return n.Data == tag }
}

// element returns the one element with this id.
func element(t testing.TB, doc *html.Node, id string) *html.Node {
	t.Helper()
	found := find(doc, byID(id))
	if len(found) != 1 {
		t.Fatalf("%d elements with id %q, want 1", len(found), id)
	}
	return found[0]
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

// text is the text inside n with runs of white space collapsed.
func text(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// heading is the text of the page's h1.
func heading(t testing.TB, doc *html.Node) string {
	t.Helper()
	h := find(doc, byTag("h1"))
	if len(h) != 1 {
		t.Fatalf("%d h1 elements, want 1", len(h))
	}
	return text(h[0])
}

// formError is the text of the password form's error, or "".
func formError(doc *html.Node) string {
	found := find(doc, byID("form-error"))
	if len(found) == 0 {
		return ""
	}
	return text(found[0])
}

// testCallbackPath stands in for the provider's callback.
const testCallbackPath = "/authorize/callback"

func testCallbackURL(id string) string { return testCallbackPath + "?id=" + url.QueryEscape(id) }
