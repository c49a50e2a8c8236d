package storage

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// User is a person who signs in.
type User struct {
	ID           string  `db:"id"`
	Email        string  `db:"email"`
	Name         string  `db:"name"`
	PasswordHash *string `db:"password_hash"` // nil: cannot sign in until a password is set
	Disabled     bool    `db:"disabled"`
	// ReenrollSince is when the user's second factors were reset, until
	// they add one again; nil otherwise.
	ReenrollSince *time.Time `db:"reenroll_since"`
	// LastSignInAt is when the user last entered their password.
	LastSignInAt *time.Time `db:"last_sign_in_at"`
	CreatedAt    time.Time  `db:"created_at"`
	UpdatedAt    time.Time  `db:"updated_at"`
}

// NormalizeEmail is the form emails are unique in: trimmed, lower case.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// Users stores users.
type Users struct{ q queryer }

// Users returns the user repository.
func (s *Store) Users() Users { return Users{s.q} }

const userColumns = `id, email, name, password_hash, disabled, reenroll_since, last_sign_in_at, created_at, updated_at`

// Create inserts u, filling ID and timestamps. ErrConflict if the email is
// taken, in any letter case.
func (r Users) Create(ctx context.Context, u *User) error {
	u.ID = newID()
	u.Email = strings.TrimSpace(u.Email)
	u.CreatedAt = now()
	u.UpdatedAt = u.CreatedAt
	_, err := r.q.ExecContext(ctx, `INSERT INTO users (id, email, email_normalized, name, password_hash, disabled, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		u.ID, u.Email, NormalizeEmail(u.Email), u.Name, u.PasswordHash, u.Disabled, u.CreatedAt, u.UpdatedAt)
	return wrap(err, "create user")
}

// Get returns the user with this id.
func (r Users) Get(ctx context.Context, id string) (*User, error) {
	var u User
	err := r.q.GetContext(ctx, &u, `SELECT `+userColumns+` FROM users WHERE id = $1`, id)
	return &u, wrap(err, "get user")
}

// GetWithMemberships returns the user with this id and the organisations
// they belong to (as Orgs.MembershipsOf lists them) in one query: a grant
// and a sign-in need both.
func (r Users) GetWithMemberships(ctx context.Context, id string) (*User, []Membership, error) {
	var rows []userMembershipRow
	err := r.q.SelectContext(ctx, &rows, `SELECT `+userWithMembershipsColumns+`
		FROM users u `+membershipsJoin+` WHERE u.id = $1 ORDER BY o.slug`, id)
	if err != nil {
		return nil, nil, wrap(err, "get user with memberships")
	}
	return userOfRows(len(rows), func(i int) *userMembershipRow { return &rows[i] })
}

// userWithMembershipsColumns are the columns of a userMembershipRow, from
// users u joined by membershipsJoin.
const userWithMembershipsColumns = `u.id, u.email, u.name, u.password_hash, u.disabled, u.reenroll_since,
		u.last_sign_in_at, u.created_at, u.updated_at,
		o.id AS org_id, o.slug AS org_slug, o.name AS org_name, o.require_mfa AS org_require_mfa,
		o.mfa_grace_seconds AS org_mfa_grace_seconds, o.mfa_required_from AS org_mfa_required_from,
		o.allowed_factors AS org_allowed_factors, o.mfa_required_since AS org_mfa_required_since,
		o.created_at AS org_created_at, o.updated_at AS org_updated_at,
		m.role, m.require_mfa AS member_require_mfa, m.created_at AS joined_at`

const membershipsJoin = `LEFT JOIN memberships m ON m.user_id = u.id LEFT JOIN orgs o ON o.id = m.org_id`

// userOfRows gathers the user and their memberships from the n rows of a
// query of userWithMembershipsColumns; no rows is ErrNotFound.
func userOfRows(n int, row func(i int) *userMembershipRow) (*User, []Membership, error) {
	if n == 0 {
		return nil, nil, ErrNotFound
	}
	u := row(0).User
	var ms []Membership
	for i := range n {
		if m, ok := row(i).membership(); ok {
			ms = append(ms, m)
		}
	}
	return &u, ms, nil
}

// withUserRow is a row of T (its columns prefixed "h.") joined with its
// subject's user and one of their memberships.
type withUserRow[T any] struct {
	Head T `db:"h"`
	userMembershipRow
}

// withUserQuery is the query of the rows of from (aliased h) that where
// picks, with the user its column subject names and their memberships: a
// grant needs both, and one query reads them.
func withUserQuery(columns, from, subject, where string) string {
	return withUserAndQuery(columns, "", from, subject, where)
}

// withUserAndQuery is withUserQuery with the columns also of each row.
func withUserAndQuery(columns, also, from, subject, where string) string {
	if also != "" {
		also = ", " + also
	}
	q := `SELECT ` + prefixed("h", columns) + `, ` + userWithMembershipsColumns + also + `
		FROM ` + from + ` JOIN users u ON u.id = h.` + subject + ` ` + membershipsJoin
	if where != "" {
		q += ` WHERE ` + where
	}
	return q + ` ORDER BY o.slug`
}

// getWithUser runs a withUserQuery. No row, or a subject without a user,
// is ErrNotFound.
func getWithUser[T any](ctx context.Context, q queryer, query string, args ...any) (*T, *User, []Membership, error) {
	var rows []withUserRow[T]
	if err := q.SelectContext(ctx, &rows, query, args...); err != nil {
		return nil, nil, nil, wrap(err, "get with user")
	}
	u, ms, err := userOfRows(len(rows), func(i int) *userMembershipRow { return &rows[i].userMembershipRow })
	if err != nil {
		return nil, nil, nil, err
	}
	return &rows[0].Head, u, ms, nil
}

// prefixed turns the column list "a, b" into `alias.a AS "alias.a",
// alias.b AS "alias.b"`, the names a nested struct tagged alias scans.
func prefixed(alias, columns string) string {
	var b strings.Builder
	for i, c := range strings.Split(columns, ",") {
		c = strings.TrimSpace(c)
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, `%s.%s AS "%s.%s"`, alias, c, alias, c)
	}
	return b.String()
}

// userMembershipRow is a user joined with one of their memberships, or
// with none (every membership column NULL).
type userMembershipRow struct {
	User
	OrgID            *string    `db:"org_id"`
	OrgSlug          *string    `db:"org_slug"`
	OrgName          *string    `db:"org_name"`
	RequireMFA       *bool      `db:"org_require_mfa"`
	GraceSeconds     *int64     `db:"org_mfa_grace_seconds"`
	RequiredFrom     *time.Time `db:"org_mfa_required_from"`
	AllowedFactors   *string    `db:"org_allowed_factors"`
	RequiredSince    *time.Time `db:"org_mfa_required_since"`
	OrgCreatedAt     *time.Time `db:"org_created_at"`
	OrgUpdatedAt     *time.Time `db:"org_updated_at"`
	Role             *string    `db:"role"`
	MemberRequireMFA *bool      `db:"member_require_mfa"`
	JoinedAt         *time.Time `db:"joined_at"`
}

func (r userMembershipRow) membership() (Membership, bool) {
	if r.OrgID == nil {
		return Membership{}, false
	}
	m := Membership{Org: Org{ID: *r.OrgID, Slug: deref(r.OrgSlug), Name: deref(r.OrgName),
		Policy: Policy{RequireMFA: deref(r.RequireMFA), GraceSeconds: r.GraceSeconds, RequiredFrom: r.RequiredFrom,
			AllowedFactors: deref(r.AllowedFactors), RequiredSince: r.RequiredSince}},
		Role: deref(r.Role), MemberRequireMFA: deref(r.MemberRequireMFA)}
	m.CreatedAt, m.UpdatedAt, m.JoinedAt = deref(r.OrgCreatedAt), deref(r.OrgUpdatedAt), deref(r.JoinedAt)
	return m, true
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// GetByEmail returns the user with this email, in any letter case.
func (r Users) GetByEmail(ctx context.Context, email string) (*User, error) {
	var u User
	err := r.q.GetContext(ctx, &u, `SELECT `+userColumns+` FROM users WHERE email_normalized = $1`, NormalizeEmail(email))
	return &u, wrap(err, "get user by email")
}

// List returns every user, ordered by email.
func (r Users) List(ctx context.Context) ([]User, error) {
	var us []User
	err := r.q.SelectContext(ctx, &us, `SELECT `+userColumns+` FROM users ORDER BY email_normalized`)
	return us, wrap(err, "list users")
}

// SetPassword stores a new password hash.
func (r Users) SetPassword(ctx context.Context, id, hash string) error {
	res, err := r.q.ExecContext(ctx, `UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3`, hash, now(), id)
	return expectOne(res, err, "set password")
}

// SetDisabled disables or enables sign-in for the user.
func (r Users) SetDisabled(ctx context.Context, id string, disabled bool) error {
	res, err := r.q.ExecContext(ctx, `UPDATE users SET disabled = $1, updated_at = $2 WHERE id = $3`, disabled, now(), id)
	return expectOne(res, err, "set disabled")
}

// SetName changes the display name.
func (r Users) SetName(ctx context.Context, id, name string) error {
	res, err := r.q.ExecContext(ctx, `UPDATE users SET name = $1, updated_at = $2 WHERE id = $3`, name, now(), id)
	return expectOne(res, err, "set name")
}

// SetReenroll marks the user as awaiting a new second factor since t
// (after a reset), or, with t nil, clears the mark.
func (r Users) SetReenroll(ctx context.Context, id string, t *time.Time) error {
	res, err := r.q.ExecContext(ctx, `UPDATE users SET reenroll_since = $1, updated_at = $2 WHERE id = $3`, utcPtr(t), now(), id)
	return expectOne(res, err, "set awaiting re-enrollment")
}

// SignedIn records that the user signed in at t.
func (r Users) SignedIn(ctx context.Context, id string, t time.Time) error {
	_, err := r.q.ExecContext(ctx, `UPDATE users SET last_sign_in_at = $1 WHERE id = $2`, t.UTC(), id)
	return wrap(err, "record the sign-in")
}

// Any reports whether there is at least one user.
func (r Users) Any(ctx context.Context) (bool, error) {
	var n int
	err := r.q.GetContext(ctx, &n, `SELECT COUNT(*) FROM (SELECT 1 FROM users LIMIT 1) AS one`)
	return n > 0, wrap(err, "look for users")
}

// Emails maps the users with these ids to their emails, in one query.
func (r Users) Emails(ctx context.Context, ids []string) (map[string]string, error) {
	out := map[string]string{}
	if len(ids) == 0 {
		return out, nil
	}
	marks := make([]string, len(ids))
	args := make([]any, len(ids))
	for i, id := range ids {
		marks[i], args[i] = placeholder(i+1), id
	}
	var rows []struct {
		ID    string `db:"id"`
		Email string `db:"email"`
	}
	err := r.q.SelectContext(ctx, &rows, `SELECT id, email FROM users WHERE id IN (`+strings.Join(marks, ", ")+`)`, args...)
	for _, row := range rows {
		out[row.ID] = row.Email
	}
	return out, wrap(err, "look up emails")
}
