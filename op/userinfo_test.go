package op

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/storage"
)

// userinfo calls /userinfo with the token carried one of three ways.
func (e *env) userinfo(how, token string) (*http.Response, map[string]any) {
	e.t.Helper()
	var req *http.Request
	switch how {
	case "GET header":
		req, _ = http.NewRequest(http.MethodGet, e.issuer+pathUserinfo, nil)
		req.Header.Set("Authorization", "Bearer "+token)
	case "POST header":
		req, _ = http.NewRequest(http.MethodPost, e.issuer+pathUserinfo, nil)
		req.Header.Set("Authorization", "Bearer "+token)
	case "POST body":
		req, _ = http.NewRequest(http.MethodPost, e.issuer+pathUserinfo, strings.NewReader(url.Values{"access_token": {token}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	default:
		e.t.Fatalf("unknown way %q", how)
	}
	resp, err := http.DefaultClient.Do(req)
	must(e.t, err)
	defer resp.Body.Close()
	var m map[string]any
	body, _ := io.ReadAll(resp.Body)
	if len(body) > 0 {
		jsonMust(e.t, body, &m)
	}
	return resp, m
}

var userinfoWays = []string{"GET header", "POST header", "POST body"}

func TestUserinfo(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		s := e.signIn(e.rp(e.conf, e.secret))
		for _, how := range userinfoWays {
			resp, m := e.userinfo(how, s.token.AccessToken)
			if resp.StatusCode != http.StatusOK || m["sub"] != e.user.ID || m["email"] != e.user.Email ||
				m["email_verified"] != true || m["name"] != e.user.Name {
				t.Errorf("%s: %d %v", how, resp.StatusCode, m)
			}
		}
	})
}

// Expired and revoked tokens are refused as RFC 6750 says, whatever their
// own content claims.
func TestUserinfoRefusesExpiredAndRevokedTokens(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		revoked := e.signIn(e.rp(e.conf, e.secret)).token.AccessToken
		if status, _ := e.post(pathRevocation, url.Values{"token": {revoked}}, e.conf.ID, e.secret); status != http.StatusOK {
			t.Fatalf("revoke: %d", status)
		}
		for _, how := range userinfoWays {
			resp, m := e.userinfo(how, revoked)
			if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != `Bearer error="invalid_token"` || m["error"] != "invalid_token" {
				t.Errorf("revoked, %s: %d %q %v", how, resp.StatusCode, resp.Header.Get("WWW-Authenticate"), m)
			}
		}
		expired := e.signIn(e.rp(e.conf, e.secret)).token.AccessToken
		e.expireTokens()
		if resp, _ := e.userinfo("GET header", expired); resp.StatusCode != http.StatusUnauthorized ||
			resp.Header.Get("WWW-Authenticate") != `Bearer error="invalid_token"` {
			t.Errorf("expired: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
		if resp, _ := e.userinfo("GET header", "garbage"); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("garbage token: %d", resp.StatusCode)
		}
	})
}

func TestUserinfoWithoutToken(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		resp, err := http.Get(e.issuer + pathUserinfo)
		must(t, err)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != "Bearer" {
			t.Errorf("no token: %d %q, want 401 with a bare Bearer challenge", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
		resp, err = http.Get(e.issuer + pathUserinfo + "?access_token=x")
		must(t, err)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("token in the URL: %d, want 400", resp.StatusCode)
		}
	})
}

// JWT access tokens are checked against the store too: their jti is the
// stored token id.
func TestJWTAccessTokensCheckedAgainstStore(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		secret, digest := storage.NewSecret()
		c := &storage.Client{Name: "API", SecretHash: digest, RedirectURIs: storage.StringList{confRedirect}, JWTAccessTokens: true}
		must(t, e.store.Clients().Create(e.ctx, c))
		s := e.signIn(e.rp(c, secret))
		if strings.Count(s.token.AccessToken, ".") != 2 {
			t.Fatalf("access token %q is not a JWT", s.token.AccessToken[:20])
		}
		if resp, _ := e.userinfo("GET header", s.token.AccessToken); resp.StatusCode != http.StatusOK {
			t.Fatalf("userinfo with a JWT access token: %d", resp.StatusCode)
		}
		if status, _ := e.post(pathRevocation, url.Values{"token": {s.token.AccessToken}}, c.ID, secret); status != http.StatusOK {
			t.Fatalf("revoke: %d", status)
		}
		if resp, _ := e.userinfo("GET header", s.token.AccessToken); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("revoked JWT access token: %d, want 401", resp.StatusCode)
		}
		if active(e.introspect(s.token.AccessToken)) {
			t.Error("revoked JWT access token is active at introspection")
		}
	})
}
