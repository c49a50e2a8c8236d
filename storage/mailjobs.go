package storage

import (
	"context"
	"time"
)

// MailJob is a notice to every member of an organisation, queued into the
// outbox in batches; Cursor is the last member (by user id) done.
type MailJob struct {
	ID           int64      `db:"id"`
	Kind         string     `db:"kind"`
	OrgID        string     `db:"org_id"`
	Cursor       string     `db:"cursor"`
	CreatedAt    time.Time  `db:"created_at"`
	ClaimedUntil *time.Time `db:"claimed_until"`
}

// MailJobs stores bulk notice jobs.
type MailJobs struct{ q queryer }

// MailJobs returns the bulk notice job repository.
func (s *Store) MailJobs() MailJobs { return MailJobs{s.q} }

const mailJobColumns = `id, kind, org_id, cursor, created_at, claimed_until`

// Add stores a job; call it in the transaction of the change it is about.
func (r MailJobs) Add(ctx context.Context, j *MailJob) error {
	j.CreatedAt = now()
	err := r.q.GetContext(ctx, &j.ID, `INSERT INTO mail_jobs (kind, org_id, cursor, created_at) VALUES ($1, $2, '', $3) RETURNING id`,
		j.Kind, j.OrgID, j.CreatedAt)
	return wrap(err, "queue mail job")
}

// Claim takes the oldest job nobody holds (or whose holder stopped) until
// t+lease, or returns ErrNotFound. One replica at a time holds a job.
func (r MailJobs) Claim(ctx context.Context, t time.Time, lease time.Duration) (*MailJob, error) {
	t = t.UTC().Truncate(time.Microsecond)
	var j MailJob
	err := r.q.GetContext(ctx, &j, `UPDATE mail_jobs SET claimed_until = $1
		WHERE id = (SELECT id FROM mail_jobs WHERE claimed_until IS NULL OR claimed_until < $2 ORDER BY id LIMIT 1)
		AND (claimed_until IS NULL OR claimed_until < $2) RETURNING `+mailJobColumns, t.Add(lease), t)
	return &j, wrap(err, "claim mail job")
}

// Advance records the last member done; call it in the transaction that
// queues their mails, so a batch is queued exactly once.
func (r MailJobs) Advance(ctx context.Context, id int64, cursor string) error {
	res, err := r.q.ExecContext(ctx, `UPDATE mail_jobs SET cursor = $1 WHERE id = $2`, cursor, id)
	return expectOne(res, err, "advance mail job")
}

// Done removes a finished job.
func (r MailJobs) Done(ctx context.Context, id int64) error {
	_, err := r.q.ExecContext(ctx, `DELETE FROM mail_jobs WHERE id = $1`, id)
	return wrap(err, "finish mail job")
}

// MembersAfter lists up to limit members of the organisation whose user id
// sorts after afterUserID, in that order: a stable cursor over members.
func (r Orgs) MembersAfter(ctx context.Context, orgID, afterUserID string, limit int) ([]Member, error) {
	var ms []Member
	err := r.q.SelectContext(ctx, &ms, `SELECT m.org_id, m.user_id, m.role, m.require_mfa, m.created_at, u.email, u.name
		FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.org_id = $1 AND m.user_id > $2
		ORDER BY m.user_id LIMIT $3`, orgID, afterUserID, limit)
	return ms, wrap(err, "list members")
}

// Enforcing lists the organisations whose requirement comes with a
// deadline (a grace period or a date): their members get reminders.
func (r Orgs) Enforcing(ctx context.Context) ([]Org, error) {
	var os []Org
	err := r.q.SelectContext(ctx, &os, `SELECT `+orgColumns+` FROM orgs
		WHERE require_mfa AND (mfa_grace_seconds IS NOT NULL OR mfa_required_from IS NOT NULL) ORDER BY id`)
	return os, wrap(err, "list enforcing organisations")
}

// MemberToRemind is a member as the reminders see them.
type MemberToRemind struct {
	Member
	HasFactor bool `db:"has_factor"` // a confirmed second factor
}

// MembersToRemind lists up to limit members of the organisation after the
// user id afterUserID, in id order, with whether each has a factor.
func (r Orgs) MembersToRemind(ctx context.Context, orgID, afterUserID string, limit int) ([]MemberToRemind, error) {
	var ms []MemberToRemind
	err := r.q.SelectContext(ctx, &ms, `SELECT m.org_id, m.user_id, m.role, m.require_mfa, m.created_at, u.email, u.name,
		EXISTS (SELECT 1 FROM factors f WHERE f.user_id = m.user_id AND f.confirmed_at IS NOT NULL) AS has_factor
		FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.org_id = $1 AND m.user_id > $2 AND NOT u.disabled
		ORDER BY m.user_id LIMIT $3`, orgID, afterUserID, limit)
	return ms, wrap(err, "list members to remind")
}

// ClaimReminder records that the member gets the reminder kind now, and
// reports false when they (by any replica) already did.
func (r Orgs) ClaimReminder(ctx context.Context, orgID, userID, kind string) (bool, error) {
	res, err := r.q.ExecContext(ctx, `INSERT INTO mfa_reminders (org_id, user_id, kind, sent_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (org_id, user_id, kind) DO NOTHING`, orgID, userID, kind, now())
	if err != nil {
		return false, wrap(err, "claim reminder")
	}
	n, err := res.RowsAffected()
	return n == 1, wrap(err, "claim reminder")
}
