package op

import (
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
)

func TestMain(m *testing.M) {
	// The library logs through the default logger (routes, refused requests).
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	os.Exit(m.Run())
}

// authorizeQuery is a valid request of the confidential client, to be
// varied by each case.
func (e *env) authorizeQuery() url.Values {
	return url.Values{
		"client_id":             {e.conf.ID},
		"redirect_uri":          {confRedirect},
		"response_type":         {"code"},
		"scope":                 {"openid email"},
		"state":                 {"st-1"},
		"nonce":                 {"n-1"},
		"code_challenge":        {oidc.NewSHACodeChallenge("verifier-verifier-verifier-verifier-verifier")},
		"code_challenge_method": {"S256"},
	}
}

func (e *env) getAuthorize(q url.Values) *http.Response {
	e.t.Helper()
	resp, err := noRedirects().Get(e.issuer + pathAuthorize + "?" + q.Encode())
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// An unknown client or an unregistered redirect URI must never be
// redirected to: the user sees a page.
func TestAuthorizeUntrustedRedirectGetsAPage(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		cases := map[string]func(q url.Values){
			"unknown client":             func(q url.Values) { q.Set("client_id", "nobody") },
			"no client":                  func(q url.Values) { q.Del("client_id") },
			"repeated client":            func(q url.Values) { q.Add("client_id", e.pub.ID) },
			"unregistered redirect":      func(q url.Values) { q.Set("redirect_uri", "https://evil.example.com/callback") },
			"redirect differing in case": func(q url.Values) { q.Set("redirect_uri", strings.ToUpper(confRedirect)) },
			"redirect with extra path":   func(q url.Values) { q.Set("redirect_uri", confRedirect+"/x") },
			"no redirect":                func(q url.Values) { q.Del("redirect_uri") },
			"repeated redirect":          func(q url.Values) { q.Add("redirect_uri", confRedirect) },
			"other client's redirect":    func(q url.Values) { q.Set("redirect_uri", pubRedirect) },
			"loopback on another port": func(q url.Values) {
				q.Set("client_id", e.pub.ID)
				q.Set("redirect_uri", "http://127.0.0.1:9999/callback")
			},
			"loopback as localhost": func(q url.Values) {
				q.Set("client_id", e.pub.ID)
				q.Set("redirect_uri", "http://localhost:8765/callback")
			},
			"unknown client, bad request": func(q url.Values) { q.Set("client_id", "nobody"); q.Set("response_type", "token") },
		}
		for name, change := range cases {
			t.Run(name, func(t *testing.T) {
				q := e.authorizeQuery()
				change(q)
				resp := e.getAuthorize(q)
				if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
					t.Fatalf("status %d location %q, want a 400 page", resp.StatusCode, resp.Header.Get("Location"))
				}
				if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
					t.Errorf("content type %q, want an HTML page", resp.Header.Get("Content-Type"))
				}
			})
		}
	})
}

// Once the client and redirect URI are trusted, errors go back to the
// client with error, error_description, state and iss.
func TestAuthorizeErrorsRedirectToClient(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		cases := []struct {
			name   string
			change func(q url.Values)
			error  string
		}{
			{"plain PKCE", func(q url.Values) { q.Set("code_challenge_method", "plain") }, "invalid_request"},
			{"PKCE without method", func(q url.Values) { q.Del("code_challenge_method") }, "invalid_request"},
			{"malformed challenge", func(q url.Values) { q.Set("code_challenge", "short") }, "invalid_request"},
			{"public client without PKCE", func(q url.Values) {
				q.Set("client_id", e.pub.ID)
				q.Set("redirect_uri", pubRedirect)
				q.Del("code_challenge")
				q.Del("code_challenge_method")
			}, "invalid_request"},
			{"implicit flow", func(q url.Values) { q.Set("response_type", "id_token token") }, "unsupported_response_type"},
			{"token response", func(q url.Values) { q.Set("response_type", "token") }, "unsupported_response_type"},
			{"no response type", func(q url.Values) { q.Del("response_type") }, "invalid_request"},
			{"fragment mode", func(q url.Values) { q.Set("response_mode", "fragment") }, "invalid_request"},
			{"form_post mode", func(q url.Values) { q.Set("response_mode", "form_post") }, "invalid_request"},
			{"request object", func(q url.Values) { q.Set("request", "eyJhbGciOiJub25lIn0.e30.") }, "request_not_supported"},
			{"request_uri", func(q url.Values) { q.Set("request_uri", "https://app.example.com/r") }, "request_uri_not_supported"},
			{"claims not JSON", func(q url.Values) { q.Set("claims", "{") }, "invalid_request"},
			{"claims an array", func(q url.Values) { q.Set("claims", `[]`) }, "invalid_request"},
			{"claims id_token a string", func(q url.Values) { q.Set("claims", `{"id_token":"acr"}`) }, "invalid_request"},
			{"max_age negative", func(q url.Values) { q.Set("max_age", "-1") }, "invalid_request"},
			{"max_age text", func(q url.Values) { q.Set("max_age", "ten") }, "invalid_request"},
			{"max_age huge", func(q url.Values) { q.Set("max_age", "99999999999999999999") }, "invalid_request"},
			{"prompt none with login", func(q url.Values) { q.Set("prompt", "none login") }, "invalid_request"},
			{"unknown prompt", func(q url.Values) { q.Set("prompt", "maybe") }, "invalid_request"},
			{"repeated scope", func(q url.Values) { q.Add("scope", "openid") }, "invalid_request"},
			{"repeated nonce", func(q url.Values) { q.Add("nonce", "n-2") }, "invalid_request"},
			{"no openid", func(q url.Values) { q.Set("scope", "email") }, "invalid_scope"},
			{"invalid id_token_hint", func(q url.Values) { q.Set("id_token_hint", "not-a-token") }, "invalid_request"},
			{"oversized state", func(q url.Values) { q.Set("state", strings.Repeat("s", 5000)) }, "invalid_request"},
			{"NUL in nonce", func(q url.Values) { q.Set("nonce", "a\x00b") }, "invalid_request"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				q := e.authorizeQuery()
				tc.change(q)
				resp := e.getAuthorize(q)
				loc, err := resp.Location()
				if resp.StatusCode != http.StatusFound || err != nil {
					t.Fatalf("status %d, want a redirect to the client", resp.StatusCode)
				}
				got := loc.Query()
				wantState := q.Get("state")
				if len(q["state"]) != 1 || len(wantState) > 4096 {
					wantState = got.Get("state") // not checked: the state itself was the problem
				}
				if !strings.HasPrefix(loc.String(), q.Get("redirect_uri")+"?") || got.Get("error") != tc.error ||
					got.Get("error_description") == "" || got.Get("state") != wantState || got.Get("iss") != e.issuer {
					t.Fatalf("redirect %s: want %s with description, state and iss", loc, tc.error)
				}
			})
		}
	})
}

