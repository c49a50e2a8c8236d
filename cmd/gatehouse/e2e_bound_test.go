package main

import (
	"net/http"
	"strings"
	"testing"
)

// TestASignInCannotBeFinishedByAnotherBrowser: an attacker who learns the
// address of a victim's sign-in (its id) cannot sign in on it as themselves
// and take a code that carries the victim's state: every step and the
// callback belong to the browser that started it.
func TestASignInCannotBeFinishedByAnotherBrowser(t *testing.T) {
	eachGatehouse(t, func(t *testing.T, g *gatehouse) {
		victimUser := g.user("victim@example.com", "correct horse battery")
		g.user("attacker@example.com", "attacker's own passphrase")
		rp := g.relyingParty("app")
		victim := newBrowser(t)
		f, p := rp.start(victim)
		if !isPasswordPage(p) {
			t.Fatalf("no password page: %d %s", p.status, p.url)
		}
		id := p.url.Query().Get("id")

		attacker := newBrowser(t)
		for _, path := range []string{"/login?id=", "/login/password?id=", "/authorize/callback?id="} {
			got := attacker.get(g.issuer + path + id)
			if got.status != http.StatusBadRequest || !strings.Contains(got.body, "started in another browser") || got.redirect != nil {
				t.Errorf("%s in another browser: %d, want the page saying it belongs to another browser", path, got.status)
			}
		}
		took := attacker.submit(p, map[string]string{"email": "attacker@example.com", "password": "attacker's own passphrase"})
		if took.status != http.StatusBadRequest || took.redirect != nil {
			t.Fatalf("the attacker's password step on the victim's sign-in: %d, redirect %v", took.status, took.redirect)
		}
		// The victim's own sign-in is untouched.
		got := f.finish(signIn(t, victim, p, "victim@example.com", "correct horse battery"))
		if got.id.Subject != victimUser.ID {
			t.Errorf("signed in as %q, want the victim %q", got.id.Subject, victimUser.ID)
		}
	})
}
