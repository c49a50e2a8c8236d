package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/net/html"
	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/password"
	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

// gatehouse is a whole Gatehouse server under test, as `serve` wires it.
type gatehouse struct {
	t      testing.TB
	issuer string
	store  *storage.Store
}

// startGatehouse starts a whole server, as serve wires it, on a fresh
// secret key.
func startGatehouse(t testing.TB, dbURL string) *gatehouse {
	t.Helper()
	return startKeyedGatehouse(t, dbURL, newSecretKey(t)).gatehouse
}

func (g *gatehouse) user(email, pass string) *storage.User {
	g.t.Helper()
	hash, err := password.NewHasher(password.DefaultParams, 0).Hash(context.Background(), pass)
	if err != nil {
		g.t.Fatal(err)
	}
	u := &storage.User{Email: email, Name: "Test User", PasswordHash: &hash}
	if err := g.store.Users().Create(context.Background(), u); err != nil {
		g.t.Fatal(err)
	}
	return u
}

// relyingParty is an application signing users in through Gatehouse with
// go-oidc and x/oauth2, as a real one would.
type relyingParty struct {
	t        testing.TB
	g        *gatehouse
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
}

func (g *gatehouse) relyingParty(name string) *relyingParty {
	g.t.Helper()
	secret, digest := storage.NewSecret()
	c := &storage.Client{Name: name, SecretHash: digest, RedirectURIs: storage.StringList{"https://rp.example.com/" + name + "/cb"},
		PostLogoutRedirectURIs: storage.StringList{"https://rp.example.com/" + name + "/bye"}}
	if err := g.store.Clients().Create(context.Background(), c); err != nil {
		g.t.Fatal(err)
	}
	provider, err := oidc.NewProvider(context.Background(), g.issuer)
	if err != nil {
		g.t.Fatalf("discovery: %v", err)
	}
	return &relyingParty{t: g.t, g: g,
		oauth: oauth2.Config{ClientID: c.ID, ClientSecret: secret, Endpoint: provider.Endpoint(),
			RedirectURL: c.RedirectURIs[0], Scopes: []string{oidc.ScopeOpenID, "email", "offline_access"}},
		verifier: provider.Verifier(&oidc.Config{ClientID: c.ID})}
}

// browser is a user agent with a cookie jar that stops at the relying
// party's redirect URI instead of fetching it.
type browser struct {
	t      *testing.T
	client *http.Client
	// hops are the paths of Gatehouse's the last request visited, its
	// redirects included.
	hops []string
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t}
	b.client = &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if req.URL.Host == "rp.example.com" {
			return http.ErrUseLastResponse
		}
		b.hops = append(b.hops, req.URL.Path)
		return nil
	}}
	return b
}

// page is where the browser ended up: a page of Gatehouse's, or a redirect
// to the relying party.
type page struct {
	status   int
	url      *url.URL
	body     string
	redirect *url.URL // set when Gatehouse sent the browser to the relying party
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	b.hops = []string{req.URL.Path}
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	p := page{status: resp.StatusCode, url: resp.Request.URL, body: string(body)}
	if loc, err := resp.Location(); err == nil && loc.Host == "rp.example.com" {
		p.redirect = loc
	}
	return p
}

func (b *browser) get(u string) page {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return b.do(req)
}

