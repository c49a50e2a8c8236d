package middleware

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
)

func newLoggedRouter(buf *bytes.Buffer) *chi.Mux {
	log := slog.New(slog.NewJSONHandler(buf, nil))
	r := chi.NewRouter()
	r.Use(RequestID)
	r.Use(ClientIP([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}))
	r.Use(Logger(log))
	r.Get("/login/{step}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		w.Write([]byte("hello"))
	})
	r.Get("/broken", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
	})
	return r
}

func decodeLine(t *testing.T, buf *bytes.Buffer) map[string]any {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("got %d log lines, want exactly one:\n%s", len(lines), buf)
	}
	var entry map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &entry); err != nil {
		t.Fatalf("log line is not JSON: %v\n%s", err, lines[0])
	}
	return entry
}

func TestLoggerWritesOneLineWithRequestFacts(t *testing.T) {
	var buf bytes.Buffer
	r := newLoggedRouter(&buf)
	req := httptest.NewRequest(http.MethodGet, "/login/password", nil)
	req.RemoteAddr = "10.0.0.1:4000"
	req.Header.Set("X-Forwarded-For", "198.51.100.4")
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, req)

	entry := decodeLine(t, &buf)
	want := map[string]any{
		"level":      "INFO",
		"method":     "GET",
		"route":      "/login/{step}",
		"path":       "/login/password",
		"status":     float64(http.StatusAccepted),
		"bytes":      float64(len("hello")),
		"request_id": rec.Header().Get(RequestIDHeader),
		"client_ip":  "198.51.100.4",
	}
	for k, v := range want {
		if entry[k] != v {
			t.Errorf("%s = %v, want %v", k, entry[k], v)
		}
	}
	if _, ok := entry["duration"].(float64); !ok {
		t.Errorf("duration missing or not a number: %v", entry["duration"])
	}
}

func TestLoggerNeverLogsTheQueryString(t *testing.T) {
	var buf bytes.Buffer
	r := newLoggedRouter(&buf)
	const code = "SplxlOBeZQQYbYS6WxSbIA"
	const token = "eyJhbGciOiJSUzI1NiJ9secret"
	req := httptest.NewRequest(http.MethodGet, "/login/callback?code="+code+"&state=st4te&access_token="+token, nil)
	r.ServeHTTP(httptest.NewRecorder(), req)

	for _, secret := range []string{code, token, "st4te", "code=", "?"} {
		if strings.Contains(buf.String(), secret) {
			t.Errorf("log line contains %q from the query string:\n%s", secret, buf.String())
		}
	}
	if entry := decodeLine(t, &buf); entry["path"] != "/login/callback" {
		t.Errorf("path = %v, want /login/callback", entry["path"])
	}
}

func TestLoggerServerErrorsAtErrorLevel(t *testing.T) {
	var buf bytes.Buffer
	r := newLoggedRouter(&buf)
	r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/broken", nil))

	entry := decodeLine(t, &buf)
	if entry["level"] != "ERROR" || entry["status"] != float64(http.StatusServiceUnavailable) {
		t.Errorf("level = %v, status = %v; want ERROR and 503", entry["level"], entry["status"])
	}
}

func TestLoggerUnmatchedRouteAndImplicitStatus(t *testing.T) {
	var buf bytes.Buffer
	r := newLoggedRouter(&buf)
	r.Get("/healthz", func(w http.ResponseWriter, r *http.Request) {}) // writes nothing: 200
	r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if entry := decodeLine(t, &buf); entry["status"] != float64(http.StatusOK) || entry["route"] != "/healthz" {
		t.Errorf("status = %v, route = %v; want 200 and /healthz", entry["status"], entry["route"])
	}

	buf.Reset()
	r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/no/such/page", nil))
	if entry := decodeLine(t, &buf); entry["status"] != float64(http.StatusNotFound) || entry["route"] != "" {
		t.Errorf("status = %v, route = %q; want 404 and no route", entry["status"], entry["route"])
	}
}
