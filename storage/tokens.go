package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"
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
	args := make([]any, 0, tokenColumnCount*len(ts))
	for i, tok := range ts {
		tok.CreatedAt = t
		if i > 0 {
			query += ", "
		}
		query += placeholders(len(args)+1, tokenColumnCount)
		args = appendTokenArgs(args, tok)
	}
	_, err := r.q.ExecContext(ctx, query, args...)
	return wrap(err, "create tokens")
}

const tokenColumnCount = 15

// appendTokenArgs appends tok's values in the order of tokenColumns.
func appendTokenArgs(args []any, tok *Token) []any {
	return append(args, tok.IDHash, tok.Kind, tok.FamilyID, tok.ClientID, tok.Subject, tok.Scopes, tok.Audience,
		utcPtr(tok.AuthTime), tok.AMR, tok.ACR, tok.CreatedAt, tok.ExpiresAt.UTC().Truncate(time.Microsecond),
		utcPtr(tok.RevokedAt), utcPtr(tok.RotatedAt), utcPtr(tok.FamilyExpiresAt))
}

// tokenColumnTypes are the PostgreSQL types of tokenColumns: tokens
// inserted from a SELECT, rather than from VALUES, name their types.
var tokenColumnTypes = [tokenColumnCount]string{"bytea", "text", "text", "text", "text", "text", "text", "timestamptz",
	"text", "text", "timestamptz", "timestamptz", "timestamptz", "timestamptz", "timestamptz"}

// insertTokensFrom is an INSERT of ts (CreatedAt filled) for each row of
// the WITH query named from, with their values as placeholders from
// first on: PostgreSQL only.
func insertTokensFrom(from string, first int, ts []*Token) (string, []any) {
	t := now()
	var b strings.Builder
	b.WriteString(`INSERT INTO tokens (` + tokenColumns + `) `)
	args := make([]any, 0, tokenColumnCount*len(ts))
	for i, tok := range ts {
		tok.CreatedAt = t
		if i > 0 {
			b.WriteString(" UNION ALL ")
		}
		b.WriteString("SELECT ")
		for c, typ := range tokenColumnTypes {
			if c > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "$%d::%s", first+len(args)+c, typ)
		}
		b.WriteString(" FROM " + from)
		args = appendTokenArgs(args, tok)
	}
	return b.String(), args
}

// Get returns the token with this digest, active or not.
func (r Tokens) Get(ctx context.Context, idHash []byte) (*Token, error) {
	var t Token
	err := r.q.GetContext(ctx, &t, `SELECT `+tokenColumns+` FROM tokens WHERE id_hash = $1`, idHash)
	return &t, wrap(err, "get token")
}

var tokenWithUserQuery = withUserQuery(tokenColumns, "tokens h", "subject", "h.id_hash = $1")

// GetWithUser is Get with the token's user and their memberships, in one
// query: the refresh grant's common case. A token unknown or of a user
// since deleted is ErrNotFound, for the caller to tell which with Get.
func (r Tokens) GetWithUser(ctx context.Context, idHash []byte) (*Token, *User, []Membership, error) {
	return getWithUser[Token](ctx, r.q, tokenWithUserQuery, idHash)
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

// RedeemCode consumes an authorization code and stores the tokens issued
// for it, atomically: a concurrent reuse, which revokes the family once it
// sees the code used, cannot run between the two. On PostgreSQL it is one
// statement; on SQLite, a transaction. Errors as ConsumeCode.
func (s *Store) RedeemCode(ctx context.Context, codeHash []byte, ts ...*Token) error {
	if s.dialect != Postgres || len(ts) == 0 {
		return s.InTx(ctx, func(tx *Store) error {
			if err := tx.AuthRequests().ConsumeCode(ctx, codeHash); err != nil {
				return err
			}
			return tx.Tokens().Create(ctx, ts...)
		})
	}
	insert, args := insertTokensFrom("used", 3, ts)
	res, err := s.q.ExecContext(ctx, `WITH used AS (UPDATE auth_requests SET code_used_at = $1
		WHERE code_hash = $2 AND code_used_at IS NULL AND code_expires_at > $1 RETURNING id) `+insert,
		append([]any{now(), codeHash}, args...)...)
	err = expectOne(res, err, "redeem code")
	if errors.Is(err, ErrNotFound) {
		// Not consumed: tell a reuse from an unknown or expired code.
		if a, getErr := s.AuthRequests().ByCode(ctx, codeHash); getErr == nil && a.CodeUsedAt != nil {
			return ErrCodeReused
		}
	}
	return err
}

// RotateRefresh rotates a refresh token (as Tokens.Rotate: a reuse revokes
// the family and is ErrTokenReused) and stores the tokens issued for it,
// atomically. On PostgreSQL the common case, an active token rotated for
// the first time, is one statement; a retry within the grace, a reuse and
// SQLite take a transaction.
func (s *Store) RotateRefresh(ctx context.Context, idHash []byte, graceFrom time.Time, ts ...*Token) error {
	inTx := func() error {
		return s.InTx(ctx, func(tx *Store) error {
			if _, err := tx.Tokens().Rotate(ctx, idHash, graceFrom); err != nil {
				return err
			}
			return tx.Tokens().Create(ctx, ts...)
		})
	}
	if s.dialect != Postgres || len(ts) == 0 {
		return s.revokeReused(ctx, idHash, inTx())
	}
	insert, args := insertTokensFrom("rotated", 3, ts)
	res, err := s.q.ExecContext(ctx, `WITH rotated AS (UPDATE tokens SET rotated_at = $1 WHERE id_hash = $2
		AND kind = 'refresh' AND rotated_at IS NULL AND revoked_at IS NULL AND expires_at > $1 RETURNING id_hash) `+insert,
		append([]any{now(), idHash}, args...)...)
	err = expectOne(res, err, "rotate refresh token")
	if errors.Is(err, ErrNotFound) {
		return s.revokeReused(ctx, idHash, inTx())
	}
	return err
}

// revokeReused revokes the family of a reused refresh token: Rotate did
// so inside the transaction, which its error rolled back.
func (s *Store) revokeReused(ctx context.Context, idHash []byte, err error) error {
	if !errors.Is(err, ErrTokenReused) {
		return err
	}
	old, getErr := s.Tokens().Get(ctx, idHash)
	if getErr != nil {
		return getErr
	}
	if rerr := s.Tokens().RevokeFamily(ctx, old.FamilyID); rerr != nil {
		return rerr
	}
	return err
}