// submit fills the page's form and posts it like a browser would.
func (b *browser) submit(p page, fill map[string]string) page {
	b.t.Helper()
	action, values := parseForm(b.t, p.body)
	for k, v := range fill {
		values.Set(k, v)
	}
	target := p.url.ResolveReference(&url.URL{Path: action})
	if a, err := url.Parse(action); err == nil {
		target = p.url.ResolveReference(a)
	}
	req, _ := http.NewRequest(http.MethodPost, target.String(), strings.NewReader(values.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", p.url.Scheme+"://"+p.url.Host)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

// parseForm returns the first form's action and its inputs' values.
func parseForm(t *testing.T, body string) (string, url.Values) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var action string
	values := url.Values{}
	found := false
	var walk func(n *html.Node, inForm bool)
	walk = func(n *html.Node, inForm bool) {
		if n.Type == html.ElementNode && n.Data == "form" {
			if found {
				return
			}
			found, inForm = true, true
			action = attr(n, "action")
		}
		if inForm && n.Type == html.ElementNode && n.Data == "input" && attr(n, "name") != "" {
			values.Set(attr(n, "name"), attr(n, "value"))
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, inForm)
		}
	}
	walk(doc, false)
	if !found {
		t.Fatalf("no form on the page:\n%s", body)
	}
	return action, values
}

func attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

func randomString() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// flow is one authorization request of a relying party.
type flow struct {
	rp       *relyingParty
	state    string
	nonce    string
	verifier string
}

func (rp *relyingParty) start(b *browser, extra ...oauth2.AuthCodeOption) (*flow, page) {
	f := &flow{rp: rp, state: randomString(), nonce: randomString(), verifier: oauth2.GenerateVerifier()}
	opts := append([]oauth2.AuthCodeOption{oidc.Nonce(f.nonce), oauth2.S256ChallengeOption(f.verifier)}, extra...)
	return f, b.get(rp.oauth.AuthCodeURL(f.state, opts...))
}

// tokens is what a finished flow gave the relying party.
type tokens struct {
	oauth  *oauth2.Token
	id     *oidc.IDToken
	raw    string
	claims struct {
		AMR      []string `json:"amr"`
		ACR      string   `json:"acr"`
		AuthTime int64    `json:"auth_time"`
		Email    string   `json:"email"`
	}
}

// finish checks the redirect back to the relying party and redeems the code.
func (f *flow) finish(p page) *tokens {
	t := f.rp.t
	t.Helper()
	if p.redirect == nil {
		t.Fatalf("expected a redirect to the relying party, got %d at %s:\n%.1500s", p.status, p.url, p.body)
	}
	q := p.redirect.Query()
	if q.Get("error") != "" {
		t.Fatalf("authorization error %s: %s", q.Get("error"), q.Get("error_description"))
	}
	if q.Get("state") != f.state || q.Get("iss") != f.rp.g.issuer {
		t.Fatalf("callback state %q iss %q, want %q and %q", q.Get("state"), q.Get("iss"), f.state, f.rp.g.issuer)
	}
	ctx := context.Background()
	tok, err := f.rp.oauth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(f.verifier))
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := f.rp.verifier.Verify(ctx, raw)
	if err != nil {
		t.Fatalf("ID token verification: %v", err)
	}
	if idt.Nonce != f.nonce {
		t.Fatalf("nonce %q, want %q", idt.Nonce, f.nonce)
	}
	out := &tokens{oauth: tok, id: idt, raw: raw}
	if err := idt.Claims(&out.claims); err != nil {
		t.Fatal(err)
	}
	return out
}

// errorOf returns the OAuth error the browser was redirected with.
func (f *flow) errorOf(p page) string {
	f.rp.t.Helper()
	if p.redirect == nil {
		f.rp.t.Fatalf("expected an error redirect, got %d at %s", p.status, p.url)
	}
	q := p.redirect.Query()
	if q.Get("state") != f.state || q.Get("iss") != f.rp.g.issuer {
		f.rp.t.Fatalf("error redirect without the right state/iss: %s", p.redirect)
	}
	return q.Get("error")
}

// idClaims are the sign-in claims of an ID token.
type idClaims struct {
	AMR      []string `json:"amr"`
	ACR      string   `json:"acr"`
	AuthTime int64    `json:"auth_time"`
}

// refresh redeems a refresh token and returns the verified new ID token.
func (rp *relyingParty) refresh(refreshToken string) (*oidc.IDToken, idClaims) {
	t := rp.t
	t.Helper()
	refreshed, err := rp.oauth.TokenSource(context.Background(), &oauth2.Token{RefreshToken: refreshToken}).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	raw, _ := refreshed.Extra("id_token").(string)
	idt, err := rp.verifier.Verify(context.Background(), raw)
	if err != nil {
		t.Fatalf("refreshed ID token: %v", err)
	}
	var c idClaims
	if err := idt.Claims(&c); err != nil {
		t.Fatal(err)
	}
	return idt, c
}

// introspect asks the introspection endpoint about token as rp.
func (rp *relyingParty) introspect(token string) map[string]any {
	t := rp.t
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, rp.g.issuer+"/oauth/introspect", strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(rp.oauth.ClientID), url.QueryEscape(rp.oauth.ClientSecret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatalf("introspection answer %d: %v", resp.StatusCode, err)
	}
	return m
}

func isPasswordPage(p page) bool {
	return (p.status == http.StatusOK || p.status == http.StatusUnauthorized) && p.url.Path == "/login/password" &&
		strings.Contains(p.body, `autocomplete="current-password"`)
}

func signIn(t *testing.T, b *browser, p page, email, pass string) page {
	t.Helper()
	if !isPasswordPage(p) {
		t.Fatalf("expected the password page, got %d at %s:\n%.1500s", p.status, p.url, p.body)
	}
	return b.submit(p, map[string]string{"email": email, "password": pass})
}

func eachGatehouse(t *testing.T, fn func(t *testing.T, g *gatehouse)) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) { fn(t, startGatehouse(t, b.URL(t))) })
	}
}

