package op

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/gatehouse-id/gatehouse/storage"
)

// server is the library's LegacyServer with the endpoints Gatehouse owns
// overridden. Each override lives in the file named after its endpoint.
type server struct {
	*zop.LegacyServer
	p *Provider
}

// Discovery serves the pre-serialised document.
func (s *server) Discovery(ctx context.Context, _ *zop.Request[struct{}]) (*zop.Response, error) {
	body, err := s.p.discoveryJSON(ctx)
	if err != nil {
		s.p.log.ErrorContext(ctx, "discovery document", "error", err)
		return nil, zop.NewStatusError(oidc.ErrServerError().WithDescription("the discovery document is unavailable"), http.StatusServiceUnavailable)
	}
	resp := zop.NewResponse(json.RawMessage(body))
	resp.Header.Set("Cache-Control", "public, max-age=3600")
	return resp, nil
}

// Keys serves the key manager's pre-serialised JWKS with a cache lifetime
// that key rotation counts on.
func (s *server) Keys(ctx context.Context, _ *zop.Request[struct{}]) (*zop.Response, error) {
	body, err := s.p.keys.JWKS(ctx)
	if err != nil {
		s.p.log.ErrorContext(ctx, "signing keys", "error", err)
		return nil, zop.NewStatusError(oidc.ErrServerError().WithDescription("the signing keys are unavailable"), http.StatusServiceUnavailable)
	}
	resp := zop.NewResponse(json.RawMessage(body))
	resp.Header.Set("Cache-Control", s.p.keysCacheControl())
	return resp, nil
}

// VerifyClient authenticates the client at the token and revocation
// endpoints: a public client by its id, any other by its secret (HTTP
// Basic or form body). Client assertions are not supported.
func (s *server) VerifyClient(ctx context.Context, r *zop.Request[zop.ClientCredentials]) (zop.Client, error) {
	cc := r.Data
	if cc.ClientAssertion != "" || cc.ClientAssertionType != "" {
		return nil, invalidClient("client assertions are not supported")
	}
	c, err := s.p.authenticateClient(ctx, cc.ClientID, cc.ClientSecret)
	if err != nil {
		return nil, err
	}
	return s.p.wrapClient(c), nil
}

// authenticateClient returns the client if the secret is its own, or if it
// is public and no secret was sent.
func (p *Provider) authenticateClient(ctx context.Context, id, secret string) (*storage.Client, error) {
	if id == "" || len(id) > 255 || !validText(id) {
		return nil, invalidClient("client authentication failed")
	}
	c, err := p.store.Clients().Get(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, invalidClient("client authentication failed")
	}
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	if c.Public {
		if secret != "" {
			return nil, invalidClient("public clients have no secret")
		}
		return c, nil
	}
	if !storage.SecretMatches(c.SecretHash, secret) {
		return nil, invalidClient("client authentication failed")
	}
	return c, nil
}

func invalidClient(desc string) error {
	return zop.NewStatusError(oidc.ErrInvalidClient().WithDescription("%s", desc), http.StatusUnauthorized)
}

func unsupportedGrant() error {
	return oidc.ErrUnsupportedGrantType().WithDescription("this grant type is not supported")
}

// JWTProfile refuses the JWT bearer grant, which the library would serve.
func (s *server) JWTProfile(context.Context, *zop.Request[oidc.JWTProfileGrantRequest]) (*zop.Response, error) {
	return nil, unsupportedGrant()
}

// TokenExchange refuses RFC 8693 token exchange.
func (s *server) TokenExchange(context.Context, *zop.ClientRequest[oidc.TokenExchangeRequest]) (*zop.Response, error) {
	return nil, unsupportedGrant()
}

// DeviceToken refuses the device code grant.
func (s *server) DeviceToken(context.Context, *zop.ClientRequest[oidc.DeviceAccessTokenRequest]) (*zop.Response, error) {
	return nil, unsupportedGrant()
}

// DeviceAuthorization is not served (its endpoint is not routed either).
func (s *server) DeviceAuthorization(context.Context, *zop.ClientRequest[oidc.DeviceAuthorizationRequest]) (*zop.Response, error) {
	return nil, zop.NewStatusError(oidc.ErrInvalidRequest().WithDescription("device authorization is not supported"), http.StatusNotFound)
}
