package storage

import (
	"context"
	"errors"
	"time"
)

// Token kinds.
const (
	TokenAccess  = "access"
	TokenRefresh = "refresh"
)

// ErrTokenReused reports a refresh token presented after it was rotated:
// the whole family has been revoked.
var ErrTokenReused = errors.New("refresh token already used")

// Token is an issued access or refresh token. Only a digest of the random
// id the client carries is stored. Tokens issued from one authorization
// code share a family, which a code or refresh-token reuse revokes whole.
type Token struct {
	IDHash    []byte     `db:"id_hash"`
	Kind      string     `db:"kind"`
	FamilyID  string     `db:"family_id"`
	ClientID  string     `db:"client_id"`
	Subject   string     `db:"subject"`
	Scopes    StringList `db:"scopes"`
	Audience  StringList `db:"audience"`
	AuthTime  *time.Time `db:"auth_time"`
	AMR       StringList `db:"amr"`
	ACR       string     `db:"acr"`
	CreatedAt time.Time  `db:"created_at"`
	ExpiresAt time.Time  `db:"expires_at"`
	RevokedAt *time.Time `db:"revoked_at"`
	RotatedAt *time.Time `db:"rotated_at"`
	// FamilyExpiresAt is when the family of a refresh token ends, however
	// often it rotates; nil for tokens issued before families had an end.
	FamilyExpiresAt *time.Time `db:"family_expires_at"`
}

// Active reports whether the token may be used at t.
func (t *Token) Active(at time.Time) bool {
	return t.RevokedAt == nil && t.RotatedAt == nil && at.Before(t.ExpiresAt)
}

// Tokens stores issued tokens.
type Tokens struct{ q queryer }

// Tokens returns the token repository.
func (s *Store) Tokens() Tokens { return Tokens{s.q} }

const tokenColumns = `id_hash, kind, family_id, client_id, subject, scopes, audience, auth_time, amr, acr,
	created_at, expires_at, revoked_at, rotated_at, family_expires_at`

// Create stores tokens; CreatedAt is filled. Several tokens (an access and
// a refresh token) go in one statement: one round trip on the token path.
func (r Tokens) Create(ctx context.Context, ts ...*Token) error {
	if len(ts) == 0 {
		return nil
	}
	t := now()
	query := `INSERT INTO tokens (` + tokenColumns + `) VALUES `
	args := make([]any, 0, 15*len(ts))
	for i, tok := range ts {
		tok.CreatedAt = t
		if i > 0 {
			query += ", "
		}
		query += placeholders(len(args)+1, 15)
		args = append(args, tok.IDHash, tok.Kind, tok.FamilyID, tok.ClientID, tok.Subject, tok.Scopes, tok.Audience,
			utcPtr(tok.AuthTime), tok.AMR, tok.ACR, tok.CreatedAt, tok.ExpiresAt.UTC().Truncate(time.Microsecond),
			utcPtr(tok.RevokedAt), utcPtr(tok.RotatedAt), utcPtr(tok.FamilyExpiresAt))
	}
	_, err := r.q.ExecContext(ctx, query, args...)
	return wrap(err, "create tokens")
}

// Get returns the token with this digest, active or not.
func (r Tokens) Get(ctx context.Context, idHash []byte) (*Token, error) {
	var t Token
	err := r.q.GetContext(ctx, &t, `SELECT `+tokenColumns+` FROM tokens WHERE id_hash = $1`, idHash)
	return &t, wrap(err, "get token")
}

// Rotate marks an active refresh token used, exactly once across replicas.
// A token rotated before is reuse: it revokes its whole family and returns
// ErrTokenReused, unless it was rotated after graceFrom (a retry, or
// parallel requests of its client, within the reuse grace): then it is
// returned as it is and may be rotated into one more child. An unknown,
// expired or revoked token is ErrNotFound.
func (r Tokens) Rotate(ctx context.Context, idHash []byte, graceFrom time.Time) (*Token, error) {
	t := now()
	var tok Token
	err := r.q.GetContext(ctx, &tok, `UPDATE tokens SET rotated_at = $1 WHERE id_hash = $2 AND kind = 'refresh'
		AND rotated_at IS NULL AND revoked_at IS NULL AND expires_at > $1 RETURNING `+tokenColumns, t, idHash)
	err = wrap(err, "rotate refresh token")
	if !errors.Is(err, ErrNotFound) {
		return &tok, err
	}
	old, getErr := r.Get(ctx, idHash)
	if getErr != nil || old.RotatedAt == nil {
		return nil, ErrNotFound
	}
	if old.RotatedAt.After(graceFrom) && old.RevokedAt == nil && t.Before(old.ExpiresAt) {
		return old, nil
	}
	if err := r.RevokeFamily(ctx, old.FamilyID); err != nil {
		return nil, err
	}
	return nil, ErrTokenReused
}

// Revoke revokes one token.
func (r Tokens) Revoke(ctx context.Context, idHash []byte) error {
	_, err := r.q.ExecContext(ctx, `UPDATE tokens SET revoked_at = $1 WHERE id_hash = $2 AND revoked_at IS NULL`, now(), idHash)
	return wrap(err, "revoke token")
}

// RevokeFamily revokes every token descended from one authorization code.
func (r Tokens) RevokeFamily(ctx context.Context, familyID string) error {
	_, err := r.q.ExecContext(ctx, `UPDATE tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL`, now(), familyID)
	return wrap(err, "revoke token family")
}

// RevokeSubject revokes every token of a user (disabled account, reset).
func (r Tokens) RevokeSubject(ctx context.Context, subject string) error {
	_, err := r.q.ExecContext(ctx, `UPDATE tokens SET revoked_at = $1 WHERE subject = $2 AND revoked_at IS NULL`, now(), subject)
	return wrap(err, "revoke user tokens")
}

// RevokeRefresh revokes every refresh token of a user (a credential
// change): each application must sign the user in again once its access
// token expires.
func (r Tokens) RevokeRefresh(ctx context.Context, subject string) error {
	_, err := r.q.ExecContext(ctx, `UPDATE tokens SET revoked_at = $1 WHERE subject = $2 AND kind = 'refresh' AND revoked_at IS NULL`,
		now(), subject)
	return wrap(err, "revoke user refresh tokens")
}

// RevokeClient revokes every token issued to a client (a deleted client).
func (r Tokens) RevokeClient(ctx context.Context, clientID string) error {
	_, err := r.q.ExecContext(ctx, `UPDATE tokens SET revoked_at = $1 WHERE client_id = $2 AND revoked_at IS NULL`, now(), clientID)
	return wrap(err, "revoke client tokens")
}

// DeleteExpired removes up to limit tokens that expired before t.
func (r Tokens) DeleteExpired(ctx context.Context, t time.Time, limit int) (int64, error) {
	return deleteBatch(ctx, r.q, `DELETE FROM tokens WHERE id_hash IN (SELECT id_hash FROM tokens
		WHERE expires_at < $1 LIMIT $2)`, t, limit)
}
