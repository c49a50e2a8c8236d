// Package adminapi is Gatehouse's admin JSON API for organisations, under
// /api/v1/orgs/{slug}: the console's operations for machines, with the
// same rules, authorised by Gatehouse's own bearer access tokens, with
// RFC 9457 problem details for errors.
package adminapi

import (
	_ "embed"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/middleware"
	"github.com/gatehouse-id/gatehouse/storage"
)

// OpenAPI is the API's OpenAPI 3 document, served at /api/v1/openapi.json.
//
//go:embed openapi.json
var OpenAPI []byte

// maxBody bounds a request body.
const maxBody = 64 << 10

// Config holds what the API needs.
type Config struct {
	Store     *storage.Store
	Directory *directory.Directory
	Tokens    TokenVerifier
	Logger    *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Passes makes a temporary access pass and its keyed hash (as the
	// sign-in checks it); nil: passes cannot be issued here.
	Passes func() (pass string, hash []byte, err error)
}

// API is the admin API.
type API struct {
	store  *storage.Store
	dir    *directory.Directory
	tokens TokenVerifier
	log    *slog.Logger
	now    func() time.Time
	passes func() (string, []byte, error)
}

// New returns the API.
func New(cfg Config) (*API, error) {
	if cfg.Store == nil || cfg.Directory == nil || cfg.Tokens == nil {
		return nil, errors.New("adminapi: a store, a directory and a token verifier are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &API{store: cfg.Store, dir: cfg.Directory, tokens: cfg.Tokens, log: cfg.Logger, now: cfg.Now, passes: cfg.Passes}, nil
}

// Routes mounts the API's routes on r, under /api/v1.
func (a *API) Routes(r chi.Router) {
	r.Route("/api/v1", func(r chi.Router) {
		r.Use(middleware.LimitBody(maxBody))
		r.Get("/orgs/{slug}/compliance", a.compliance)
		r.Get("/orgs/{slug}/members", a.members)
		r.Get("/orgs/{slug}/policy", a.policy)
		r.Put("/orgs/{slug}/policy", a.putPolicy)
		r.Post("/orgs/{slug}/invitations", a.invite)
		r.Put("/orgs/{slug}/members/{member}/role", a.setRole)
		r.Delete("/orgs/{slug}/members/{member}", a.removeMember)
		r.Post("/orgs/{slug}/members/{member}/reset-mfa", a.resetMember)
		r.Post("/orgs/{slug}/members/{member}/access-pass", a.issuePass)
		r.Get("/orgs/{slug}/audit", a.audit)
		r.Get("/openapi.json", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write(OpenAPI)
		})
		r.NotFound(func(w http.ResponseWriter, r *http.Request) {
			writeProblem(w, http.StatusNotFound, "Not Found", "No such route.", "")
		})
		r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
			writeProblem(w, http.StatusMethodNotAllowed, "Method Not Allowed", "", "")
		})
	})
}

func (a *API) serverError(w http.ResponseWriter, r *http.Request, what string, err error) {
	a.log.ErrorContext(r.Context(), what, slog.String("error", err.Error()))
	writeProblem(w, http.StatusInternalServerError, "Internal Server Error", "", "")
}

func clientIP(r *http.Request) string {
	if ip := middleware.ClientIPFrom(r.Context()); ip.IsValid() {
		return ip.String()
	}
	return ""
}

// readJSON decodes a JSON body into v, refusing another content type,
// unknown fields, trailing data and a body too large, with a problem.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeProblem(w, http.StatusUnsupportedMediaType, "Unsupported Media Type", "Send the body as application/json.", "")
		return false
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.Decode(&struct{}{}) != io.EOF {
		err = errors.New("more than one JSON value")
	}
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		writeProblem(w, http.StatusRequestEntityTooLarge, "Content Too Large", "The body is too large.", "")
		return false
	case err != nil:
		writeProblem(w, http.StatusBadRequest, "Bad Request", "The body is not valid JSON for this request: "+err.Error(), "")
		return false
	}
	return true
}

// jsonObject decodes a stored JSON object.
func jsonObject(raw string, v *map[string]any) error {
	if raw == "" {
		*v = map[string]any{}
		return nil
	}
	return json.Unmarshal([]byte(raw), v)
}

// plain reports whether s can reach a query: valid UTF-8 without control
// characters (databases refuse a NUL byte), at most max bytes.
func plain(s string, max int) bool {
	return len(s) <= max && utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl)
}

// page reads a listing's limit (1 to 500, default 50) and its cursor as
// given, or answers the problem and reports false.
func page(w http.ResponseWriter, q url.Values) (limit int, cursor string, ok bool) {
	limit = 50
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			writeProblem(w, http.StatusBadRequest, "Bad Request", "limit is from 1 to 500.", "limit")
			return 0, "", false
		}
		limit = n
	}
	return limit, q.Get("cursor"), true
}

// badCursor answers a cursor this API did not give.
func badCursor(w http.ResponseWriter) {
	writeProblem(w, http.StatusBadRequest, "Bad Request", "cursor is not one this API gave.", "cursor")
}
