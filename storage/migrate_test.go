package storage_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/pressly/goose/v3/lock"

	"github.com/gatehouse-id/gatehouse/migrations"
	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

func openRaw(t *testing.T, url string) *storage.Store {
	t.Helper()
	s, err := storage.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestMigrateTwiceIsANoOp(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			s := openRaw(t, b.URL(t))
			if _, err := s.Users().List(ctx); err == nil {
				t.Fatal("users table exists before migrating")
			}
			n, err := s.Migrate(ctx)
			if err != nil || n == 0 {
				t.Fatalf("first Migrate applied %d, err %v", n, err)
			}
			have, want, err := s.SchemaVersion(ctx)
			if err != nil || have != want || want == 0 {
				t.Fatalf("SchemaVersion = %d, %d, %v; want equal and non-zero", have, want, err)
			}
			n, err = s.Migrate(ctx)
			if err != nil || n != 0 {
				t.Fatalf("second Migrate applied %d, err %v; want 0, nil", n, err)
			}
		})
	}
}

func TestFailingMigrationLeavesDatabaseAsItWas(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			s := openRaw(t, b.URL(t))
			good, err := migrations.FS(string(s.Dialect()))
			if err != nil {
				t.Fatal(err)
			}
			first, err := good.(interface{ ReadFile(string) ([]byte, error) }).ReadFile("00001_foundation.sql")
			if err != nil {
				t.Fatal(err)
			}
			fsys := fstest.MapFS{
				"00001_foundation.sql": {Data: first},
				// Creates a table, then fails: the table must not survive.
				"00002_broken.sql": {Data: []byte("-- +goose Up\nCREATE TABLE half_done (id TEXT);\nINSERT INTO no_such_table VALUES (1);\n")},
			}
			v, err := s.MigrateFS(ctx, fsys)
			if err == nil {
				t.Fatal("a failing migration reported success")
			}
			if v != 1 {
				t.Fatalf("schema version after failure = %d, want 1 (the good migration only)", v)
			}
			if _, err := s.DB().ExecContext(ctx, "SELECT 1 FROM half_done"); err == nil {
				t.Fatal("the failed migration's table was left behind")
			}
			if _, err := s.DB().ExecContext(ctx, "SELECT id, email FROM users"); err != nil {
				t.Fatalf("the good migration was lost: %v", err)
			}
		})
	}
}

func TestConcurrentMigrationsApplyOnce(t *testing.T) {
	url := storagetest.PostgresURL(t)
	ctx := context.Background()
	const replicas = 6
	stores := make([]*storage.Store, replicas)
	for i := range stores {
		stores[i] = openRaw(t, url)
	}
	applied := make([]int, replicas)
	errs := make([]error, replicas)
	var wg sync.WaitGroup
	for i, s := range stores {
		wg.Go(func() { applied[i], errs[i] = s.Migrate(ctx) })
	}
	wg.Wait()
	total := 0
	for i := range stores {
		if errs[i] != nil {
			t.Fatalf("replica %d: %v", i, errs[i])
		}
		total += applied[i]
	}
	_, want, err := stores[0].SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if int64(total) != want {
		t.Fatalf("replicas applied %d migrations in all, want each of the %d exactly once", total, want)
	}
}

func TestOpenRefusesBadURLs(t *testing.T) {
	for _, dsn := range []string{"", "mysql://x", "sqlite:", "sqlite:/no/such/dir/x.db", "postgres://%zz", "sqlite:a.db?mode=memory"} {
		if _, err := storage.Open(context.Background(), dsn); err == nil {
			t.Errorf("Open(%q) succeeded", dsn)
		}
	}
}

// A replica that is migrating holds the migration lock; the others'
// readiness checks read the schema version without waiting for it.
func TestSchemaVersionDoesNotWaitForTheMigrationLock(t *testing.T) {
	url := storagetest.PostgresURL(t)
	ctx := context.Background()
	s := openRaw(t, url)
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	holder, err := s.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	if _, err := holder.ExecContext(ctx, "SELECT pg_advisory_lock($1)", lock.DefaultLockID); err != nil {
		t.Fatal(err)
	}
	defer holder.ExecContext(ctx, "SELECT pg_advisory_unlock($1)", lock.DefaultLockID)

	short, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	have, want, err := s.SchemaVersion(short)
	if err != nil || have != want {
		t.Fatalf("SchemaVersion while the migration lock is held = %d, %d, %v", have, want, err)
	}
}

// The SQLite database holds every secret's digest and sealed keys: it and
// its write-ahead log are readable by their owner only.
func TestSQLiteFilesAreOwnerOnly(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "gatehouse.db")
	s := openRaw(t, "sqlite:"+path)
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Users().Create(context.Background(), &storage.User{Email: "ada@example.com"}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"gatehouse.db", "gatehouse.db-wal", "gatehouse.db-shm"} {
		info, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if perm := info.Mode().Perm(); perm != 0o600 {
			t.Errorf("%s has mode %o, want 600", name, perm)
		}
	}
}
