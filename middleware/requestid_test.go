package middleware

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"

	"github.com/go-chi/chi/v5"
)

func TestRequestIDIsFreshRandomAndInContextAndHeader(t *testing.T) {
	var seen string
	r := chi.NewRouter()
	r.Use(RequestID)
	r.Get("/", func(w http.ResponseWriter, r *http.Request) { seen = RequestIDFrom(r.Context()) })

	hex32 := regexp.MustCompile(`^[0-9a-f]{32}$`)
	ids := map[string]bool{}
	for range 3 {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set(RequestIDHeader, "chosen-by-client")
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)

		got := rec.Header().Get(RequestIDHeader)
		if !hex32.MatchString(got) {
			t.Fatalf("X-Request-Id = %q, want 32 hex digits (16 random bytes)", got)
		}
		if seen != got {
			t.Fatalf("RequestIDFrom = %q, header = %q; want the same id", seen, got)
		}
		if ids[got] {
			t.Fatalf("id %q was given to two requests", got)
		}
		ids[got] = true
	}
}

func TestRequestIDFromWithoutMiddlewareIsEmpty(t *testing.T) {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	if id := RequestIDFrom(req.Context()); id != "" {
		t.Fatalf("RequestIDFrom = %q outside the middleware, want empty", id)
	}
}
