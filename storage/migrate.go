package storage

import (
	"context"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/gatehouse-id/gatehouse/migrations"
)

// migrator returns the embedded migrations' provider. Applying them takes
// the lock; reading the version must not, or a readiness probe would wait
// for another replica's migration.
func (s *Store) migrator(lockForApply bool) (*goose.Provider, error) {
	fsys, err := migrations.FS(string(s.dialect))
	if err != nil {
		return nil, err
	}
	return s.migratorFor(fsys, lockForApply)
}

func (s *Store) migratorFor(fsys fs.FS, lockForApply bool) (*goose.Provider, error) {
	var opts []goose.ProviderOption
	dialect := goose.DialectSQLite3
	if s.dialect == Postgres {
		dialect = goose.DialectPostgres
	}
	if s.dialect == Postgres && lockForApply {
		// A session-level advisory lock: replicas starting together wait
		// for the first one and then find nothing left to apply.
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	return goose.NewProvider(dialect, s.db.DB, fsys, opts...)
}

// Migrate applies every pending migration, each in its own transaction.
func (s *Store) Migrate(ctx context.Context) (applied int, err error) {
	p, err := s.migrator(true)
	return migrateWith(ctx, p, err)
}

func migrateWith(ctx context.Context, p *goose.Provider, err error) (int, error) {
	if err != nil {
		return 0, fmt.Errorf("prepare migrations: %w", err)
	}
	results, err := p.Up(ctx)
	if err != nil {
		return len(results), fmt.Errorf("apply migrations: %w", err)
	}
	return len(results), nil
}

// SchemaVersion reports the database's schema version and the newest
// version this binary knows. A database at or above want is usable:
// migrations are additive.
func (s *Store) SchemaVersion(ctx context.Context) (have, want int64, err error) {
	p, err := s.migrator(false)
	if err != nil {
		return 0, 0, err
	}
	sources := p.ListSources()
	if len(sources) > 0 {
		want = sources[len(sources)-1].Version
	}
	have, err = p.GetDBVersion(ctx)
	if err != nil {
		return 0, want, fmt.Errorf("read schema version: %w", err)
	}
	return have, want, nil
}
