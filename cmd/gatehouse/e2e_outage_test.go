package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// dbProxy is a TCP proxy in front of PostgreSQL that the test can cut: a
// cut closes every connection through it and refuses new ones, as a
// database host that went away.
type dbProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cut    bool
	conns  []net.Conn
	// stalled: the proxy is a black hole, as a database host behind a
	// dropped route; held are the client ends it keeps open and silent.
	stalled bool
	held    []net.Conn
}

func startDBProxy(t *testing.T, target string) *dbProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &dbProxy{ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); p.Cut(); p.Restore() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	return p
}

func (p *dbProxy) serve(c net.Conn) {
	p.mu.Lock()
	if p.stalled {
		p.held = append(p.held, c)
		p.mu.Unlock()
		return
	}
	if p.cut {
		p.mu.Unlock()
		c.Close()
		return
	}
	p.mu.Unlock()
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns = append(p.conns, c, up)
	p.mu.Unlock()
	go func() { io.Copy(up, c); up.Close() }()
	io.Copy(c, up)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stalled {
		p.held = append(p.held, c) // the database went silent, not away
		return
	}
	c.Close()
}

// Stall turns the proxy into a black hole: the database side of every
// connection goes, the client side stays open and hears nothing, and new
// connections are accepted and never answered.
func (p *dbProxy) Stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stalled = true
	for i, c := range p.conns {
		if i%2 == 1 { // the database's end of each pair
			c.Close()
		}
	}
	p.conns = nil
}

// Cut drops every connection and refuses new ones until Restore.
func (p *dbProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// Restore lets connections through again; the ones held silent during a
// stall are closed, as when the route comes back to a server that forgot
// them.
func (p *dbProxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut, p.stalled = false, false
	for _, c := range p.held {
		c.Close()
	}
	p.held = nil
}

// wantUnavailable checks an answer during the outage: 503 with Retry-After,
// in the form the endpoint's clients read.
func wantUnavailable(t *testing.T, name string, resp *http.Response, form string) {
	t.Helper()
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("%s: %d, Retry-After %q; want 503 with Retry-After\n%.500s", name, resp.StatusCode, resp.Header.Get("Retry-After"), body)
		return
	}
	switch form {
	case "json":
		var e struct{ Error string }
		if json.Unmarshal(body, &e) != nil || e.Error != "temporarily_unavailable" {
			t.Errorf("%s: body %s, want the OAuth error temporarily_unavailable", name, body)
		}
	case "page":
		if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(body), "unavailable for a moment") {
			t.Errorf("%s: %s %.300s, want the styled page", name, resp.Header.Get("Content-Type"), body)
		}
	}
}

// behindDBProxy starts a server on PostgreSQL whose connections go through
// a proxy the test can cut or stall, with this request deadline.
func behindDBProxy(t *testing.T, why string, deadline time.Duration) (*dbProxy, *keyedGatehouse) {
	t.Helper()
	direct, err := url.Parse(postgresOnly(t, why).URL(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy := startDBProxy(t, direct.Host)
	through := *direct
	through.Host = proxy.ln.Addr().String()
	return proxy, startConfiguredGatehouse(t, through.String(), newSecretKey(t), func(c *Config) { c.RequestDeadline = deadline })
}

// timedRequests returns a sender of requests to g that follows no redirect
// and fails the test when an answer comes later than the deadline allows.
func timedRequests(t *testing.T, g *keyedGatehouse, deadline time.Duration) func(method, path string, form url.Values, auth func(*http.Request)) *http.Response {
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return func(method, path string, form url.Values, auth func(*http.Request)) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, g.issuer+path, strings.NewReader(form.Encode()))
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", g.issuer)
		}
		if auth != nil {
			auth(req)
		}
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		if d := time.Since(start); d > deadline+3*time.Second {
			t.Errorf("%s %s took %s, beyond the %s request deadline", method, path, d.Round(time.Millisecond), deadline)
		}
		return resp
	}
}

