package middleware

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
)

// Recover turns a panic in a handler into an error log line (with the
// request id and stack) and a plain 500 response. It is a last resort:
// handlers must answer bad input with a 4xx, never a panic.
// http.ErrAbortHandler is passed on, because it is net/http's way to abort a
// response on purpose.
func Recover(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sw := NewStatusWriter(w)
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
					panic(v)
				}
				log.LogAttrs(r.Context(), slog.LevelError, "panic while serving request",
					slog.String("panic", fmt.Sprint(v)),
					slog.String("method", r.Method),
					slog.String("path", r.URL.Path),
					slog.String(requestIDAttr, RequestIDFrom(r.Context())),
					slog.String("stack", string(debug.Stack())),
				)
				if sw.Written() {
					return // too late for a status; the client sees a cut-off response
				}
				h := sw.Header()
				for k := range h {
					if k != RequestIDHeader {
						h.Del(k)
					}
				}
				h.Set("Content-Type", "text/plain; charset=utf-8")
				h.Set("X-Content-Type-Options", "nosniff")
				h.Set("Cache-Control", "no-store")
				sw.WriteHeader(http.StatusInternalServerError)
				fmt.Fprintln(sw, "Internal Server Error")
			}()
			next.ServeHTTP(sw, r)
		})
	}
}
