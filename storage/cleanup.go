package storage

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// cleanupBatch bounds each DELETE, so no pass holds locks for long. On
// SQLite a batch holds the one write lock, which requests wait for in turn
// with it (writegate.go): a hundred rows take it for about 20 ms.
const (
	cleanupBatch       = 500
	cleanupBatchSQLite = 100
)

// RunCleanup deletes expired rows every interval until ctx ends, starting
// at once. On PostgreSQL one replica at a time does it; the others skip the
// pass.
func (s *Store) RunCleanup(ctx context.Context, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		ran, err := s.CleanupExpired(ctx, time.Now(), log)
		switch {
		case err != nil && ctx.Err() == nil:
			log.ErrorContext(ctx, "clean-up of expired rows", "error", err)
		case err == nil && !ran:
			log.DebugContext(ctx, "clean-up skipped: another replica is running it")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// CleanupExpired runs one pass over every table with expiring rows (auth
// requests, sessions, tokens, rate-limit counters), in batches; ran is false
// when another replica holds the clean-up lock.
func (s *Store) CleanupExpired(ctx context.Context, now time.Time, log *slog.Logger) (ran bool, err error) {
	return s.withLock(ctx, lockCleanup, false, func() error {
		for _, step := range []struct {
			what string
			del  func(context.Context, time.Time, int) (int64, error)
		}{
			{"auth requests", s.AuthRequests().DeleteExpired},
			{"sessions", s.Sessions().DeleteExpired},
			{"tokens", s.Tokens().DeleteExpired},
			{"rate-limit counters", s.RateLimits().DeleteExpired},
			{"links", s.Links().DeleteExpired},
			{"recoveries", s.Recoveries().DeleteExpired},
			{"invitations", s.Invitations().DeleteExpired},
			{"webauthn ceremonies", s.Ceremonies().DeleteExpired},
			{"audit events", func(ctx context.Context, t time.Time, limit int) (int64, error) {
				return s.Audit().DeleteExpired(ctx, t.Add(-s.auditRetention()), limit)
			}},
		} {
			total, err := s.deleteInBatches(ctx, now, step.del)
			if err != nil {
				return fmt.Errorf("delete expired %s: %w", step.what, err)
			}
			if total > 0 {
				log.DebugContext(ctx, "expired rows deleted", "what", step.what, "count", total)
			}
		}
		return nil
	})
}

// deleteInBatches deletes until a batch comes back short. After each full
// batch it rests as long as the batch took, so however many rows have piled
// up the clean-up takes at most half of the database's time (on SQLite, of
// its one write lock) and requests are served in between.
func (s *Store) deleteInBatches(ctx context.Context, now time.Time, del func(context.Context, time.Time, int) (int64, error)) (int64, error) {
	batch := cleanupBatch
	if s.dialect == SQLite {
		batch = cleanupBatchSQLite
	}
	var total int64
	for {
		began := time.Now()
		n, err := del(ctx, now, batch)
		total += n
		if err != nil || n < int64(batch) {
			return total, err
		}
		rest := time.NewTimer(time.Since(began))
		select {
		case <-ctx.Done():
			rest.Stop()
			return total, ctx.Err()
		case <-rest.C:
		}
	}
}

// deleteBatch runs one bounded DELETE and reports the rows removed.
func deleteBatch(ctx context.Context, q queryer, query string, t time.Time, limit int) (int64, error) {
	res, err := q.ExecContext(ctx, query, t.UTC(), limit)
	if err != nil {
		return 0, wrap(err, "delete expired")
	}
	return res.RowsAffected()
}
