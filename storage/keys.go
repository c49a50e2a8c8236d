package storage

import (
	"context"
	"time"
)

// SigningKey is a token signing key. The private key is stored encrypted
// by the caller; this package never sees it in clear.
type SigningKey struct {
	ID         string     `db:"id"`
	Generation int64      `db:"generation"` // 1 for the first key, +1 per rotation
	Alg        string     `db:"alg"`
	PrivateKey []byte     `db:"private_key"` // encrypted
	PublicJWK  string     `db:"public_jwk"`
	CreatedAt  time.Time  `db:"created_at"`
	ActiveFrom time.Time  `db:"active_from"`
	RetiredAt  *time.Time `db:"retired_at"` // no longer published after this
}

// Keys stores signing keys.
type Keys struct{ q queryer }

// Keys returns the signing key repository.
func (s *Store) Keys() Keys { return Keys{s.q} }

const keyColumns = `id, generation, alg, private_key, public_jwk, created_at, active_from, retired_at`

// Create stores k. Generation is unique, so replicas racing to create the
// first key (generation 1) or the same rotation get ErrConflict but one.
func (r Keys) Create(ctx context.Context, k *SigningKey) error {
	k.CreatedAt = now()
	_, err := r.q.ExecContext(ctx, `INSERT INTO signing_keys (`+keyColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		k.ID, k.Generation, k.Alg, k.PrivateKey, k.PublicJWK, k.CreatedAt, k.ActiveFrom.UTC().Truncate(time.Microsecond), utcPtr(k.RetiredAt))
	return wrap(err, "create signing key")
}

// Published returns the keys not retired at t, newest generation first.
func (r Keys) Published(ctx context.Context, t time.Time) ([]SigningKey, error) {
	var ks []SigningKey
	err := r.q.SelectContext(ctx, &ks, `SELECT `+keyColumns+` FROM signing_keys
		WHERE retired_at IS NULL OR retired_at > $1 ORDER BY generation DESC`, t.UTC())
	return ks, wrap(err, "list signing keys")
}

// Retire sets when every key older than generation stops being published,
// unless it already has an earlier retirement time.
func (r Keys) Retire(ctx context.Context, beforeGeneration int64, at time.Time) error {
	_, err := r.q.ExecContext(ctx, `UPDATE signing_keys SET retired_at = $1
		WHERE generation < $2 AND (retired_at IS NULL OR retired_at > $1)`, at.UTC().Truncate(time.Microsecond), beforeGeneration)
	return wrap(err, "retire signing keys")
}
