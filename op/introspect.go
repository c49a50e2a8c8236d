package op

import (
	"context"
	"errors"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/gatehouse-id/gatehouse/storage"
)

// Introspect answers RFC 7662 for an authenticated confidential client:
// for an access or refresh token that is known, unexpired, unrevoked and
// whose user may still sign in, what it grants and how the user signed in;
// for anything else only {"active": false}. A client learns about its own
// tokens only, except that a resource server (an API) may introspect the
// access tokens presented to it (RFC 7662 §2.1, §4).
func (s *server) Introspect(ctx context.Context, r *zop.Request[zop.IntrospectionRequest]) (*zop.Response, error) {
	cc := r.Data.ClientCredentials
	if cc.ClientAssertion != "" {
		return nil, invalidClient("client assertions are not supported")
	}
	caller, err := s.p.authenticateClient(ctx, cc.ClientID, cc.ClientSecret)
	if err != nil {
		return nil, err
	}
	if caller.Public {
		return nil, invalidClient("public clients cannot introspect tokens")
	}
	tok, err := s.p.introspectedToken(ctx, r.Data.Token)
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	if tok == nil || !mayIntrospect(caller, tok) {
		return zop.NewResponse(&oidc.IntrospectionResponse{Active: false}), nil
	}
	return zop.NewResponse(s.p.introspection(tok)), nil
}

// mayIntrospect: a token's own client may introspect it; a resource server
// any access token; nobody else anything.
func mayIntrospect(caller *storage.Client, tok *storage.Token) bool {
	return tok.ClientID == caller.ID || (caller.ResourceServer && tok.Kind == storage.TokenAccess)
}

// introspectedToken finds an active access token, or else an active
// refresh token, with a user that is not disabled. nil means inactive.
func (p *Provider) introspectedToken(ctx context.Context, raw string) (*storage.Token, error) {
	tok, ok, err := p.accessToken(ctx, raw)
	if err != nil {
		return nil, err
	}
	if !ok {
		if tok, err = p.refreshToken(ctx, raw); tok == nil || err != nil {
			return nil, err
		}
	}
	if isClientToken(tok) {
		return tok, nil
	}
	u, err := p.store.Users().Get(ctx, tok.Subject)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && u.Disabled) {
		return nil, nil
	}
	return tok, err
}

// refreshToken returns the active refresh token with this value, or nil.
func (p *Provider) refreshToken(ctx context.Context, raw string) (*storage.Token, error) {
	if raw == "" || len(raw) > maxTokenLength {
		return nil, nil
	}
	tok, err := p.store.Tokens().Get(ctx, storage.HashSecret(raw))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if tok.Kind != storage.TokenRefresh || !tok.Active(time.Now()) {
		return nil, nil
	}
	return tok, nil
}

func (p *Provider) introspection(tok *storage.Token) *oidc.IntrospectionResponse {
	resp := &oidc.IntrospectionResponse{
		Active:     true,
		Scope:      oidc.SpaceDelimitedArray(tok.Scopes),
		ClientID:   tok.ClientID,
		Subject:    tok.Subject,
		Audience:   oidc.Audience(tok.Audience),
		Issuer:     p.issuer,
		Expiration: oidc.FromTime(tok.ExpiresAt),
		IssuedAt:   oidc.FromTime(tok.CreatedAt),
		TokenType:  oidc.BearerToken,
	}
	if tok.Kind == storage.TokenRefresh {
		resp.TokenType = "refresh_token"
	}
	if tok.AuthTime != nil {
		resp.AuthTime = oidc.FromTime(*tok.AuthTime)
	}
	resp.AuthenticationMethodsReferences = oidc.AuthenticationMethodsReferences(tok.AMR)
	if tok.ACR != "" {
		// The response type has no acr field.
		resp.Claims = map[string]any{"acr": tok.ACR}
	}
	return resp
}
