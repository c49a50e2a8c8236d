package storage

import (
	"context"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"

	"github.com/gatehouse-id/gatehouse/migrations"
)

// migrator returns the embedded migrations' provider.
func (s *Store) migrator() (*goose.Provider, error) {
	fsys, err := migrations.FS(string(s.dialect))
	if err != nil {
		return nil, err
	}
	return s.migratorFor(fsys)
}

func (s *Store) migratorFor(fsys fs.FS) (*goose.Provider, error) {
	dialect := goose.DialectSQLite3
	if s.dialect == Postgres {
		dialect = goose.DialectPostgres
	}
	return goose.NewProvider(dialect, s.db.DB, fsys)
}

// Migrate applies every pending migration, each in its own transaction.
func (s *Store) Migrate(ctx context.Context) (applied int, err error) {
	p, err := s.migrator()
	return s.migrateWith(ctx, p, err)
}

// migrateWith applies p's migrations under the migration lock: replicas
// starting together wait for the first one and then find nothing left to
// apply. Reading the version (SchemaVersion) takes no lock, or a readiness
// probe would wait for another replica's migration.
func (s *Store) migrateWith(ctx context.Context, p *goose.Provider, err error) (int, error) {
	if err != nil {
		return 0, fmt.Errorf("prepare migrations: %w", err)
	}
	var applied int
	_, err = s.withLock(ctx, lockMigrate, true, func() error {
		results, err := p.Up(ctx)
		applied = len(results)
		return err
	})
	if err != nil {
		return applied, fmt.Errorf("apply migrations: %w", err)
	}
	return applied, nil
}

// SchemaVersion reports the database's schema version and the newest
// version this binary knows. A database at or above want is usable:
// migrations are additive.
func (s *Store) SchemaVersion(ctx context.Context) (have, want int64, err error) {
	p, err := s.migrator()
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