func TestSignInWithPasswordThroughTheHostedPage(t *testing.T) {
	eachGatehouse(t, func(t *testing.T, g *gatehouse) {
		u := g.user("ada@example.com", "correct horse battery")
		rp := g.relyingParty("app")
		b := newBrowser(t)

		f, p := rp.start(b)
		if !isPasswordPage(p) {
			t.Fatalf("authorize did not show the password page: %d %s", p.status, p.url)
		}
		wrong := b.submit(p, map[string]string{"email": "ada@example.com", "password": "not the password"})
		if wrong.status != http.StatusUnauthorized || !strings.Contains(wrong.body, "Incorrect email or password") {
			t.Fatalf("wrong password: %d\n%.1000s", wrong.status, wrong.body)
		}
		before := time.Now().Unix()
		got := f.finish(signIn(t, b, wrong, "ada@example.com", "correct horse battery"))
		if got.id.Subject != u.ID || got.claims.Email != "ada@example.com" {
			t.Fatalf("ID token sub %q email %q, want %q", got.id.Subject, got.claims.Email, u.ID)
		}
		if fmt.Sprint(got.claims.AMR) != "[pwd]" || got.claims.ACR != "urn:gatehouse:acr:pwd" {
			t.Fatalf("amr %v acr %q, want [pwd] and urn:gatehouse:acr:pwd", got.claims.AMR, got.claims.ACR)
		}
		if got.claims.AuthTime < before-1 || got.claims.AuthTime > time.Now().Unix()+1 {
			t.Fatalf("auth_time %d is not the time of the sign-in (%d)", got.claims.AuthTime, before)
		}
		if got.oauth.RefreshToken == "" {
			t.Fatal("no refresh token for offline_access")
		}

		// The access token works at /userinfo.
		info, err := oidc.NewProvider(context.Background(), g.issuer)
		if err != nil {
			t.Fatal(err)
		}
		ui, err := info.UserInfo(context.Background(), oauth2.StaticTokenSource(got.oauth))
		if err != nil || ui.Subject != u.ID {
			t.Fatalf("userinfo = %+v, %v", ui, err)
		}

		// A refresh keeps sub, auth_time, amr and acr.
		idt, rc := rp.refresh(got.oauth.RefreshToken)
		if idt.Subject != u.ID || rc.AuthTime != got.claims.AuthTime || fmt.Sprint(rc.AMR) != "[pwd]" || rc.ACR != got.claims.ACR {
			t.Fatalf("refreshed ID token sub %q %+v, want the original's", idt.Subject, rc)
		}
	})
}

func TestSingleSignOnAndPrompts(t *testing.T) {
	eachGatehouse(t, func(t *testing.T, g *gatehouse) {
		g.user("sso@example.com", "correct horse battery")
		other := g.user("other@example.com", "another fine passphrase")
		first, second := g.relyingParty("first"), g.relyingParty("second")

		// prompt=none without a session: login_required, no page.
		anon := newBrowser(t)
		f, p := first.start(anon, oauth2.SetAuthURLParam("prompt", "none"))
		if e := f.errorOf(p); e != "login_required" {
			t.Fatalf("prompt=none without a session: %q, want login_required", e)
		}

		b := newBrowser(t)
		f, p = first.start(b, oauth2.SetAuthURLParam("login_hint", "sso@example.com"))
		if !strings.Contains(p.body, `value="sso@example.com"`) {
			t.Fatal("login_hint did not fill the email field")
		}
		signedIn := f.finish(signIn(t, b, p, "sso@example.com", "correct horse battery"))

		// A second application signs in without a page, with the same auth_time.
		f, p = second.start(b)
		sso := f.finish(p)
		if sso.claims.AuthTime != signedIn.claims.AuthTime || sso.id.Subject != signedIn.id.Subject {
			t.Fatalf("SSO auth_time %d sub %s, want %d %s", sso.claims.AuthTime, sso.id.Subject, signedIn.claims.AuthTime, signedIn.id.Subject)
		}
		// prompt=none with a session answers at once.
		f, p = second.start(b, oauth2.SetAuthURLParam("prompt", "none"))
		f.finish(p)
		// max_age not exceeded: no page, same auth_time.
		f, p = second.start(b, oauth2.SetAuthURLParam("max_age", "3600"))
		if got := f.finish(p); got.claims.AuthTime != signedIn.claims.AuthTime {
			t.Fatalf("max_age not exceeded moved auth_time to %d", got.claims.AuthTime)
		}

		time.Sleep(1100 * time.Millisecond) // auth_time has one-second resolution
		// max_age exceeded: the password page again, and auth_time moves forward.
		f, p = second.start(b, oauth2.SetAuthURLParam("max_age", "0"))
		again := f.finish(signIn(t, b, p, "sso@example.com", "correct horse battery"))
		if again.claims.AuthTime <= signedIn.claims.AuthTime {
			t.Fatalf("max_age=0: auth_time %d did not move past %d", again.claims.AuthTime, signedIn.claims.AuthTime)
		}
		time.Sleep(1100 * time.Millisecond)
		// prompt=login: the password page again.
		f, p = first.start(b, oauth2.SetAuthURLParam("prompt", "login"))
		relogin := f.finish(signIn(t, b, p, "sso@example.com", "correct horse battery"))
		if relogin.claims.AuthTime <= again.claims.AuthTime {
			t.Fatalf("prompt=login: auth_time %d did not move past %d", relogin.claims.AuthTime, again.claims.AuthTime)
		}

		// An id_token_hint for another user than the session's: the sign-in page,
		// or login_required with prompt=none.
		ob := newBrowser(t)
		of, op := first.start(ob)
		otherTokens := of.finish(signIn(t, ob, op, "other@example.com", "another fine passphrase"))
		if otherTokens.id.Subject != other.ID {
			t.Fatal("signed in as the wrong user")
		}
		f, p = first.start(b, oauth2.SetAuthURLParam("id_token_hint", otherTokens.raw))
		if !isPasswordPage(p) {
			t.Fatalf("id_token_hint of another user: %d %s, want the password page", p.status, p.url)
		}
		f, p = first.start(b, oauth2.SetAuthURLParam("id_token_hint", otherTokens.raw), oauth2.SetAuthURLParam("prompt", "none"))
		if e := f.errorOf(p); e != "login_required" {
			t.Fatalf("id_token_hint of another user with prompt=none: %q, want login_required", e)
		}
	})
}

