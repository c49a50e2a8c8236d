package middleware

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
)

func TestSecurityHeaders(t *testing.T) {
	r := chi.NewRouter()
	r.Use(SecurityHeaders)
	r.Get("/login", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<form></form>")) })
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/login", nil))

	want := map[string]string{
		"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'",
		"Referrer-Policy":         "no-referrer",
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
		"Cache-Control":           "no-store",
	}
	for k, v := range want {
		if got := rec.Header().Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
}

// A sign-in ends with a form POST redirected to the relying party; Chromium
// checks form-action on that redirect, so the policy must not restrict it.
func TestContentSecurityPolicyAllowsFormRedirectsToRelyingParties(t *testing.T) {
	if strings.Contains(ContentSecurityPolicy, "form-action") {
		t.Fatalf("policy %q restricts form-action", ContentSecurityPolicy)
	}
	for _, directive := range []string{"unsafe-inline", "unsafe-eval", "*"} {
		if strings.Contains(ContentSecurityPolicy, directive) {
			t.Errorf("policy %q allows %s", ContentSecurityPolicy, directive)
		}
	}
}
