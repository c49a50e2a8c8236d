package middleware

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestLogHandlerAddsTheRequestID(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(LogHandler(slog.NewJSONHandler(&buf, nil))).With("component", "test")
	var id string
	h := RequestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id = RequestIDFrom(r.Context())
		log.InfoContext(r.Context(), "inside a request")
		log.InfoContext(r.Context(), "names its own", requestIDAttr, "given")
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	log.InfoContext(context.Background(), "outside any request")

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3:\n%s", len(lines), buf.String())
	}
	for i, want := range []string{id, "given", ""} {
		var entry map[string]any
		if err := json.Unmarshal([]byte(lines[i]), &entry); err != nil {
			t.Fatal(err)
		}
		got, _ := entry[requestIDAttr].(string)
		if got != want || entry["component"] != "test" {
			t.Errorf("line %d: request_id %q, component %v; want %q, test", i+1, got, entry["component"], want)
		}
		if n := strings.Count(lines[i], `"request_id"`); n > 1 {
			t.Errorf("line %d names the request id %d times", i+1, n)
		}
	}
}
