package middleware

import "net/http"

// ContentSecurityPolicy is the policy of every hosted page: nothing from
// other origins, no inline script or style, no framing.
//
// It deliberately has no form-action directive. Chromium applies
// form-action to the redirects that follow a form submission, and the last
// step of a sign-in is a form POST answered with a redirect to the relying
// party's redirect_uri on another origin; form-action 'self' would block the
// very redirect that completes the sign-in. Forms are protected from
// cross-origin use by CSRF checks instead.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'"

// SecurityHeaders sets the headers of the hosted pages: the
// Content-Security-Policy above, no Referer (so URLs with codes do not leak
// to other sites), no MIME sniffing, no framing (also for browsers without
// frame-ancestors) and no caching of pages that show personal data.
func SecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}
