package ui

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/gatehouse-id/gatehouse/middleware"
	"github.com/gatehouse-id/gatehouse/password"
	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

// BenchmarkPasswordStep is one successful password step on SQLite: rate
// limit checks, the argon2id check with the default settings, a new session
// and the audit event.
func BenchmarkPasswordStep(b *testing.B) {
	ctx := context.Background()
	store := storagetest.Open(b, storagetest.SQLiteURL(b))
	hasher := password.NewHasher(password.DefaultParams, 0)
	u, err := New(Config{SessionCookie: testCookie, CallbackURL: testCallbackURL}, store, hasher)
	must(b, err)
	r := chi.NewRouter()
	r.Use(middleware.RequestID)
	u.Routes(r)

	hash, err := hasher.Hash(ctx, testPassword)
	must(b, err)
	must(b, store.Users().Create(ctx, &storage.User{Email: "alice@example.com", PasswordHash: &hash}))
	app := &storage.Client{Name: testClientName, RedirectURIs: storage.StringList{"https://app.example/callback"}}
	must(b, store.Clients().Create(ctx, app))
	a := &storage.AuthRequest{ClientID: app.ID, RedirectURI: app.RedirectURIs[0], Scopes: storage.StringList{"openid"},
		ExpiresAt: time.Now().Add(time.Hour)}
	must(b, store.AuthRequests().Create(ctx, a, 1<<20))
	body := url.Values{"id": {a.ID}, "email": {"alice@example.com"}, "password": {testPassword}}.Encode()

	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/login/password", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		if rec.Code != http.StatusSeeOther {
			b.Fatalf("status %d, want 303", rec.Code)
		}
	}
}
