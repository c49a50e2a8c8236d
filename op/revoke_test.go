package op

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/gatehouse-id/gatehouse/storage"
)

func (e *env) revoke(c *storage.Client, secret, token string) int {
	e.t.Helper()
	form := url.Values{"token": {token}}
	if c.Public {
		form.Set("client_id", c.ID)
		status, _ := e.post(pathRevocation, form, "", "")
		return status
	}
	status, _ := e.post(pathRevocation, form, c.ID, secret)
	return status
}

func TestRevokeAccessToken(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		s := e.signIn(e.rp(e.conf, e.secret))
		if status := e.revoke(e.conf, e.secret, s.token.AccessToken); status != http.StatusOK {
			t.Fatalf("revoke: %d", status)
		}
		if active(e.introspect(s.token.AccessToken)) {
			t.Error("revoked access token still active")
		}
		if !active(e.introspect(s.token.RefreshToken)) {
			t.Error("revoking an access token ended its refresh token")
		}
	})
}

func TestRevokeRefreshTokenEndsFamily(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		s := e.signIn(e.rp(e.pub, ""))
		if status := e.revoke(e.pub, "", s.token.RefreshToken); status != http.StatusOK {
			t.Fatalf("revoke: %d", status)
		}
		if active(e.introspect(s.token.RefreshToken)) || active(e.introspect(s.token.AccessToken)) {
			t.Error("tokens of the revoked refresh token's sign-in still active")
		}
	})
}

func TestRevokeUnknownOrOthersToken(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		if status := e.revoke(e.conf, e.secret, "unknown-token"); status != http.StatusOK {
			t.Errorf("unknown token: %d, want 200", status)
		}
		s := e.signIn(e.rp(e.conf, e.secret))
		for name, tok := range map[string]string{"access": s.token.AccessToken, "refresh": s.token.RefreshToken} {
			// Refused, as RFC 7009 §2.1 asks: the token was not issued to it.
			if status := e.revoke(e.pub, "", tok); status != http.StatusBadRequest {
				t.Errorf("another client's %s token: %d, want 400", name, status)
			}
			if !active(e.introspect(tok)) {
				t.Errorf("another client revoked the %s token", name)
			}
		}
		if status := e.revoke(e.conf, "wrong", s.token.AccessToken); status != http.StatusUnauthorized {
			t.Errorf("wrong secret: %d, want 401", status)
		}
	})
}
