package op

import (
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// maxBodyBytes bounds every request body: no OAuth request comes close.
const maxBodyBytes = 64 << 10

// requestError is a refusal of malformed input, answered before the
// library sees the request.
type requestError struct {
	status int
	code   string
	desc   string
}

func badRequest(desc string) *requestError {
	return &requestError{http.StatusBadRequest, "invalid_request", desc}
}

// writeOAuthError answers with an RFC 6749 §5.2 error body.
func writeOAuthError(w http.ResponseWriter, e *requestError) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(e.status)
	json.NewEncoder(w).Encode(struct {
		Error       string `json:"error"`
		Description string `json:"error_description,omitempty"`
	}{e.code, e.desc})
}

// parseForm reads the query and, for a form POST, the body, bounded in
// size, and refuses a parameter given more than once (RFC 6749 §3.1).
func parseForm(w http.ResponseWriter, r *http.Request) *requestError {
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	if r.Method == http.MethodPost && (r.ContentLength != 0 || r.Header.Get("Content-Type") != "") {
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "application/x-www-form-urlencoded" {
			return &requestError{http.StatusUnsupportedMediaType, "invalid_request",
				"the request body must be application/x-www-form-urlencoded"}
		}
	}
	if err := r.ParseForm(); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return &requestError{http.StatusRequestEntityTooLarge, "invalid_request", "the request body is too large"}
		}
		return badRequest("the request parameters are malformed")
	}
	for name, values := range r.Form {
		if len(values) > 1 {
			return badRequest("parameter " + safeName(name) + " is repeated")
		}
		if !validText(name) || !validText(values[0]) {
			return badRequest("parameter " + safeName(name) + " is not valid text")
		}
	}
	return nil
}

// safeName keeps a parameter name echoed in an error description within
// the characters RFC 6749 allows there.
func safeName(name string) string {
	if len(name) > 40 {
		name = name[:40]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return '?'
		}
		return r
	}, name)
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	writeOAuthError(w, &requestError{http.StatusMethodNotAllowed, "invalid_request", "method not allowed"})
}

// guardGet admits the GET-only documents (discovery, keys).
func guardGet(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			methodNotAllowed(w, "GET, HEAD")
			return
		}
		if e := parseForm(w, r); e != nil {
			writeOAuthError(w, e)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// guardForm admits form POSTs whose parameters are all in the body, where
// credentials belong (introspection, revocation, token).
func guardForm(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e := checkFormPost(w, r); e != nil {
			writeOAuthError(w, e)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(withChallenge(w, basicChallenge(r)), r)
	})
}

// guardIntrospection is guardForm for the introspection endpoint, which
// only authenticated clients may call (RFC 7662 §2.1): a request that
// names no client at all is answered 401, not 400.
func guardIntrospection(next http.Handler) http.Handler {
	return guardForm(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, _, basic := r.BasicAuth(); !basic && r.PostForm.Get("client_id") == "" && r.PostForm.Get("client_assertion") == "" {
			w.Header().Set("WWW-Authenticate", `Basic realm="gatehouse"`)
			writeOAuthError(w, &requestError{http.StatusUnauthorized, "invalid_client", "client authentication is required"})
			return
		}
		next.ServeHTTP(w, r)
	}))
}

func checkFormPost(w http.ResponseWriter, r *http.Request) *requestError {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return &requestError{http.StatusMethodNotAllowed, "invalid_request", "method not allowed"}
	}
	if r.URL.RawQuery != "" {
		return badRequest("parameters must be sent in the request body")
	}
	return parseForm(w, r)
}

// grantsServed are the grant types the token endpoint answers; any other
// is refused before client authentication.
var grantsServed = []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken, oidc.GrantTypeClientCredentials}

func guardToken(next http.Handler) http.Handler {
	return guardForm(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		grant := oidc.GrantType(r.PostForm.Get("grant_type"))
		switch {
		case grant == "":
			writeOAuthError(w, badRequest("grant_type is missing"))
			return
		case !servesGrant(grant):
			writeOAuthError(w, &requestError{http.StatusBadRequest, "unsupported_grant_type",
				"this server issues tokens for authorization_code, refresh_token and client_credentials only"})
			return
		}
		w.Header().Set("Pragma", "no-cache")
		next.ServeHTTP(w, r)
	}))
}

func servesGrant(g oidc.GrantType) bool {
	for _, s := range grantsServed {
		if g == s {
			return true
		}
	}
	return false
}

// guardUserinfo admits GET and POST with the access token in the
// Authorization header or the form body (RFC 6750 §2.1, §2.2), never in
// the URL, and never in both.
func guardUserinfo(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			methodNotAllowed(w, "GET, POST")
			return
		}
		if r.URL.Query().Has("access_token") {
			writeOAuthError(w, badRequest("the access token must not be sent in the URL"))
			return
		}
		if e := parseForm(w, r); e != nil {
			writeOAuthError(w, e)
			return
		}
		header := r.Header.Get("Authorization") != ""
		body := r.PostForm.Get("access_token") != ""
		if header && body {
			writeOAuthError(w, badRequest("the access token must be sent one way only"))
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(withChallenge(w, bearerChallenge(header || body)), r)
	})
}

// guardEndSession bounds and checks the logout request's parameters.
func guardEndSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			methodNotAllowed(w, "GET, POST")
			return
		}
		if e := parseForm(w, r); e != nil {
			writeOAuthError(w, e)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// challengeWriter adds a WWW-Authenticate header to 401 and 403 answers.
type challengeWriter struct {
	http.ResponseWriter
	challenge func(status int) string
}

func withChallenge(w http.ResponseWriter, challenge func(status int) string) http.ResponseWriter {
	return &challengeWriter{ResponseWriter: w, challenge: challenge}
}

func (c *challengeWriter) WriteHeader(status int) {
	if v := c.challenge(status); v != "" {
		c.Header().Set("WWW-Authenticate", v)
	}
	c.ResponseWriter.WriteHeader(status)
}

func (c *challengeWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// basicChallenge answers a failed HTTP Basic client authentication as RFC
// 6749 §5.2 asks.
func basicChallenge(r *http.Request) func(int) string {
	_, _, basic := r.BasicAuth()
	return func(status int) string {
		if status == http.StatusUnauthorized && basic {
			return `Basic realm="gatehouse"`
		}
		return ""
	}
}

// bearerChallenge follows RFC 6750 §3: no error code when no token was sent.
func bearerChallenge(tokenSent bool) func(int) string {
	return func(status int) string {
		switch {
		case status == http.StatusUnauthorized && tokenSent:
			return `Bearer error="invalid_token"`
		case status == http.StatusUnauthorized:
			return `Bearer`
		case status == http.StatusForbidden:
			return `Bearer error="insufficient_scope"`
		}
		return ""
	}
}
