package storage

import (
	"context"
	"encoding/json"
	"strings"
	"time"
)

// AuditEvent is one security-relevant event. Details never hold secrets.
type AuditEvent struct {
	ID        int64     `db:"id"`
	Type      string    `db:"type"`
	ActorID   string    `db:"actor_id"`
	SubjectID string    `db:"subject_id"`
	OrgID     string    `db:"org_id"`
	ClientID  string    `db:"client_id"`
	IP        string    `db:"ip"`
	UserAgent string    `db:"user_agent"`
	Details   string    `db:"details"` // a JSON object
	CreatedAt time.Time `db:"created_at"`
}

// AuditFilter narrows a listing; empty fields match everything.
type AuditFilter struct {
	OrgID     string
	SubjectID string
	Type      string
	// Since keeps events at or after it; BeforeID those older than the
	// event with this id (the next page of a listing).
	Since    time.Time
	BeforeID int64
	Limit    int // default and maximum 500
}

// Audit stores the audit trail. It is append-only.
type Audit struct{ q queryer }

// Audit returns the audit repository.
func (s *Store) Audit() Audit { return Audit{s.q} }

// Record appends e, filling ID and time. details may be nil or any value
// that marshals to a JSON object.
func (r Audit) Record(ctx context.Context, e *AuditEvent, details any) error {
	e.Details = "{}"
	if details != nil {
		b, err := json.Marshal(details)
		if err != nil {
			return wrap(err, "encode audit details")
		}
		e.Details = string(b)
	}
	e.CreatedAt = now()
	err := r.q.GetContext(ctx, &e.ID, `INSERT INTO audit_events (type, actor_id, subject_id, org_id, client_id, ip, user_agent, details, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		e.Type, e.ActorID, e.SubjectID, e.OrgID, e.ClientID, e.IP, e.UserAgent, e.Details, e.CreatedAt)
	return wrap(err, "record audit event")
}

// List returns events matching f, newest first.
func (r Audit) List(ctx context.Context, f AuditFilter) ([]AuditEvent, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 500
	}
	where := []string{"1 = 1"}
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", placeholder(len(args))))
	}
	if f.OrgID != "" {
		add("org_id = ?", f.OrgID)
	}
	if f.SubjectID != "" {
		add("subject_id = ?", f.SubjectID)
	}
	if f.Type != "" {
		add("type = ?", f.Type)
	}
	if !f.Since.IsZero() {
		add("created_at >= ?", f.Since.UTC())
	}
	if f.BeforeID > 0 {
		add("id < ?", f.BeforeID)
	}
	args = append(args, f.Limit)
	var es []AuditEvent
	err := r.q.SelectContext(ctx, &es, `SELECT id, type, actor_id, subject_id, org_id, client_id, ip, user_agent, details, created_at
		FROM audit_events WHERE `+strings.Join(where, " AND ")+` ORDER BY id DESC LIMIT `+placeholder(len(args)), args...)
	return es, wrap(err, "list audit events")
}

// DefaultAuditRetention is how long audit events are kept unless the
// operator says otherwise: over a year, so a yearly review sees it all.
const DefaultAuditRetention = 400 * 24 * time.Hour

// DeleteExpired removes up to limit events recorded before t.
func (r Audit) DeleteExpired(ctx context.Context, t time.Time, limit int) (int64, error) {
	return deleteBatch(ctx, r.q, `DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events
		WHERE created_at < $1 LIMIT $2)`, t, limit)
}
