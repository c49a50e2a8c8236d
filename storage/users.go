package storage

import (
	"context"
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
