package op

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/gatehouse-id/gatehouse/storage"
)

// clientFamilyPrefix marks the family of a client_credentials token: it
// has no end-user and no authorization code behind it.
const clientFamilyPrefix = "client:"

// CreateAccessToken issues an access token alone (a code without
// offline_access, or client_credentials). The library encrypts the
// returned id (opaque tokens) or makes it the jti (JWT access tokens).
func (s *Storage) CreateAccessToken(ctx context.Context, req zop.TokenRequest) (string, time.Time, error) {
	id, _, exp, err := s.issue(ctx, req, false)
	return id, exp, err
}

// CreateAccessAndRefreshTokens issues an access token and a refresh token.
func (s *Storage) CreateAccessAndRefreshTokens(ctx context.Context, req zop.TokenRequest, _ string) (string, string, time.Time, error) {
	return s.issue(ctx, req, true)
}

// issue stores the digests of a random 256-bit access token id and, when
// asked, of a random refresh token, in one statement. A code is consumed
// and a refresh token rotated atomically with the tokens' creation
// (Store.RedeemCode, Store.RotateRefresh), so that a concurrent reuse,
// which revokes the family once it sees the code used, cannot run between
// the two.
func (s *Storage) issue(ctx context.Context, req zop.TokenRequest, withRefresh bool) (accessID, refresh string, exp time.Time, err error) {
	now := time.Now()
	exp = now.Add(s.p.cfg.AccessTokenTTL)
	accessID, accessHash := storage.NewSecret()
	access := &storage.Token{IDHash: accessHash, Kind: storage.TokenAccess, ExpiresAt: exp}
	var refreshRow *storage.Token
	// A refresh token slides by RefreshTokenTTL at each rotation, but never
	// past its family's end, RefreshTokenMax after the code was redeemed.
	newRefresh := func(from *storage.Token, scopes []string, familyEnd *time.Time) {
		var digest []byte
		refresh, digest = storage.NewSecret()
		r := *from
		if familyEnd == nil {
			end := now.Add(s.p.cfg.RefreshTokenMax)
			familyEnd = &end
		}
		r.IDHash, r.Kind, r.Scopes, r.FamilyExpiresAt = digest, storage.TokenRefresh, scopes, familyEnd
		r.ExpiresAt = now.Add(s.p.cfg.RefreshTokenTTL)
		if r.ExpiresAt.After(*familyEnd) {
			r.ExpiresAt = *familyEnd
		}
		refreshRow = &r
	}

	switch g := req.(type) {
	case *codeGrant:
		fromAuthRequest(access, g.req)
		if withRefresh {
			newRefresh(access, g.req.Scopes, nil)
		}
		err = s.p.store.RedeemCode(ctx, g.codeHash, tokenRows(access, refreshRow)...)
		err = s.p.codeError(ctx, g.req.ID, err)
	case *refreshGrant:
		fromToken(access, g.token, g.scopes)
		// The new refresh token keeps the scope of the one it replaces (RFC 6749 §6).
		newRefresh(access, g.token.Scopes, g.token.FamilyExpiresAt)
		err = s.p.store.RotateRefresh(ctx, g.tokenHash, s.p.graceFrom(now), tokenRows(access, refreshRow)...)
		err = s.p.refreshError(ctx, g.token.FamilyID, err)
	case *clientGrant:
		access.FamilyID = clientFamilyPrefix + randomHex()
		access.ClientID, access.Subject, access.Scopes = g.clientID, g.clientID, g.scopes
		access.Audience = storage.StringList{g.clientID}
		err = s.p.store.Tokens().Create(ctx, access)
		if err != nil {
			err = oidc.ErrServerError().WithParent(err)
		}
	default:
		err = oidc.ErrServerError().WithDescription("unexpected token request")
	}
	if err != nil {
		return "", "", time.Time{}, err
	}
	return accessID, refresh, exp, nil
}

func tokenRows(access, refresh *storage.Token) []*storage.Token {
	if refresh == nil {
		return []*storage.Token{access}
	}
	return []*storage.Token{access, refresh}
}

// fromAuthRequest copies who signed in, and how, onto a token of the
// family the authorization request starts.
func fromAuthRequest(t *storage.Token, a *storage.AuthRequest) {
	t.FamilyID, t.ClientID, t.Subject = a.ID, a.ClientID, a.Subject
	t.Scopes, t.Audience = a.Scopes, storage.StringList{a.ClientID}
	t.AuthTime, t.AMR, t.ACR = a.AuthTime, a.AMR, a.ACR
}

// fromToken copies the same from the refresh token being rotated.
func fromToken(t *storage.Token, old *storage.Token, scopes []string) {
	t.FamilyID, t.ClientID, t.Subject = old.FamilyID, old.ClientID, old.Subject
	t.Scopes, t.Audience = scopes, storage.StringList{old.ClientID}
	t.AuthTime, t.AMR, t.ACR = old.AuthTime, old.AMR, old.ACR
}

// graceFrom is the earliest rotation a refresh token presented again at
// now may have had to count as a retry, not a reuse; with no grace, none.
func (p *Provider) graceFrom(now time.Time) time.Time {
	if p.cfg.RefreshReuseGrace <= 0 {
		return now.Add(time.Hour) // after every rotation: none is within the grace
	}
	return now.Add(-p.cfg.RefreshReuseGrace)
}

// codeError turns a failed redemption into the client's error. A reused
// code revokes every token its first redemption issued (RFC 6749 §4.1.2).
func (p *Provider) codeError(ctx context.Context, familyID string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, storage.ErrCodeReused):
		if rerr := p.store.Tokens().RevokeFamily(ctx, familyID); rerr != nil {
			return oidc.ErrServerError().WithParent(rerr)
		}
		p.log.WarnContext(ctx, "authorization code reused: tokens revoked", "auth_request", familyID)
		return errCodeReused()
	case errors.Is(err, storage.ErrNotFound):
		return errCodeInvalid()
	}
	return oidc.ErrServerError().WithParent(err)
}

// refreshError does the same for a refresh token, whose family is revoked
// by then (by the store, or by RefreshToken when it sees the reuse first).
func (p *Provider) refreshError(ctx context.Context, familyID string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, storage.ErrTokenReused):
		p.log.WarnContext(ctx, "refresh token reused: token family revoked", "family", familyID)
		return errRefreshReused()
	case errors.Is(err, storage.ErrNotFound):
		return errRefreshInvalid()
	}
	return oidc.ErrServerError().WithParent(err)
}

func errCodeInvalid() *oidc.Error {
	return oidc.ErrInvalidGrant().WithDescription("the authorization code is invalid or expired")
}

func errCodeReused() *oidc.Error {
	return oidc.ErrInvalidGrant().WithDescription("the authorization code was already used; the tokens issued for it are revoked")
}

func errRefreshInvalid() *oidc.Error {
	return oidc.ErrInvalidGrant().WithDescription("the refresh token is invalid, expired or revoked")
}

func errRefreshReused() *oidc.Error {
	return oidc.ErrInvalidGrant().WithDescription("the refresh token was already used; every token of this sign-in is revoked")
}

func randomHex() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