func TestLogoutEndsOnlyThisBrowsersSession(t *testing.T) {
	eachGatehouse(t, func(t *testing.T, g *gatehouse) {
		g.user("bye@example.com", "correct horse battery")
		rp := g.relyingParty("app")
		laptop, phone := newBrowser(t), newBrowser(t)
		f, p := rp.start(laptop)
		got := f.finish(signIn(t, laptop, p, "bye@example.com", "correct horse battery"))
		f, p = rp.start(phone)
		f.finish(signIn(t, phone, p, "bye@example.com", "correct horse battery"))

		q := url.Values{"id_token_hint": {got.raw}, "post_logout_redirect_uri": {"https://rp.example.com/app/bye"}, "state": {"s1"}}
		out := laptop.get(g.issuer + "/end_session?" + q.Encode())
		if out.redirect == nil || out.redirect.Path != "/app/bye" || out.redirect.Query().Get("state") != "s1" {
			t.Fatalf("end_session: %d %s, want a redirect to the registered URI with state", out.status, out.url)
		}
		f, p = rp.start(laptop)
		if !isPasswordPage(p) {
			t.Fatalf("after logout the laptop signed in without a password: %d %s", p.status, p.url)
		}
		f, p = rp.start(phone)
		f.finish(p) // the phone is still signed in

		// An unregistered URI shows a page and never redirects there.
		q.Set("post_logout_redirect_uri", "https://evil.example.com/")
		bad := phone.get(g.issuer + "/end_session?" + q.Encode())
		if bad.redirect != nil || bad.status < 400 || bad.status >= 500 {
			t.Fatalf("unregistered post_logout_redirect_uri: %d, redirect %v", bad.status, bad.redirect)
		}
	})
}

func TestIntrospectionAndRevocation(t *testing.T) {
	eachGatehouse(t, func(t *testing.T, g *gatehouse) {
		u := g.user("intro@example.com", "correct horse battery")
		rp := g.relyingParty("app")
		b := newBrowser(t)
		f, p := rp.start(b)
		got := f.finish(signIn(t, b, p, "intro@example.com", "correct horse battery"))

		m := rp.introspect(got.oauth.AccessToken)
		if m["active"] != true || m["sub"] != u.ID || m["client_id"] != rp.oauth.ClientID || m["acr"] != "urn:gatehouse:acr:pwd" ||
			fmt.Sprint(m["amr"]) != "[pwd]" || m["auth_time"] == nil || m["exp"] == nil {
			t.Fatalf("introspection = %v", m)
		}
		req, _ := http.NewRequest(http.MethodPost, g.issuer+"/oauth/revoke", strings.NewReader(url.Values{"token": {got.oauth.AccessToken}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(url.QueryEscape(rp.oauth.ClientID), url.QueryEscape(rp.oauth.ClientSecret))
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("revocation: %v %v", resp, err)
		}
		resp.Body.Close()
		if m := rp.introspect(got.oauth.AccessToken); m["active"] != false {
			t.Fatalf("revoked token introspects as %v", m)
		}
		req, _ = http.NewRequest(http.MethodGet, g.issuer+"/userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+got.oauth.AccessToken)
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "invalid_token") {
			t.Fatalf("userinfo with a revoked token: %d %q, want 401 invalid_token", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	})
}
