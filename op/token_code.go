package op

import (
	"context"
	"crypto/subtle"
	"errors"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/storage"
)

// CodeExchange redeems an authorization code. The client was
// authenticated by the library (r.Client). The code is checked against
// what it was issued for before it is consumed, so a wrong client or a
// wrong verifier cannot burn it; consuming happens in the same
// transaction as storing the tokens (Storage.issue).
func (s *server) CodeExchange(ctx context.Context, r *zop.ClientRequest[oidc.AccessTokenRequest]) (*zop.Response, error) {
	codeHash := storage.HashSecret(r.Data.Code)
	// The common case in one query; ByCode tells the others apart.
	req, u, ms, err := s.p.store.AuthRequests().ByCodeWithUser(ctx, codeHash)
	if errors.Is(err, storage.ErrNotFound) {
		req, err = s.p.store.AuthRequests().ByCode(ctx, codeHash)
	}
	if errors.Is(err, storage.ErrNotFound) {
		return nil, errCodeInvalid()
	}
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	if req.ClientID != r.Client.GetID() {
		return nil, errCodeInvalid()
	}
	if r.Data.RedirectURI != req.RedirectURI {
		return nil, oidc.ErrInvalidGrant().WithDescription("redirect_uri does not match the authorization request")
	}
	if err := checkPKCE(req.CodeChallenge, r.Data.CodeVerifier); err != nil {
		return nil, err
	}
	if req.CodeUsedAt != nil {
		return nil, s.p.codeError(ctx, req.ID, storage.ErrCodeReused)
	}
	if req.CodeExpiresAt == nil || !time.Now().Before(*req.CodeExpiresAt) || !req.Done || req.Subject == "" {
		return nil, errCodeInvalid()
	}
	user, err := s.p.grantUser(ctx, req.Subject, u, ms, r.Client, req.AMR)
	if err != nil {
		return nil, err
	}
	grant := &codeGrant{req: req, user: user, codeHash: codeHash}
	var resp *oidc.AccessTokenResponse
	if jwtAccessTokens(r.Client) {
		resp, err = s.p.jwtTokenResponse(ctx, grant, grant, r.Client, r.Data.Code, "", wantsRefresh(grant, r.Client))
	} else {
		resp, err = zop.CreateTokenResponse(ctx, grant, r.Client, s.p.lib, true, r.Data.Code, "")
	}
	if err != nil {
		return nil, err
	}
	return zop.NewResponse(resp), nil
}

// checkPKCE requires the verifier whenever a challenge was stored (only
// S256 is ever stored), and refuses a verifier nobody asked for (a PKCE
// downgrade).
func checkPKCE(challenge, verifier string) error {
	if challenge == "" {
		if verifier != "" {
			return oidc.ErrInvalidGrant().WithDescription("code_verifier sent, but the authorization request had no code_challenge")
		}
		return nil
	}
	if verifier == "" {
		return oidc.ErrInvalidGrant().WithDescription("code_verifier is required")
	}
	if !validPKCEValue(verifier) {
		return oidc.ErrInvalidGrant().WithDescription("code_verifier is malformed")
	}
	got := oidc.NewSHACodeChallenge(verifier)
	if subtle.ConstantTimeCompare([]byte(got), []byte(challenge)) != 1 {
		return oidc.ErrInvalidGrant().WithDescription("code_verifier does not match the code_challenge")
	}
	return nil
}

// validPKCEValue checks RFC 7636 §4.1: 43 to 128 unreserved characters.
func validPKCEValue(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}

// errSecondFactorRequired refuses a grant whose sign-in lacks the second
// factor now required of the user. Nothing is revoked: a sign-in with
// the factor (or enrollment) makes the next grants work again.
func errSecondFactorRequired() error {
	return oidc.ErrInvalidGrant().WithDescription("two-step verification is now required for this user: sign in again with a second factor")
}

// grantUser is the user a grant issues tokens for, u with their
// organisations ms when the grant's query read them, else loaded by id in
// one query. It refuses a disabled or deleted account, and re-checks what
// the user's organisations (once their requirement is in force for this
// member) and the client require now against what the sign-in proved
// (amr): a token from before a policy stops working once the policy
// applies, and one from a grace period keeps working during it.
func (p *Provider) grantUser(ctx context.Context, id string, u *storage.User, ms []storage.Membership, c zop.Client, amr []string) (*storage.User, error) {
	var err error
	if u == nil {
		u, ms, err = p.store.Users().GetWithMemberships(ctx, id)
	}
	if errors.Is(err, storage.ErrNotFound) || (err == nil && u.Disabled) {
		return nil, oidc.ErrInvalidGrant().WithDescription("the user account is disabled")
	}
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	clientRequires := false
	if cl, ok := c.(*client); ok {
		clientRequires = cl.c.RequireMFA
	}
	if need := mfa.GrantRank(storage.MFAPolicies(ms), clientRequires, time.Now()); !mfa.Satisfies(amr, need) {
		return nil, errSecondFactorRequired()
	}
	return u, nil
}
