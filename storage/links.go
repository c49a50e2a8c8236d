package storage

import (
	"context"
	"time"
)

// LinkKind is what a single-use link (or browser grant) is for.
type LinkKind string

// The kinds of links.
const (
	// LinkRecoveryConfirm confirms a pending recovery: the second factors go.
	LinkRecoveryConfirm LinkKind = "recovery_confirm"
	// LinkRecoveryCancel cancels a pending recovery ("this wasn't me").
	LinkRecoveryCancel LinkKind = "recovery_cancel"
	// LinkEnrollment is the mailed link that lets a browser add a second
	// factor after a reset.
	LinkEnrollment LinkKind = "enrollment"
	// LinkEnrollmentGrant is held by a browser (a cookie): it may add a
	// second factor after a reset.
	LinkEnrollmentGrant LinkKind = "enrollment_grant"
	// LinkPasswordReset sets a new password.
	LinkPasswordReset LinkKind = "password_reset"
	// LinkAccessPass is a temporary access pass an admin gave a member: its
	// hash is an HMAC under a server key, as people type it.
	LinkAccessPass LinkKind = "access_pass"
)

// LinkState is where a link is in its life.
type LinkState string

// The states of a link.
const (
	LinkOpen      LinkState = "open"
	LinkUsed      LinkState = "used"
	LinkCancelled LinkState = "cancelled" // its recovery was cancelled or confirmed by its twin
	LinkReplaced  LinkState = "replaced"  // a newer link of its kind was sent
)

// linkRetention is how long an ended or expired link is kept, so that
// opening it says what became of it rather than "unknown".
const linkRetention = 7 * 24 * time.Hour

// Link is one single-use secret of a user, stored as its SHA-256 digest.
type Link struct {
	TokenHash []byte   `db:"token_hash"`
	Kind      LinkKind `db:"kind"`
	UserID    string   `db:"user_id"`
	// RequestID is the sign-in the link was asked from, or "".
	RequestID string     `db:"request_id"`
	State     LinkState  `db:"state"`
	CreatedAt time.Time  `db:"created_at"`
	ExpiresAt time.Time  `db:"expires_at"`
	EndedAt   *time.Time `db:"ended_at"`
}

// Links stores users' single-use links.
type Links struct{ q queryer }

// Links returns the link repository.
func (s *Store) Links() Links { return Links{s.q} }

const linkColumns = `token_hash, kind, user_id, request_id, state, created_at, expires_at, ended_at`

// Create stores an open link; CreatedAt is set to now unless given.
func (r Links) Create(ctx context.Context, l *Link) error {
	l.State = LinkOpen
	if l.CreatedAt.IsZero() {
		l.CreatedAt = now()
	}
	_, err := r.q.ExecContext(ctx, `INSERT INTO user_links (`+linkColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL)`,
		l.TokenHash, l.Kind, l.UserID, l.RequestID, l.State, l.CreatedAt.UTC(), l.ExpiresAt.UTC())
	return wrap(err, "create link")
}

// Get returns the link with this digest, whatever its state.
func (r Links) Get(ctx context.Context, tokenHash []byte) (*Link, error) {
	var l Link
	err := r.q.GetContext(ctx, &l, `SELECT `+linkColumns+` FROM user_links WHERE token_hash = $1`, tokenHash)
	return &l, wrap(err, "get link")
}

// Use ends an open, unexpired link of this kind at t, exactly once across
// replicas, and returns it; any other is ErrNotFound.
func (r Links) Use(ctx context.Context, tokenHash []byte, kind LinkKind, t time.Time) (*Link, error) {
	var l Link
	err := r.q.GetContext(ctx, &l, `UPDATE user_links SET state = $1, ended_at = $2
		WHERE token_hash = $3 AND kind = $4 AND state = $5 AND expires_at > $2 RETURNING `+linkColumns,
		LinkUsed, t.UTC(), tokenHash, kind, LinkOpen)
	return &l, wrap(err, "use link")
}

// UseOwn is Use for a link that must be userID's: another user's is
// ErrNotFound and stays open.
func (r Links) UseOwn(ctx context.Context, tokenHash []byte, kind LinkKind, userID string, t time.Time) (*Link, error) {
	var l Link
	err := r.q.GetContext(ctx, &l, `UPDATE user_links SET state = $1, ended_at = $2
		WHERE token_hash = $3 AND kind = $4 AND user_id = $5 AND state = $6 AND expires_at > $2 RETURNING `+linkColumns,
		LinkUsed, t.UTC(), tokenHash, kind, userID, LinkOpen)
	return &l, wrap(err, "use link")
}

// End moves every open link of the user of these kinds to state at t.
func (r Links) End(ctx context.Context, userID string, state LinkState, t time.Time, kinds ...LinkKind) error {
	for _, kind := range kinds {
		_, err := r.q.ExecContext(ctx, `UPDATE user_links SET state = $1, ended_at = $2 WHERE user_id = $3 AND kind = $4 AND state = $5`,
			state, t.UTC(), userID, kind, LinkOpen)
		if err != nil {
			return wrap(err, "end links")
		}
	}
	return nil
}

// DeleteExpired removes up to limit links that expired a week before t.
func (r Links) DeleteExpired(ctx context.Context, t time.Time, limit int) (int64, error) {
	return deleteBatch(ctx, r.q, `DELETE FROM user_links WHERE token_hash IN (SELECT token_hash FROM user_links
		WHERE expires_at < $1 LIMIT $2)`, t.Add(-linkRetention), limit)
}

// Recoveries stores the self-serve recoveries waiting for their mail's
// confirmation: at most one per user.
type Recoveries struct{ q queryer }

// Recoveries returns the pending recovery repository.
func (s *Store) Recoveries() Recoveries { return Recoveries{s.q} }

// Start records a pending recovery for the user until expires, in place
// of any earlier one.
func (r Recoveries) Start(ctx context.Context, userID string, expires time.Time) error {
	_, err := r.q.ExecContext(ctx, `INSERT INTO recoveries (user_id, created_at, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (user_id) DO UPDATE SET created_at = excluded.created_at, expires_at = excluded.expires_at`,
		userID, now(), expires.UTC())
	return wrap(err, "start recovery")
}

// Pending reports whether the user has a recovery pending at t.
func (r Recoveries) Pending(ctx context.Context, userID string, t time.Time) (bool, error) {
	var n int
	err := r.q.GetContext(ctx, &n, `SELECT COUNT(*) FROM recoveries WHERE user_id = $1 AND expires_at > $2`, userID, t.UTC())
	return n > 0, wrap(err, "look for a pending recovery")
}

// End removes the user's recovery, pending at t, exactly once across
// replicas; with none, ErrNotFound.
func (r Recoveries) End(ctx context.Context, userID string, t time.Time) error {
	res, err := r.q.ExecContext(ctx, `DELETE FROM recoveries WHERE user_id = $1 AND expires_at > $2`, userID, t.UTC())
	return expectOne(res, err, "end recovery")
}

// DeleteExpired removes up to limit recoveries that expired before t.
func (r Recoveries) DeleteExpired(ctx context.Context, t time.Time, limit int) (int64, error) {
	return deleteBatch(ctx, r.q, `DELETE FROM recoveries WHERE user_id IN (SELECT user_id FROM recoveries
		WHERE expires_at < $1 LIMIT $2)`, t, limit)
}
