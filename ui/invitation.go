package ui

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/go-chi/chi/v5"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/middleware"
	"github.com/gatehouse-id/gatehouse/password"
	"github.com/gatehouse-id/gatehouse/storage"
)

// accountInvitationPath is where a signed-in user accepts an invitation
// whose link the browser opened before signing in (kept in a cookie).
const accountInvitationPath = "/account/invitation"

func (u *UI) invitationCookieName() string {
	if u.cfg.SecureCookies {
		return "__Host-gatehouse_invitation"
	}
	return "gatehouse_invitation"
}

// invitationPage is what an invitation's link shows.
type invitationPage struct {
	layout
	Token, Email, OrgName, Role string
	// NewAccount: the address has no account; the form sets a password.
	NewAccount                                    bool
	Error, NewPasswordError, ConfirmPasswordError string
}

func (u *UI) renderInvitation(w http.ResponseWriter, r *http.Request, status int, p invitationPage) {
	p.layout = u.layout(r)
	u.render(w, r, status, invitationTemplate, p)
}

var errNotInvited = pageError{http.StatusForbidden, "This invitation is for another address",
	"Sign out, then open the link again and sign in with the address the invitation was sent to."}

// invitation checks the link's token, or shows what became of it.
func (u *UI) invitation(w http.ResponseWriter, r *http.Request, token string) *directory.OpenInvitation {
	open, err := u.dir.CheckInvitation(r.Context(), token)
	if err != nil {
		if !u.linkError(w, r, err) {
			u.serverError(w, r, "checking an invitation failed", err)
		}
		return nil
	}
	return open
}

// showInvitation is GET /login/invitation?token=T. For an address without
// an account: a form to choose a password. For one with an account: the
// browser signs in as it (if it has not) and comes back to accept.
func (u *UI) showInvitation(w http.ResponseWriter, r *http.Request) {
	token := linkToken(r)
	open := u.invitation(w, r, token)
	if open == nil {
		return
	}
	p := invitationPage{Token: token, Email: open.Invitation.Email, OrgName: open.Org.Name, Role: open.Invitation.Role}
	if open.User == nil {
		p.NewAccount = true
		u.renderInvitation(w, r, http.StatusOK, p)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: u.invitationCookieName(), Value: token, Path: "/", MaxAge: 3600,
		HttpOnly: true, Secure: u.cfg.SecureCookies, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, accountInvitationPath, http.StatusSeeOther)
}

// showAccountInvitation is GET /account/invitation: the signed-in user's
// invitation, with the button that accepts it.
func (u *UI) showAccountInvitation(w http.ResponseWriter, r *http.Request) {
	a := u.requireAccount(w, r, accountInvitationPath, false)
	if a == nil {
		return
	}
	c, err := r.Cookie(u.invitationCookieName())
	if err != nil {
		http.Redirect(w, r, accountHome, http.StatusSeeOther)
		return
	}
	open := u.invitation(w, r, c.Value)
	if open == nil {
		return
	}
	if open.User == nil || open.User.ID != a.user.ID {
		u.renderError(w, r, errNotInvited)
		return
	}
	u.renderInvitation(w, r, http.StatusOK, invitationPage{Token: c.Value, Email: open.Invitation.Email, OrgName: open.Org.Name, Role: open.Invitation.Role})
}

