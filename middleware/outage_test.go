package middleware

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestOutage(t *testing.T) {
	down := true
	o := Outage{
		Down: func(ctx context.Context) bool {
			if _, ok := ctx.Deadline(); !ok {
				t.Error("the ping has no deadline")
			}
			return down
		},
		Page: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("<h1>unavailable</h1>"))
		},
		JSON:    []string{"/oauth/token"},
		Problem: "/api/",
	}
	failing := o.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("X-Leak", "internal")
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte("server_error: get client: EOF"))
	}))
	for path, want := range map[string]struct{ ctype, body string }{
		"/oauth/token":     {"application/json", `"error":"temporarily_unavailable"`},
		"/api/v1/orgs/x":   {"application/problem+json", `"status":503`},
		"/login/password":  {"text/html; charset=utf-8", "<h1>unavailable</h1>"},
		"/oauth/token/not": {"text/html; charset=utf-8", "<h1>unavailable</h1>"},
	} {
		rec := httptest.NewRecorder()
		failing.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, nil))
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "5" || rec.Header().Get("X-Leak") != "" {
			t.Errorf("%s: %d, headers %v", path, rec.Code, rec.Header())
		}
		if rec.Header().Get("Content-Type") != want.ctype || !strings.Contains(rec.Body.String(), want.body) || strings.Contains(rec.Body.String(), "EOF") {
			t.Errorf("%s: %s %q, want %s with %s", path, rec.Header().Get("Content-Type"), rec.Body, want.ctype, want.body)
		}
	}
	// A fault while the database answers stays a 500; other answers pass.
	down = false
	rec := httptest.NewRecorder()
	failing.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/oauth/token", nil))
	if rec.Code != http.StatusInternalServerError || rec.Body.String() != "server_error: get client: EOF" {
		t.Errorf("a fault: %d %q", rec.Code, rec.Body)
	}
	down = true
	ok := o.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("fine")) }))
	rec = httptest.NewRecorder()
	ok.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/keys", nil))
	if rec.Code != http.StatusOK || rec.Body.String() != "fine" {
		t.Errorf("a success during an outage: %d %q", rec.Code, rec.Body)
	}
}

func TestDeadline(t *testing.T) {
	var left time.Duration
	h := Deadline(3 * time.Second)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, ok := r.Context().Deadline()
		if !ok {
			t.Fatal("no deadline")
		}
		left = time.Until(d)
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	if left <= 2*time.Second || left > 3*time.Second {
		t.Errorf("deadline %s away, want about 3s", left)
	}
}
