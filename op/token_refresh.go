package op

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/gatehouse-id/gatehouse/storage"
)

// RefreshToken rotates a refresh token: the presented one is used up and a
// new access token, refresh token (same family) and ID token are issued.
// A refresh token presented by another client is refused without being
// used up; one presented a second time revokes its whole family, unless
// its own client presents it again within the reuse grace (a retry after a
// lost answer, parallel requests): then it gets one more fresh pair of the
// same family, and both children stay usable.
func (s *server) RefreshToken(ctx context.Context, r *zop.ClientRequest[oidc.RefreshTokenRequest]) (*zop.Response, error) {
	hash := storage.HashSecret(r.Data.RefreshToken)
	// The common case in one query; Get tells the others apart.
	tok, u, ms, err := s.p.store.Tokens().GetWithUser(ctx, hash)
	if errors.Is(err, storage.ErrNotFound) {
		tok, err = s.p.store.Tokens().Get(ctx, hash)
	}
	if errors.Is(err, storage.ErrNotFound) {
		return nil, errRefreshInvalid()
	}
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	if tok.Kind != storage.TokenRefresh || tok.ClientID != r.Client.GetID() {
		return nil, errRefreshInvalid()
	}
	if tok.RotatedAt != nil && !tok.RotatedAt.After(s.p.graceFrom(time.Now())) {
		if err := s.p.store.Tokens().RevokeFamily(ctx, tok.FamilyID); err != nil {
			return nil, oidc.ErrServerError().WithParent(err)
		}
		return nil, s.p.refreshError(ctx, tok.FamilyID, storage.ErrTokenReused)
	}
	if tok.RevokedAt != nil || !time.Now().Before(tok.ExpiresAt) {
		return nil, errRefreshInvalid()
	}
	scopes, err := narrowScopes(tok.Scopes, r.Data.Scopes)
	if err != nil {
		return nil, err
	}
	user, err := s.p.grantUser(ctx, tok.Subject, u, ms, r.Client, tok.AMR)
	if err != nil {
		return nil, err
	}
	grant := &refreshGrant{token: tok, tokenHash: hash, user: user, scopes: scopes}
	var resp *oidc.AccessTokenResponse
	if jwtAccessTokens(r.Client) {
		resp, err = s.p.jwtTokenResponse(ctx, grant, grant, r.Client, "", r.Data.RefreshToken, true)
	} else {
		resp, err = zop.CreateTokenResponse(ctx, grant, r.Client, s.p.lib, true, "", r.Data.RefreshToken)
	}
	if err != nil {
		return nil, err
	}
	return zop.NewResponse(resp), nil
}

// narrowScopes allows asking for fewer scopes than were granted, never more.
func narrowScopes(granted, asked []string) ([]string, error) {
	if len(asked) == 0 {
		return granted, nil
	}
	for _, s := range asked {
		if !slices.Contains(granted, s) {
			return nil, oidc.ErrInvalidScope().WithDescription("the requested scope exceeds the scope originally granted")
		}
	}
	return asked, nil
}
