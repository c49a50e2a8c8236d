package storage_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

// Rows written in bulk are the rows the repositories read, across more
// than one INSERT's worth, and expired ones are cleaned up as any others.
func TestBulkRowsReadAsOrdinaryRows(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		const n = 1203 // three statements, the last one short
		created := time.Now().Add(-time.Hour)
		hash := "$argon2id$shared"
		users := make([]storage.User, n)
		for i := range users {
			users[i] = storage.User{Email: fmt.Sprintf("Bulk%d@Example.com", i), PasswordHash: &hash,
				CreatedAt: created, UpdatedAt: created}
		}
		mustDo(t, s.Bulk().Users(ctx, users))

		last, err := s.Users().GetByEmail(ctx, "bulk1202@example.com")
		mustDo(t, err)
		if last.ID != users[n-1].ID || last.PasswordHash == nil || *last.PasswordHash != hash || !last.CreatedAt.Equal(created.UTC().Truncate(time.Microsecond)) {
			t.Fatalf("user read back = %+v, want id %s with the shared hash", last, users[n-1].ID)
		}

		client := &storage.Client{Name: "app", RedirectURIs: storage.StringList{"https://app.example.com/cb"}}
		mustDo(t, s.Clients().Create(ctx, client))
		live, expired := time.Now().Add(time.Hour), time.Now().Add(-time.Minute)
		sessions := make([]storage.Session, n)
		tokens := make([]storage.Token, n)
		for i := range n {
			exp := live
			if i%3 == 0 {
				exp = expired
			}
			_, sd := storage.NewSecret()
			sessions[i] = storage.Session{IDHash: sd, UserID: users[i].ID, AuthTime: created, AMR: storage.StringList{"pwd"},
				CreatedAt: created, LastSeenAt: time.Now(), ExpiresAt: exp}
			_, td := storage.NewSecret()
			tokens[i] = storage.Token{IDHash: td, Kind: storage.TokenRefresh, FamilyID: fmt.Sprint(i), ClientID: client.ID,
				Subject: users[i].ID, Scopes: storage.StringList{"openid"}, CreatedAt: created, ExpiresAt: exp}
		}
		mustDo(t, s.Bulk().Sessions(ctx, sessions))
		mustDo(t, s.Bulk().Tokens(ctx, tokens))

		got, err := s.Sessions().Touch(ctx, sessions[n-1].IDHash, time.Hour)
		mustDo(t, err)
		if got.UserID != users[n-1].ID {
			t.Fatalf("session's user = %s, want %s", got.UserID, users[n-1].ID)
		}
		tok, err := s.Tokens().Get(ctx, tokens[n-1].IDHash)
		mustDo(t, err)
		if !tok.Active(time.Now()) || tok.Subject != users[n-1].ID {
			t.Fatalf("token read back = %+v, want an active token of %s", tok, users[n-1].ID)
		}

		org := &storage.Org{Name: "Big", Slug: "big"}
		mustDo(t, s.Orgs().Create(ctx, org))
		mustDo(t, s.Bulk().Members(ctx, org.ID, storage.RoleMember, users))
		members, err := s.Orgs().Members(ctx, org.ID)
		mustDo(t, err)
		if len(members) != n {
			t.Fatalf("%d members, want %d", len(members), n)
		}
		m, err := s.Orgs().Member(ctx, org.ID, users[7].ID)
		mustDo(t, err)
		if m.Role != storage.RoleMember {
			t.Fatalf("member's role = %q", m.Role)
		}

		ran, err := s.CleanupExpired(ctx, time.Now(), quiet)
		mustDo(t, err)
		if !ran {
			t.Fatal("cleanup did not run")
		}
		e := &expiringRows{ctx: ctx, s: s}
		if got, want := e.count(t, "sessions"), n-(n+2)/3; got != want {
			t.Fatalf("%d sessions after cleanup, want the %d live ones", got, want)
		}
		if got, want := e.count(t, "tokens"), n-(n+2)/3; got != want {
			t.Fatalf("%d tokens after cleanup, want the %d live ones", got, want)
		}
	})
}

// BenchmarkBulkTokens writes refresh tokens in bulk, chunks of 10,000 rows
// as cmd/seed does: the rate at which a database is filled for measuring.
func BenchmarkBulkTokens(b *testing.B) {
	for _, backend := range storagetest.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			s := storagetest.Open(b, backend.URL(b))
			ctx := context.Background()
			client := &storage.Client{Name: "app", RedirectURIs: storage.StringList{"https://app.example.com/cb"}}
			if err := s.Clients().Create(ctx, client); err != nil {
				b.Fatal(err)
			}
			const chunk = 10_000
			batch := make([]storage.Token, chunk)
			t := time.Now()
			exp := t.Add(time.Hour)
			n := 0
			for b.Loop() {
				for i := range batch {
					_, digest := storage.NewSecret()
					batch[i] = storage.Token{IDHash: digest, Kind: storage.TokenRefresh, FamilyID: fmt.Sprint(n), ClientID: client.ID,
						Subject: "user", Scopes: storage.StringList{"openid"}, AuthTime: &t, CreatedAt: t, ExpiresAt: exp, FamilyExpiresAt: &exp}
					n++
				}
				if err := s.Bulk().Tokens(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
