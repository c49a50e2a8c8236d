package op

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/storage"
)

// signedInBrowser signs the user in with a browser and returns it with the
// raw ID token.
func (e *env) signedInBrowser() (*http.Client, string) {
	e.t.Helper()
	b := e.browser()
	s := e.signInWith(b, e.rp(e.conf, e.secret))
	raw, _ := s.token.Extra("id_token").(string)
	return b, raw
}

func (e *env) endSession(b *http.Client, params url.Values) *http.Response {
	e.t.Helper()
	c := &http.Client{Jar: b.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(e.issuer + pathEndSession + "?" + params.Encode())
	must(e.t, err)
	resp.Body.Close()
	return resp
}

func (e *env) sessionCount(userID string) int {
	e.t.Helper()
	var n int
	must(e.t, e.store.DB().QueryRowContext(e.ctx, `SELECT COUNT(*) FROM sessions WHERE user_id = $1`, userID).Scan(&n))
	return n
}

func clearsCookie(resp *http.Response, name string) bool {
	for _, c := range resp.Cookies() {
		if c.Name == name && c.Value == "" && c.MaxAge < 0 {
			return true
		}
	}
	return false
}

func TestEndSessionWithHint(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		b, hint := e.signedInBrowser()
		e.signedInBrowser() // the same user on another browser
		resp := e.endSession(b, url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {postLogout}, "state": {"bye"}})
		loc, _ := resp.Location()
		if resp.StatusCode != http.StatusFound || loc == nil || loc.String() != postLogout+"?state=bye" {
			t.Fatalf("end session: %d to %v, want %s?state=bye", resp.StatusCode, loc, postLogout)
		}
		if !clearsCookie(resp, e.p.cfg.SessionCookie) {
			t.Error("the session cookie is not cleared")
		}
		if n := e.sessionCount(e.user.ID); n != 1 {
			t.Errorf("%d sessions left, want 1: only this browser's session ends", n)
		}

		// Without a redirect URI the user lands on the signed-out page.
		b2, hint2 := e.signedInBrowser()
		resp = e.endSession(b2, url.Values{"id_token_hint": {hint2}})
		if loc, _ := resp.Location(); resp.StatusCode != http.StatusFound || loc.RequestURI() != "/logout?done=1" {
			t.Fatalf("end session without URI: %d to %v", resp.StatusCode, loc)
		}
		if n := e.sessionCount(e.user.ID); n != 1 {
			t.Errorf("%d sessions left, want 1", n)
		}
	})
}

// Whatever Gatehouse cannot vouch for goes to the logout page of package
// ui with the original parameters, and no session ends.
func TestEndSessionNeedsConfirmation(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		b, hint := e.signedInBrowser()
		other := &storage.User{Email: "bob@example.com", Name: "Bob"}
		must(t, e.store.Users().Create(e.ctx, other))
		otherHint := e.signToken(t, map[string]any{"iss": e.issuer, "sub": other.ID, "aud": e.conf.ID, "azp": e.conf.ID,
			"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()})
		cases := map[string]url.Values{
			"no hint":               {"client_id": {e.conf.ID}, "post_logout_redirect_uri": {postLogout}, "state": {"s"}},
			"unregistered URI":      {"id_token_hint": {hint}, "post_logout_redirect_uri": {"https://evil.example.com/"}, "state": {"s"}},
			"hint for another user": {"id_token_hint": {otherHint}, "post_logout_redirect_uri": {postLogout}},
		}
		for name, params := range cases {
			resp := e.endSession(b, params)
			loc, _ := resp.Location()
			if resp.StatusCode != http.StatusFound || loc == nil || loc.Path != testLogoutPath || loc.Query().Has("done") {
				t.Errorf("%s: %d to %v, want the logout page", name, resp.StatusCode, loc)
				continue
			}
			for _, k := range []string{"client_id", "post_logout_redirect_uri", "state"} {
				if loc.Query().Get(k) != params.Get(k) {
					t.Errorf("%s: %s = %q, want %q", name, k, loc.Query().Get(k), params.Get(k))
				}
			}
			if strings.Contains(loc.RawQuery, "id_token_hint") {
				t.Errorf("%s: the hint is passed on", name)
			}
			if clearsCookie(resp, e.p.cfg.SessionCookie) || e.sessionCount(e.user.ID) != 1 {
				t.Errorf("%s: the session ended without confirmation", name)
			}
		}
	})
}

func TestEndSessionBadInput(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		b, hint := e.signedInBrowser()
		cases := map[string]url.Values{
			"invalid hint":         {"id_token_hint": {"not.a.token"}},
			"hint of other client": {"id_token_hint": {hint}, "client_id": {e.pub.ID}},
			"repeated state":       {"id_token_hint": {hint}, "state": {"a", "b"}},
		}
		for name, params := range cases {
			resp := e.endSession(b, params)
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("%s: %d, want 400", name, resp.StatusCode)
			}
		}
		if e.sessionCount(e.user.ID) != 1 {
			t.Error("a refused logout ended the session")
		}
	})
}

// A server-side call to /end_session brings no browser cookie: nothing can
// be ended, so it is sent to the sign-out page to ask, never told "done".
func TestEndSessionWithoutACookieAsks(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		s := e.signIn(e.rp(e.conf, e.secret))
		q := url.Values{"id_token_hint": {s.token.Extra("id_token").(string)}, "post_logout_redirect_uri": {postLogout}}
		resp, err := noRedirects().Get(e.issuer + pathEndSession + "?" + q.Encode())
		must(t, err)
		resp.Body.Close()
		loc, _ := resp.Location()
		if resp.StatusCode != http.StatusFound || loc == nil || loc.Path != testLogoutPath || loc.Query().Has("done") {
			t.Fatalf("cookieless end_session: %d %v, want the sign-out page that asks", resp.StatusCode, loc)
		}
	})
}
