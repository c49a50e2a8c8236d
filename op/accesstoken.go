package op

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/storage"
)

// maxTokenLength bounds what is worth decrypting or parsing.
const maxTokenLength = 8 << 10

// accessToken resolves a presented access token to its stored row. It
// reports false for anything but a known, unexpired, unrevoked access
// token: the token's own lifetime is never trusted alone.
func (p *Provider) accessToken(ctx context.Context, raw string) (*storage.Token, bool, error) {
	id, subject, ok := p.decodeAccessToken(ctx, raw)
	if !ok {
		return nil, false, nil
	}
	tok, err := p.store.Tokens().Get(ctx, storage.HashSecret(id))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if tok.Kind != storage.TokenAccess || tok.Subject != subject || !tok.Active(time.Now()) {
		return nil, false, nil
	}
	return tok, true, nil
}

// VerifyAccessToken resolves a bearer access token, opaque or RFC 9068
// JWT, to its stored row, for the admin API: nil for anything but a known,
// unexpired, unrevoked access token.
func (p *Provider) VerifyAccessToken(ctx context.Context, raw string) (*storage.Token, error) {
	tok, ok, err := p.accessToken(ctx, raw)
	if err != nil || !ok {
		return nil, err
	}
	return tok, nil
}

// decodeAccessToken reads the token id and subject from an opaque token
// (the library's encrypted "id:subject") or an RFC 9068 JWT access token
// (its jti).
func (p *Provider) decodeAccessToken(ctx context.Context, raw string) (id, subject string, ok bool) {
	if raw == "" || len(raw) > maxTokenLength {
		return "", "", false
	}
	if plain, err := p.lib.Crypto().Decrypt(raw); err == nil {
		id, subject, ok = strings.Cut(plain, ":")
		return id, subject, ok && id != ""
	}
	id, subject, err := p.verifyAccessToken(ctx, raw)
	return id, subject, err == nil
}

// isClientToken reports a client_credentials token: no end-user behind it.
func isClientToken(t *storage.Token) bool { return strings.HasPrefix(t.FamilyID, clientFamilyPrefix) }
