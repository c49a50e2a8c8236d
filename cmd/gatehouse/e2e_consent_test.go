package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// isConsentPage reports the consent step of a sign-in.
func isConsentPage(p page) bool {
	return p.url.Path == "/login/consent" && strings.Contains(p.body, `id="allow"`)
}

// TestConsent: prompt=consent asks every time; a client created with
// --require-consent asks once per user and scope set, remembered until the
// user removes it on the account page; prompt=none without consent gets
// consent_required; Cancel gets access_denied.
func TestConsent(t *testing.T) {
	eachGatehouse(t, func(t *testing.T, g *gatehouse) {
		g.user("ada@example.com", "correct horse battery")
		first := g.relyingParty("first-party")
		b := newBrowser(t)
		f, p := first.start(b)
		f.finish(signIn(t, b, p, "ada@example.com", "correct horse battery"))

		f, p = first.start(b, oauth2.SetAuthURLParam("prompt", "consent"))
		if !isConsentPage(p) || !strings.Contains(p.body, "first-party") || !strings.Contains(p.body, "See your email address") {
			t.Fatalf("prompt=consent: %d at %s:\n%.1500s", p.status, p.url, p.body)
		}
		if got := f.errorOf(b.submit(p, map[string]string{"decision": "deny"})); got != "access_denied" {
			t.Errorf("Cancel: error %q, want access_denied", got)
		}

		third := g.relyingParty("third-party")
		c, err := g.store.Clients().Get(context.Background(), third.oauth.ClientID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := g.store.DB().Exec(`UPDATE clients SET require_consent = TRUE WHERE id = $1`, c.ID); err != nil {
			t.Fatal(err)
		}
		f, p = third.start(b, oauth2.SetAuthURLParam("prompt", "none"))
		if got := f.errorOf(p); got != "consent_required" {
			t.Errorf("prompt=none without consent: %q, want consent_required", got)
		}
		f, p = third.start(b)
		if !isConsentPage(p) {
			t.Fatalf("a --require-consent client's first sign-in: %d at %s", p.status, p.url)
		}
		f.finish(b.submit(p, map[string]string{"decision": "allow"}))
		f, p = third.start(b)
		if p.redirect == nil {
			t.Fatalf("the remembered consent was asked again: %d at %s", p.status, p.url)
		}
		f.finish(p)

		settings := b.get(g.issuer + "/account/security")
		if !strings.Contains(settings.body, "Applications you allowed") || !strings.Contains(settings.body, "third-party") {
			t.Fatalf("the account page does not list the consent:\n%.2000s", settings.body)
		}
		form := url.Values{"client": {c.ID}}
		resp := b.postForm(g.issuer+"/account/security/consents/revoke", form)
		if resp.status != 200 || !strings.Contains(resp.body, "asks again") {
			t.Fatalf("removing the consent: %d at %s", resp.status, resp.url)
		}
		if _, p = third.start(b); !isConsentPage(p) {
			t.Errorf("after removing it, the consent was not asked: %d at %s", p.status, p.url)
		}
	})
}

// postForm posts a form to target from the same origin, as a page would.
func (b *browser) postForm(target string, form url.Values) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	u, _ := url.Parse(target)
	req.Header.Set("Origin", u.Scheme+"://"+u.Host)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}
