package op

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestBadInputNever500 sweeps malformed, repeated and oversized parameters,
// wrong methods and content types over every endpoint: each gets a 4xx
// (with an OAuth error body where the endpoint speaks JSON), or for the
// authorization endpoint an error redirect to the registered client.
func TestBadInputNever500(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		big := strings.Repeat("a", 100<<10)
		form := "application/x-www-form-urlencoded"
		basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(e.conf.ID+":"+e.secret))
		nulBasic := "Basic " + base64.StdEncoding.EncodeToString([]byte("a\x00b:secret"))
		code := "grant_type=authorization_code&code=abc&redirect_uri=" + url.QueryEscape(confRedirect)
		authz := e.authorizeQuery().Encode()

		cases := []struct {
			name, method, path, contentType, body, auth string
			json                                        bool // the answer must be an OAuth JSON error
		}{
			{"token GET", "GET", pathToken, "", "", basic, true},
			{"token PUT", "PUT", pathToken, form, code, basic, true},
			{"token JSON body", "POST", pathToken, "application/json", `{"grant_type":"authorization_code"}`, basic, true},
			{"token multipart", "POST", pathToken, "multipart/form-data; boundary=x", "--x--", basic, true},
			{"token no content type", "POST", pathToken, "", code, basic, true},
			{"token oversized", "POST", pathToken, form, "grant_type=authorization_code&code=" + big, basic, true},
			{"token repeated grant", "POST", pathToken, form, code + "&grant_type=refresh_token", basic, true},
			{"token repeated code", "POST", pathToken, form, code + "&code=def", basic, true},
			{"token no grant", "POST", pathToken, form, "code=abc", basic, true},
			{"token unknown grant", "POST", pathToken, form, "grant_type=magic", basic, true},
			{"token query parameters", "POST", pathToken + "?grant_type=authorization_code", form, code, basic, true},
			{"token bad encoding", "POST", pathToken, form, "grant_type=%zz", basic, true},
			{"token invalid UTF-8", "POST", pathToken, form, code + "&client_id=%ff%fe", "", true},
			{"token NUL client id", "POST", pathToken, form, code + "&client_id=a%00b&client_secret=x", "", true},
			{"token NUL in basic auth", "POST", pathToken, form, code, nulBasic, true},
			{"token malformed basic auth", "POST", pathToken, form, code, "Basic !!!", true},
			{"token no client", "POST", pathToken, form, code, "", true},
			{"token unknown client", "POST", pathToken, form, code + "&client_id=nobody&client_secret=x", "", true},
			{"token unknown code", "POST", pathToken, form, code, basic, true},
			{"token no code", "POST", pathToken, form, "grant_type=authorization_code", basic, true},
			{"token huge code", "POST", pathToken, form, "grant_type=authorization_code&redirect_uri=x&code=" + strings.Repeat("c", 60000), basic, true},
			{"token client assertion", "POST", pathToken, form, code + "&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=x.y.z", "", true},
			{"refresh garbage", "POST", pathToken, form, "grant_type=refresh_token&refresh_token=%01%02", basic, true},
			{"refresh missing", "POST", pathToken, form, "grant_type=refresh_token", basic, true},
			{"refresh bad scope", "POST", pathToken, form, "grant_type=refresh_token&refresh_token=x&scope=%20%20", basic, true},
			{"client credentials public", "POST", pathToken, form, "grant_type=client_credentials&client_id=" + e.pub.ID, "", true},
			{"introspect GET", "GET", pathIntrospection + "?token=x", "", "", basic, true},
			{"introspect no auth", "POST", pathIntrospection, form, "token=x", "", true},
			{"introspect no token", "POST", pathIntrospection, form, "", basic, true},
			{"introspect repeated token", "POST", pathIntrospection, form, "token=a&token=b", basic, true},
			{"introspect oversized", "POST", pathIntrospection, form, "token=" + big, basic, true},
			{"introspect wrong content type", "POST", pathIntrospection, "text/plain", "token=x", basic, true},
			{"revoke GET", "GET", pathRevocation, "", "", basic, true},
			{"revoke no token", "POST", pathRevocation, form, "", basic, true},
			{"revoke repeated token", "POST", pathRevocation, form, "token=a&token=b", basic, true},
			{"revoke unknown client", "POST", pathRevocation, form, "token=a&client_id=nobody", "", true},
			{"userinfo PUT", "PUT", pathUserinfo, "", "", "Bearer x", true},
			{"userinfo token in URL", "GET", pathUserinfo + "?access_token=x", "", "", "", true},
			{"userinfo two tokens", "POST", pathUserinfo, form, "access_token=x", "Bearer y", true},
			{"userinfo repeated token", "POST", pathUserinfo, form, "access_token=x&access_token=y", "", true},
			{"userinfo wrong scheme", "GET", pathUserinfo, "", "", "Basic eDp5", true},
			{"userinfo huge token", "GET", pathUserinfo, "", "", "Bearer " + strings.Repeat("t", 20000), true},
			{"userinfo JSON body", "POST", pathUserinfo, "application/json", `{"access_token":"x"}`, "", true},
			{"end session PUT", "PUT", pathEndSession, "", "", "", true},
			{"end session repeated", "GET", pathEndSession + "?state=a&state=b", "", "", "", true},
			{"end session bad hint", "GET", pathEndSession + "?id_token_hint=" + strings.Repeat("x.", 3000), "", "", "", true},
			{"end session unknown client in hint", "GET", pathEndSession + "?id_token_hint=" + e.signToken(t, map[string]any{"iss": e.issuer, "sub": "s", "aud": "nobody", "azp": "nobody", "iat": 1, "exp": 2}), "", "", "", true},
			{"end session bad encoding", "GET", pathEndSession + "?state=%zz", "", "", "", true},
			{"end session oversized", "POST", pathEndSession, form, "state=" + big, "", true},
			{"discovery POST", "POST", pathDiscovery, form, "", "", true},
			{"keys DELETE", "DELETE", pathKeys, "", "", "", true},
			{"authorize PUT", "PUT", pathAuthorize + "?" + authz, "", "", "", false},
			{"authorize JSON body", "POST", pathAuthorize, "application/json", "{}", "", false},
			{"authorize oversized", "POST", pathAuthorize, form, authz + "&state=" + big, "", false},
			{"authorize bad encoding", "GET", pathAuthorize + "?client_id=%zz", "", "", "", false},
			{"authorize NUL client", "GET", pathAuthorize + "?client_id=a%00b", "", "", "", false},
			{"authorize invalid UTF-8 state", "GET", pathAuthorize + "?" + authz + "&nonce=%ff", "", "", "", false},
			{"authorize huge claims", "GET", pathAuthorize + "?" + authz + "&claims=" + strings.Repeat("%7B", 20000), "", "", "", false},
			{"authorize deep claims", "GET", pathAuthorize + "?" + authz + "&claims=" + url.QueryEscape(strings.Repeat("[", 5000)), "", "", "", false},
			{"callback no id", "GET", pathCallback, "", "", "", false},
			{"callback repeated id", "GET", pathCallback + "?id=a&id=b", "", "", "", false},
			{"callback unknown id", "GET", pathCallback + "?id=nothing", "", "", "", false},
			{"callback NUL id", "GET", pathCallback + "?id=a%00", "", "", "", false},
			{"callback POST", "POST", pathCallback + "?id=a", form, "", "", false},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				req, err := http.NewRequest(tc.method, e.issuer+tc.path, strings.NewReader(tc.body))
				must(t, err)
				if tc.contentType != "" {
					req.Header.Set("Content-Type", tc.contentType)
				}
				if tc.auth != "" {
					req.Header.Set("Authorization", tc.auth)
				}
				resp, err := noRedirects().Do(req)
				if err != nil {
					t.Fatalf("no answer (a panic?): %v", err)
				}
				defer resp.Body.Close()
				body, _ := io.ReadAll(resp.Body)
				if resp.StatusCode == http.StatusFound && !tc.json {
					loc, _ := resp.Location()
					if loc == nil || loc.Query().Get("error") == "" || loc.Query().Get("iss") != e.issuer {
						t.Fatalf("redirect to %v, want an error response to the client", loc)
					}
					return
				}
				if resp.StatusCode < 400 || resp.StatusCode >= 500 {
					t.Fatalf("status %d, want 4xx: %.200s", resp.StatusCode, body)
				}
				if tc.json {
					var m map[string]any
					if err := json.Unmarshal(body, &m); err != nil || m["error"] == nil || m["error"] == "" {
						t.Fatalf("status %d body %.200q, want an OAuth error", resp.StatusCode, body)
					}
				}
			})
		}
	})
}
