package middleware

import "net/http"

// LimitBody caps request bodies at n bytes with http.MaxBytesReader: reading
// past the limit returns an *http.MaxBytesError (which handlers answer with
// 413) and the server closes the connection instead of draining the rest.
func LimitBody(n int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Body != nil {
				r.Body = http.MaxBytesReader(w, r.Body, n)
			}
			next.ServeHTTP(w, r)
		})
	}
}
