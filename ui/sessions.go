package ui

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"time"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/mail"
	"github.com/gatehouse-id/gatehouse/storage"
)

// sessionRow is one browser session as the account page lists it.
type sessionRow struct {
	// Handle names the session in the page's forms: derived from the
	// stored digest, so the page never shows what is stored.
	Handle                string
	Device, IP            string
	SignedIn, SignedInISO string
	LastSeen, LastSeenISO string
	Current               bool // the browser looking at the page
}

func sessionHandle(idHash []byte) string {
	h := sha256.Sum256(append([]byte("gatehouse session handle\x00"), idHash...))
	return hex.EncodeToString(h[:16])
}

func sessionRowOf(s *storage.Session, current bool) sessionRow {
	const shown = "2 January 2006 at 15:04 UTC"
	return sessionRow{
		Handle:      sessionHandle(s.IDHash),
		Device:      mail.DeviceOf(s.UserAgent),
		IP:          s.IP,
		SignedIn:    s.CreatedAt.UTC().Format(shown),
		SignedInISO: s.CreatedAt.UTC().Format(time.RFC3339),
		LastSeen:    s.LastSeenAt.UTC().Format(shown),
		LastSeenISO: s.LastSeenAt.UTC().Format(time.RFC3339),
		Current:     current,
	}
}

var errNoSuchSession = pageError{http.StatusNotFound, "That browser is already signed out",
	"Go back to your security settings to see where you are signed in."}

// endOneSession is POST /account/security/sessions/end: it signs one of the
// user's other browsers out.
func (u *UI) endOneSession(w http.ResponseWriter, r *http.Request) {
	if !u.parseForm(w, r) {
		return
	}
	a := u.requireAccount(w, r, accountHome, false)
	if a == nil {
		return
	}
	ctx := r.Context()
	live, err := u.store.Sessions().Live(ctx, a.user.ID, time.Now(), u.cfg.SessionIdle)
	if err != nil {
		u.serverError(w, r, "listing the sessions failed", err)
		return
	}
	handle := r.PostForm.Get("session")
	var target []byte
	for _, s := range live {
		if subtle.ConstantTimeCompare([]byte(sessionHandle(s.IDHash)), []byte(handle)) == 1 {
			target = s.IDHash
		}
	}
	if target == nil {
		u.renderError(w, r, errNoSuchSession)
		return
	}
	if subtle.ConstantTimeCompare(target, a.hash) == 1 {
		// This browser signs out at /logout, where it is asked to confirm.
		http.Redirect(w, r, "/logout", http.StatusSeeOther)
		return
	}
	err = u.dir.EndSession(ctx, actor(r, a.user.ID, AccountClientID), a.user, target)
	switch {
	case errors.Is(err, directory.ErrNoSession):
		u.renderError(w, r, errNoSuchSession)
	case err != nil:
		u.serverError(w, r, "ending a session failed", err)
	default:
		http.Redirect(w, r, accountHome+"?done=session", http.StatusSeeOther)
	}
}

// endOtherSessions is POST /account/security/sessions/end-others: every
// other browser is signed out and the user's refresh tokens are revoked.
func (u *UI) endOtherSessions(w http.ResponseWriter, r *http.Request) {
	if !u.parseForm(w, r) {
		return
	}
	a := u.requireAccount(w, r, accountHome, false)
	if a == nil {
		return
	}
	if err := u.dir.EndOtherSessions(r.Context(), actor(r, a.user.ID, AccountClientID), a.user, a.hash); err != nil {
		u.serverError(w, r, "ending the other sessions failed", err)
		return
	}
	http.Redirect(w, r, accountHome+"?done=others", http.StatusSeeOther)
}