// TestDatabaseOutage cuts the database under a running server: every
// endpoint that needs it answers 503 with Retry-After (OAuth JSON or the
// styled page), never 500; /keys and discovery answer from memory;
// /readyz says 503. When the database is back, a sign-in begun before the
// cut goes on and tokens refresh, with nothing to repair.
func TestDatabaseOutage(t *testing.T) {
	const deadline = 5 * time.Second
	proxy, g := behindDBProxy(t, "the outage is a PostgreSQL server going away", deadline)

	ada := g.user("ada@example.com", "correct horse battery")
	rp := g.relyingParty("app")
	b := newBrowser(t)
	f, p := rp.start(b)
	got := f.finish(signIn(t, b, p, ada.Email, "correct horse battery"))
	// A second sign-in, begun before the cut, waits at the password page.
	b2 := newBrowser(t)
	f2, pending := rp.start(b2)
	if !isPasswordPage(pending) {
		t.Fatalf("the second sign-in is at %s", pending.url)
	}

	proxy.Cut()
	do := timedRequests(t, g, deadline)
	basic := func(r *http.Request) { r.SetBasicAuth(rp.oauth.ClientID, rp.oauth.ClientSecret) }
	bearer := func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+got.oauth.AccessToken) }

	authURL, _ := url.Parse(rp.oauth.AuthCodeURL("state-outage"))
	wantUnavailable(t, "/authorize", do(http.MethodGet, "/authorize?"+authURL.RawQuery, nil, nil), "page")
	_, fields := parseForm(t, pending.body)
	fields.Set("email", ada.Email)
	fields.Set("password", "correct horse battery")
	wantUnavailable(t, "the password step", do(http.MethodPost, "/login/password", fields, nil), "page")
	wantUnavailable(t, "a refresh", do(http.MethodPost, "/oauth/token",
		url.Values{"grant_type": {"refresh_token"}, "refresh_token": {got.oauth.RefreshToken}}, basic), "json")
	wantUnavailable(t, "introspection", do(http.MethodPost, "/oauth/introspect", url.Values{"token": {got.oauth.RefreshToken}}, basic), "json")
	wantUnavailable(t, "revocation", do(http.MethodPost, "/oauth/revoke", url.Values{"token": {got.oauth.RefreshToken}}, basic), "json")
	wantUnavailable(t, "userinfo", do(http.MethodGet, "/userinfo", nil, bearer), "json")
	wantUnavailable(t, "the account pages", do(http.MethodGet, "/account/security", nil, func(r *http.Request) {
		for _, c := range b.client.Jar.Cookies(r.URL) {
			r.AddCookie(c)
		}
	}), "page")
	wantUnavailable(t, "/readyz", do(http.MethodGet, "/readyz", nil, nil), "")
	for _, path := range []string{"/keys", "/.well-known/openid-configuration", "/healthz"} {
		if resp := do(http.MethodGet, path, nil, nil); resp.StatusCode != http.StatusOK {
			t.Errorf("%s during the outage: %d, want 200 from memory", path, resp.StatusCode)
		}
	}

	// Back again: the waiting sign-in goes on by itself, and tokens refresh.
	proxy.Restore()
	next := signIn(t, b2, pending, ada.Email, "correct horse battery")
	if after := f2.finish(next); after.id.Subject != ada.ID {
		t.Errorf("after the outage the sign-in completed for %q", after.id.Subject)
	}
	if _, rc := rp.refresh(got.oauth.RefreshToken); rc.AuthTime != got.claims.AuthTime {
		t.Errorf("the refresh after the outage: %+v", rc)
	}
}

// TestDatabaseBlackHole makes the database silent rather than gone, as
// when its route drops packets: no request waits beyond the per-request
// deadline, each answers 503 with Retry-After, and service resumes by
// itself when the database answers again.
func TestDatabaseBlackHole(t *testing.T) {
	const deadline = 3 * time.Second
	proxy, g := behindDBProxy(t, "the black hole is a PostgreSQL server that stops answering", deadline)
	ada := g.user("ada@example.com", "correct horse battery")
	rp := g.relyingParty("app")
	b := newBrowser(t)
	f, p := rp.start(b)
	got := f.finish(signIn(t, b, p, ada.Email, "correct horse battery"))

	proxy.Stall()
	do := timedRequests(t, g, deadline)
	basic := func(r *http.Request) { r.SetBasicAuth(rp.oauth.ClientID, rp.oauth.ClientSecret) }
	authURL, _ := url.Parse(rp.oauth.AuthCodeURL("state-silent"))
	wantUnavailable(t, "/authorize", do(http.MethodGet, "/authorize?"+authURL.RawQuery, nil, nil), "page")
	wantUnavailable(t, "a refresh", do(http.MethodPost, "/oauth/token",
		url.Values{"grant_type": {"refresh_token"}, "refresh_token": {got.oauth.RefreshToken}}, basic), "json")
	wantUnavailable(t, "userinfo", do(http.MethodGet, "/userinfo", nil, func(r *http.Request) {
		r.Header.Set("Authorization", "Bearer "+got.oauth.AccessToken)
	}), "json")
	wantUnavailable(t, "/readyz", do(http.MethodGet, "/readyz", nil, nil), "")
	if resp := do(http.MethodGet, "/keys", nil, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("/keys with the database silent: %d, want 200 from memory", resp.StatusCode)
	}

	// Back again: the pool drops the connections that went silent and
	// the refresh token, never rotated during the silence, works.
	proxy.Restore()
	for start := time.Now(); ; time.Sleep(200 * time.Millisecond) {
		resp := do(http.MethodGet, "/readyz", nil, nil)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			break
		}
		if time.Since(start) > 15*time.Second {
			t.Fatalf("/readyz still %d 15 s after the database answers again", resp.StatusCode)
		}
	}
	if _, rc := rp.refresh(got.oauth.RefreshToken); rc.AuthTime != got.claims.AuthTime {
		t.Errorf("the refresh after the silence: %+v", rc)
	}
}
