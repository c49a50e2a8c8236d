package op

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-id/gatehouse/storage"
)

// validateRFC9068 checks a JWT access token the way a strict resource
// server does (RFC 9068 §4), against the provider's published keys.
func validateRFC9068(t *testing.T, e *env, raw, audience string) map[string]any {
	t.Helper()
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil || len(jws.Signatures) != 1 {
		t.Fatalf("not a JWS: %v", err)
	}
	h := jws.Signatures[0].Header
	typ, _ := h.ExtraHeaders[jose.HeaderType].(string)
	if !strings.EqualFold(typ, "at+jwt") && !strings.EqualFold(typ, "application/at+jwt") {
		t.Fatalf("typ %q, want at+jwt (RFC 9068 §2.1)", typ)
	}
	if h.Algorithm == "none" || h.Algorithm == "" {
		t.Fatalf("alg %q", h.Algorithm)
	}
	resp, err := http.Get(e.issuer + pathKeys)
	must(t, err)
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	must(t, json.NewDecoder(resp.Body).Decode(&set))
	keys := set.Key(h.KeyID)
	if len(keys) != 1 {
		t.Fatalf("kid %q is not published", h.KeyID)
	}
	payload, err := jws.Verify(keys[0])
	if err != nil {
		t.Fatalf("signature: %v", err)
	}
	var c map[string]any
	must(t, json.Unmarshal(payload, &c))
	for _, claim := range []string{"iss", "exp", "aud", "sub", "client_id", "iat", "jti"} {
		if c[claim] == nil {
			t.Errorf("required claim %s is missing (RFC 9068 §2.2)", claim)
		}
	}
	if c["iss"] != e.issuer {
		t.Errorf("iss %v", c["iss"])
	}
	if exp, _ := c["exp"].(float64); time.Unix(int64(exp), 0).Before(time.Now()) {
		t.Errorf("exp %v is past", c["exp"])
	}
	auds, _ := c["aud"].([]any)
	if len(auds) == 0 || auds[0] != audience {
		t.Errorf("aud %v, want %s", c["aud"], audience)
	}
	return c
}

func TestJWTAccessTokensFollowRFC9068(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		secret, digest := storage.NewSecret()
		c := &storage.Client{Name: "API", SecretHash: digest, RedirectURIs: storage.StringList{confRedirect}, JWTAccessTokens: true}
		must(t, e.store.Clients().Create(e.ctx, c))
		s := e.signIn(e.rp(c, secret))
		claims := validateRFC9068(t, e, s.token.AccessToken, c.ID)
		if claims["client_id"] != c.ID || claims["sub"] != e.user.ID || claims["acr"] != acrPassword {
			t.Errorf("claims %v", claims)
		}
		if scope, _ := claims["scope"].(string); !strings.Contains(" "+scope+" ", " openid ") {
			t.Errorf("scope %q", scope)
		}
		if at, _ := claims["auth_time"].(float64); int64(at) != s.claims.AuthTime {
			t.Errorf("auth_time %v, want the sign-in's %d", claims["auth_time"], s.claims.AuthTime)
		}
		if amr, _ := claims["amr"].([]any); len(amr) != 1 || amr[0] != "pwd" {
			t.Errorf("amr %v", claims["amr"])
		}
		// The ID token's at_hash is over this access token.
		if err := s.id.VerifyAccessToken(s.token.AccessToken); err != nil {
			t.Errorf("at_hash: %v", err)
		}
		// A refreshed one is the same kind of token.
		status, next := e.refresh(c, secret, s.token.RefreshToken, nil)
		if status != http.StatusOK {
			t.Fatalf("refresh: %d %v", status, next)
		}
		validateRFC9068(t, e, next["access_token"].(string), c.ID)
		// And so is a client's own.
		status, own := e.post(pathToken, url.Values{"grant_type": {"client_credentials"}}, c.ID, secret)
		if status != http.StatusOK {
			t.Fatalf("client_credentials: %d %v", status, own)
		}
		if cc := validateRFC9068(t, e, own["access_token"].(string), c.ID); cc["sub"] != c.ID {
			t.Errorf("client credentials token sub %v", cc["sub"])
		}
	})
}

// An access token is not an ID token: as id_token_hint it is refused.
func TestAnAccessTokenIsNoIDTokenHint(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		secret, digest := storage.NewSecret()
		c := &storage.Client{Name: "API", SecretHash: digest, RedirectURIs: storage.StringList{confRedirect},
			PostLogoutRedirectURIs: storage.StringList{postLogout}, JWTAccessTokens: true}
		must(t, e.store.Clients().Create(e.ctx, c))
		s := e.signIn(e.rp(c, secret))
		resp, err := noRedirects().Get(e.issuer + pathEndSession + "?" + url.Values{"id_token_hint": {s.token.AccessToken}}.Encode())
		must(t, err)
		resp.Body.Close()
		if resp.StatusCode/100 != 4 {
			t.Errorf("end_session with an access token as hint: %d, want a 4xx", resp.StatusCode)
		}
		srv := behindProxy(t, e.p.Handler())
		back := e.authorizeFrom(srv, "203.0.113.20", url.Values{"id_token_hint": {s.token.AccessToken}})
		loc, _ := back.Location()
		if loc == nil || loc.Query().Get("error") != "invalid_request" {
			t.Errorf("authorize with an access token as hint: %d %v, want invalid_request", back.StatusCode, loc)
		}
	})
}
