package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/password"
	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

func count(t *testing.T, st *storage.Store, query string, args ...any) int {
	t.Helper()
	var n int
	if err := st.DB().QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A seeded database holds what was asked for, and the users in the sample
// file sign in with the shared password.
func TestSeedFillsTheDatabase(t *testing.T) {
	for _, backend := range storagetest.Backends() {
		t.Run(backend.Name, func(t *testing.T) {
			ctx := context.Background()
			dbURL := backend.URL(t)
			sample := filepath.Join(t.TempDir(), "sample.csv")
			c := config{database: dbURL, users: 12_345, sessions: 15_000, tokens: 700, expired: 10, orgs: 2, members: 300,
				password: "a seeded password", usersFile: sample, sample: 5}
			if err := run(ctx, c, io.Discard); err != nil {
				t.Fatal(err)
			}
			// More users, with --from, go beside the first ones.
			if err := run(ctx, config{database: dbURL, users: 3, from: c.users, orgs: 1, password: "x", sample: 1}, io.Discard); err != nil {
				t.Fatal(err)
			}

			st := storagetest.Open(t, dbURL)
			now := time.Now()
			for _, check := range []struct {
				what      string
				got, want int
			}{
				{"users", count(t, st, `SELECT COUNT(*) FROM users`), c.users + 3},
				{"live sessions", count(t, st, `SELECT COUNT(*) FROM sessions WHERE expires_at > $1`, now), c.sessions},
				{"expired sessions", count(t, st, `SELECT COUNT(*) FROM sessions WHERE expires_at <= $1`, now), c.expired},
				{"live tokens", count(t, st, `SELECT COUNT(*) FROM tokens WHERE expires_at > $1`, now), c.tokens},
				{"expired tokens", count(t, st, `SELECT COUNT(*) FROM tokens WHERE expires_at <= $1`, now), c.expired},
				{"memberships", count(t, st, `SELECT COUNT(*) FROM memberships`), c.orgs * c.members},
				{"users with a session", count(t, st, `SELECT COUNT(DISTINCT user_id) FROM sessions`), c.users},
			} {
				if check.got != check.want {
					t.Errorf("%s: %d, want %d", check.what, check.got, check.want)
				}
			}

			data, err := os.ReadFile(sample)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(string(data)), "\n")[1:]
			if len(lines) != c.sample {
				t.Fatalf("the sample holds %d users, want %d", len(lines), c.sample)
			}
			hasher := password.NewHasher(password.DefaultParams, 0)
			for _, line := range lines {
				email, pass, _ := strings.Cut(line, ",")
				u, err := st.Users().GetByEmail(ctx, email)
				if err != nil {
					t.Fatalf("sampled user %s: %v", email, err)
				}
				if ok, err := hasher.Verify(ctx, pass, *u.PasswordHash); err != nil || !ok {
					t.Fatalf("sampled user %s does not sign in with %q: %v", email, pass, err)
				}
			}
			if last := lines[len(lines)-1]; !strings.HasPrefix(last, "seed9876@") {
				t.Errorf("the sample ends with %q, want users spread up to the last ones", last)
			}
		})
	}
}

func TestSeedRefusesBadArguments(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"--database", "sqlite:x.db", "--users", "0"},
		{"--database", "sqlite:x.db", "--sessions", "-1"},
		{"--database", "sqlite:x.db", "--sample", "0"},
		{"--database", "sqlite:x.db", "extra"},
	} {
		if _, err := parseArgs(args, io.Discard); err == nil {
			t.Errorf("seed %v: accepted", args)
		}
	}
	c, err := parseArgs([]string{"--database", "sqlite:x.db", "--users", "10", "--members", "5"}, io.Discard)
	if err != nil || c.users != 10 || c.members != 5 || c.orgs != 1 {
		t.Fatalf("parseArgs = %+v, %v", c, err)
	}
}
