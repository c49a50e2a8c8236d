package adminapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/storage"
)

// ScopeAdmin is the scope an access token needs for the admin API.
const ScopeAdmin = "gatehouse:admin"

// recentAuth bounds how long ago a user's sign-in may be for a change
// (RFC 9470: step-up authentication).
const recentAuth = 10 * time.Minute

// TokenVerifier resolves a bearer access token to its stored row (the
// provider's), or nil for anything but a live access token.
type TokenVerifier interface {
	VerifyAccessToken(ctx context.Context, raw string) (*storage.Token, error)
}

// caller is who calls the API for an organisation.
type caller struct {
	org *storage.Org
	// user is the signed-in owner or admin, or nil for a service client.
	user   *storage.User
	client *storage.Client
	token  *storage.Token
}

// actor is the caller for the audit log.
func (c *caller) actor(r *http.Request) directory.Actor {
	a := directory.Actor{ClientID: c.client.ID, UserAgent: r.UserAgent(), Channel: directory.ChannelAPI}
	if c.user != nil {
		a.UserID = c.user.ID
	}
	if ip := clientIP(r); ip != "" {
		a.IP = ip
	}
	return a
}

// unauthorized answers 401 with the Bearer challenge (RFC 6750 §3).
func unauthorized(w http.ResponseWriter, code, why string) {
	challenge := `Bearer realm="gatehouse"`
	if code != "" {
		challenge += fmt.Sprintf(`, error=%q, error_description=%q`, code, why)
	}
	w.Header().Set("WWW-Authenticate", challenge)
	writeProblem(w, http.StatusUnauthorized, "Unauthorized", why, "")
}

// authorize checks the bearer token and that its holder administers the
// organisation in the address: a user token with the admin scope whose
// user is an owner or admin of it, or a service client of it created with
// --admin-api. A change (write) by a user also needs a sign-in with a
// second factor in the last ten minutes (RFC 9470). Otherwise it answers
// and returns nil: 401 without a good token, 404 for another
// organisation, 403 for a member.
func (a *API) authorize(w http.ResponseWriter, r *http.Request, write bool) *caller {
	ctx := r.Context()
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || raw == "" {
		unauthorized(w, "", "A bearer access token is required.")
		return nil
	}
	tok, err := a.tokens.VerifyAccessToken(ctx, strings.TrimSpace(raw))
	if err != nil {
		a.serverError(w, r, "verifying an access token failed", err)
		return nil
	}
	if tok == nil {
		unauthorized(w, "invalid_token", "The access token is not valid.")
		return nil
	}
	if !slices.Contains(tok.Scopes, ScopeAdmin) {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="gatehouse", error="insufficient_scope", scope=%q`, ScopeAdmin))
		writeProblem(w, http.StatusForbidden, "Forbidden", "The access token lacks the "+ScopeAdmin+" scope.", "")
		return nil
	}
	client, err := a.store.Clients().Get(ctx, tok.ClientID)
	if errors.Is(err, storage.ErrNotFound) || err == nil && !client.AdminAPI {
		unauthorized(w, "invalid_token", "The access token's client may not use the admin API.")
		return nil
	}
	if err != nil {
		a.serverError(w, r, "loading the token's client failed", err)
		return nil
	}
	slug := chi.URLParam(r, "slug")
	if !plain(slug, 128) {
		writeProblem(w, http.StatusNotFound, "Not Found", "No such organisation.", "")
		return nil
	}
	org, err := a.store.Orgs().GetBySlug(ctx, slug)
	if errors.Is(err, storage.ErrNotFound) {
		writeProblem(w, http.StatusNotFound, "Not Found", "No such organisation.", "")
		return nil
	}
	if err != nil {
		a.serverError(w, r, "loading the organisation failed", err)
		return nil
	}
	c := &caller{org: org, client: client, token: tok}
	if tok.Subject == client.ID && tok.AuthTime == nil {
		// A service client acts as an admin of its own organisation only.
		if client.OrgID == nil || *client.OrgID != org.ID {
			writeProblem(w, http.StatusNotFound, "Not Found", "No such organisation.", "")
			return nil
		}
		return c
	}
	m, err := a.store.Orgs().Member(ctx, org.ID, tok.Subject)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		writeProblem(w, http.StatusNotFound, "Not Found", "No such organisation.", "")
		return nil
	case err != nil:
		a.serverError(w, r, "loading the caller's membership failed", err)
		return nil
	case m.Role == storage.RoleMember:
		writeProblem(w, http.StatusForbidden, "Forbidden", "Only owners and admins of the organisation may use the admin API.", "")
		return nil
	}
	if write && (mfa.ACRRank(tok.ACR) < mfa.ACRRank(mfa.ACRMFA) || tok.AuthTime == nil || a.now().Sub(*tok.AuthTime) > recentAuth) {
		// RFC 9470 §3: say what a new token needs.
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="gatehouse", error="insufficient_user_authentication", `+
			`error_description="A change needs a sign-in with a second factor in the last ten minutes.", acr_values=%q, max_age=%d`,
			mfa.ACRMFA, int(recentAuth/time.Second)))
		writeProblem(w, http.StatusUnauthorized, "Unauthorized", "A change needs a sign-in with a second factor in the last ten minutes.", "")
		return nil
	}
	if c.user, err = a.store.Users().Get(ctx, tok.Subject); err != nil {
		a.serverError(w, r, "loading the caller failed", err)
		return nil
	}
	return c
}
