package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/storage"
)

// chunk is how many rows one transaction writes: large enough that commits
// are rare, small enough that a chunk's rows fit easily in memory.
const chunk = 10_000

// seeder writes what its config asks for, step by step.
type seeder struct {
	st       *storage.Store
	c        config
	hash     string // the users' shared password hash
	start    time.Time
	progress io.Writer
	users    []storage.User // the users this run created, id and email
}

func (s *seeder) report(what string, done, total int) {
	if done == total || done%(10*chunk) == 0 {
		fmt.Fprintf(s.progress, "%s: %d/%d (%s)\n", what, done, total, time.Since(s.start).Round(100*time.Millisecond))
	}
}

// inChunks calls write for [from, to) ranges of n rows, one chunk at a time.
func (s *seeder) inChunks(ctx context.Context, what string, n int, write func(ctx context.Context, from, to int) error) error {
	for from := 0; from < n; from += chunk {
		to := min(from+chunk, n)
		if err := write(ctx, from, to); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		s.report(what, to, n)
	}
	return nil
}

func email(n int) string { return fmt.Sprintf("seed%d@example.com", n) }

func (s *seeder) seedUsers(ctx context.Context) error {
	s.users = make([]storage.User, s.c.users)
	t := time.Now()
	return s.inChunks(ctx, "users", s.c.users, func(ctx context.Context, from, to int) error {
		batch := s.users[from:to]
		for i := range batch {
			batch[i] = storage.User{Email: email(s.c.from + from + i), PasswordHash: &s.hash, CreatedAt: t, UpdatedAt: t}
		}
		if err := s.st.Bulk().Users(ctx, batch); err != nil {
			return err
		}
		for i := range batch { // keep what later steps need, not the hash
			batch[i] = storage.User{ID: batch[i].ID, Email: batch[i].Email}
		}
		return nil
	})
}

// expiry is when the i-th row ends: the first live ones in 30 days, the
// rest (the expired ones) an hour ago.
func expiry(t time.Time, i, live int) time.Time {
	if i < live {
		return t.Add(30 * 24 * time.Hour)
	}
	return t.Add(-time.Hour)
}

func (s *seeder) seedSessions(ctx context.Context) error {
	n := s.c.sessions + s.c.expired
	t := time.Now()
	return s.inChunks(ctx, "sessions", n, func(ctx context.Context, from, to int) error {
		batch := make([]storage.Session, 0, to-from)
		for i := from; i < to; i++ {
			_, digest := storage.NewSecret()
			exp := expiry(t, i, s.c.sessions)
			batch = append(batch, storage.Session{IDHash: digest, UserID: s.users[i%len(s.users)].ID, AuthTime: t,
				AMR: storage.StringList{"pwd"}, CreatedAt: t, LastSeenAt: t, ExpiresAt: exp, UserAgent: "seed", IP: "192.0.2.1"})
		}
		return s.st.Bulk().Sessions(ctx, batch)
	})
}

func (s *seeder) seedTokens(ctx context.Context) error {
	n := s.c.tokens + s.c.expired
	if n == 0 {
		return nil
	}
	client := &storage.Client{Name: "seed", RedirectURIs: storage.StringList{"https://seed.example.com/callback"}}
	if err := s.st.Clients().Create(ctx, client); err != nil {
		return err
	}
	t := time.Now()
	return s.inChunks(ctx, "tokens", n, func(ctx context.Context, from, to int) error {
		batch := make([]storage.Token, 0, to-from)
		for i := from; i < to; i++ {
			_, digest := storage.NewSecret()
			exp := expiry(t, i, s.c.tokens)
			user := s.users[i%len(s.users)].ID
			batch = append(batch, storage.Token{IDHash: digest, Kind: storage.TokenRefresh, FamilyID: fmt.Sprintf("%s-%d", client.ID, i),
				ClientID: client.ID, Subject: user, Scopes: storage.StringList{"openid", "offline_access"}, AuthTime: &t,
				AMR: storage.StringList{"pwd"}, CreatedAt: t, ExpiresAt: exp, FamilyExpiresAt: &exp})
		}
		return s.st.Bulk().Tokens(ctx, batch)
	})
}

// seedOrgs makes each organisation's members the next users in turn.
func (s *seeder) seedOrgs(ctx context.Context) error {
	if s.c.members == 0 {
		return nil
	}
	next := 0
	for k := range s.c.orgs {
		slug := fmt.Sprintf("seed-%d-%d", s.c.from, k)
		org := &storage.Org{Name: "Seed " + slug, Slug: slug}
		if err := s.st.Orgs().Create(ctx, org); err != nil {
			return fmt.Errorf("organisation %s: %w", slug, err)
		}
		members := make([]storage.User, 0, s.c.members)
		for range min(s.c.members, len(s.users)) {
			members = append(members, s.users[next%len(s.users)])
			next++
		}
		err := s.inChunks(ctx, "members of "+slug, len(members), func(ctx context.Context, from, to int) error {
			return s.st.Bulk().Members(ctx, org.ID, storage.RoleMember, members[from:to])
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// writeUsersFile writes a sample of the users spread evenly over all of
// them, so that sign-ins reach every part of the users' index.
func (s *seeder) writeUsersFile(context.Context) error {
	if s.c.usersFile == "" {
		return nil
	}
	var b strings.Builder
	b.WriteString("# email,password\n")
	n := min(s.c.sample, len(s.users))
	for j := range n {
		fmt.Fprintf(&b, "%s,%s\n", s.users[j*len(s.users)/n].Email, s.c.password)
	}
	return os.WriteFile(s.c.usersFile, []byte(b.String()), 0o600)
}
