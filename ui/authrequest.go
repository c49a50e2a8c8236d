package ui

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gatehouse-id/gatehouse/storage"
)

// SignInURL is where the provider sends the browser to sign in for the
// auth request id: the dispatcher, where every sign-in step returns.
func SignInURL(id string) string { return "/login?id=" + url.QueryEscape(id) }

// SignOutURL is the page that asks to confirm signing out, given the
// end-session request's parameters q (client_id, post_logout_redirect_uri,
// state), or with done=1 says the user is signed out.
func SignOutURL(q url.Values) string { return "/logout?" + q.Encode() }

// The flow's own addresses.
func dispatcherURL(id string) string { return SignInURL(id) }
func passwordURL(id string) string   { return "/login/password?id=" + url.QueryEscape(id) }

// authRequest loads the request a sign-in page works on. For a missing,
// unknown or expired id it shows the page saying so and returns nil.
func (u *UI) authRequest(w http.ResponseWriter, r *http.Request, id string) *storage.AuthRequest {
	if id == "" {
		u.renderError(w, r, errMissingRequest)
		return nil
	}
	if !plausibleID(id) {
		u.renderError(w, r, errUnknownRequest)
		return nil
	}
	a, err := u.store.AuthRequests().Get(r.Context(), id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		u.renderError(w, r, errUnknownRequest)
		return nil
	case err != nil:
		u.serverError(w, r, "loading the auth request failed", err)
		return nil
	case !u.boundToBrowser(r, a):
		u.renderError(w, r, errOtherBrowser)
		return nil
	}
	return a
}

// errOtherBrowser answers a browser that opens a sign-in another browser
// started: whoever learnt its address must not finish it.
var errOtherBrowser = pageError{http.StatusBadRequest, "This sign-in was started in another browser",
	"Start again from the application, in this browser."}

// boundToBrowser reports whether r comes from the browser that started the
// sign-in a (its flow cookie, set at /authorize, matches). Requests stored
// before sign-ins were bound are not checked.
func (u *UI) boundToBrowser(r *http.Request, a *storage.AuthRequest) bool {
	if a.BrowserHash == nil {
		return true
	}
	c, err := r.Cookie(u.cfg.FlowCookie)
	return err == nil && subtle.ConstantTimeCompare(storage.HashSecret(c.Value), a.BrowserHash) == 1
}

// openAuthRequest is authRequest for a step page: a request that already
// ended (a code issued, or an error for the client) cannot take more steps.
func (u *UI) openAuthRequest(w http.ResponseWriter, r *http.Request, id string) *storage.AuthRequest {
	a := u.authRequest(w, r, id)
	if a != nil && finished(a) {
		u.renderError(w, r, errFinishedRequest)
		return nil
	}
	return a
}

func finished(a *storage.AuthRequest) bool { return a.CodeHash != nil || a.ErrorCode != "" }

// clientName is what the pages call the application. It reports false
// after showing the page for a client that no longer exists.
func (u *UI) clientName(w http.ResponseWriter, r *http.Request, clientID string) (string, bool) {
	c, err := u.cfg.Clients.Get(r.Context(), clientID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		u.renderError(w, r, errUnknownClient)
		return "", false
	case err != nil:
		u.serverError(w, r, "loading the client failed", err)
		return "", false
	}
	return c.Name, true
}

// plausibleID screens an id from the browser before it reaches a query:
// databases refuse invalid UTF-8 and NUL bytes, and no id is long.
func plausibleID(id string) bool {
	return len(id) <= 128 && utf8.ValidString(id) && !strings.ContainsFunc(id, unicode.IsControl)
}
