package storage

import (
	"context"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/mfa"
)

// hasFactor is true for a membership row m whose user has a confirmed
// second factor that its organisation accepts: a security key, or any
// factor unless the organisation allows keys alone (a phishing-resistant
// minimum, where an app does not count).
const hasFactor = `EXISTS (SELECT 1 FROM factors f WHERE f.user_id = m.user_id AND f.confirmed_at IS NOT NULL
	AND (f.kind = 'webauthn' OR NOT EXISTS (SELECT 1 FROM orgs o WHERE o.id = m.org_id AND o.allowed_factors <> '' AND o.allowed_factors NOT LIKE '%totp%')))`

// Compliance counts an organisation's members by second factor.
type Compliance struct {
	Members  int `db:"members"`
	Enrolled int `db:"enrolled"`
	// UnenrolledFlagged are members without a factor whom an admin
	// requires one of, at once.
	UnenrolledFlagged int `db:"unenrolled_flagged"`
	// UnenrolledJoinedAfter are the other members without a factor who
	// joined after the time asked about.
	UnenrolledJoinedAfter int `db:"unenrolled_joined_after"`
}

// Compliance counts the organisation's members, in one query; joinedAfter
// splits those without a factor by when they joined.
func (r Orgs) Compliance(ctx context.Context, orgID string, joinedAfter time.Time) (Compliance, error) {
	var c Compliance
	err := r.q.GetContext(ctx, &c, `SELECT COUNT(*) AS members,
		COALESCE(SUM(CASE WHEN x.has_factor THEN 1 ELSE 0 END), 0) AS enrolled,
		COALESCE(SUM(CASE WHEN NOT x.has_factor AND x.require_mfa THEN 1 ELSE 0 END), 0) AS unenrolled_flagged,
		COALESCE(SUM(CASE WHEN NOT x.has_factor AND NOT x.require_mfa AND x.created_at > $2 THEN 1 ELSE 0 END), 0) AS unenrolled_joined_after
		FROM (SELECT m.require_mfa, m.created_at, `+hasFactor+` AS has_factor FROM memberships m WHERE m.org_id = $1) x`,
		orgID, joinedAfter.UTC())
	return c, wrap(err, "count compliance")
}

// FirstUnenrolledJoinAfter is when the first member without a factor (and
// without a requirement of their own) joined after t, or nil.
func (r Orgs) FirstUnenrolledJoinAfter(ctx context.Context, orgID string, t time.Time) (*time.Time, error) {
	var joined []time.Time
	err := r.q.SelectContext(ctx, &joined, `SELECT m.created_at FROM memberships m
		WHERE m.org_id = $1 AND NOT m.require_mfa AND m.created_at > $2 AND NOT `+hasFactor+`
		ORDER BY m.created_at LIMIT 1`, orgID, t.UTC())
	if err != nil || len(joined) == 0 {
		return nil, wrap(err, "find the first pending member")
	}
	return &joined[0], nil
}

// Overdue says which members without a factor are past their deadline:
// those an admin requires one of, and everyone (All), or those who joined
// by JoinedBy.
type Overdue struct {
	All      bool
	JoinedBy *time.Time
}

// MemberFilter selects the members a console page lists.
type MemberFilter struct {
	// Unenrolled: only members without a second factor.
	Unenrolled bool
	// Overdue, when set, keeps only members without a factor past their
	// deadline.
	Overdue *Overdue
	Role    string // "" for every role
	// EmailPrefix keeps emails that start with it, in any letter case.
	EmailPrefix string
	// After is the last email (normalized) of the previous page, or "".
	After string
	Limit int
}

// MemberRow is one member as the console lists them.
type MemberRow struct {
	UserID           string     `db:"user_id"`
	Email            string     `db:"email"`
	EmailNormalized  string     `db:"email_normalized"`
	Name             string     `db:"name"`
	Role             string     `db:"role"`
	MemberRequireMFA bool       `db:"require_mfa"`
	JoinedAt         time.Time  `db:"created_at"`
	LastSignInAt     *time.Time `db:"last_sign_in_at"`
	HasFactor        bool       `db:"has_factor"`
}

// ListMembers lists the organisation's members that f selects, in email
// order, from after f.After, at most f.Limit.
func (r Orgs) ListMembers(ctx context.Context, orgID string, f MemberFilter) ([]MemberRow, error) {
	where := []string{"m.org_id = $1", "m.email_normalized > $2"}
	args := []any{orgID, f.After}
	arg := func(v any) string {
		args = append(args, v)
		return placeholder(len(args))
	}
	if f.Unenrolled || f.Overdue != nil {
		where = append(where, "NOT "+hasFactor)
	}
	if o := f.Overdue; o != nil && !o.All {
		cond := "m.require_mfa"
		if o.JoinedBy != nil {
			cond = "(m.require_mfa OR m.created_at <= " + arg(o.JoinedBy.UTC()) + ")"
		}
		where = append(where, cond)
	}
	if f.Role != "" {
		where = append(where, "m.role = "+arg(f.Role))
	}
	if f.EmailPrefix != "" {
		where = append(where, "m.email_normalized LIKE "+arg(likePrefix(NormalizeEmail(f.EmailPrefix)))+` ESCAPE '\'`)
	}
	var rows []MemberRow
	err := r.q.SelectContext(ctx, &rows, `SELECT m.user_id, u.email, m.email_normalized, u.name, m.role, m.require_mfa, m.created_at,
		u.last_sign_in_at, `+hasFactor+` AS has_factor
		FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE `+strings.Join(where, " AND ")+` ORDER BY m.email_normalized LIMIT `+arg(f.Limit), args...)
	return rows, wrap(err, "list members")
}

// likePrefix is a LIKE pattern for values that start with prefix.
func likePrefix(prefix string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(prefix) + "%"
}

// FactorSummary is one confirmed factor as the console shows it.
type FactorSummary struct {
	UserID      string         `db:"user_id"`
	Kind        mfa.FactorKind `db:"kind"`
	ConfirmedAt time.Time      `db:"confirmed_at"`
	LastUsedAt  *time.Time     `db:"last_used_at"`
}

// FactorsOf lists the confirmed factors of these users, in one query.
func (r Factors) FactorsOf(ctx context.Context, userIDs []string) ([]FactorSummary, error) {
	if len(userIDs) == 0 {
		return nil, nil
	}
	marks := make([]string, len(userIDs))
	args := make([]any, len(userIDs))
	for i, id := range userIDs {
		marks[i], args[i] = placeholder(i+1), id
	}
	var fs []FactorSummary
	err := r.q.SelectContext(ctx, &fs, `SELECT user_id, kind, confirmed_at, last_used_at FROM factors
		WHERE confirmed_at IS NOT NULL AND user_id IN (`+strings.Join(marks, ", ")+`) ORDER BY user_id, confirmed_at`, args...)
	return fs, wrap(err, "list factors")
}

// MemberRow is one member of the organisation as the console lists them.
func (r Orgs) MemberRow(ctx context.Context, orgID, userID string) (*MemberRow, error) {
	var row MemberRow
	err := r.q.GetContext(ctx, &row, `SELECT m.user_id, u.email, m.email_normalized, u.name, m.role, m.require_mfa, m.created_at,
		u.last_sign_in_at, `+hasFactor+` AS has_factor
		FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.org_id = $1 AND m.user_id = $2`, orgID, userID)
	return &row, wrap(err, "get member")
}
