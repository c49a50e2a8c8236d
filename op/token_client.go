package op

import (
	"context"
	"slices"

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
	scopes := []string{}
	if cl, ok := r.Client.(*client); ok && cl.c.AdminAPI && cl.c.OrgID != nil && slices.Contains([]string(r.Data.Scope), ScopeAdmin) {
		// A service client of an organisation administers it.
		scopes = append(scopes, ScopeAdmin)
	}
	grant := &clientGrant{clientID: r.Client.GetID(), scopes: scopes}
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
