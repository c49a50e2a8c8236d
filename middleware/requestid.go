package middleware

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
)

// RequestIDHeader is the response header that carries the request id, so a
// user can quote it to support and an operator can find the log line.
const RequestIDHeader = "X-Request-Id"

type requestIDKey struct{}

// RequestID gives every request a fresh random id (16 bytes from
// crypto/rand, hex encoded), stores it in the context and sends it in the
// X-Request-Id response header. An incoming X-Request-Id is ignored: a
// client could otherwise choose ids that collide with other requests' log
// lines.
func RequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := newRequestID()
		w.Header().Set(RequestIDHeader, id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
	})
}

// RequestIDFrom returns the request id set by RequestID, or "" outside it.
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

func newRequestID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand since Go 1.24)
	return hex.EncodeToString(b[:])
}
