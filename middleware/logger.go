package middleware

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
)

// Logger writes one structured line per request once the handler is done:
// method, chi route pattern, path, status, body bytes, duration, request id
// and client address. The path is logged without its query string, because
// queries carry authorization codes, state and tokens. Server errors (5xx)
// are logged at error level, everything else at info.
func Logger(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			path := r.URL.Path
			sw := NewStatusWriter(w)
			next.ServeHTTP(sw, r)

			status := sw.Status()
			if status == 0 {
				status = http.StatusOK // nothing written: net/http sends an empty 200
			}
			level := slog.LevelInfo
			if status >= 500 {
				level = slog.LevelError
			}
			attrs := []slog.Attr{
				slog.String("method", r.Method),
				slog.String("route", routePattern(r)),
				slog.String("path", path),
				slog.Int("status", status),
				slog.Int64("bytes", sw.BytesWritten()),
				slog.Duration("duration", time.Since(start)),
				slog.String(requestIDAttr, RequestIDFrom(r.Context())),
			}
			if ip := ClientIPFrom(r.Context()); ip.IsValid() {
				attrs = append(attrs, slog.String("client_ip", ip.String()))
			}
			log.LogAttrs(r.Context(), level, "http request", attrs...)
		})
	}
}

// routePattern is the chi pattern that served r ("/orgs/{slug}/members"),
// or "" when no route matched or r was not routed by chi.
func routePattern(r *http.Request) string {
	rctx := chi.RouteContext(r.Context())
	if rctx == nil {
		return ""
	}
	return rctx.RoutePattern()
}
