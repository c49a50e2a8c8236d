package op

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"
)

// typAccessToken is the JOSE type of a JWT access token (RFC 9068 §2.1),
// which tells it apart from an ID token ("JWT").
const typAccessToken = "at+jwt"

// accessTokenClaims are the claims of an RFC 9068 JWT access token.
type accessTokenClaims struct {
	Issuer   string   `json:"iss"`
	Subject  string   `json:"sub"`
	Audience []string `json:"aud"`
	ClientID string   `json:"client_id"`
	Expiry   int64    `json:"exp"`
	IssuedAt int64    `json:"iat"`
	JWTID    string   `json:"jti"`
	Scope    string   `json:"scope,omitempty"`
	AuthTime int64    `json:"auth_time,omitempty"`
	ACR      string   `json:"acr,omitempty"`
	AMR      []string `json:"amr,omitempty"`
}

// grantFacts are what an access token says of its grant.
func grantFacts(req zop.TokenRequest) (scopes []string, authTime *time.Time, amr []string, acr string) {
	switch g := req.(type) {
	case *codeGrant:
		return g.req.Scopes, g.req.AuthTime, g.req.AMR, g.req.ACR
	case *refreshGrant:
		return g.scopes, g.token.AuthTime, g.token.AMR, g.token.ACR
	}
	return req.GetScopes(), nil, nil, ""
}

// signAccessToken makes the RFC 9068 JWT access token with id jti, signed
// with the active key and typed at+jwt: the library types every JWT it
// signs "JWT", which strict resource servers refuse for access tokens.
func (p *Provider) signAccessToken(ctx context.Context, id string, exp time.Time, req zop.TokenRequest, clientID string) (string, error) {
	key, err := p.keys.Active(ctx)
	if err != nil {
		return "", err
	}
	scopes, authTime, amr, acr := grantFacts(req)
	now := time.Now()
	claims := accessTokenClaims{
		Issuer: p.issuer, Subject: req.GetSubject(), Audience: []string{clientID}, ClientID: clientID,
		Expiry: exp.Unix(), IssuedAt: now.Unix(), JWTID: id, Scope: strings.Join(scopes, " "), ACR: acr, AMR: amr,
	}
	if authTime != nil {
		claims.AuthTime = authTime.Unix()
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: key.Alg, Key: jose.JSONWebKey{Key: key.Signer, KeyID: key.ID}},
		(&jose.SignerOptions{}).WithType(typAccessToken))
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

// jwtTokenResponse answers a token request of a client with JWT access
// tokens as the library's CreateTokenResponse does, with the access token
// made by signAccessToken, and the ID token's at_hash over that token.
// idRequest is nil for client credentials (no ID token).
func (p *Provider) jwtTokenResponse(ctx context.Context, req zop.TokenRequest, idRequest zop.IDTokenRequest, c zop.Client,
	code, refreshToken string, withRefresh bool) (*oidc.AccessTokenResponse, error) {
	var id, newRefresh string
	var exp time.Time
	var err error
	if withRefresh {
		id, newRefresh, exp, err = p.storage.CreateAccessAndRefreshTokens(ctx, req, refreshToken)
	} else {
		id, exp, err = p.storage.CreateAccessToken(ctx, req)
	}
	if err != nil {
		return nil, err
	}
	at, err := p.signAccessToken(ctx, id, exp, req, c.GetID())
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	resp := &oidc.AccessTokenResponse{AccessToken: at, RefreshToken: newRefresh, TokenType: oidc.BearerToken,
		ExpiresIn: uint64(time.Until(exp).Seconds()), Scope: req.GetScopes()}
	if idRequest != nil {
		if resp.IDToken, err = zop.CreateIDToken(ctx, p.issuer, idRequest, c.IDTokenLifetime(), at, code, p.storage, c); err != nil {
			return nil, err
		}
	}
	if ar, ok := req.(zop.AuthRequest); ok {
		if err := p.storage.DeleteAuthRequest(ctx, ar.GetID()); err != nil {
			return nil, err
		}
	}
	return resp, nil
}

// wantsRefresh is the library's rule for a code grant: a refresh token
// comes with offline_access, for a client allowed the refresh grant.
func wantsRefresh(req zop.AuthRequest, c zop.Client) bool {
	return slices.Contains(req.GetScopes(), oidc.ScopeOfflineAccess) && zop.ValidateGrantType(c, oidc.GrantTypeRefreshToken)
}

// jwtType is the JOSE "typ" of a compact JWS, or "" when it has none or
// is not a JWS.
func jwtType(raw string) string {
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil || len(jws.Signatures) != 1 {
		return ""
	}
	typ, _ := jws.Signatures[0].Header.ExtraHeaders[jose.HeaderType].(string)
	return typ
}

// errNotAccessToken: a JWT that is not one of our access tokens.
var errNotAccessToken = errors.New("not an access token")

// verifyAccessToken checks a JWT access token: typed at+jwt, signed by a
// published key, issued by us, unexpired. It returns its id and subject.
func (p *Provider) verifyAccessToken(ctx context.Context, raw string) (id, subject string, err error) {
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil || len(jws.Signatures) != 1 {
		return "", "", errNotAccessToken
	}
	h := jws.Signatures[0].Header
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); !strings.EqualFold(typ, typAccessToken) {
		return "", "", errNotAccessToken
	}
	keys, err := p.keys.Published(ctx)
	if err != nil {
		return "", "", err
	}
	for _, k := range keys {
		if k.KeyID != h.KeyID {
			continue
		}
		payload, err := jws.Verify(k)
		if err != nil {
			return "", "", errNotAccessToken
		}
		var c accessTokenClaims
		if err := json.Unmarshal(payload, &c); err != nil || c.Issuer != p.issuer || c.JWTID == "" || time.Now().Unix() >= c.Expiry {
			return "", "", errNotAccessToken
		}
		return c.JWTID, c.Subject, nil
	}
	return "", "", errNotAccessToken
}