// Unknown parameters are ignored.
func TestAuthorizeIgnoresUnknownParameters(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		q := e.authorizeQuery()
		q.Set("frobnicate", "yes")
		q.Set("display", "popup")
		resp := e.getAuthorize(q)
		if loc, _ := resp.Location(); resp.StatusCode != http.StatusFound || loc.Path != testSignInPath {
			t.Fatalf("status %d location %v, want the sign-in page", resp.StatusCode, loc)
		}
	})
}

// The request is stored with everything the sign-in steps need, by GET or
// POST, and the browser goes to /login?id=ID.
func TestAuthorizeStoresRequest(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		// An expired but correctly signed ID token is an acceptable hint.
		hint := e.signToken(t, map[string]any{"iss": e.issuer, "sub": e.user.ID, "aud": e.conf.ID,
			"iat": time.Now().Add(-3 * time.Hour).Unix(), "exp": time.Now().Add(-2 * time.Hour).Unix()})
		claims := `{"id_token":{"acr":{"essential":true,"values":["urn:gatehouse:acr:mfa"]},"email":null}}`
		q := e.authorizeQuery()
		q.Set("scope", "openid email unknown-scope openid")
		q.Set("prompt", "login")
		q.Set("max_age", "0")
		q.Set("acr_values", "urn:gatehouse:acr:mfa urn:gatehouse:acr:pwd")
		q.Set("login_hint", "ada@example.com")
		q.Set("id_token_hint", hint)
		q.Set("claims", claims)

		for _, method := range []string{http.MethodGet, http.MethodPost} {
			t.Run(method, func(t *testing.T) {
				var resp *http.Response
				if method == http.MethodGet {
					resp = e.getAuthorize(q)
				} else {
					r, err := noRedirects().PostForm(e.issuer+pathAuthorize, q)
					must(t, err)
					r.Body.Close()
					resp = r
				}
				loc, err := resp.Location()
				if resp.StatusCode != http.StatusFound || err != nil || loc.Path != testSignInPath {
					t.Fatalf("status %d location %v, want /login?id=…", resp.StatusCode, loc)
				}
				ar, err := e.store.AuthRequests().Get(e.ctx, loc.Query().Get("id"))
				must(t, err)
				if ar.ClientID != e.conf.ID || ar.RedirectURI != confRedirect || ar.State != "st-1" || ar.Nonce != "n-1" ||
					!slices.Equal(ar.Scopes, []string{"openid", "email"}) || !slices.Equal(ar.Prompt, []string{"login"}) ||
					ar.MaxAge == nil || *ar.MaxAge != 0 || !slices.Equal(ar.ACRValues, []string{"urn:gatehouse:acr:mfa", "urn:gatehouse:acr:pwd"}) ||
					ar.LoginHint != "ada@example.com" || ar.HintSubject != e.user.ID || ar.Claims != claims ||
					ar.CodeChallengeMethod != "S256" || ar.CodeChallenge != q.Get("code_challenge") {
					t.Fatalf("stored request %+v", ar)
				}
				if left := time.Until(ar.ExpiresAt); left < 25*time.Minute || left > 31*time.Minute {
					t.Errorf("request expires in %v, want 30m", left)
				}
			})
		}
	})
}

// A hint signed by a key Gatehouse never published is refused.
func TestAuthorizeRefusesForeignIDTokenHint(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		// Symmetric, with the published key's id: must not verify.
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte("0123456789abcdef0123456789abcdef")}, nil)
		must(t, err)
		hint := signClaims(t, signer, map[string]any{"iss": e.issuer, "sub": e.user.ID, "aud": e.conf.ID,
			"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()})
		q := e.authorizeQuery()
		q.Set("id_token_hint", hint)
		loc, _ := e.getAuthorize(q).Location()
		if loc == nil || loc.Query().Get("error") != "invalid_request" {
			t.Fatalf("redirect %v, want invalid_request", loc)
		}
	})
}
