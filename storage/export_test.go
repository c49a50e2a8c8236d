package storage

import (
	"context"
	"io/fs"
	"time"
)

// MigrateFS applies the migrations in fsys instead of the embedded ones and
// reports the version reached, so tests can feed a failing migration.
func (s *Store) MigrateFS(ctx context.Context, fsys fs.FS) (version int64, err error) {
	p, err := s.migratorFor(fsys)
	_, err = s.migrateWith(ctx, p, err)
	if p != nil {
		version, _ = p.GetDBVersion(ctx)
	}
	return version, err
}

// CleanupLockID is the clean-up's database lock, for a test that holds it
// as another replica would.
const CleanupLockID = lockCleanup

// SetClock makes the cache read the time from now.
func (cc *ClientCache) SetClock(now func() time.Time) { cc.now = now }
