package op

import (
	"context"

	"github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"
)

// The op.Storage methods below belong to library flows that Gatehouse
// replaces with its own: /authorize and its callback, code and refresh
// redemption, userinfo, introspection, revocation, end session and the
// JWT-profile grant. None of them is reachable; each refuses, so that a
// future library path that did reach one fails closed instead of skipping
// Gatehouse's checks.

func errNotServed(what string) *oidc.Error {
	return oidc.ErrServerError().WithDescription("%s is handled by Gatehouse's own endpoint", what)
}

func (s *Storage) CreateAuthRequest(context.Context, *oidc.AuthRequest, string) (zop.AuthRequest, error) {
	return nil, errNotServed("creating an authorization request")
}

func (s *Storage) AuthRequestByID(context.Context, string) (zop.AuthRequest, error) {
	return nil, errNotServed("the authorization callback")
}

func (s *Storage) AuthRequestByCode(context.Context, string) (zop.AuthRequest, error) {
	return nil, errNotServed("redeeming a code")
}

func (s *Storage) SaveAuthCode(context.Context, string, string) error {
	return errNotServed("issuing a code")
}

func (s *Storage) TokenRequestByRefreshToken(context.Context, string) (zop.RefreshTokenRequest, error) {
	return nil, errNotServed("redeeming a refresh token")
}

func (s *Storage) TerminateSession(context.Context, string, string) error {
	return errNotServed("ending a session")
}

func (s *Storage) RevokeToken(context.Context, string, string, string) *oidc.Error {
	return errNotServed("revoking a token")
}

func (s *Storage) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", zop.ErrInvalidRefreshToken
}

func (s *Storage) SetUserinfoFromToken(context.Context, *oidc.UserInfo, string, string, string) error {
	return errNotServed("userinfo")
}

func (s *Storage) SetIntrospectionFromToken(context.Context, *oidc.IntrospectionResponse, string, string, string) error {
	return errNotServed("introspection")
}

func (s *Storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, oidc.ErrInvalidClient().WithDescription("client assertions are not supported")
}

func (s *Storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, oidc.ErrUnsupportedGrantType()
}
