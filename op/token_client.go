package op

import (
	"context"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"
)

// ClientCredentialsExchange issues a confidential client an access token
// for itself: the subject is the client id, with no ID token and no
// refresh token. The library has already refused public clients. The
// user scopes make no sense without a user and are dropped; no other scope
// is granted to clients yet.
func (s *server) ClientCredentialsExchange(ctx context.Context, r *zop.ClientRequest[oidc.ClientCredentialsRequest]) (*zop.Response, error) {
	if r.Client.AuthMethod() == oidc.AuthMethodNone {
		return nil, invalidClient("public clients cannot use client_credentials")
	}
	grant := &clientGrant{clientID: r.Client.GetID(), scopes: []string{}}
	var resp *oidc.AccessTokenResponse
	var err error
	if jwtAccessTokens(r.Client) {
		resp, err = s.p.jwtTokenResponse(ctx, grant, nil, r.Client, "", "", false)
	} else {
		resp, err = zop.CreateClientCredentialsTokenResponse(ctx, grant, s.p.lib, r.Client)
	}
	if err != nil {
		return nil, err
	}
	return zop.NewResponse(resp), nil
}
