package op

import (
	"context"
	"errors"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/gatehouse-id/gatehouse/storage"
)

// Revocation implements RFC 7009. Revoking an access token ends that
// token; revoking a refresh token ends every token of its sign-in (the
// family). Only the client a token was issued to can revoke it: another
// client's request is refused (RFC 7009 §2.1). An unknown, expired or
// already revoked token is answered 200 (§2.2).
func (s *server) Revocation(ctx context.Context, r *zop.ClientRequest[oidc.RevocationRequest]) (*zop.Response, error) {
	err := s.p.revoke(ctx, r.Client.GetID(), r.Data.Token)
	if errors.Is(err, errNotYourToken) {
		return nil, zop.RevocationError(oidc.ErrUnauthorizedClient().WithDescription("the token was not issued to this client"))
	}
	if err != nil {
		return nil, zop.RevocationError(oidc.ErrServerError().WithParent(err))
	}
	return zop.NewResponse(nil), nil
}

// errNotYourToken refuses revoking a token issued to another client.
var errNotYourToken = errors.New("token of another client")

func (p *Provider) revoke(ctx context.Context, clientID, raw string) error {
	if raw == "" || len(raw) > maxTokenLength {
		return nil
	}
	if id, _, ok := p.decodeAccessToken(ctx, raw); ok {
		hash := storage.HashSecret(id)
		tok, err := p.store.Tokens().Get(ctx, hash)
		if err == nil && tok.Kind == storage.TokenAccess {
			if tok.ClientID != clientID {
				return errNotYourToken
			}
			return p.store.Tokens().Revoke(ctx, hash)
		}
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		return nil
	}
	tok, err := p.store.Tokens().Get(ctx, storage.HashSecret(raw))
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if tok.Kind != storage.TokenRefresh {
		return nil
	}
	if tok.ClientID != clientID {
		return errNotYourToken
	}
	return p.store.Tokens().RevokeFamily(ctx, tok.FamilyID)
}
