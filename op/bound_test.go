package op

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/middleware"
	"github.com/gatehouse-id/gatehouse/storage"
)

// authorizeFrom sends an authorization request for the confidential client
// as the client at ip (behind a trusted proxy) and returns the answer.
func (e *env) authorizeFrom(srv *httptest.Server, ip string, params url.Values) *http.Response {
	e.t.Helper()
	q := url.Values{"response_type": {"code"}, "scope": {"openid"}, "client_id": {e.conf.ID}, "redirect_uri": {confRedirect},
		"state": {"s"}}
	for k, v := range params {
		q[k] = v
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+pathAuthorize+"?"+q.Encode(), nil)
	req.Header.Set("X-Forwarded-For", ip)
	resp, err := noRedirects().Do(req)
	must(e.t, err)
	resp.Body.Close()
	return resp
}

func behindProxy(t *testing.T, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(middleware.ClientIP([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")})(h))
	t.Cleanup(srv.Close)
	return srv
}

// TestAuthorizeBoundsUnfinishedSignInsPerNetwork: one address (an IPv6
// /64) can keep only so many sign-ins open; a finished one frees its place.
func TestAuthorizeBoundsUnfinishedSignInsPerNetwork(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		e.p.cfg.MaxPendingPerNetwork = 3
		srv := behindProxy(t, e.p.Handler())
		for _, tc := range []struct{ first, again, other string }{
			{"203.0.113.7", "203.0.113.7", "203.0.113.8"},
			{"2001:db8::1", "2001:db8::ffff", "2001:db8:0:1::1"}, // one /64, then the next
		} {
			for i := range 3 {
				if resp := e.authorizeFrom(srv, tc.first, nil); resp.StatusCode != http.StatusFound {
					t.Fatalf("%s: sign-in %d answered %d", tc.first, i+1, resp.StatusCode)
				}
			}
			if resp := e.authorizeFrom(srv, tc.again, nil); resp.StatusCode != http.StatusTooManyRequests ||
				!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
				t.Fatalf("%s: one sign-in too many answered %d %s, want the 429 page", tc.again, resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			if resp := e.authorizeFrom(srv, tc.other, nil); resp.StatusCode != http.StatusFound {
				t.Errorf("%s, another network: %d", tc.other, resp.StatusCode)
			}
		}
		// A sign-in whose code was issued is finished: it no longer counts.
		var id string
		must(t, e.store.DB().QueryRowContext(e.ctx, `SELECT id FROM auth_requests WHERE client_network = '203.0.113.7' LIMIT 1`).Scan(&id))
		_, session := storage.NewSecret()
		must(t, e.store.AuthRequests().Complete(e.ctx, id, storage.Completion{Subject: e.user.ID, SessionHash: session,
			AuthTime: time.Now(), AMR: []string{"pwd"}, ACR: acrPassword}))
		_, digest := storage.NewSecret()
		must(t, e.store.AuthRequests().SetCode(e.ctx, id, digest, time.Now().Add(time.Minute)))
		if resp := e.authorizeFrom(srv, "203.0.113.7", nil); resp.StatusCode != http.StatusFound {
			t.Errorf("after one sign-in finished: %d", resp.StatusCode)
		}
	})
}

// TestAuthorizeStoresBoundedParameters: every stored parameter has its
// bound, so the largest request anyone can store stays near 10 KB; one
// byte more is refused to the client.
func TestAuthorizeStoresBoundedParameters(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		srv := behindProxy(t, e.p.Handler())
		claims := `{"id_token":{"acr":{"essential":true,"values":["urn:gatehouse:acr:mfa"]}},"x":"` +
			strings.Repeat("a", paramLimits["claims"]-100) + `"}`
		if len(claims) > paramLimits["claims"] {
			t.Fatalf("test claims of %d bytes", len(claims))
		}
		largest := url.Values{
			"state": {strings.Repeat("s", paramLimits["state"])}, "nonce": {strings.Repeat("n", paramLimits["nonce"])},
			"login_hint": {strings.Repeat("h", paramLimits["login_hint"])}, "claims": {claims},
			"scope":      {"openid " + strings.Repeat("x", paramLimits["scope"]-7)},
			"acr_values": {strings.Repeat("a", paramLimits["acr_values"])},
		}
		if resp := e.authorizeFrom(srv, "203.0.113.9", largest); resp.StatusCode != http.StatusFound {
			t.Fatalf("the largest request answered %d", resp.StatusCode)
		}
		var stored int
		must(t, e.store.DB().QueryRowContext(e.ctx, `SELECT LENGTH(client_id) + LENGTH(redirect_uri) + LENGTH(scopes) + LENGTH(state) +
			LENGTH(nonce) + LENGTH(code_challenge) + LENGTH(prompt) + LENGTH(login_hint) + LENGTH(acr_values) + LENGTH(claims)
			FROM auth_requests WHERE client_network = '203.0.113.9'`).Scan(&stored))
		t.Logf("the largest request stores %d bytes of parameters", stored)
		if stored > 12<<10 {
			t.Errorf("the largest request stores %d bytes, want at most 12 KB", stored)
		}
		for name, limit := range map[string]int{"state": paramLimits["state"], "nonce": paramLimits["nonce"], "login_hint": paramLimits["login_hint"]} {
			resp := e.authorizeFrom(srv, "203.0.113.10", url.Values{name: {strings.Repeat("z", limit+1)}})
			loc, _ := resp.Location()
			if resp.StatusCode != http.StatusFound || loc == nil || loc.Query().Get("error") != "invalid_request" {
				t.Errorf("%s one byte too long: %d %v, want invalid_request to the client", name, resp.StatusCode, loc)
			}
		}
	})
}
