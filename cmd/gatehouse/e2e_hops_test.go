package main

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"testing"

	"github.com/gatehouse-id/gatehouse/ui"
)

// TestASignInIsAnsweredWithoutDetours: the step that completes a sign-in
// sends the browser straight back to the application with its code, and a
// browser that is already signed in is answered by /authorize itself. A
// browser that kept its session but lost its flow cookie (restarted)
// takes one hop more and still signs in.
func TestASignInIsAnsweredWithoutDetours(t *testing.T) {
	eachGatehouse(t, func(t *testing.T, g *gatehouse) {
		u := g.user("hops@example.com", "correct horse battery")
		rp := g.relyingParty("app")
		b := newBrowser(t)
		f, p := rp.start(b)
		if !isPasswordPage(p) {
			t.Fatalf("no password page: %d %s", p.status, p.url)
		}
		done := signIn(t, b, p, "hops@example.com", "correct horse battery")
		if want := []string{"/login/password", "/login"}; !slices.Equal(b.hops, want) {
			t.Errorf("the password step visited %q, want %q and then the application", b.hops, want)
		}
		if got := f.finish(done); got.id.Subject != u.ID {
			t.Fatalf("signed in as %q, want %q", got.id.Subject, u.ID)
		}

		f, p = rp.start(b)
		if want := []string{"/authorize"}; !slices.Equal(b.hops, want) || p.redirect == nil {
			t.Errorf("a signed-in browser visited %q and ended at %d %s, want only %q and then the application",
				b.hops, p.status, p.url, want)
		}
		sso := f.finish(p)
		if sso.id.Subject != u.ID || !slices.Equal(sso.claims.AMR, []string{"pwd"}) {
			t.Fatalf("single sign-on: sub %q amr %q", sso.id.Subject, sso.claims.AMR)
		}

		restarted := newBrowser(t)
		issuer, _ := url.Parse(g.issuer)
		restarted.client.Jar, _ = cookiejar.New(nil)
		var kept []*http.Cookie
		for _, c := range b.client.Jar.Cookies(issuer) {
			if c.Name == ui.SessionCookieName(false) {
				kept = append(kept, c)
			}
		}
		if len(kept) != 1 {
			t.Fatalf("the browser holds no session cookie: %v", b.client.Jar.Cookies(issuer))
		}
		restarted.client.Jar.SetCookies(issuer, kept)
		f, p = rp.start(restarted)
		if want := []string{"/authorize", "/login"}; !slices.Equal(restarted.hops, want) {
			t.Errorf("a browser without its flow cookie visited %q, want %q", restarted.hops, want)
		}
		if got := f.finish(p); got.id.Subject != u.ID {
			t.Fatalf("after a restart, signed in as %q, want %q", got.id.Subject, u.ID)
		}
	})
}
