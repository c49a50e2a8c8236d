package storage

import (
	"context"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/mfa"
)

// Session is a browser session: who signed in on this browser and which
// factors they proved when. Only a digest of the cookie's id is stored.
type Session struct {
	IDHash     []byte     `db:"id_hash"`
	UserID     string     `db:"user_id"`
	AuthTime   time.Time  `db:"auth_time"` // last password step
	AMR        StringList `db:"amr"`
	MFATime    *time.Time `db:"mfa_time"` // last second-factor step
	CreatedAt  time.Time  `db:"created_at"`
	LastSeenAt time.Time  `db:"last_seen_at"`
	ExpiresAt  time.Time  `db:"expires_at"` // absolute end
	// Where the session signed in from, as the account page shows it.
	UserAgent string `db:"user_agent"`
	IP        string `db:"ip"`
}

// Sessions stores browser sessions.
type Sessions struct {
	q       queryer
	dialect Dialect
}

// Sessions returns the session repository.
func (s *Store) Sessions() Sessions { return Sessions{s.q, s.dialect} }

const sessionColumns = `id_hash, user_id, auth_time, amr, mfa_time, created_at, last_seen_at, expires_at, user_agent, ip`

// Create stores a session; CreatedAt and LastSeenAt are filled.
func (r Sessions) Create(ctx context.Context, s *Session) error {
	s.CreatedAt = now()
	s.LastSeenAt = s.CreatedAt
	_, err := r.q.ExecContext(ctx, `INSERT INTO sessions (`+sessionColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		s.IDHash, s.UserID, s.AuthTime.UTC().Truncate(time.Microsecond), s.AMR, utcPtr(s.MFATime), s.CreatedAt, s.LastSeenAt,
		s.ExpiresAt.UTC().Truncate(time.Microsecond), s.UserAgent, s.IP)
	return wrap(err, "create session")
}

// touchEvery is how old the recorded last visit of a session may grow
// before a visit records it again: a minute, or an eighth of a shorter idle
// lifetime. Recording every visit would make each single sign-on a write;
// this way a session idles out at most that much before idle has passed
// since its true last visit, never after it.
func touchEvery(idle time.Duration) time.Duration { return min(time.Minute, idle/8) }

// liveSessionWhere picks the live session $2 at $1 with the idle cutoff $3.
const liveSessionWhere = `id_hash = $2 AND expires_at > $1 AND last_seen_at > $3`

// recordVisit is the UPDATE of a visit at $1 to the live session $2 whose
// recorded last visit is before $4.
const recordVisit = `UPDATE sessions SET last_seen_at = $1 WHERE ` + liveSessionWhere + ` AND last_seen_at < $4`

// The queries that read a live session (h), alone and with its user. On
// PostgreSQL they also record the visit, when due, in the same statement:
// a data-modifying WITH, which SQLite does not have (an UPDATE of no row
// writes nothing), with last_seen_at reported as recorded. SQLite records
// it in a second statement (recordVisitDue).
var (
	touchQuery, touchWithUserQuery = touchQueries(SQLite)
	touchQueryPG, touchWithUserPG  = touchQueries(Postgres)
)

func touchQueries(d Dialect) (alone, withUser string) {
	live := `SELECT ` + sessionColumns + ` FROM sessions WHERE ` + liveSessionWhere
	if d != Postgres {
		// A SELECT, which the write gate lets through (writegate.go).
		return live, withUserAndQuery(sessionColumns, factorKindsColumn(d), "("+live+") h", "user_id", "")
	}
	columns := strings.Replace(sessionColumns, "last_seen_at",
		"CASE WHEN last_seen_at < $4 THEN $1 ELSE last_seen_at END AS last_seen_at", 1)
	with := `WITH visit AS (` + recordVisit + `), h AS (SELECT ` + columns + ` FROM sessions WHERE ` + liveSessionWhere + `) `
	return with + `SELECT * FROM h`, with + withUserAndQuery(sessionColumns, factorKindsColumn(d), "h", "user_id", "")
}

// factorKindsColumn is the kinds of the confirmed factors of the user u,
// comma-separated (NULL for none): what the sign-in policy needs of them.
func factorKindsColumn(d Dialect) string {
	agg := "group_concat(DISTINCT f.kind)"
	if d == Postgres {
		agg = "string_agg(DISTINCT f.kind, ',')"
	}
	return `(SELECT ` + agg + ` FROM factors f WHERE f.user_id = u.id AND f.confirmed_at IS NOT NULL) AS factor_kinds`
}

// visit is a visit to the session idHash at at, as the touch queries
// take it: $1 at, $2 idHash, $3 the idle cutoff, $4 the time before which
// the recorded visit is due again.
type visit struct {
	at, cutoff, dueBefore time.Time
	idHash                []byte
}

func newVisit(idHash []byte, idle time.Duration) visit {
	t := now()
	return visit{at: t, cutoff: t.Add(-idle), dueBefore: t.Add(-touchEvery(idle)), idHash: idHash}
}

func (v visit) args() []any { return []any{v.at, v.idHash, v.cutoff, v.dueBefore} }

// read is the query that reads the live session on d, with its user or
// alone, and its arguments: SQLite's takes only the first three.
func (v visit) read(d Dialect, withUser bool) (string, []any) {
	alone, joined, args := touchQuery, touchWithUserQuery, v.args()[:3]
	if d == Postgres {
		alone, joined, args = touchQueryPG, touchWithUserPG, v.args()
	}
	if withUser {
		return joined, args
	}
	return alone, args
}

