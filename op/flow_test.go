package op

import (
	"net/http"
	"slices"
	"testing"
	"time"
)

func TestCodeFlowConfidentialClient(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		s := e.signIn(e.rp(e.conf, e.secret))
		c := s.claims
		if c.Subject != e.user.ID || c.Email != e.user.Email || !c.EmailVerified || c.Name != e.user.Name {
			t.Errorf("user claims = %+v, want %s / %s / verified / %s", c, e.user.ID, e.user.Email, e.user.Name)
		}
		if c.Nonce != e.nonce {
			t.Errorf("nonce %q, want %q", c.Nonce, e.nonce)
		}
		if c.ACR != acrPassword || !slices.Equal(c.AMR, []string{"pwd"}) {
			t.Errorf("acr %q amr %v, want %s [pwd]", c.ACR, c.AMR, acrPassword)
		}
		if age := time.Since(time.Unix(c.AuthTime, 0)); age < 30*time.Second || age > 10*time.Minute {
			t.Errorf("auth_time %v is not the sign-in time (a minute ago)", time.Unix(c.AuthTime, 0))
		}
		if !s.id.Expiry.After(time.Now().Add(50*time.Minute)) || s.id.Expiry.After(time.Now().Add(61*time.Minute)) {
			t.Errorf("ID token expires at %v, want in an hour", s.id.Expiry)
		}
		if s.token.AccessToken == "" || s.token.RefreshToken == "" || s.token.TokenType != "Bearer" {
			t.Errorf("token response %+v: want an access and a refresh token", s.token)
		}
		// Only digests are stored: the tokens themselves are nowhere in the database.
		var n int
		must(t, e.store.DB().QueryRowContext(e.ctx, `SELECT COUNT(*) FROM tokens WHERE family_id != ''`).Scan(&n))
		if n != 2 {
			t.Errorf("%d token rows, want an access and a refresh token", n)
		}
	})
}

func TestCodeFlowPublicClientWithPKCE(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		s := e.signIn(e.rp(e.pub, ""))
		if s.claims.Subject != e.user.ID || s.token.RefreshToken == "" {
			t.Fatalf("public client sign-in: claims %+v refresh %q", s.claims, s.token.RefreshToken)
		}
	})
}

func TestNoRefreshTokenWithoutOfflineAccess(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		s := e.signIn(e.rp(e.conf, e.secret, "openid", "email"))
		if s.token.RefreshToken != "" {
			t.Error("a refresh token was issued without offline_access")
		}
		if s.claims.Name != "" {
			t.Errorf("name %q released without the profile scope", s.claims.Name)
		}
	})
}

// The sign-in steps ending in an error (prompt=none without a session) reach
// the client with error, error_description, state and iss.
func TestCallbackSendsSignInErrorToClient(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		e.failWith = "login_required"
		r := e.rp(e.conf, e.secret)
		u, state, _ := r.authURL()
		q := e.visit(e.browser(), u).Query()
		if q.Get("error") != "login_required" || q.Get("error_description") == "" || q.Get("state") != state || q.Get("iss") != e.issuer {
			t.Fatalf("error response %v: want login_required with description, state %q and iss %q", q, state, e.issuer)
		}
		if q.Has("code") {
			t.Error("an error response carries a code")
		}
	})
}

// A code is only handed to the browser whose session completed the request.
func TestCallbackRequiresTheSigningInBrowser(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		r := e.rp(e.conf, e.secret)
		u, _, _ := r.authURL()
		b := e.browser()
		b.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
			if req.URL.Path == pathCallback {
				return http.ErrUseLastResponse
			}
			return nil
		}
		resp, err := b.Get(u)
		must(t, err)
		resp.Body.Close()
		callback, _ := resp.Location()
		callback = resp.Request.URL.ResolveReference(callback)

		// Another browser (no cookie) at the same callback gets a page.
		other, err := noRedirects().Get(callback.String())
		must(t, err)
		other.Body.Close()
		if other.StatusCode != http.StatusBadRequest || other.Header.Get("Location") != "" {
			t.Fatalf("callback without the session: status %d, location %q", other.StatusCode, other.Header.Get("Location"))
		}
		// The signing-in browser still gets its code, once.
		b.CheckRedirect = e.browser().CheckRedirect
		resp, err = b.Get(callback.String())
		must(t, err)
		resp.Body.Close()
		if loc, _ := resp.Location(); resp.StatusCode != http.StatusFound || loc.Query().Get("code") == "" {
			t.Fatalf("callback in the signing-in browser: status %d", resp.StatusCode)
		}
		again, err := b.Get(callback.String())
		must(t, err)
		again.Body.Close()
		if again.StatusCode != http.StatusBadRequest {
			t.Fatalf("second visit of the callback: status %d, want 400 (one code per request)", again.StatusCode)
		}
	})
}
