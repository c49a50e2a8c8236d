package op

import (
	"slices"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/gatehouse-id/gatehouse/storage"
)

func TestClientAsTheLibrarySeesIt(t *testing.T) {
	cases := []struct {
		name       string
		c          storage.Client
		devMode    bool
		authMethod oidc.AuthMethod
		ccGrant    bool
		jwt        bool
	}{
		{"confidential https", storage.Client{RedirectURIs: storage.StringList{"https://app.example.com/cb"}}, false, oidc.AuthMethodBasic, true, false},
		{"public loopback", storage.Client{Public: true, RedirectURIs: storage.StringList{"http://127.0.0.1:8080/cb", "http://localhost/cb", "http://[::1]/cb"}},
			true, oidc.AuthMethodNone, false, false},
		{"loopback and https", storage.Client{RedirectURIs: storage.StringList{"http://127.0.0.1/cb", "https://app.example.com/cb"}},
			false, oidc.AuthMethodBasic, true, false},
		{"http non-loopback", storage.Client{RedirectURIs: storage.StringList{"http://app.example.com/cb"}}, false, oidc.AuthMethodBasic, true, false},
		{"loopback look-alike", storage.Client{RedirectURIs: storage.StringList{"http://127.0.0.1.example.com/cb"}}, false, oidc.AuthMethodBasic, true, false},
		{"no redirect URIs", storage.Client{}, false, oidc.AuthMethodBasic, true, false},
		{"JWT access tokens", storage.Client{JWTAccessTokens: true, RedirectURIs: storage.StringList{"https://a.example/cb"}}, false, oidc.AuthMethodBasic, true, true},
	}
	p := &Provider{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := p.wrapClient(&tc.c)
			if c.ApplicationType() != zop.ApplicationTypeWeb {
				t.Error("not a web client")
			}
			if c.DevMode() != tc.devMode {
				t.Errorf("DevMode = %v, want %v", c.DevMode(), tc.devMode)
			}
			if c.AuthMethod() != tc.authMethod {
				t.Errorf("AuthMethod = %v, want %v", c.AuthMethod(), tc.authMethod)
			}
			if got := slices.Contains(c.GrantTypes(), oidc.GrantTypeClientCredentials); got != tc.ccGrant {
				t.Errorf("client_credentials allowed = %v, want %v", got, tc.ccGrant)
			}
			if got := jwtAccessTokens(c); got != tc.jwt || c.AccessTokenType() != zop.AccessTokenTypeBearer {
				t.Errorf("JWT access tokens = %v, want %v", got, tc.jwt)
			}
		})
	}
}
