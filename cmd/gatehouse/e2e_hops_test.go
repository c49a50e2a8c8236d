package main

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/ui"
)

// TestASignInIsAnsweredWithoutDetours: the step that completes a sign-in
// sends the browser straight back to the application with its code, and a
// browser that is already signed in is answered by /authorize itself, as
// is one that kept its session but lost its flow cookie (restarted). A new
// browser goes from /authorize straight to the password page.
func TestASignInIsAnsweredWithoutDetours(t *testing.T) {
	eachGatehouse(t, func(t *testing.T, g *gatehouse) {
		u := g.user("hops@example.com", "correct horse battery")
		rp := g.relyingParty("app")
		b := newBrowser(t)
		f, p := rp.start(b)
		if !isPasswordPage(p) {
			t.Fatalf("no password page: %d %s", p.status, p.url)
		}
		if want := []string{"/authorize", "/login/password"}; !slices.Equal(b.hops, want) {
			t.Errorf("a new browser visited %q, want %q", b.hops, want)
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
		if want := []string{"/authorize"}; !slices.Equal(restarted.hops, want) || p.redirect == nil {
			t.Errorf("a browser without its flow cookie visited %q, want only %q and then the application", restarted.hops, want)
		}
		if got := f.finish(p); got.id.Subject != u.ID {
			t.Fatalf("after a restart, signed in as %q, want %q", got.id.Subject, u.ID)
		}

		// A POST without cookies may be a cross-site form that the browser
		// sent without its SameSite=Lax cookies: the redirect to the
		// dispatcher carries them, so /authorize does not decide for it.
		authURL, _ := url.Parse(rp.oauth.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
		noRedirects := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := noRedirects.PostForm(g.issuer+"/authorize", authURL.Query())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, "/login?id=") {
			t.Errorf("a POST without cookies: %d to %q, want a redirect to the dispatcher", resp.StatusCode, loc)
		}
	})
}
