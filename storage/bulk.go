package storage

import (
	"context"
	"strings"
	"time"
)

// bulkRows is how many rows one bulk INSERT writes: 500 rows of ten
// columns stay far below both databases' limit on parameters.
const bulkRows = 500

// Bulk writes many rows at once, for filling a database to measure how
// Gatehouse behaves with it (cmd/seed). Each call is one transaction of
// multi-row INSERTs; nothing is audited.
type Bulk struct{ s *Store }

// Bulk returns the bulk writer.
func (s *Store) Bulk() Bulk { return Bulk{s} }

// Users stores us as they are, IDs and timestamps included; a missing ID
// is filled.
func (b Bulk) Users(ctx context.Context, us []User) error {
	return b.insert(ctx, "users", "id, email, email_normalized, name, password_hash, disabled, created_at, updated_at", 8, len(us),
		func(i int, args []any) []any {
			u := &us[i]
			if u.ID == "" {
				u.ID = newID()
			}
			return append(args, u.ID, u.Email, NormalizeEmail(u.Email), u.Name, u.PasswordHash, u.Disabled,
				u.CreatedAt.UTC().Truncate(time.Microsecond), u.UpdatedAt.UTC().Truncate(time.Microsecond))
		})
}

// Sessions stores ss as they are, timestamps included.
func (b Bulk) Sessions(ctx context.Context, ss []Session) error {
	return b.insert(ctx, "sessions", sessionColumns, 10, len(ss), func(i int, args []any) []any {
		s := &ss[i]
		return append(args, s.IDHash, s.UserID, s.AuthTime.UTC().Truncate(time.Microsecond), s.AMR, utcPtr(s.MFATime),
			s.CreatedAt.UTC().Truncate(time.Microsecond), s.LastSeenAt.UTC().Truncate(time.Microsecond),
			s.ExpiresAt.UTC().Truncate(time.Microsecond), s.UserAgent, s.IP)
	})
}

// Tokens stores ts as they are, timestamps included.
func (b Bulk) Tokens(ctx context.Context, ts []Token) error {
	return b.insert(ctx, "tokens", tokenColumns, 15, len(ts), func(i int, args []any) []any {
		t := &ts[i]
		return append(args, t.IDHash, t.Kind, t.FamilyID, t.ClientID, t.Subject, t.Scopes, t.Audience,
			utcPtr(t.AuthTime), t.AMR, t.ACR, t.CreatedAt.UTC().Truncate(time.Microsecond),
			t.ExpiresAt.UTC().Truncate(time.Microsecond), utcPtr(t.RevokedAt), utcPtr(t.RotatedAt), utcPtr(t.FamilyExpiresAt))
	})
}

// Members makes the users with these ids and emails members of the
// organisation, with role.
func (b Bulk) Members(ctx context.Context, orgID, role string, users []User) error {
	t := now()
	return b.insert(ctx, "memberships", "org_id, user_id, role, created_at, email_normalized", 5, len(users),
		func(i int, args []any) []any {
			return append(args, orgID, users[i].ID, role, t, NormalizeEmail(users[i].Email))
		})
}

// insert writes n rows of cols into table, bulkRows to a statement, in one
// transaction; row appends the i-th row's values to args.
func (b Bulk) insert(ctx context.Context, table, cols string, width, n int, row func(i int, args []any) []any) error {
	return b.s.InTx(ctx, func(tx *Store) error {
		args := make([]any, 0, width*bulkRows)
		// SQLite looks a numbered parameter up in a list as long as the
		// statement: thousands of them make its parsing quadratic, and
		// "?" are not looked up.
		anonymous := ""
		if b.s.dialect == SQLite {
			anonymous = "(" + strings.Repeat("?, ", width-1) + "?)"
		}
		var q strings.Builder
		for start := 0; start < n; start += bulkRows {
			end := min(start+bulkRows, n)
			q.Reset()
			args = args[:0]
			q.WriteString("INSERT INTO " + table + " (" + cols + ") VALUES ")
			for i := start; i < end; i++ {
				if i > start {
					q.WriteString(", ")
				}
				if anonymous != "" {
					q.WriteString(anonymous)
				} else {
					q.WriteString(placeholders(len(args)+1, width))
				}
				args = row(i, args)
			}
			// Straight to the transaction: a statement this size is not
			// worth keeping prepared.
			if _, err := tx.unprepared().ExecContext(ctx, q.String(), args...); err != nil {
				return wrap(err, "bulk insert into "+table)
			}
		}
		return nil
	})
}
