package op

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/gatehouse-id/gatehouse/storage"
)

// UserInfo returns the claims of the token's user. The token is looked up
// in the store on every call, so an expired or revoked token gets 401 with
// WWW-Authenticate: Bearer error="invalid_token" (added by guardUserinfo).
func (s *server) UserInfo(ctx context.Context, r *zop.Request[oidc.UserInfoRequest]) (*zop.Response, error) {
	tok, ok, err := s.p.accessToken(ctx, r.Data.AccessToken)
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	if !ok {
		return nil, invalidToken("the access token is invalid, expired or revoked")
	}
	if isClientToken(tok) || !slices.Contains(tok.Scopes, oidc.ScopeOpenID) {
		return nil, zop.NewStatusError(&oidc.Error{ErrorType: "insufficient_scope",
			Description: "the access token was not issued for an OpenID Connect sign-in"}, http.StatusForbidden)
	}
	u, err := s.p.store.Users().Get(ctx, tok.Subject)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && u.Disabled) {
		return nil, invalidToken("the user account is disabled")
	}
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	info := new(oidc.UserInfo)
	fillUserinfo(info, u, tok.Scopes)
	return zop.NewResponse(info), nil
}

func invalidToken(desc string) error {
	return zop.NewStatusError(&oidc.Error{ErrorType: "invalid_token", Description: desc}, http.StatusUnauthorized)
}
