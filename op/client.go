package op

import (
	"net"
	"net/url"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/gatehouse-id/gatehouse/storage"
)

// client is a registered client as the library sees it. Every client is
// the library's "web" type: redirect URIs are matched exactly by our own
// authorize handler, so the library's looser native-app rules never apply.
type client struct {
	c          *storage.Client
	idTokenTTL time.Duration
	signInURL  func(id string) string
}

var _ zop.Client = (*client)(nil)

func (p *Provider) wrapClient(c *storage.Client) *client {
	return &client{c: c, idTokenTTL: p.cfg.IDTokenTTL, signInURL: p.cfg.SignInURL}
}

func (c *client) GetID() string                        { return c.c.ID }
func (c *client) RedirectURIs() []string               { return c.c.RedirectURIs }
func (c *client) PostLogoutRedirectURIs() []string     { return c.c.PostLogoutRedirectURIs }
func (c *client) ApplicationType() zop.ApplicationType { return zop.ApplicationTypeWeb }
func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *client) LoginURL(id string) string            { return c.signInURL(id) }
func (c *client) IDTokenLifetime() time.Duration       { return c.idTokenTTL }
func (c *client) IsScopeAllowed(string) bool           { return false }
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *client) ClockSkew() time.Duration             { return 0 }
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// AuthMethod is none for public clients and client_secret_basic for the
// others; client_secret_post is accepted too (AuthMethodPost is on).
func (c *client) AuthMethod() oidc.AuthMethod {
	if c.c.Public {
		return oidc.AuthMethodNone
	}
	return oidc.AuthMethodBasic
}

func (c *client) GrantTypes() []oidc.GrantType {
	if c.c.Public {
		return []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
	}
	return []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken, oidc.GrantTypeClientCredentials}
}

// AccessTokenType is what the library makes: always opaque tokens. JWT
// access tokens are made by jwtTokenResponse, as RFC 9068 asks.
func (c *client) AccessTokenType() zop.AccessTokenType { return zop.AccessTokenTypeBearer }

// jwtAccessTokens reports a client given RFC 9068 JWT access tokens.
func jwtAccessTokens(c zop.Client) bool {
	w, ok := c.(*client)
	return ok && w.c.JWTAccessTokens
}

// DevMode lets the library accept http:// redirect URIs; only a client
// whose every redirect URI is on the loopback interface gets it.
func (c *client) DevMode() bool {
	if len(c.c.RedirectURIs) == 0 {
		return false
	}
	for _, u := range c.c.RedirectURIs {
		if !isLoopbackURI(u) {
			return false
		}
	}
	return true
}

func isLoopbackURI(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// registeredRedirect reports whether uri is one of the client's redirect
// URIs, character for character: no port, case or path leniency.
func registeredRedirect(c *storage.Client, uri string) bool {
	return uri != "" && slices.Contains(c.RedirectURIs, uri)
}

// registeredPostLogout is the same for post-logout redirect URIs.
func registeredPostLogout(c *storage.Client, uri string) bool {
	return uri != "" && slices.Contains(c.PostLogoutRedirectURIs, uri)
}
