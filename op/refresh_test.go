package op

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/storage"
	"golang.org/x/oauth2"
)

func TestRefreshRotatesAndKeepsIDTokenClaims(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		r := e.rp(e.conf, e.secret)
		first := e.signIn(r)
		src := r.conf.TokenSource(e.ctx, &oauth2.Token{RefreshToken: first.token.RefreshToken})
		tok, err := src.Token()
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		if tok.RefreshToken == "" || tok.RefreshToken == first.token.RefreshToken || tok.AccessToken == first.token.AccessToken {
			t.Fatal("refresh did not rotate the tokens")
		}
		refreshed := e.verifyID(r, tok)
		a, b := first.claims, refreshed.claims
		if b.Subject != a.Subject || b.AuthTime != a.AuthTime || !slices.Equal(b.AMR, a.AMR) || b.ACR != a.ACR || b.ACR != acrPassword {
			t.Fatalf("refreshed ID token claims %+v, want sub, auth_time, amr and acr of %+v", b, a)
		}
		if !active(e.introspect(tok.AccessToken)) || !active(e.introspect(tok.RefreshToken)) {
			t.Error("the new tokens are not active")
		}
		if active(e.introspect(first.token.RefreshToken)) {
			t.Error("the rotated refresh token is still active")
		}
	})
}

// Presenting a rotated refresh token again revokes every token of the sign-in.
func TestRefreshReuseRevokesFamily(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		first := e.signIn(e.rp(e.conf, e.secret))
		old := first.token.RefreshToken
		status, next := e.refresh(e.conf, e.secret, old, nil)
		if status != http.StatusOK {
			t.Fatalf("refresh: %d %v", status, next)
		}
		status, body := e.refresh(e.conf, e.secret, old, nil)
		if status != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Fatalf("reuse: %d %v, want invalid_grant", status, body)
		}
		for name, tok := range map[string]string{
			"first access": first.token.AccessToken, "new access": next["access_token"].(string), "new refresh": next["refresh_token"].(string),
		} {
			if active(e.introspect(tok)) {
				t.Errorf("%s token still active after the reuse", name)
			}
		}
		if status, _ := e.refresh(e.conf, e.secret, next["refresh_token"].(string), nil); status != http.StatusBadRequest {
			t.Errorf("the newest refresh token still works after the reuse: %d", status)
		}
	})
}

// A refresh token belongs to its client: another client cannot use it, and
// trying does not use it up.
func TestRefreshTokenOfAnotherClient(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		pub := e.signIn(e.rp(e.pub, ""))
		status, body := e.refresh(e.conf, e.secret, pub.token.RefreshToken, nil)
		if status != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Fatalf("other client's refresh token: %d %v, want invalid_grant", status, body)
		}
		if status, body := e.refresh(e.pub, "", pub.token.RefreshToken, nil); status != http.StatusOK {
			t.Fatalf("owner's refresh after the refused attempt: %d %v", status, body)
		}
	})
}

func TestRefreshScopeNarrowingOnly(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		s := e.signIn(e.rp(e.conf, e.secret, "openid", "email", "offline_access"))
		status, body := e.refresh(e.conf, e.secret, s.token.RefreshToken, url.Values{"scope": {"openid profile"}})
		if status != http.StatusBadRequest || body["error"] != "invalid_scope" {
			t.Fatalf("widening: %d %v, want invalid_scope", status, body)
		}
		status, body = e.refresh(e.conf, e.secret, s.token.RefreshToken, url.Values{"scope": {"openid"}})
		if status != http.StatusOK {
			t.Fatalf("narrowing: %d %v", status, body)
		}
		if scope := e.introspect(body["access_token"].(string))["scope"]; scope != "openid" {
			t.Errorf("narrowed access token scope %q, want openid", scope)
		}
		// The new refresh token keeps the original scope.
		if scope, _ := e.introspect(body["refresh_token"].(string))["scope"].(string); !strings.Contains(scope, "email") {
			t.Errorf("new refresh token scope %q lost the original scope", scope)
		}
	})
}

