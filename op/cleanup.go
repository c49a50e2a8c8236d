package op

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehouse-id/gatehouse/storage"
)

const (
	// cleanupBatch bounds each DELETE, so no pass holds locks for long.
	cleanupBatch = 500
	// cleanupLockID is the PostgreSQL advisory lock that lets one replica
	// at a time clean up ("gatehous" in ASCII).
	cleanupLockID int64 = 0x67617465686f7573
)

// RunCleanup deletes expired auth requests, sessions, tokens and rate-limit
// counters every interval until ctx ends, starting at once. On PostgreSQL
// one replica at a time does it; the others skip the pass.
func (p *Provider) RunCleanup(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		ran, err := p.cleanupPass(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			p.log.ErrorContext(ctx, "clean-up of expired rows", "error", err)
		case err == nil && !ran:
			p.log.DebugContext(ctx, "clean-up skipped: another replica is running it")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// cleanupPass runs one pass; ran is false when another replica holds the lock.
func (p *Provider) cleanupPass(ctx context.Context) (ran bool, err error) {
	if p.store.Dialect() == storage.Postgres {
		conn, err := p.store.DB().Conn(ctx)
		if err != nil {
			return false, fmt.Errorf("clean-up lock connection: %w", err)
		}
		defer conn.Close()
		var locked bool
		if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, cleanupLockID).Scan(&locked); err != nil {
			return false, fmt.Errorf("clean-up lock: %w", err)
		}
		if !locked {
			return false, nil
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, cleanupLockID)
	}
	now := time.Now()
	for _, step := range []struct {
		what string
		del  func(context.Context, time.Time, int) (int64, error)
	}{
		{"auth requests", p.store.AuthRequests().DeleteExpired},
		{"sessions", p.store.Sessions().DeleteExpired},
		{"tokens", p.store.Tokens().DeleteExpired},
		{"rate-limit counters", p.store.RateLimits().DeleteExpired},
	} {
		total, err := deleteInBatches(ctx, now, step.del)
		if err != nil {
			return true, fmt.Errorf("delete expired %s: %w", step.what, err)
		}
		if total > 0 {
			p.log.DebugContext(ctx, "expired rows deleted", "what", step.what, "count", total)
		}
	}
	return true, nil
}

func deleteInBatches(ctx context.Context, now time.Time, del func(context.Context, time.Time, int) (int64, error)) (int64, error) {
	var total int64
	for {
		n, err := del(ctx, now, cleanupBatch)
		total += n
		if err != nil || n < cleanupBatch {
			return total, err
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
}
