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

// withLock runs fn while this process holds the database lock id, on a
// PostgreSQL connection of its own (a session-level advisory lock, released
// when fn returns). With wait it waits for another holder to finish; without
// it, it returns ran == false at once when the lock is taken. SQLite is a
// single node: fn runs at once.
func (s *Store) withLock(ctx context.Context, id int64, wait bool, fn func() error) (ran bool, err error) {
	if s.dialect != Postgres {
		return true, fn()
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("lock connection: %w", err)
	}
	defer conn.Close()
	if wait {
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, id); err != nil {
			return false, fmt.Errorf("take lock: %w", err)
		}
	} else {
		var locked bool
		if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, id).Scan(&locked); err != nil {
			return false, fmt.Errorf("take lock: %w", err)
		}
		if !locked {
			return false, nil
		}
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, id)
	return true, fn()
}
