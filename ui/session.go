package ui

import (
	"context"
	"errors"
	"net/http"

	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/storage"
)

// browserSession is the live session a browser presents, with its user.
type browserSession struct {
	hash        []byte // the stored digest of the cookie's value
	session     *storage.Session
	user        *storage.User
	memberships []storage.Membership // the user's organisations, read with the user
	factorKinds []mfa.FactorKind     // the kinds of the user's confirmed factors, read with the user
	grant       string               // the browser's enrollment grant, if any (see grantOf)
}

// cookieHash is the digest of the browser's session cookie, or nil when it
// sends none. Only the digest is ever stored or compared.
func (u *UI) cookieHash(r *http.Request) []byte {
	c, err := r.Cookie(u.cfg.SessionCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	return storage.HashSecret(c.Value)
}

// currentSession returns the browser's live session, or nil when it has
// none (no cookie, an ended or expired session, a deleted user), with its
// user and their organisations. Reading it counts as activity for the idle
// lifetime.
func (u *UI) currentSession(ctx context.Context, r *http.Request) (*browserSession, error) {
	hash := u.cookieHash(r)
	if hash == nil {
		return nil, nil
	}
	in, err := u.store.TouchSession(ctx, hash, u.cfg.SessionIdle)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &browserSession{hash: hash, session: in.Session, user: in.User, memberships: in.Memberships,
		factorKinds: in.FactorKinds, grant: u.grantOf(r)}, nil
}

func (u *UI) setSessionCookie(w http.ResponseWriter, value string) {
	http.SetCookie(w, u.sessionCookie(value, int(u.cfg.SessionMax.Seconds())))
}

func (u *UI) clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, u.sessionCookie("", -1))
}

func (u *UI) sessionCookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     u.cfg.SessionCookie,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   u.cfg.SecureCookies,
		SameSite: http.SameSiteLaxMode,
	}
}
