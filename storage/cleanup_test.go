package storage_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

// expiringRows stores rows of every kind the clean-up handles, all expiring
// at exp: n tokens and up to 20 of the others.
type expiringRows struct {
	ctx    context.Context
	s      *storage.Store
	user   *storage.User
	client *storage.Client
}

func newExpiringRows(t *testing.T, s *storage.Store) *expiringRows {
	ctx := context.Background()
	e := &expiringRows{ctx: ctx, s: s, user: &storage.User{Email: "cleanup@example.com"}, client: &storage.Client{Name: "app",
		RedirectURIs: storage.StringList{"https://app.example.com/cb"}}}
	if err := s.Users().Create(ctx, e.user); err != nil {
		t.Fatal(err)
	}
	if err := s.Clients().Create(ctx, e.client); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *expiringRows) seed(t *testing.T, n int, exp time.Time) {
	t.Helper()
	var batch []*storage.Token
	for i := range n {
		_, digest := storage.NewSecret()
		batch = append(batch, &storage.Token{IDHash: digest, Kind: storage.TokenAccess, FamilyID: "f", ClientID: e.client.ID,
			Subject: e.user.ID, ExpiresAt: exp})
		if len(batch) == 100 || i == n-1 {
			mustDo(t, e.s.Tokens().Create(e.ctx, batch...))
			batch = nil
		}
	}
	for range min(n, 20) {
		mustDo(t, e.s.AuthRequests().Create(e.ctx, &storage.AuthRequest{ClientID: e.client.ID, RedirectURI: "https://app.example.com/cb",
			Scopes: storage.StringList{"openid"}, ExpiresAt: exp}, 1<<20))
		_, digest := storage.NewSecret()
		mustDo(t, e.s.Sessions().Create(e.ctx, &storage.Session{IDHash: digest, UserID: e.user.ID, AuthTime: time.Now(), ExpiresAt: exp}))
		_, err := e.s.RateLimits().Fail(e.ctx, fmt.Sprintf("test:%x", digest[:8]), exp)
		mustDo(t, err)
	}
}

func (e *expiringRows) count(t *testing.T, table string) int {
	t.Helper()
	var n int
	mustDo(t, e.s.DB().QueryRowContext(e.ctx, `SELECT COUNT(*) FROM `+table).Scan(&n))
	return n
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var cleanedTables = []string{"tokens", "auth_requests", "sessions", "rate_limits"}

var quiet = slog.New(slog.DiscardHandler)

func TestCleanupDeletesExpiredKeepsLive(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, s *storage.Store) {
		e := newExpiringRows(t, s)
		e.seed(t, 3, time.Now().Add(time.Hour)) // live
		before := map[string]int{}
		for _, table := range cleanedTables {
			before[table] = e.count(t, table)
		}
		e.seed(t, 1234, time.Now().Add(-time.Hour)) // expired: more than two batches of tokens
		ran, err := s.CleanupExpired(e.ctx, time.Now(), quiet)
		if err != nil || !ran {
			t.Fatalf("clean-up pass: ran %v, %v", ran, err)
		}
		for _, table := range cleanedTables {
			if got := e.count(t, table); got != before[table] {
				t.Errorf("%s: %d rows after the clean-up, want the %d live ones", table, got, before[table])
			}
		}
	})
}

// On PostgreSQL a replica that cannot take the lock skips the pass.
func TestCleanupSkipsWhileAnotherReplicaHoldsTheLock(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, s *storage.Store) {
		if s.Dialect() != storage.Postgres {
			t.Skip("the lock is PostgreSQL's; SQLite is a single node")
		}
		e := newExpiringRows(t, s)
		conn, err := s.DB().Conn(e.ctx)
		mustDo(t, err)
		defer conn.Close()
		var locked bool
		mustDo(t, conn.QueryRowContext(e.ctx, `SELECT pg_try_advisory_lock($1)`, storage.CleanupLockID).Scan(&locked))
		if !locked {
			t.Fatal("could not take the lock")
		}
		e.seed(t, 5, time.Now().Add(-time.Hour))
		ran, err := s.CleanupExpired(e.ctx, time.Now(), quiet)
		if err != nil || ran {
			t.Fatalf("pass while locked elsewhere: ran %v, %v", ran, err)
		}
		if e.count(t, "tokens") != 5 {
			t.Error("rows were deleted while another replica held the lock")
		}
		_, err = conn.ExecContext(e.ctx, `SELECT pg_advisory_unlock($1)`, storage.CleanupLockID)
		mustDo(t, err)
		if ran, err := s.CleanupExpired(e.ctx, time.Now(), quiet); err != nil || !ran || e.count(t, "tokens") != 0 {
			t.Fatalf("pass after release: ran %v, %v, %d tokens left", ran, err, e.count(t, "tokens"))
		}
	})
}

// TestCleanupKeepsTheAuditLogForItsRetention: events older than the
// retention go; newer ones stay.
func TestCleanupKeepsTheAuditLogForItsRetention(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		for _, typ := range []string{"old", "new"} {
			if err := s.Audit().Record(ctx, &storage.AuditEvent{Type: typ}, nil); err != nil {
				t.Fatal(err)
			}
		}
		past := time.Now().Add(-30 * 24 * time.Hour).UTC()
		if _, err := s.DB().ExecContext(ctx, `UPDATE audit_events SET created_at = $1 WHERE type = 'old'`, past); err != nil {
			t.Fatal(err)
		}
		s.SetAuditRetention(7 * 24 * time.Hour)
		if _, err := s.CleanupExpired(ctx, time.Now(), slog.New(slog.DiscardHandler)); err != nil {
			t.Fatal(err)
		}
		es, err := s.Audit().List(ctx, storage.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != 1 || es[0].Type != "new" {
			t.Errorf("after the clean-up: %+v, want only the new event", es)
		}
	})
}