// acceptInvitation is POST /login/invitation: with a password, the new
// account and its membership; otherwise the signed-in user joins.
func (u *UI) acceptInvitation(w http.ResponseWriter, r *http.Request) {
	if !u.parseForm(w, r) {
		return
	}
	ctx := r.Context()
	token := linkToken(r)
	open := u.invitation(w, r, token)
	if open == nil {
		return
	}
	p := invitationPage{Token: token, Email: open.Invitation.Email, OrgName: open.Org.Name, Role: open.Invitation.Role, NewAccount: open.User == nil}
	clear := &http.Cookie{Name: u.invitationCookieName(), Path: "/", MaxAge: -1, HttpOnly: true, Secure: u.cfg.SecureCookies, SameSite: http.SameSiteLaxMode}
	if open.User != nil {
		a := u.requireAccount(w, r, accountInvitationPath, false)
		if a == nil {
			return
		}
		_, err := u.dir.AcceptInvitation(ctx, actor(r, a.user.ID, AccountClientID), token, a.user)
		switch {
		case errors.Is(err, directory.ErrNotInvited):
			u.renderError(w, r, errNotInvited)
		case errors.Is(err, directory.ErrAlreadyMember):
			http.SetCookie(w, clear)
			http.Redirect(w, r, accountHome, http.StatusSeeOther)
		case err != nil && !u.linkError(w, r, err):
			u.serverError(w, r, "accepting an invitation failed", err)
		case err == nil:
			http.SetCookie(w, clear)
			http.Redirect(w, r, "/orgs/"+url.PathEscape(open.Org.Slug)+"/welcome", http.StatusSeeOther)
		}
		return
	}
	next, confirm := r.PostForm.Get("new_password"), r.PostForm.Get("confirm_password")
	p.NewPasswordError, p.ConfirmPasswordError = newPasswordErrors(next, confirm)
	if p.NewPasswordError != "" || p.ConfirmPasswordError != "" {
		u.renderInvitation(w, r, http.StatusBadRequest, p)
		return
	}
	hash, err := u.hasher.Hash(fairly(ctx, p.Email, middleware.ClientIPFrom(ctx)), next)
	if errors.Is(err, password.ErrBusy) {
		w.Header().Set("Retry-After", "1")
		p.Error = u.cfg.ProductName + " is busy, please try again in a moment."
		u.renderInvitation(w, r, http.StatusServiceUnavailable, p)
		return
	}
	if err != nil {
		u.serverError(w, r, "hashing a new password failed", err)
		return
	}
	_, org, err := u.dir.AcceptInvitationWithPassword(ctx, actor(r, "", ""), token, hash)
	switch {
	case errors.Is(err, directory.ErrEmailTaken):
		http.Redirect(w, r, directory.PathInvitation+"?token="+url.QueryEscape(token), http.StatusSeeOther)
	case err != nil && !u.linkError(w, r, err):
		u.serverError(w, r, "accepting an invitation failed", err)
	case err == nil:
		u.renderMessage(w, r, http.StatusOK, messagePage{
			Heading: "Welcome to " + org.Name,
			Lead:    "Your account " + p.Email + " was created. Sign in from your application, or open your security settings.",
			Links:   []pageLink{{URL: accountHome, Label: "Your security settings", ID: "to-security"}},
		})
	}
}

// inviteMember is POST /orgs/{slug}/invitations: an invitation by email.
func (u *UI) inviteMember(w http.ResponseWriter, r *http.Request) {
	if !u.parseForm(w, r) {
		return
	}
	c := u.requireConsole(w, r, true)
	if c == nil {
		return
	}
	email := r.PostForm.Get("email")
	err := u.dir.Invite(r.Context(), actor(r, c.user.ID, AccountClientID), c.org.Slug, email, r.PostForm.Get("role"))
	var invalid *directory.InvalidError
	switch {
	case errors.As(err, &invalid):
		u.renderError(w, r, pageError{http.StatusBadRequest, "That invitation cannot be sent", sentence(invalid.Field + " " + invalid.Message)})
	case errors.Is(err, directory.ErrAlreadyMember):
		u.renderError(w, r, pageError{http.StatusConflict, "Already a member", storage.NormalizeEmail(email) + " is a member already."})
	case err != nil && !u.membershipRefusal(w, r, err):
		u.serverError(w, r, "inviting a member failed", err)
	case err == nil:
		http.Redirect(w, r, "/orgs/"+url.PathEscape(c.org.Slug)+"/members?invited=1", http.StatusSeeOther)
	}
}

// showWelcome is GET /orgs/{slug}/welcome, where an accepted invitation
// lands: the console for owners and admins, the settings for members.
func (u *UI) showWelcome(w http.ResponseWriter, r *http.Request) {
	a := u.requireAccount(w, r, accountHome, false)
	if a == nil {
		return
	}
	slug := chi.URLParam(r, "slug")
	for _, m := range a.memberships {
		if m.Slug == slug && m.Role != storage.RoleMember {
			http.Redirect(w, r, "/orgs/"+url.PathEscape(slug), http.StatusSeeOther)
			return
		}
	}
	http.Redirect(w, r, accountHome+"?done=joined", http.StatusSeeOther)
}
