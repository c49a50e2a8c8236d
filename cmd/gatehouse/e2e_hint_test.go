package main

import (
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// TestLoginHintAndReauthenticationPrefillTheEmail: a login_hint naming
// another user than the signed-in one asks to sign in as that user, with
// the email filled in; signing in again fills in the signed-in user's.
func TestLoginHintAndReauthenticationPrefillTheEmail(t *testing.T) {
	eachGatehouse(t, func(t *testing.T, g *gatehouse) {
		g.user("ada@example.com", "correct horse battery")
		g.user("bob@example.com", "battery staple horse")
		rp := g.relyingParty("app")
		b := newBrowser(t)
		f, p := rp.start(b)
		f.finish(signIn(t, b, p, "ada@example.com", "correct horse battery"))

		_, p = rp.start(b, oauth2.SetAuthURLParam("login_hint", "bob@example.com"))
		if !isPasswordPage(p) || !strings.Contains(p.body, `value="bob@example.com"`) {
			t.Errorf("login_hint for another user: %d at %s, want the password page for bob:\n%.1500s", p.status, p.url, p.body)
		}
		_, p = rp.start(b, oauth2.SetAuthURLParam("prompt", "login"))
		if !isPasswordPage(p) || !strings.Contains(p.body, `value="ada@example.com"`) {
			t.Errorf("prompt=login: %d at %s, want the password page with ada's email:\n%.1500s", p.status, p.url, p.body)
		}
		// A login_hint naming the signed-in user needs nothing more.
		f, p = rp.start(b, oauth2.SetAuthURLParam("login_hint", "ADA@example.com"))
		if p.redirect == nil {
			t.Errorf("login_hint for the signed-in user: %d at %s, want single sign-on", p.status, p.url)
		} else {
			f.finish(p)
		}
	})
}

// TestSelectAccountOffersTheSignedInAccountOrAnother: prompt=select_account
// shows "Continue as …" and "Use another account".
func TestSelectAccountOffersTheSignedInAccountOrAnother(t *testing.T) {
	eachGatehouse(t, func(t *testing.T, g *gatehouse) {
		ada := g.user("ada@example.com", "correct horse battery")
		bob := g.user("bob@example.com", "battery staple horse")
		rp := g.relyingParty("app")
		b := newBrowser(t)
		f, p := rp.start(b)
		f.finish(signIn(t, b, p, "ada@example.com", "correct horse battery"))

		f, p = rp.start(b, oauth2.SetAuthURLParam("prompt", "select_account"))
		if p.url.Path != "/login/select" || !strings.Contains(p.body, "Continue as ada@example.com") || !strings.Contains(p.body, "Use another account") {
			t.Fatalf("prompt=select_account: %d at %s:\n%.1500s", p.status, p.url, p.body)
		}
		if got := f.finish(b.submit(p, map[string]string{"choice": "continue"})); got.id.Subject != ada.ID {
			t.Errorf("continued as %s, want ada", got.id.Subject)
		}

		f, p = rp.start(b, oauth2.SetAuthURLParam("prompt", "select_account"))
		other := b.submit(p, map[string]string{"choice": "other"})
		if !isPasswordPage(other) || strings.Contains(other.body, `value="ada@example.com"`) {
			t.Fatalf("use another account: %d at %s, want an empty password page", other.status, other.url)
		}
		if got := f.finish(signIn(t, b, other, "bob@example.com", "battery staple horse")); got.id.Subject != bob.ID {
			t.Errorf("signed in as %s, want bob", got.id.Subject)
		}
	})
}
