package storage

import (
	"context"
	"time"
)

// Ceremony is a WebAuthn ceremony begun and not yet finished, kept so that
// any replica can finish it, once.
type Ceremony struct {
	IDHash  []byte `db:"id_hash"`
	Purpose string `db:"purpose"`
	// UserID is the user it is for; nil for a passkey sign-in, where the
	// key says who.
	UserID *string `db:"user_id"`
	// RequestID is the sign-in it belongs to, or "" on the account pages.
	RequestID string    `db:"request_id"`
	State     []byte    `db:"state"`
	ExpiresAt time.Time `db:"expires_at"`
}

// Ceremonies stores WebAuthn ceremonies.
type Ceremonies struct{ q queryer }

// Ceremonies returns the WebAuthn ceremony repository.
func (s *Store) Ceremonies() Ceremonies { return Ceremonies{s.q} }

// Create stores a ceremony begun, in place of any other of the same
// purpose, sign-in and user: a page shown again starts a new challenge and
// the old one stops working, so reloads never pile ceremonies up.
func (r Ceremonies) Create(ctx context.Context, c *Ceremony) error {
	if _, err := r.q.ExecContext(ctx, `DELETE FROM webauthn_ceremonies WHERE request_id = $1 AND purpose = $2
		AND (user_id = $3 OR (user_id IS NULL AND $3 IS NULL))`, c.RequestID, c.Purpose, c.UserID); err != nil {
		return wrap(err, "replace ceremony")
	}
	_, err := r.q.ExecContext(ctx, `INSERT INTO webauthn_ceremonies (id_hash, purpose, user_id, request_id, state, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, c.IDHash, c.Purpose, c.UserID, c.RequestID, c.State, c.ExpiresAt.UTC())
	return wrap(err, "create ceremony")
}

// Take removes and returns the ceremony with this digest, if it has not
// expired by at: exactly one caller, on any replica, gets it. Unknown,
// expired or already taken is ErrNotFound.
func (r Ceremonies) Take(ctx context.Context, idHash []byte, at time.Time) (*Ceremony, error) {
	var c Ceremony
	err := r.q.GetContext(ctx, &c, `DELETE FROM webauthn_ceremonies WHERE id_hash = $1
		RETURNING id_hash, purpose, user_id, request_id, state, expires_at`, idHash)
	if err != nil {
		return nil, wrap(err, "take ceremony")
	}
	if !c.ExpiresAt.After(at) {
		return nil, ErrNotFound
	}
	return &c, nil
}

// DeleteExpired removes up to limit ceremonies that expired before t.
func (r Ceremonies) DeleteExpired(ctx context.Context, t time.Time, limit int) (int64, error) {
	return deleteBatch(ctx, r.q, `DELETE FROM webauthn_ceremonies WHERE id_hash IN (SELECT id_hash FROM webauthn_ceremonies
		WHERE expires_at < $1 LIMIT $2)`, t, limit)
}
