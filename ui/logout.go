package ui

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/storage"
)

// errBadLogoutTarget: a post_logout_redirect_uri that is not registered
// exactly for the given client (or given without a client).
var errBadLogoutTarget = errors.New("post_logout_redirect_uri is not registered for the client")

// showLogout is GET /logout: the page asking to confirm signing out (the
// provider sends the browser here when it cannot tell that the client asked),
// or with done=1 the page saying the user is signed out.
func (u *UI) showLogout(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("done") == "1" {
		// Said only when it is true: this browser has no live session.
		bs, err := u.currentSession(r.Context(), r)
		if err != nil {
			u.serverError(w, r, "loading the browser session failed", err)
			return
		}
		if bs == nil {
			u.renderSignedOut(w, r)
			return
		}
		q.Del("done")
	}
	p := logoutPage{
		ClientID:              q.Get("client_id"),
		PostLogoutRedirectURI: q.Get("post_logout_redirect_uri"),
		State:                 q.Get("state"),
	}
	client, err := u.logoutClient(r.Context(), p.ClientID, p.PostLogoutRedirectURI)
	switch {
	case errors.Is(err, errBadLogoutTarget):
		u.renderError(w, r, errBadLogout)
		return
	case err != nil:
		u.serverError(w, r, "loading the client for a sign-out failed", err)
		return
	case client != nil:
		p.ClientName = client.Name
	}
	bs, err := u.currentSession(r.Context(), r)
	if err != nil {
		u.serverError(w, r, "loading the browser session failed", err)
		return
	}
	if bs != nil {
		p.Email = bs.user.Email
	}
	u.renderLogout(w, r, p)
}

// submitLogout is POST /logout: it ends this browser's session (not the
// user's others), clears the cookie and returns to the client when it asked
// with an exactly registered address; otherwise it says the user is
// signed out.
func (u *UI) submitLogout(w http.ResponseWriter, r *http.Request) {
	if !u.parseForm(w, r) {
		return
	}
	target := r.PostForm.Get("post_logout_redirect_uri")
	client, err := u.logoutClient(r.Context(), r.PostForm.Get("client_id"), target)
	if err != nil && !errors.Is(err, errBadLogoutTarget) {
		u.serverError(w, r, "loading the client for a sign-out failed", err)
		return
	}
	if err := u.endSession(r.Context(), r, client); err != nil {
		u.serverError(w, r, "ending the session failed", err)
		return
	}
	u.clearSessionCookie(w)
	if client != nil && target != "" {
		if to, err := url.Parse(target); err == nil {
			if state := r.PostForm.Get("state"); state != "" {
				q := to.Query()
				q.Set("state", state)
				to.RawQuery = q.Encode()
			}
			http.Redirect(w, r, to.String(), http.StatusSeeOther)
			return
		}
	}
	http.Redirect(w, r, "/logout?done=1", http.StatusSeeOther)
}

// logoutClient returns the client a sign-out names (nil when none, or an
// unknown one without an address). errBadLogoutTarget refuses an address
// that the client did not register exactly.
func (u *UI) logoutClient(ctx context.Context, clientID, target string) (*storage.Client, error) {
	if clientID == "" || !plausibleID(clientID) {
		if target != "" {
			return nil, errBadLogoutTarget
		}
		return nil, nil
	}
	c, err := u.store.Clients().Get(ctx, clientID)
	switch {
	case errors.Is(err, storage.ErrNotFound) && target != "":
		return nil, errBadLogoutTarget
	case errors.Is(err, storage.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	case target != "" && !slices.Contains(c.PostLogoutRedirectURIs, target):
		return nil, errBadLogoutTarget
	}
	return c, nil
}

// endSession deletes this browser's session and records it.
func (u *UI) endSession(ctx context.Context, r *http.Request, client *storage.Client) error {
	bs, err := u.currentSession(ctx, r)
	if err != nil {
		return err
	}
	hash := u.cookieHash(r)
	if hash == nil {
		return nil
	}
	return u.store.InTx(ctx, func(tx *storage.Store) error {
		if err := tx.Sessions().Delete(ctx, hash); err != nil {
			return err
		}
		if bs == nil {
			return nil
		}
		clientID := ""
		if client != nil {
			clientID = client.ID
		}
		return directory.Record(ctx, tx, actor(r, bs.user.ID, clientID), directory.Event{Type: directory.EventSignedOut, SubjectID: bs.user.ID})
	})
}
