package op

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/gatehouse-id/gatehouse/storage"
)

// Storage is the library's op.Storage over the Gatehouse store. The
// library calls it while building tokens and verifying signatures; the
// endpoints whose whole flow Gatehouse owns do not reach it (see
// storage_unused.go).
type Storage struct{ p *Provider }

var (
	_ zop.Storage                        = (*Storage)(nil)
	_ zop.CanSetUserinfoFromRequest      = (*Storage)(nil)
	_ zop.CanGetPrivateClaimsFromRequest = (*Storage)(nil)
)

var errUnknownClient = errors.New("unknown client")

// GetClientByClientID loads a client. An unknown client is a plain error,
// which the library answers as the client's fault, not the server's.
func (s *Storage) GetClientByClientID(ctx context.Context, id string) (zop.Client, error) {
	if !validText(id) {
		return nil, errUnknownClient
	}
	c, err := s.p.store.Clients().Get(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, errUnknownClient
	}
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	return s.p.wrapClient(c), nil
}

// AuthorizeClientIDSecret checks a confidential client's secret in
// constant time against its stored digest.
func (s *Storage) AuthorizeClientIDSecret(ctx context.Context, id, secret string) error {
	_, err := s.p.authenticateClient(ctx, id, secret)
	return err
}

// SigningKey is the manager's active key (it caches it).
func (s *Storage) SigningKey(ctx context.Context) (zop.SigningKey, error) {
	k, err := s.p.keys.Active(ctx)
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(fmt.Errorf("active signing key: %w", err))
	}
	return librarySigningKey{k}, nil
}

// SignatureAlgorithms is the one algorithm of the whole server.
func (s *Storage) SignatureAlgorithms(ctx context.Context) ([]jose.SignatureAlgorithm, error) {
	k, err := s.p.keys.Active(ctx)
	if err != nil {
		return nil, err
	}
	return []jose.SignatureAlgorithm{k.Alg}, nil
}

// KeySet is every published public key; the library verifies
// id_token_hint and JWT access tokens against it.
func (s *Storage) KeySet(ctx context.Context) ([]zop.Key, error) {
	jwks, err := s.p.keys.Published(ctx)
	if err != nil {
		return nil, err
	}
	keys := make([]zop.Key, len(jwks))
	for i, k := range jwks {
		keys[i] = publicKey{k}
	}
	return keys, nil
}

// Health reports whether the database answers.
func (s *Storage) Health(ctx context.Context) error { return s.p.store.Ping(ctx) }

// DeleteAuthRequest keeps the request: once its code is redeemed the row
// is the marker that recognises a reuse, until the clean-up removes it
// after the code's expiry.
func (s *Storage) DeleteAuthRequest(context.Context, string) error { return nil }

// SetUserinfoFromScopes is deprecated in the library; SetUserinfoFromRequest does the work.
func (s *Storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest fills the ID token's user claims from the user
// loaded when the grant was checked. The library drops acr on refresh, so
// a refreshed ID token carries it as an extra claim.
func (s *Storage) SetUserinfoFromRequest(_ context.Context, info *oidc.UserInfo, req zop.IDTokenRequest, scopes []string) error {
	switch g := req.(type) {
	case *codeGrant:
		fillUserinfo(info, g.user, scopes)
	case *refreshGrant:
		fillUserinfo(info, g.user, scopes)
		if g.token.ACR != "" {
			info.AppendClaims("acr", g.token.ACR)
		}
	default:
		return oidc.ErrServerError().WithDescription("unexpected token request")
	}
	return nil
}

// GetPrivateClaimsFromScopes adds nothing to JWT access tokens.
func (s *Storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

// GetPrivateClaimsFromRequest adds nothing to JWT access tokens.
func (s *Storage) GetPrivateClaimsFromRequest(context.Context, zop.TokenRequest, []string) (map[string]any, error) {
	return nil, nil
}

// fillUserinfo sets the claims the scopes grant. The subject is always
// set: the library takes the ID token's sub from it.
func fillUserinfo(info *oidc.UserInfo, u *storage.User, scopes []string) {
	info.Subject = u.ID
	if slices.Contains(scopes, oidc.ScopeEmail) {
		info.Email = u.Email
		info.EmailVerified = true // accounts are created by operators
	}
	if slices.Contains(scopes, oidc.ScopeProfile) && u.Name != "" {
		info.Name = u.Name
	}
}
