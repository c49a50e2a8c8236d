package op

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/gatehouse-id/gatehouse/storage"
)

// TestIntrospectionIsScopedToItsClients: a client learns about its own
// tokens; a resource server about access tokens only; anyone else gets
// {"active":false}. Without credentials the answer is 401.
func TestIntrospectionIsScopedToItsClients(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		s := e.signIn(e.rp(e.conf, e.secret))
		newClient := func(name string, resourceServer bool) (*storage.Client, string) {
			secret, digest := storage.NewSecret()
			c := &storage.Client{Name: name, SecretHash: digest, RedirectURIs: storage.StringList{"https://" + name + ".example.com/cb"},
				ResourceServer: resourceServer}
			must(t, e.store.Clients().Create(e.ctx, c))
			return c, secret
		}
		other, otherSecret := newClient("other", false)
		api, apiSecret := newClient("api", true)
		introspectAs := func(c *storage.Client, secret, token string) map[string]any {
			t.Helper()
			status, m := e.post(pathIntrospection, url.Values{"token": {token}}, c.ID, secret)
			if status != http.StatusOK {
				t.Fatalf("introspect as %s: %d %v", c.Name, status, m)
			}
			return m
		}
		for _, tc := range []struct {
			who    *storage.Client
			secret string
			token  string
			active bool
		}{
			{e.conf, e.secret, s.token.AccessToken, true},
			{e.conf, e.secret, s.token.RefreshToken, true},
			{other, otherSecret, s.token.AccessToken, false},
			{other, otherSecret, s.token.RefreshToken, false},
			{api, apiSecret, s.token.AccessToken, true},
			{api, apiSecret, s.token.RefreshToken, false},
		} {
			m := introspectAs(tc.who, tc.secret, tc.token)
			if active(m) != tc.active || (!tc.active && len(m) != 1) {
				t.Errorf("%s introspecting: %v, want active=%v", tc.who.Name, m, tc.active)
			}
		}
		if status, m := e.post(pathIntrospection, url.Values{"token": {s.token.AccessToken}}, "", ""); status != http.StatusUnauthorized {
			t.Errorf("without credentials: %d %v, want 401", status, m)
		}
	})
}
