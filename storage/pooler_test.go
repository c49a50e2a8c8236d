package storage_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

// pgbouncerPath is where Debian's pgbouncer package puts it.
const pgbouncerPath = "/usr/sbin/pgbouncer"

// startPgBouncer runs PgBouncer in transaction mode in front of the test
// PostgreSQL server and returns its address, or skips where PgBouncer or
// PostgreSQL is not there.
func startPgBouncer(t *testing.T, server *url.URL) string {
	t.Helper()
	if _, err := os.Stat(pgbouncerPath); err != nil {
		t.Skipf("PgBouncer is not installed at %s", pgbouncerPath)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, port, _ := net.SplitHostPort(addr)
	// PgBouncer refuses to run as root; it drops to postgres, which must
	// read its configuration and write its log here (t.TempDir's parent is
	// private to this user).
	dir, err := os.MkdirTemp("", "gatehouse-pgbouncer-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	ini := fmt.Sprintf(`[databases]
* = host=%s port=%s user=%s

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %s
unix_socket_dir =
auth_type = any
pool_mode = transaction
default_pool_size = 4
max_client_conn = 500
ignore_startup_parameters = extra_float_digits
logfile = %s
pidfile = %s
`, server.Hostname(), server.Port(), server.User.Username(), port, filepath.Join(dir, "pgbouncer.log"), filepath.Join(dir, "pgbouncer.pid"))
	conf := filepath.Join(dir, "pgbouncer.ini")
	if err := os.WriteFile(conf, []byte(ini), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{conf}
	if os.Geteuid() == 0 {
		args = []string{"-u", "postgres", conf}
	}
	cmd := exec.Command(pgbouncerPath, args...)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start PgBouncer: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "pgbouncer.log"))
			t.Fatalf("PgBouncer did not start:\n%s", log)
		}
	}
}

// TestBehindPgBouncer runs the conformance suite through PgBouncer 1.18 in
// transaction mode, which hands each transaction whichever server
// connection is free: with prepared statements off, every repository, the
// transactions and the clean-up's lock work. Migrations run against
// PostgreSQL directly, as README says.
func TestBehindPgBouncer(t *testing.T) {
	base := os.Getenv(storagetest.EnvPostgres)
	if base == "" {
		t.Skip(storagetest.EnvPostgres + " is not set")
	}
	server, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	pooler := startPgBouncer(t, server)
	admin, err := sql.Open("postgres", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	ctx := context.Background()
	open := func(t *testing.T) *storage.Store {
		t.Helper()
		var b [6]byte
		rand.Read(b[:])
		name := "gatehouse_pooled_" + hex.EncodeToString(b[:])
		if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { admin.Exec(`DROP DATABASE ` + name + ` WITH (FORCE)`) })
		direct := *server
		direct.Path = "/" + name
		st, err := storage.Open(ctx, direct.String())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		st.Close()
		pooled := url.URL{Scheme: "postgres", User: server.User, Host: pooler, Path: "/" + name, RawQuery: "sslmode=disable"}
		st, err = storage.Open(ctx, pooled.String(), storage.Unprepared())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	storagetest.Run(t, open)

	t.Run("the clean-up's lock", func(t *testing.T) {
		st := open(t)
		ran, err := st.CleanupExpired(ctx, time.Now(), quiet)
		if err != nil || !ran {
			t.Fatalf("clean-up through the pooler: ran %v, %v", ran, err)
		}
	})
}
