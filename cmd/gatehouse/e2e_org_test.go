package main

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/directory"
)

// postForm posts values to action as the page's own form would.
func postForm(b *browser, p page, action string, values url.Values) page {
	b.t.Helper()
	target := p.url.ResolveReference(&url.URL{Path: action})
	req, _ := http.NewRequest(http.MethodPost, target.String(), strings.NewReader(values.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", p.url.Scheme+"://"+p.url.Host)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

// refreshErr redeems a refresh token as rp, returning the new token or the
// OAuth error code.
func (rp *relyingParty) refreshErr(token string) (*oauth2.Token, string) {
	tok, err := rp.oauth.TokenSource(context.Background(), &oauth2.Token{RefreshToken: token}).Token()
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return nil, re.ErrorCode
	}
	if err != nil {
		rp.t.Fatalf("refresh: %v", err)
	}
	return tok, ""
}

// TestOrganisationPolicyThroughTheWholeServer: a relying party's member,
// signed in with a password, while their organisation starts requiring
// two-step verification with a grace period: refreshes go on and sign-ins
// offer "Remind me later"; once the deadline passes the refresh token is
// refused and sign-in requires enrollment; with the app, it all works again.
func TestOrganisationPolicyThroughTheWholeServer(t *testing.T) {
	eachKeyedGatehouse(t, func(t *testing.T, g *keyedGatehouse) {
		ctx := context.Background()
		const pass = "correct horse battery staple"
		u := g.user("member@example.com", pass)
		rp := g.relyingParty("notes")
		op := directory.Operator()
		dir := directory.New(g.store, nil)

		b := newBrowser(t)
		f, p := rp.start(b)
		before := f.finish(signIn(t, b, p, u.Email, pass))

		if _, err := dir.CreateOrg(ctx, op, "acme", "Acme"); err != nil {
			t.Fatal(err)
		}
		if _, err := dir.AddMember(ctx, op, "acme", u.Email, "member"); err != nil {
			t.Fatal(err)
		}
		yes, grace := true, 72*time.Hour
		if _, err := dir.SetPolicy(ctx, op, "acme", directory.PolicyChange{RequireMFA: &yes, GracePeriod: &grace}); err != nil {
			t.Fatal(err)
		}

		// The grace period: nobody is signed out, refreshes go on.
		tok, code := rp.refreshErr(before.oauth.RefreshToken)
		if code != "" {
			t.Fatalf("refresh during the grace period: %s", code)
		}
		f, p = rp.start(b)
		if isPasswordPage(p) {
			p = signIn(t, b, p, u.Email, pass)
		}
		if p.url.Path != "/login/enroll" || !strings.Contains(p.body, "Remind me later") || !strings.Contains(p.body, "Acme requires two-step verification from") {
			t.Fatalf("during the grace period: %d at %s:\n%.1500s", p.status, p.url, p.body)
		}
		later := f.finish(postForm(b, p, "/login/enroll/later", url.Values{"id": {p.url.Query().Get("id")}}))
		if later.claims.ACR != "urn:gatehouse:acr:pwd" {
			t.Errorf("after \"Remind me later\": acr %q", later.claims.ACR)
		}

		// The deadline passes.
		past := time.Now().Add(-100 * time.Hour).UTC()
		if _, err := g.store.DB().ExecContext(ctx, `UPDATE orgs SET mfa_required_since = $1`, past); err != nil {
			t.Fatal(err)
		}
		if _, err := g.store.DB().ExecContext(ctx, `UPDATE memberships SET created_at = $1`, past); err != nil {
			t.Fatal(err)
		}
		if _, code := rp.refreshErr(tok.RefreshToken); code != "invalid_grant" {
			t.Fatalf("refresh after the deadline: %q, want invalid_grant", code)
		}
		b2 := newBrowser(t)
		_, p = rp.start(b2)
		p = signIn(t, b2, p, u.Email, pass)
		if p.url.Path != "/login/enroll" || strings.Contains(p.body, "Remind me later") {
			t.Fatalf("after the deadline: %d at %s, want the enrollment without a skip", p.status, p.url)
		}
		f, p = rp.start(b2, oauth2.SetAuthURLParam("prompt", "none"))
		if e := f.errorOf(p); e != "interaction_required" {
			t.Errorf("prompt=none after the deadline: %q", e)
		}

		// With the app set up, sign-in and refresh work again.
		app := g.enrollApp(u)
		b3 := newBrowser(t)
		f, p = rp.start(b3)
		got := f.finish(signInWithApp(t, b3, p, u.Email, pass, app))
		wantMFA(t, got)
		if _, code := rp.refreshErr(got.oauth.RefreshToken); code != "" {
			t.Errorf("refresh after a sign-in with the app: %s", code)
		}

		// A member of two organisations: the earliest deadline wins, so no skip.
		two := g.user("two@example.com", pass)
		for _, slug := range []string{"beta", "gamma"} {
			if _, err := dir.CreateOrg(ctx, op, slug, strings.ToUpper(slug[:1])+slug[1:]); err != nil {
				t.Fatal(err)
			}
			if _, err := dir.AddMember(ctx, op, slug, two.Email, "member"); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := dir.SetPolicy(ctx, op, "beta", directory.PolicyChange{RequireMFA: &yes, GracePeriod: &grace}); err != nil {
			t.Fatal(err)
		}
		if _, err := dir.SetPolicy(ctx, op, "gamma", directory.PolicyChange{RequireMFA: &yes}); err != nil {
			t.Fatal(err)
		}
		b4 := newBrowser(t)
		_, p = rp.start(b4)
		if p = signIn(t, b4, p, two.Email, pass); p.url.Path != "/login/enroll" || strings.Contains(p.body, "Remind me later") {
			t.Fatalf("a member of two organisations: %d at %s", p.status, p.url)
		}
	})
}
