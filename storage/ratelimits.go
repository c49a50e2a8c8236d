package storage

import (
	"context"
	"time"
)

// Counter is a failure counter shared by all replicas (password attempts
// per email or IP, second-factor attempts per account).
type Counter struct {
	Key         string     `db:"key"`
	Failures    int64      `db:"failures"`
	LockedUntil *time.Time `db:"locked_until"`
	Locks       int64      `db:"locks"` // how many times it locked: locks grow
	UpdatedAt   time.Time  `db:"updated_at"`
	ExpiresAt   time.Time  `db:"expires_at"`
}

// RateLimits stores failure counters.
type RateLimits struct{ q queryer }

// RateLimits returns the counter repository.
func (s *Store) RateLimits() RateLimits { return RateLimits{s.q} }

const counterColumns = `key, failures, locked_until, locks, updated_at, expires_at`

// Get returns a counter; a missing one is a zero counter, not an error.
func (r RateLimits) Get(ctx context.Context, key string) (*Counter, error) {
	var c Counter
	err := r.q.GetContext(ctx, &c, `SELECT `+counterColumns+` FROM rate_limits WHERE key = $1 AND expires_at > $2`, key, now())
	err = wrap(err, "get counter")
	if err == ErrNotFound {
		return &Counter{Key: key}, nil
	}
	return &c, err
}

// Fail adds one failure atomically and returns the counter after it. The
// counter is forgotten at keepUntil unless failures continue.
func (r RateLimits) Fail(ctx context.Context, key string, keepUntil time.Time) (*Counter, error) {
	t := now()
	var c Counter
	// An expired row starts again from one rather than adding to old failures.
	err := r.q.GetContext(ctx, &c, `INSERT INTO rate_limits (key, failures, updated_at, expires_at) VALUES ($1, 1, $2, $3)
		ON CONFLICT (key) DO UPDATE SET
			failures = CASE WHEN rate_limits.expires_at > $2 THEN rate_limits.failures + 1 ELSE 1 END,
			locks = CASE WHEN rate_limits.expires_at > $2 THEN rate_limits.locks ELSE 0 END,
			locked_until = CASE WHEN rate_limits.expires_at > $2 THEN rate_limits.locked_until ELSE NULL END,
			updated_at = $2, expires_at = $3
		RETURNING `+counterColumns, key, t, keepUntil.UTC().Truncate(time.Microsecond))
	return &c, wrap(err, "count failure")
}

// Lock locks the counter until the given time and counts the lock.
func (r RateLimits) Lock(ctx context.Context, key string, until time.Time) error {
	_, err := r.q.ExecContext(ctx, `UPDATE rate_limits SET locked_until = $1, locks = locks + 1,
		expires_at = CASE WHEN expires_at < $1 THEN $1 ELSE expires_at END WHERE key = $2`,
		until.UTC().Truncate(time.Microsecond), key)
	return wrap(err, "lock counter")
}

// Reset clears a counter (after a success, or an admin's unlock).
func (r RateLimits) Reset(ctx context.Context, key string) error {
	_, err := r.q.ExecContext(ctx, `DELETE FROM rate_limits WHERE key = $1`, key)
	return wrap(err, "reset counter")
}

// DeleteExpired removes up to limit counters forgotten before t.
func (r RateLimits) DeleteExpired(ctx context.Context, t time.Time, limit int) (int64, error) {
	return deleteBatch(ctx, r.q, `DELETE FROM rate_limits WHERE key IN (SELECT key FROM rate_limits
		WHERE expires_at < $1 LIMIT $2)`, t, limit)
}

// Reserve counts an attempt before it is checked, in one conditional write
// that exactly one of any number of replicas wins per allowed attempt: it
// is refused (ok false) while the counter is locked at t, or while it
// already holds allowance attempts plus one per lock it has had (once a
// lock ends, one more attempt may try). A refused attempt changes nothing;
// the counter is returned either way. The counter is forgotten at
// keepUntil unless attempts continue.
func (r RateLimits) Reserve(ctx context.Context, key string, allowance int64, t, keepUntil time.Time) (c *Counter, ok bool, err error) {
	t = t.UTC().Truncate(time.Microsecond)
	var got Counter
	err = r.q.GetContext(ctx, &got, `INSERT INTO rate_limits (key, failures, updated_at, expires_at) VALUES ($1, 1, $2, $3)
		ON CONFLICT (key) DO UPDATE SET
			failures = CASE WHEN rate_limits.expires_at > $2 THEN rate_limits.failures + 1 ELSE 1 END,
			locks = CASE WHEN rate_limits.expires_at > $2 THEN rate_limits.locks ELSE 0 END,
			locked_until = CASE WHEN rate_limits.expires_at > $2 THEN rate_limits.locked_until ELSE NULL END,
			updated_at = $2, expires_at = $3
		WHERE rate_limits.expires_at <= $2 OR ((rate_limits.locked_until IS NULL OR rate_limits.locked_until <= $2)
			AND rate_limits.failures < $4 + rate_limits.locks)
		RETURNING `+counterColumns, key, t, keepUntil.UTC().Truncate(time.Microsecond), allowance)
	err = wrap(err, "reserve attempt")
	if err == nil {
		return &got, true, nil
	}
	if err != ErrNotFound {
		return nil, false, err
	}
	c, err = r.Get(ctx, key)
	return c, false, err
}

// Refund gives back a reserved attempt that was never checked (the
// server was too busy to hash).
func (r RateLimits) Refund(ctx context.Context, key string) error {
	_, err := r.q.ExecContext(ctx, `UPDATE rate_limits SET failures = failures - 1 WHERE key = $1 AND failures > 0`, key)
	return wrap(err, "refund attempt")
}
