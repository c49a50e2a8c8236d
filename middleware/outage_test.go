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

// A handler that keeps waiting past the deadline, as on a database that
// stopped answering, is abandoned: the client gets the 503 at the deadline
// and nothing the handler writes after, and the requests after it are
// served while it still waits.
func TestDeadlineAnswersForAStuckHandler(t *testing.T) {
	const deadline = 200 * time.Millisecond
	release, finished := make(chan struct{}), make(chan error, 1)
	o := Outage{JSON: []string{"/oauth/token"}, Deadline: deadline}
	h := o.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/oauth/token" {
			w.Write([]byte("fine"))
			return
		}
		if d, ok := r.Context().Deadline(); !ok || time.Until(d) > deadline {
			t.Errorf("the handler's context ends %v (%v), want within %s", d, ok, deadline)
		}
		w.Header().Set("X-Late", "yes")
		<-release // a driver that does not heed the context
		_, err := w.Write([]byte(`{"access_token":"late"}`))
		finished <- err
	}))
	rec := httptest.NewRecorder()
	start := time.Now()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/oauth/token", nil))
	if took := time.Since(start); took > deadline+time.Second {
		t.Errorf("answered after %s, deadline %s", took, deadline)
	}
	for range 3 {
		next := httptest.NewRecorder()
		h.ServeHTTP(next, httptest.NewRequest(http.MethodGet, "/keys", nil))
		if next.Code != http.StatusOK || next.Body.String() != "fine" {
			t.Errorf("a request while another is stuck: %d %q", next.Code, next.Body)
		}
	}
	close(release)
	if err := <-finished; err == nil {
		t.Error("the abandoned handler's write succeeded")
	}
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" || rec.Header().Get("X-Late") != "" ||
		!strings.Contains(rec.Body.String(), "temporarily_unavailable") || strings.Contains(rec.Body.String(), "late") {
		t.Errorf("stuck handler: %d %v %q", rec.Code, rec.Header(), rec.Body)
	}
}

// Within the deadline a handler's answer goes out as it wrote it, and
// net/http's abort still aborts.
func TestDeadlinePassesAnswersInTime(t *testing.T) {
	o := Outage{Deadline: time.Second}
	h := o.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusTeapot)
		w.Write([]byte("short and stout"))
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusTeapot || rec.Header().Get("Content-Type") != "text/plain" || rec.Body.String() != "short and stout" {
		t.Errorf("answer in time: %d %v %q", rec.Code, rec.Header(), rec.Body)
	}
	aborting := o.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) }))
	defer func() {
		if p := recover(); p != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler", p)
		}
	}()
	aborting.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	t.Error("the abort did not reach the server")
}

// A ping that does not answer within its own deadline counts as down.
func TestSilentPingIsAnOutage(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	o := Outage{Down: func(context.Context) bool { <-block; return false }}
	h := o.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("a 500 with a silent ping: %d, want 503", rec.Code)
	}
}

// BenchmarkDeadline is the cost the deadline adds to a request whose
// handler runs deep, as the server's do.
func BenchmarkDeadline(b *testing.B) {
	h := Outage{Deadline: time.Second}.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte{deep(200)})
	}))
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
}

// deep recurses n frames of about 256 bytes each.
func deep(n int) byte {
	var pad [256]byte
	pad[n%256] = byte(n)
	if n == 0 {
		return pad[0]
	}
	return deep(n-1) + pad[n%256]
}
