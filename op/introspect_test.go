package op

import (
	"net/http"
	"net/url"
	"testing"
	"time"
)

func TestIntrospectionFields(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		s := e.signIn(e.rp(e.conf, e.secret))
		m := e.introspect(s.token.AccessToken)
		want := map[string]any{"active": true, "scope": "openid email profile offline_access", "client_id": e.conf.ID,
			"sub": e.user.ID, "token_type": "Bearer", "acr": acrPassword, "auth_time": float64(s.claims.AuthTime), "iss": e.issuer}
		for k, v := range want {
			if m[k] != v {
				t.Errorf("%s = %v, want %v", k, m[k], v)
			}
		}
		if amr, _ := m["amr"].([]any); len(amr) != 1 || amr[0] != "pwd" {
			t.Errorf("amr = %v, want [pwd]", m["amr"])
		}
		exp, _ := m["exp"].(float64)
		iat, _ := m["iat"].(float64)
		if d := time.Unix(int64(exp), 0).Sub(time.Unix(int64(iat), 0)); d < 14*time.Minute || d > 16*time.Minute {
			t.Errorf("exp - iat = %v, want the 15m access token lifetime", d)
		}
		if _, leaked := m["jti"]; leaked {
			t.Error("introspection reveals the token id")
		}
	})
}

func TestIntrospectionInactive(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		s := e.signIn(e.rp(e.conf, e.secret))
		for name, tok := range map[string]string{"garbage": "garbage", "empty-ish": "x"} {
			if m := e.introspect(tok); len(m) != 1 || m["active"] != false {
				t.Errorf("%s: %v, want only active=false", name, m)
			}
		}
		must(t, e.store.Users().SetDisabled(e.ctx, e.user.ID, true))
		if active(e.introspect(s.token.AccessToken)) {
			t.Error("token of a disabled user is active")
		}
		must(t, e.store.Users().SetDisabled(e.ctx, e.user.ID, false))
		e.expireTokens()
		if m := e.introspect(s.token.AccessToken); len(m) != 1 || m["active"] != false {
			t.Errorf("expired token: %v, want only active=false", m)
		}
	})
}

// Introspection is for authenticated confidential clients only.
func TestIntrospectionRequiresClientAuthentication(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		s := e.signIn(e.rp(e.conf, e.secret))
		form := url.Values{"token": {s.token.AccessToken}}
		if status, m := e.post(pathIntrospection, form, e.conf.ID, "wrong"); status != http.StatusUnauthorized || m["error"] != "invalid_client" {
			t.Errorf("wrong secret: %d %v", status, m)
		}
		form.Set("client_id", e.pub.ID)
		if status, m := e.post(pathIntrospection, form, "", ""); status/100 != 4 || m["error"] != "invalid_client" {
			t.Errorf("public client: %d %v", status, m)
		}
	})
}
