package ui

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/gatehouse-id/gatehouse/middleware"
	"github.com/gatehouse-id/gatehouse/password"
	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

// consoleMembers is how many members the console benchmark's organisation has.
const consoleMembers = 100_000

// BenchmarkConsoleMembersPage serves pages of the members list of an
// organisation of 100,000 members, through the handler, on each database:
// the first page, a filter, an email prefix and a page deep in the list.
// It reports the 95th percentile (the target is 100 ms).
func BenchmarkConsoleMembersPage(b *testing.B) {
	for _, backend := range storagetest.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			store := storagetest.Open(b, backend.URL(b))
			u, err := New(Config{SessionCookie: testCookie, CallbackURL: testCallbackURL}, store, password.NewHasher(password.DefaultParams, 0))
			must(b, err)
			r := chi.NewRouter()
			r.Use(middleware.RequestID)
			u.Routes(r)
			cookie := seedConsole(b, store)

			deep := base64.RawURLEncoding.EncodeToString([]byte("member070000@example.com"))
			paths := []string{"/orgs/acme/members", "/orgs/acme/members?status=not-enrolled",
				"/orgs/acme/members?email=member0999", "/orgs/acme/members?after=" + deep, "/orgs/acme/members?status=overdue"}
			took := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				req := httptest.NewRequest(http.MethodGet, paths[i%len(paths)], nil)
				req.AddCookie(&http.Cookie{Name: testCookie, Value: cookie})
				rec := httptest.NewRecorder()
				start := time.Now()
				r.ServeHTTP(rec, req)
				took = append(took, time.Since(start))
				if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `id="members"`) {
					b.Fatalf("%s: %d", req.URL, rec.Code)
				}
			}
			b.StopTimer()
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)*95/100].Microseconds())/1000, "p95-ms")
		})
	}
}

// seedConsole stores an organisation "acme" with consoleMembers members
// (every tenth with an app), an owner with an app, and the owner's
// session, whose cookie it returns.
func seedConsole(b *testing.B, store *storage.Store) string {
	b.Helper()
	ctx := context.Background()
	grace := int64(72 * 3600)
	since := time.Now().Add(-120 * time.Hour).UTC() // most members are overdue
	org := &storage.Org{Slug: "acme", Name: "Acme", Policy: storage.Policy{RequireMFA: true, GraceSeconds: &grace, RequiredSince: &since}}
	must(b, store.Orgs().Create(ctx, org))
	now := time.Now().UTC().Truncate(time.Microsecond)
	const batch = 500
	for start := 0; start < consoleMembers; start += batch {
		must(b, func() error {
			var users, members, factors strings.Builder
			var uargs, margs, fargs []any
			for i := start; i < start+batch; i++ {
				id := fmt.Sprintf("u%06d", i)
				email := fmt.Sprintf("member%06d@example.com", i)
				if users.Len() > 0 {
					users.WriteString(", ")
					members.WriteString(", ")
				}
				n := len(uargs)
				fmt.Fprintf(&users, "($%d, $%d, $%d, '', FALSE, $%d, $%d)", n+1, n+2, n+3, n+4, n+5)
				uargs = append(uargs, id, email, email, now, now)
				m := len(margs)
				fmt.Fprintf(&members, "($%d, $%d, 'member', FALSE, $%d, $%d)", m+1, m+2, m+3, m+4)
				margs = append(margs, org.ID, id, now.Add(-time.Duration(i)*time.Minute), email)
				if i%10 == 0 {
					if factors.Len() > 0 {
						factors.WriteString(", ")
					}
					f := len(fargs)
					fmt.Fprintf(&factors, "($%d, $%d, 'totp', 'x', $%d, $%d)", f+1, f+2, f+3, f+4)
					fargs = append(fargs, "f"+id, id, now, now)
				}
			}
			if _, err := store.DB().ExecContext(ctx, `INSERT INTO users (id, email, email_normalized, name, disabled, created_at, updated_at) VALUES `+users.String(), uargs...); err != nil {
				return err
			}
			if _, err := store.DB().ExecContext(ctx, `INSERT INTO memberships (org_id, user_id, role, require_mfa, created_at, email_normalized) VALUES `+members.String(), margs...); err != nil {
				return err
			}
			_, err := store.DB().ExecContext(ctx, `INSERT INTO factors (id, user_id, kind, name, created_at, confirmed_at) VALUES `+factors.String(), fargs...)
			return err
		}())
	}
	if store.Dialect() == storage.Postgres {
		// As autovacuum would have by now: statistics of the new rows.
		_, err := store.DB().ExecContext(ctx, `ANALYZE`)
		must(b, err)
	}
	owner := &storage.User{Email: "aaa-owner@example.com"}
	must(b, store.Users().Create(ctx, owner))
	must(b, store.Orgs().AddMember(ctx, org.ID, owner.ID, storage.RoleOwner))
	f := &storage.Factor{ID: storage.NewFactorID(), UserID: owner.ID, Kind: "totp", Secret: []byte("sealed")}
	must(b, store.Factors().CreatePending(ctx, f))
	must(b, store.Factors().Confirm(ctx, owner.ID, f.ID, 1, time.Now().Add(-time.Minute)))
	secret, digest := storage.NewSecret()
	must(b, store.Sessions().Create(ctx, &storage.Session{IDHash: digest, UserID: owner.ID, AuthTime: time.Now(),
		AMR: storage.StringList{"pwd", "otp", "mfa"}, ExpiresAt: time.Now().Add(time.Hour)}))
	return secret
}