func TestRefreshRefusedForDisabledUser(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		s := e.signIn(e.rp(e.conf, e.secret))
		must(t, e.store.Users().SetDisabled(e.ctx, e.user.ID, true))
		if status, body := e.refresh(e.conf, e.secret, s.token.RefreshToken, nil); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Fatalf("disabled user: %d %v, want invalid_grant", status, body)
		}
	})
}

// A refresh token slides at every rotation, but its family ends
// RefreshTokenMax after the sign-in, however often it rotates.
func TestRefreshFamilyEndsAtItsAbsoluteLifetime(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		e.p.cfg.RefreshTokenMax = time.Hour
		first := e.signIn(e.rp(e.conf, e.secret))
		row, err := e.store.Tokens().Get(e.ctx, storage.HashSecret(first.token.RefreshToken))
		must(t, err)
		if row.FamilyExpiresAt == nil || time.Until(*row.FamilyExpiresAt) > time.Hour || time.Until(*row.FamilyExpiresAt) < 59*time.Minute ||
			!row.ExpiresAt.Equal(*row.FamilyExpiresAt) {
			t.Fatalf("refresh token expires %v, family %v: want both an hour from now, not the 720h sliding lifetime", row.ExpiresAt, row.FamilyExpiresAt)
		}
		status, next := e.refresh(e.conf, e.secret, first.token.RefreshToken, nil)
		if status != http.StatusOK {
			t.Fatalf("refresh: %d %v", status, next)
		}
		child, err := e.store.Tokens().Get(e.ctx, storage.HashSecret(next["refresh_token"].(string)))
		must(t, err)
		if child.FamilyExpiresAt == nil || !child.FamilyExpiresAt.Equal(*row.FamilyExpiresAt) || child.ExpiresAt.After(*row.FamilyExpiresAt) {
			t.Fatalf("rotated token expires %v, family %v: want the family's end kept", child.ExpiresAt, child.FamilyExpiresAt)
		}
		// Time passes beyond the family's end.
		_, err = e.store.DB().ExecContext(e.ctx, `UPDATE tokens SET expires_at = $1, family_expires_at = $1 WHERE family_id = $2`,
			time.Now().Add(-time.Minute).UTC(), child.FamilyID)
		must(t, err)
		if status, body := e.refresh(e.conf, e.secret, next["refresh_token"].(string), nil); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Errorf("refresh after the family's end: %d %v, want invalid_grant", status, body)
		}
	})
}

// Within the reuse grace, a refresh token its client presents again (a
// retry after a lost answer, parallel requests) gets a fresh pair of the
// same family instead of revoking it; after the grace, reuse revokes.
func TestRefreshReuseGrace(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		e.p.cfg.RefreshReuseGrace = 10 * time.Second
		first := e.signIn(e.rp(e.conf, e.secret))
		old := first.token.RefreshToken

		// Parallel requests with one token all get tokens.
		const n = 4
		var wg sync.WaitGroup
		children := make([]string, n)
		for i := range n {
			wg.Go(func() {
				status, body := e.refresh(e.conf, e.secret, old, nil)
				if status != http.StatusOK {
					t.Errorf("parallel refresh %d: %d %v", i, status, body)
					return
				}
				children[i] = body["refresh_token"].(string)
			})
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		for i, c := range children {
			if !active(e.introspect(c)) {
				t.Errorf("child %d of the parallel refreshes is not active", i)
			}
		}
		// Another client presenting it is still refused.
		status, _ := e.refresh(e.pub, "", old, nil)
		if status != http.StatusBadRequest {
			t.Errorf("another client within the grace: %d", status)
		}
		// After the grace, presenting it again is reuse.
		_, err := e.store.DB().ExecContext(e.ctx, `UPDATE tokens SET rotated_at = $1 WHERE id_hash = $2`,
			time.Now().Add(-time.Minute).UTC(), storage.HashSecret(old))
		must(t, err)
		if status, body := e.refresh(e.conf, e.secret, old, nil); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Fatalf("reuse after the grace: %d %v", status, body)
		}
		for i, c := range children {
			if active(e.introspect(c)) {
				t.Errorf("child %d survived a reuse after the grace", i)
			}
		}
	})
}
