package storage

import (
	"context"
	"time"
)

// OutboxMail is one mail waiting to be sent. Payload is sealed by the
// caller; this package never sees a mail in clear.
type OutboxMail struct {
	ID            int64      `db:"id"`
	Kind          string     `db:"kind"` // what the mail is, for logs and metrics
	Payload       []byte     `db:"payload"`
	Attempts      int        `db:"attempts"` // sending attempts begun, this one included once claimed
	CreatedAt     time.Time  `db:"created_at"`
	NextAttemptAt time.Time  `db:"next_attempt_at"`
	ClaimedUntil  *time.Time `db:"claimed_until"`
}

// Outbox stores mail waiting to be sent.
type Outbox struct{ q queryer }

// Outbox returns the outbox repository.
func (s *Store) Outbox() Outbox { return Outbox{s.q} }

const outboxColumns = `id, kind, payload, attempts, created_at, next_attempt_at, claimed_until`

// Add queues m, due at once; call it in the transaction of the change the
// mail is about, so both commit or neither does.
func (r Outbox) Add(ctx context.Context, m *OutboxMail) error {
	m.CreatedAt = now()
	m.NextAttemptAt = m.CreatedAt
	err := r.q.GetContext(ctx, &m.ID, `INSERT INTO mail_outbox (kind, payload, attempts, created_at, next_attempt_at)
		VALUES ($1, $2, 0, $3, $3) RETURNING id`, m.Kind, m.Payload, m.CreatedAt)
	return wrap(err, "queue mail")
}

// Claim takes up to limit mails that are due at t and claimed by nobody (or
// by a sender whose claim ran out: it stopped mid-way), for this sender
// until t+lease, and counts the attempt. Of replicas claiming at the same
// time each mail goes to one: the claim is re-checked on the row it updates.
func (r Outbox) Claim(ctx context.Context, t time.Time, lease time.Duration, limit int) ([]OutboxMail, error) {
	t = t.UTC().Truncate(time.Microsecond)
	var ms []OutboxMail
	err := r.q.SelectContext(ctx, &ms, `UPDATE mail_outbox SET claimed_until = $1, attempts = attempts + 1
		WHERE id IN (SELECT id FROM mail_outbox WHERE next_attempt_at <= $2 AND (claimed_until IS NULL OR claimed_until < $2)
			ORDER BY next_attempt_at, id LIMIT $3)
		AND next_attempt_at <= $2 AND (claimed_until IS NULL OR claimed_until < $2)
		RETURNING `+outboxColumns, t.Add(lease), t, limit)
	return ms, wrap(err, "claim mail")
}

// Done removes a mail that was sent or given up.
func (r Outbox) Done(ctx context.Context, id int64) error {
	_, err := r.q.ExecContext(ctx, `DELETE FROM mail_outbox WHERE id = $1`, id)
	return wrap(err, "remove sent mail")
}

// Retry releases a claimed mail to be tried again at next.
func (r Outbox) Retry(ctx context.Context, id int64, next time.Time) error {
	_, err := r.q.ExecContext(ctx, `UPDATE mail_outbox SET claimed_until = NULL, next_attempt_at = $1 WHERE id = $2`,
		next.UTC().Truncate(time.Microsecond), id)
	return wrap(err, "reschedule mail")
}

// Count is how many mails wait, due or not.
func (r Outbox) Count(ctx context.Context) (int, error) {
	var n int
	err := r.q.GetContext(ctx, &n, `SELECT COUNT(*) FROM mail_outbox`)
	return n, wrap(err, "count queued mail")
}
