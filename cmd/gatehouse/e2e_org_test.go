package main

import (
	"context"
	"encoding/base32"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
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
		sessions := func() (n int) {
			if err := g.store.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM sessions`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		signedIn := sessions()
		yes, grace := true, 72*time.Hour
		if _, err := dir.SetPolicy(ctx, op, "acme", directory.PolicyChange{RequireMFA: &yes, GracePeriod: &grace}); err != nil {
			t.Fatal(err)
		}
		if n := sessions(); n != signedIn || n == 0 {
			t.Errorf("turning the policy on left %d sessions of %d", n, signedIn)
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

		// The member sets up the app on the pages; the sign-in then completes
		// with both factors, and refreshes work again.
		f, p = rp.start(b2)
		if isPasswordPage(p) {
			p = signIn(t, b2, p, u.Email, pass)
		}
		app := enrollThroughThePages(t, b2, p)
		got := f.finish(app.continued)
		wantMFA(t, got)
		b3 := newBrowser(t)
		f, p = rp.start(b3)
		wantMFA(t, f.finish(signInWithApp(t, b3, p, u.Email, pass, app.phone)))
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

// enrolled is an app set up through the enrollment pages, and the page the
// sign-in continued to.
type enrolled struct {
	phone     *phoneApp
	continued page
}

// enrollThroughThePages sets up an authenticator app from the sign-in's
// enrollment page p, reading the key the QR code page shows as a person
// typing it into their app would, and continues the sign-in.
func enrollThroughThePages(t *testing.T, b *browser, p page) enrolled {
	t.Helper()
	if p.url.Path != "/login/enroll" {
		t.Fatalf("expected the enrollment page, got %d at %s", p.status, p.url)
	}
	qr := b.submit(p, nil) // "Skip to the QR code"
	doc, err := html.Parse(strings.NewReader(qr.body))
	if err != nil {
		t.Fatal(err)
	}
	var key string
	for n := range doc.Descendants() {
		if n.Type == html.ElementNode && attr(n, "id") == "totp-key" && n.FirstChild != nil {
			key = strings.ReplaceAll(n.FirstChild.Data, " ", "")
		}
	}
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(key)
	if err != nil || len(secret) == 0 {
		t.Fatalf("the QR code page shows the key %q: %v\n%.1500s", key, err, qr.body)
	}
	phone := &phoneApp{secret: secret}
	codes := b.submit(qr, map[string]string{"code": phone.code()})
	if !strings.Contains(codes.body, `id="recovery-codes"`) {
		t.Fatalf("after the code: %d at %s:\n%.1500s", codes.status, codes.url, codes.body)
	}
	doc, err = html.Parse(strings.NewReader(codes.body))
	if err != nil {
		t.Fatal(err)
	}
	var next string
	for n := range doc.Descendants() {
		if n.Type == html.ElementNode && attr(n, "id") == "continue" {
			next = attr(n, "href")
		}
	}
	to, err := url.Parse(next)
	if err != nil || next == "" {
		t.Fatalf("the recovery codes page continues to %q", next)
	}
	return enrolled{phone: phone, continued: b.get(codes.url.ResolveReference(to).String())}
}
