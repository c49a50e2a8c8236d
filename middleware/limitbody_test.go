package middleware

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestLimitBody(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		wantErr  bool
		wantRead string
	}{
		{name: "under the limit", body: "12345", wantRead: "12345"},
		{name: "exactly the limit", body: "1234567890", wantRead: "1234567890"},
		{name: "over the limit", body: "12345678901", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var readErr error
			var read []byte
			h := LimitBody(10)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				read, readErr = io.ReadAll(r.Body)
			}))
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tt.body)))

			if tt.wantErr {
				var tooBig *http.MaxBytesError
				if !errors.As(readErr, &tooBig) || tooBig.Limit != 10 {
					t.Fatalf("read error = %v, want *http.MaxBytesError with limit 10", readErr)
				}
				return
			}
			if readErr != nil || string(read) != tt.wantRead {
				t.Fatalf("read %q, %v; want %q", read, readErr, tt.wantRead)
			}
		})
	}
}

func TestLimitBodyFormParsingFails(t *testing.T) {
	var parseErr error
	h := LimitBody(16)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		parseErr = r.ParseForm()
	}))
	req := httptest.NewRequest(http.MethodPost, "/login/password", strings.NewReader("password="+strings.Repeat("a", 100)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	h.ServeHTTP(httptest.NewRecorder(), req)

	var tooBig *http.MaxBytesError
	if !errors.As(parseErr, &tooBig) {
		t.Fatalf("ParseForm error = %v, want *http.MaxBytesError", parseErr)
	}
}
