package op

import (
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"
)

// redeem posts a code to the token endpoint as the confidential client.
func (e *env) redeem(code, verifier string) (int, map[string]any) {
	return e.post(pathToken, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {confRedirect}, "code_verifier": {verifier}}, e.conf.ID, e.secret)
}

func TestCodeRedeemedOnceUnderConcurrency(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		code, verifier := e.code(e.rp(e.conf, e.secret))
		const n = 8
		type result struct {
			status int
			body   map[string]any
		}
		results := make([]result, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i].status, results[i].body = e.redeem(code, verifier)
			}()
		}
		wg.Wait()
		var won []map[string]any
		for _, r := range results {
			switch {
			case r.status == http.StatusOK:
				won = append(won, r.body)
			case r.status != http.StatusBadRequest || r.body["error"] != "invalid_grant":
				t.Errorf("losing redemption: status %d %v, want 400 invalid_grant", r.status, r.body)
			}
		}
		if len(won) != 1 {
			t.Fatalf("%d redemptions succeeded, want exactly 1", len(won))
		}
		// The losers were reuses: whatever the winner got is revoked, even
		// though they may have run before its tokens were stored.
		if active(e.introspect(won[0]["access_token"].(string))) {
			t.Error("the winner's access token is still active after the code was reused")
		}
		if status, _ := e.refresh(e.conf, e.secret, won[0]["refresh_token"].(string), nil); status == http.StatusOK {
			t.Error("the winner's refresh token still works after the code was reused")
		}
	})
}

func TestCodeReuseRevokesFirstRedemption(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		code, verifier := e.code(e.rp(e.conf, e.secret))
		status, first := e.redeem(code, verifier)
		if status != http.StatusOK {
			t.Fatalf("first redemption: %d %v", status, first)
		}
		access, refresh := first["access_token"].(string), first["refresh_token"].(string)
		if !active(e.introspect(access)) {
			t.Fatal("fresh access token is not active")
		}
		status, second := e.redeem(code, verifier)
		if status != http.StatusBadRequest || second["error"] != "invalid_grant" {
			t.Fatalf("second redemption: %d %v, want invalid_grant", status, second)
		}
		if active(e.introspect(access)) {
			t.Error("access token of the first redemption still active")
		}
		if active(e.introspect(refresh)) {
			t.Error("refresh token of the first redemption still active")
		}
		if status, body := e.refresh(e.conf, e.secret, refresh, nil); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Errorf("refresh after code reuse: %d %v, want invalid_grant", status, body)
		}
	})
}

func TestCodeExpires(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		code, verifier := e.code(e.rp(e.conf, e.secret))
		_, err := e.store.DB().ExecContext(e.ctx, `UPDATE auth_requests SET code_expires_at = $1`, time.Now().Add(-time.Second).UTC())
		must(t, err)
		if status, body := e.redeem(code, verifier); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Fatalf("expired code: %d %v, want invalid_grant", status, body)
		}
	})
}

// A code is bound to its client, redirect URI and PKCE verifier; a
// mismatch does not use it up.
func TestCodeBoundToClientRedirectAndVerifier(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		code, verifier := e.code(e.rp(e.conf, e.secret))
		form := func() url.Values {
			return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {confRedirect}, "code_verifier": {verifier}}
		}
		cases := map[string]func() (int, map[string]any){
			"other client": func() (int, map[string]any) {
				f := form()
				f.Set("client_id", e.pub.ID)
				f.Set("redirect_uri", pubRedirect)
				return e.post(pathToken, f, "", "")
			},
			"other redirect": func() (int, map[string]any) {
				f := form()
				f.Set("redirect_uri", "https://app.example.com/other")
				return e.post(pathToken, f, e.conf.ID, e.secret)
			},
			"wrong verifier": func() (int, map[string]any) {
				f := form()
				f.Set("code_verifier", "wrong-wrong-wrong-wrong-wrong-wrong-wrong-wrong")
				return e.post(pathToken, f, e.conf.ID, e.secret)
			},
			"no verifier": func() (int, map[string]any) {
				f := form()
				f.Del("code_verifier")
				return e.post(pathToken, f, e.conf.ID, e.secret)
			},
		}
		for name, try := range cases {
			if status, body := try(); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
				t.Errorf("%s: %d %v, want invalid_grant", name, status, body)
			}
		}
		if status, body := e.redeem(code, verifier); status != http.StatusOK {
			t.Fatalf("the right redemption after refused ones: %d %v", status, body)
		}
	})
}

func TestWrongClientSecretRefused(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		code, verifier := e.code(e.rp(e.conf, e.secret))
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {confRedirect}, "code_verifier": {verifier}}
		status, body := e.post(pathToken, form, e.conf.ID, "not-the-secret")
		if status != http.StatusUnauthorized || body["error"] != "invalid_client" {
			t.Fatalf("wrong secret: %d %v, want 401 invalid_client", status, body)
		}
		// client_secret_post works too.
		form.Set("client_id", e.conf.ID)
		form.Set("client_secret", e.secret)
		if status, body := e.post(pathToken, form, "", ""); status != http.StatusOK {
			t.Fatalf("client_secret_post: %d %v", status, body)
		}
	})
}

// An account disabled between sign-in and redemption gets no tokens.
func TestDisabledUserGetsNoTokens(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		code, verifier := e.code(e.rp(e.conf, e.secret))
		must(t, e.store.Users().SetDisabled(e.ctx, e.user.ID, true))
		if status, body := e.redeem(code, verifier); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Fatalf("disabled user: %d %v, want invalid_grant", status, body)
		}
	})
}