// Touch returns the live session with this digest and records the visit
// when it is due (touchEvery). A session is live while it is before its
// absolute end and was last seen within idle. Anything else is
// ErrNotFound.
func (r Sessions) Touch(ctx context.Context, idHash []byte, idle time.Duration) (*Session, error) {
	v := newVisit(idHash, idle)
	query, args := v.read(r.dialect, false)
	var s Session
	if err := r.q.GetContext(ctx, &s, query, args...); err != nil {
		return nil, wrap(err, "touch session")
	}
	return &s, r.recordVisitDue(ctx, &s, v)
}

// recordVisitDue records the visit v of s on SQLite, when it is due; on
// PostgreSQL the query that read s has.
func (r Sessions) recordVisitDue(ctx context.Context, s *Session, v visit) error {
	if r.dialect == Postgres || !s.LastSeenAt.Before(v.dueBefore) {
		return nil
	}
	res, err := r.q.ExecContext(ctx, recordVisit, v.args()...)
	if err := expectOne(res, err, "touch session"); err != nil {
		return err
	}
	s.LastSeenAt = v.at
	return nil
}

// SignedIn is a live session with what every sign-in page needs of its
// user: the user, their memberships and the kinds of their confirmed
// factors (the factors themselves are read by the pages that prove one).
type SignedIn struct {
	Session     *Session
	User        *User
	Memberships []Membership
	FactorKinds []mfa.FactorKind
}

// signedInRow is a row of touchWithUserQuery.
type signedInRow struct {
	withUserRow[Session]
	FactorKinds *string `db:"factor_kinds"`
}

// TouchSession is Sessions.Touch with the session's user, their
// memberships and their factors' kinds, in one statement (and, on SQLite,
// the visit in a second when it is due). A session not live, or whose user
// is gone, is ErrNotFound.
func (s *Store) TouchSession(ctx context.Context, idHash []byte, idle time.Duration) (*SignedIn, error) {
	v := newVisit(idHash, idle)
	query, args := v.read(s.dialect, true)
	var rows []signedInRow
	if err := s.q.SelectContext(ctx, &rows, query, args...); err != nil {
		return nil, wrap(err, "touch session")
	}
	u, ms, err := userOfRows(len(rows), func(i int) *userMembershipRow { return &rows[i].userMembershipRow })
	if err != nil {
		return nil, err
	}
	in := &SignedIn{Session: &rows[0].Head, User: u, Memberships: ms}
	if k := rows[0].FactorKinds; k != nil && *k != "" {
		for _, kind := range strings.Split(*k, ",") {
			in.FactorKinds = append(in.FactorKinds, mfa.FactorKind(kind))
		}
	}
	return in, s.Sessions().recordVisitDue(ctx, in.Session, v)
}

// Replace moves a session to a new id (after each completed sign-in step)
// and records its new state, in one statement: the old id stops working.
func (r Sessions) Replace(ctx context.Context, oldHash []byte, s *Session) error {
	s.LastSeenAt = now()
	res, err := r.q.ExecContext(ctx, `UPDATE sessions SET id_hash = $1, auth_time = $2, amr = $3, mfa_time = $4,
		last_seen_at = $5 WHERE id_hash = $6 AND user_id = $7`,
		s.IDHash, s.AuthTime.UTC().Truncate(time.Microsecond), s.AMR, utcPtr(s.MFATime), s.LastSeenAt, oldHash, s.UserID)
	return expectOne(res, err, "replace session")
}

// Delete ends one session.
func (r Sessions) Delete(ctx context.Context, idHash []byte) error {
	_, err := r.q.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = $1`, idHash)
	return wrap(err, "delete session")
}

// Live lists the user's sessions that are live at t with this idle
// lifetime, most recently seen first.
func (r Sessions) Live(ctx context.Context, userID string, t time.Time, idle time.Duration) ([]Session, error) {
	t = t.UTC()
	var ss []Session
	err := r.q.SelectContext(ctx, &ss, `SELECT `+sessionColumns+` FROM sessions
		WHERE user_id = $1 AND expires_at > $2 AND last_seen_at > $3 ORDER BY last_seen_at DESC`, userID, t, t.Add(-idle))
	return ss, wrap(err, "list sessions")
}

// DeleteOfUser ends one session, only if it is the user's.
func (r Sessions) DeleteOfUser(ctx context.Context, userID string, idHash []byte) error {
	res, err := r.q.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = $1 AND user_id = $2`, idHash, userID)
	return expectOne(res, err, "delete session")
}

// DeleteUserExcept ends every session of a user but keep.
func (r Sessions) DeleteUserExcept(ctx context.Context, userID string, keep []byte) error {
	_, err := r.q.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2`, userID, keep)
	return wrap(err, "delete other sessions")
}

// DeleteUser ends every session of a user.
func (r Sessions) DeleteUser(ctx context.Context, userID string) error {
	_, err := r.q.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID)
	return wrap(err, "delete user sessions")
}

// DeleteExpired removes up to limit sessions past their absolute end at t
// or idle since before idleBefore.
func (r Sessions) DeleteExpired(ctx context.Context, t time.Time, limit int) (int64, error) {
	return deleteBatch(ctx, r.q, `DELETE FROM sessions WHERE id_hash IN (SELECT id_hash FROM sessions
		WHERE expires_at < $1 LIMIT $2)`, t, limit)
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC().Truncate(time.Microsecond)
	return &u
}
