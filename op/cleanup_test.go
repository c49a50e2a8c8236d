package op

import (
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/storage"
)

// seedRows stores n rows of every kind the clean-up handles, all expiring
// at exp.
func (e *env) seedRows(n int, exp time.Time) {
	e.t.Helper()
	ctx := e.ctx
	var batch []*storage.Token
	for i := range n {
		_, digest := storage.NewSecret()
		batch = append(batch, &storage.Token{IDHash: digest, Kind: storage.TokenAccess, FamilyID: "f", ClientID: e.conf.ID,
			Subject: e.user.ID, ExpiresAt: exp})
		if len(batch) == 100 || i == n-1 {
			must(e.t, e.store.Tokens().Create(ctx, batch...))
			batch = nil
		}
	}
	for range min(n, 20) {
		must(e.t, e.store.AuthRequests().Create(ctx, &storage.AuthRequest{ClientID: e.conf.ID, RedirectURI: confRedirect,
			Scopes: storage.StringList{"openid"}, ExpiresAt: exp}))
		_, digest := storage.NewSecret()
		must(e.t, e.store.Sessions().Create(ctx, &storage.Session{IDHash: digest, UserID: e.user.ID, AuthTime: time.Now(), ExpiresAt: exp}))
		_, err := e.store.RateLimits().Fail(ctx, fmt.Sprintf("test:%x", digest[:8]), exp)
		must(e.t, err)
	}
}

func (e *env) count(table string) int {
	e.t.Helper()
	var n int
	must(e.t, e.store.DB().QueryRowContext(e.ctx, `SELECT COUNT(*) FROM `+table).Scan(&n))
	return n
}

var cleanedTables = []string{"tokens", "auth_requests", "sessions", "rate_limits"}

func TestCleanupDeletesExpiredKeepsLive(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		e.seedRows(3, time.Now().Add(time.Hour)) // live
		before := map[string]int{}
		for _, table := range cleanedTables {
			before[table] = e.count(table)
		}
		e.seedRows(1234, time.Now().Add(-time.Hour)) // expired: more than two batches of tokens
		ran, err := e.p.cleanupPass(e.ctx)
		if err != nil || !ran {
			t.Fatalf("clean-up pass: ran %v, %v", ran, err)
		}
		for _, table := range cleanedTables {
			if got := e.count(table); got != before[table] {
				t.Errorf("%s: %d rows after the clean-up, want the %d live ones", table, got, before[table])
			}
		}
	})
}

// On PostgreSQL a replica that cannot take the lock skips the pass.
func TestCleanupSkipsWhileAnotherReplicaHoldsTheLock(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		if e.store.Dialect() != storage.Postgres {
			t.Skip("the lock is PostgreSQL's; SQLite is a single node")
		}
		conn, err := e.store.DB().Conn(e.ctx)
		must(t, err)
		defer conn.Close()
		var locked bool
		must(t, conn.QueryRowContext(e.ctx, `SELECT pg_try_advisory_lock($1)`, cleanupLockID).Scan(&locked))
		if !locked {
			t.Fatal("could not take the lock")
		}
		e.seedRows(5, time.Now().Add(-time.Hour))
		ran, err := e.p.cleanupPass(e.ctx)
		if err != nil || ran {
			t.Fatalf("pass while locked elsewhere: ran %v, %v", ran, err)
		}
		if e.count("tokens") != 5 {
			t.Error("rows were deleted while another replica held the lock")
		}
		_, err = conn.ExecContext(e.ctx, `SELECT pg_advisory_unlock($1)`, cleanupLockID)
		must(t, err)
		if ran, err := e.p.cleanupPass(e.ctx); err != nil || !ran || e.count("tokens") != 0 {
			t.Fatalf("pass after release: ran %v, %v, %d tokens left", ran, err, e.count("tokens"))
		}
	})
}
