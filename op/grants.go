package op

import (
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/gatehouse-id/gatehouse/storage"
)

// The token requests handed to the library's token builders. Each carries
// what was already loaded and checked, so issuing needs no further reads.

// codeGrant is an authorization code being redeemed.
type codeGrant struct {
	req      *storage.AuthRequest
	user     *storage.User
	codeHash []byte
}

var _ zop.AuthRequest = (*codeGrant)(nil)

func (g *codeGrant) GetID() string          { return g.req.ID }
func (g *codeGrant) GetACR() string         { return g.req.ACR }
func (g *codeGrant) GetAMR() []string       { return g.req.AMR }
func (g *codeGrant) GetAudience() []string  { return []string{g.req.ClientID} }
func (g *codeGrant) GetAuthTime() time.Time { return timeOrZero(g.req.AuthTime) }
func (g *codeGrant) GetClientID() string    { return g.req.ClientID }
func (g *codeGrant) GetNonce() string       { return g.req.Nonce }
func (g *codeGrant) GetRedirectURI() string { return g.req.RedirectURI }
func (g *codeGrant) GetScopes() []string    { return g.req.Scopes }
func (g *codeGrant) GetState() string       { return g.req.State }
func (g *codeGrant) GetSubject() string     { return g.req.Subject }
func (g *codeGrant) Done() bool             { return g.req.Done }
func (g *codeGrant) GetResponseType() oidc.ResponseType {
	return oidc.ResponseTypeCode
}
func (g *codeGrant) GetResponseMode() oidc.ResponseMode {
	return oidc.ResponseModeQuery
}
func (g *codeGrant) GetCodeChallenge() *oidc.CodeChallenge {
	if g.req.CodeChallenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: g.req.CodeChallenge, Method: oidc.CodeChallengeMethod(g.req.CodeChallengeMethod)}
}

// refreshGrant is a refresh token being rotated.
type refreshGrant struct {
	token     *storage.Token // the presented refresh token, before rotation
	tokenHash []byte
	user      *storage.User
	scopes    []string // the access token's scopes: the original ones or fewer
}

var _ zop.RefreshTokenRequest = (*refreshGrant)(nil)

func (g *refreshGrant) GetAMR() []string            { return g.token.AMR }
func (g *refreshGrant) GetAudience() []string       { return []string{g.token.ClientID} }
func (g *refreshGrant) GetAuthTime() time.Time      { return timeOrZero(g.token.AuthTime) }
func (g *refreshGrant) GetClientID() string         { return g.token.ClientID }
func (g *refreshGrant) GetScopes() []string         { return g.scopes }
func (g *refreshGrant) GetSubject() string          { return g.token.Subject }
func (g *refreshGrant) SetCurrentScopes(s []string) { g.scopes = s }

// clientGrant is a client acting on its own behalf (client_credentials).
type clientGrant struct {
	clientID string
	scopes   []string
}

var _ zop.TokenRequest = (*clientGrant)(nil)

func (g *clientGrant) GetSubject() string    { return g.clientID }
func (g *clientGrant) GetAudience() []string { return []string{g.clientID} }
func (g *clientGrant) GetScopes() []string   { return g.scopes }

func timeOrZero(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}
