package op

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"testing"

	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

func sqliteEnv(t *testing.T) *env {
	return newEnv(t, storagetest.Open(t, storagetest.SQLiteURL(t)))
}

func TestDiscoveryListsOnlyWhatIsServed(t *testing.T) {
	e := sqliteEnv(t)
	resp, err := http.Get(e.issuer + pathDiscovery)
	must(t, err)
	defer resp.Body.Close()
	var d map[string]any
	must(t, json.NewDecoder(resp.Body).Decode(&d))

	strs := func(key string) []string {
		var out []string
		for _, v := range d[key].([]any) {
			out = append(out, v.(string))
		}
		return out
	}
	for key, path := range map[string]string{"authorization_endpoint": pathAuthorize, "token_endpoint": pathToken,
		"introspection_endpoint": pathIntrospection, "revocation_endpoint": pathRevocation, "userinfo_endpoint": pathUserinfo,
		"end_session_endpoint": pathEndSession, "jwks_uri": pathKeys} {
		if d[key] != e.issuer+path {
			t.Errorf("%s = %v, want %s", key, d[key], e.issuer+path)
		}
	}
	exact := map[string][]string{
		"acr_values_supported":                  {"urn:gatehouse:acr:pwd", "urn:gatehouse:acr:mfa"},
		"code_challenge_methods_supported":      {"S256"},
		"response_types_supported":              {"code"},
		"response_modes_supported":              {"query"},
		"grant_types_supported":                 {"authorization_code", "refresh_token", "client_credentials"},
		"id_token_signing_alg_values_supported": {"RS256"},
		"token_endpoint_auth_methods_supported": {"client_secret_basic", "client_secret_post", "none"},
	}
	for key, want := range exact {
		if got := strs(key); !slices.Equal(got, want) {
			t.Errorf("%s = %v, want %v", key, got, want)
		}
	}
	for key, want := range map[string][]string{
		"claims_supported": {"sub", "email", "email_verified", "name", "acr", "amr", "auth_time"},
		"scopes_supported": {"openid", "email", "profile", "offline_access"},
	} {
		got := strs(key)
		for _, w := range want {
			if !slices.Contains(got, w) {
				t.Errorf("%s = %v lacks %s", key, got, w)
			}
		}
	}
	for key, want := range map[string]bool{"claims_parameter_supported": true, "authorization_response_iss_parameter_supported": true,
		"request_parameter_supported": false, "request_uri_parameter_supported": false} {
		if d[key] != want {
			t.Errorf("%s = %v, want %v", key, d[key], want)
		}
	}
	if d["issuer"] != e.issuer || d["device_authorization_endpoint"] != nil {
		t.Errorf("issuer %v, device endpoint %v", d["issuer"], d["device_authorization_endpoint"])
	}
}

func TestKeysServedFromKeySource(t *testing.T) {
	e := sqliteEnv(t)
	resp, err := http.Get(e.issuer + pathKeys)
	must(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(bytes.TrimSpace(body), e.keys.jwks) {
		t.Fatalf("keys: %d %s, want the key source's JWKS", resp.StatusCode, body)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=3600" {
		t.Errorf("Cache-Control = %q", cc)
	}
}

// Grants Gatehouse does not serve are refused before anything else.
func TestUnsupportedGrantsRefused(t *testing.T) {
	e := sqliteEnv(t)
	for _, grant := range []string{"urn:ietf:params:oauth:grant-type:jwt-bearer", "urn:ietf:params:oauth:grant-type:token-exchange",
		"urn:ietf:params:oauth:grant-type:device_code", "password", "implicit", "nonsense"} {
		form := url.Values{"grant_type": {grant}, "assertion": {"x"}, "subject_token": {"x"},
			"subject_token_type": {"urn:ietf:params:oauth:token-type:access_token"}, "device_code": {"x"}}
		for _, auth := range []bool{false, true} {
			user, pass := "", ""
			if auth {
				user, pass = e.conf.ID, e.secret
			}
			status, m := e.post(pathToken, form, user, pass)
			if status != http.StatusBadRequest || m["error"] != "unsupported_grant_type" {
				t.Errorf("%s (client authenticated: %v): %d %v, want unsupported_grant_type", grant, auth, status, m)
			}
		}
	}
}

// The server's own refusals stay in place behind the request checks.
func TestServerRefusesGrantsItDoesNotServe(t *testing.T) {
	e := sqliteEnv(t)
	s := &server{p: e.p}
	for name, err := range map[string]error{
		"jwt-bearer": func() error { _, err := s.JWTProfile(e.ctx, nil); return err }(),
		"exchange":   func() error { _, err := s.TokenExchange(e.ctx, nil); return err }(),
		"device":     func() error { _, err := s.DeviceToken(e.ctx, nil); return err }(),
	} {
		if err == nil || !bytes.Contains([]byte(err.Error()), []byte("unsupported_grant_type")) {
			t.Errorf("%s: %v, want unsupported_grant_type", name, err)
		}
	}
}

// RFC 8414 metadata sits beside discovery and says the same.
func TestAuthorizationServerMetadataMatchesDiscovery(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		get := func(path string) map[string]any {
			resp, err := http.Get(e.issuer + path)
			must(t, err)
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("%s: %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			var m map[string]any
			must(t, json.NewDecoder(resp.Body).Decode(&m))
			return m
		}
		oidcDoc, oauthDoc := get(pathDiscovery), get("/.well-known/oauth-authorization-server")
		if !reflect.DeepEqual(oidcDoc, oauthDoc) {
			t.Errorf("the two documents differ:\n%v\n%v", oidcDoc, oauthDoc)
		}
		for _, member := range []string{"issuer", "authorization_endpoint", "token_endpoint", "jwks_uri", "response_types_supported",
			"code_challenge_methods_supported", "introspection_endpoint", "revocation_endpoint"} {
			if oauthDoc[member] == nil {
				t.Errorf("RFC 8414 metadata lacks %s", member)
			}
		}
		if oauthDoc["issuer"] != e.issuer {
			t.Errorf("issuer %v, want %s", oauthDoc["issuer"], e.issuer)
		}
	})
}

// TestACRValuesFollowTheOfferedFactors: phr is listed only where security
// keys are offered (TestSecurityKeysThroughTheWholeServer reads it from
// discovery end to end).
func TestACRValuesFollowTheOfferedFactors(t *testing.T) {
	if got := ACRValuesSupported(false); !slices.Equal(got, []string{"urn:gatehouse:acr:pwd", "urn:gatehouse:acr:mfa"}) {
		t.Errorf("without keys: %q", got)
	}
	if got := ACRValuesSupported(true); !slices.Equal(got, []string{"urn:gatehouse:acr:pwd", "urn:gatehouse:acr:mfa", "urn:gatehouse:acr:phr"}) {
		t.Errorf("with keys: %q", got)
	}
}
