package storage

import (
	"context"
	"fmt"

	"github.com/pressly/goose/v3/lock"
)

// The database locks that let one replica at a time do a job.
const (
	// lockMigrate guards migrations. It is the migrator's own default id,
	// so a replica of an older version, which took that lock through the
	// migrator, still waits for this one during a rolling upgrade.
	lockMigrate = lock.DefaultLockID
	// lockCleanup guards the removal of expired rows ("gatehous" in ASCII).
	lockCleanup int64 = 0x67617465686f7573
)

// withLock runs fn while this process holds the database lock id: a
// transaction-level advisory lock on PostgreSQL, taken in a transaction of
// its own that stays open while fn runs (on other connections) and is
// rolled back after, which releases it. Being transaction-scoped, the lock
// also holds behind a connection pooler in transaction mode, which hands
// each transaction any server connection. With wait it waits for another
// holder to finish; without it, it returns ran == false at once when the
// lock is taken. SQLite is a single node: fn runs at once.
func (s *Store) withLock(ctx context.Context, id int64, wait bool, fn func() error) (ran bool, err error) {
	if s.dialect != Postgres {
		return true, fn()
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("lock transaction: %w", err)
	}
	defer tx.Rollback()
	if wait {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, id); err != nil {
			return false, fmt.Errorf("take lock: %w", err)
		}
	} else {
		var locked bool
		if err := tx.QueryRowContext(ctx, `SELECT pg_try_advisory_xact_lock($1)`, id).Scan(&locked); err != nil {
			return false, fmt.Errorf("take lock: %w", err)
		}
		if !locked {
			return false, nil
		}
	}
	return true, fn()
}
