package ui

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/go-chi/chi/v5"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/storage"
)

// After a reset, the password alone never adds a second factor (a thief
// with the password would add their own). A browser that confirmed the
// reset, or opened a mailed enrollment link, holds an enrollment grant in
// this cookie, and may.

// grantCookieName is the enrollment grant's cookie: pinned to this origin
// with the __Host- prefix on https.
func (u *UI) grantCookieName() string {
	if u.cfg.SecureCookies {
		return "__Host-gatehouse_enroll"
	}
	return "gatehouse_enroll"
}

// grantOf is the enrollment grant the browser holds, or "".
func (u *UI) grantOf(r *http.Request) string {
	c, err := r.Cookie(u.grantCookieName())
	if err != nil {
		return ""
	}
	return c.Value
}

func (u *UI) setGrantCookie(w http.ResponseWriter, grant string) {
	http.SetCookie(w, &http.Cookie{
		Name: u.grantCookieName(), Value: grant, Path: "/", MaxAge: int(directory.EnrollmentGrantTTL.Seconds()),
		HttpOnly: true, Secure: u.cfg.SecureCookies, SameSite: http.SameSiteLaxMode,
	})
}

// reenrollURL is the sign-in step that explains how to set up a factor
// after a reset.
func reenrollURL(id string) string { return "/login/reenroll?id=" + url.QueryEscape(id) }

// accountReenrollPath is the same explanation on the account pages.
const accountReenrollPath = "/account/security/reenroll"

func (u *UI) reenrollRoutes(r chi.Router) {
	r.Get("/login/reenroll", u.showSignInReenroll)
	r.Get(directory.PathEnrollmentLink, u.showEnrollmentLink)
	r.Group(func(r chi.Router) {
		r.Use(u.csrf.Handler)
		r.Post("/login/reenroll", u.sendSignInEnrollmentLink)
		r.Post(directory.PathEnrollmentLink, u.redeemEnrollmentLink)
	})
}

// reenrollPage explains the ways back after a reset, with the form that
// mails a new enrollment link (action, with its hidden fields).
func (u *UI) renderReenroll(w http.ResponseWriter, r *http.Request, status int, user *storage.User, form buttonForm, done, alert string) {
	u.renderMessage(w, r, status, u.reenrollPage(user, form, done, alert))
}

func (u *UI) reenrollPage(user *storage.User, form buttonForm, done, alert string) messagePage {
	form.Button, form.ButtonID = "Send a new link", "send-link"
	return messagePage{
		Heading: "Set up two-step verification again",
		Lead:    "Your two-step verification was reset. To keep anyone who knows only your password from adding their own, a new second factor can be set up only:",
		Done:    done, Alert: alert,
		Paragraphs: []string{
			"• from the link in the reset mail sent to " + maskEmail(user.Email) + ", opened in this browser (it works for 24 hours), or",
			"• on the browser where you confirmed the reset, within 24 hours.",
			"Lost the mail, or it expired? Send a new link: the old one stops working.",
		},
		Form: &form,
		Hint: "If you cannot get the mail, ask your administrator to help you sign in.",
	}
}

// showSignInReenroll is GET /login/reenroll?id=ID.
func (u *UI) showSignInReenroll(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	_, s := u.stepFor(w, r, id, mfa.NeedEnrollmentGrant)
	if s == nil {
		return
	}
	u.renderReenrollFor(w, r, http.StatusOK, id, s, "", "")
}

// sendSignInEnrollmentLink is POST /login/reenroll: a new enrollment link.
func (u *UI) sendSignInEnrollmentLink(w http.ResponseWriter, r *http.Request) {
	if !u.parseForm(w, r) {
		return
	}
	id := r.PostForm.Get("id")
	a, s := u.stepFor(w, r, id, mfa.NeedEnrollmentGrant)
	if s == nil {
		return
	}
	user := s.session.user
	switch err := u.dir.SendEnrollmentLink(r.Context(), actor(r, user.ID, a.ClientID), user); {
	case errors.Is(err, directory.ErrTooMany):
		u.renderReenrollFor(w, r, http.StatusTooManyRequests, id, s, "", msgTooManyLinks)
	case err != nil:
		u.serverError(w, r, "sending an enrollment link failed", err)
	default:
		u.renderReenrollFor(w, r, http.StatusOK, id, s, linkSent(user), "")
	}
}

// renderReenrollFor is the ways back during the sign-in id, with "Remind
// me later" while the organisations' deadline is ahead.
func (u *UI) renderReenrollFor(w http.ResponseWriter, r *http.Request, status int, id string, s *signin, done, alert string) {
	p := u.reenrollPage(s.session.user, buttonForm{Action: "/login/reenroll", Hidden: []hiddenField{{"id", id}}}, done, alert)
	p.Links = append(p.Links, pageLink{URL: accessPassURL(id), Label: "I have a temporary access pass", ID: "use-access-pass"})
	p.Later = laterFor(id, s, s.decide(), s.input.Now)
	u.renderMessage(w, r, status, p)
}

const msgTooManyLinks = "Three links were sent today already. Use the most recent one, or try again tomorrow."

func linkSent(user *storage.User) string {
	return "We sent a new link to " + maskEmail(user.Email) + ". Open it in this browser."
}

// sendEnrollmentLink mails user a new enrollment link and says so.
func (u *UI) sendEnrollmentLink(w http.ResponseWriter, r *http.Request, user *storage.User, clientID string, form buttonForm) {
	switch err := u.dir.SendEnrollmentLink(r.Context(), actor(r, user.ID, clientID), user); {
	case errors.Is(err, directory.ErrTooMany):
		u.renderReenroll(w, r, http.StatusTooManyRequests, user, form, "", msgTooManyLinks)
	case errors.Is(err, directory.ErrNotAwaiting):
		http.Redirect(w, r, accountHome, http.StatusSeeOther)
	case err != nil:
		u.serverError(w, r, "sending an enrollment link failed", err)
	default:
		u.renderReenroll(w, r, http.StatusOK, user, form, linkSent(user), "")
	}
}

// showAccountReenroll is GET /account/security/reenroll.
func (u *UI) showAccountReenroll(w http.ResponseWriter, r *http.Request) {
	a := u.requireAccount(w, r, accountHome, false)
	if a == nil {
		return
	}
	u.renderReenroll(w, r, http.StatusOK, a.user, buttonForm{Action: accountReenrollPath}, "", "")
}

// sendAccountEnrollmentLink is POST /account/security/reenroll.
func (u *UI) sendAccountEnrollmentLink(w http.ResponseWriter, r *http.Request) {
	if !u.parseForm(w, r) {
		return
	}
	a := u.requireAccount(w, r, accountHome, false)
	if a == nil {
		return
	}
	u.sendEnrollmentLink(w, r, a.user, AccountClientID, buttonForm{Action: accountReenrollPath})
}

// mayEnroll reports whether this browser may add a factor for user: always,
// unless a reset left the account waiting for one, when only a browser
// with an enrollment grant may. Otherwise it shows the page with the ways
// back and returns false.
func (u *UI) mayEnroll(w http.ResponseWriter, r *http.Request, user *storage.User) bool {
	if user.ReenrollSince == nil {
		return true
	}
	ok, err := u.dir.EnrollmentGranted(r.Context(), user.ID, u.grantOf(r))
	switch {
	case err != nil:
		u.serverError(w, r, "checking the enrollment grant failed", err)
		return false
	case !ok:
		u.renderReenroll(w, r, http.StatusForbidden, user, buttonForm{Action: accountReenrollPath}, "", "")
		return false
	}
	return true
}

// showEnrollmentLink is GET of a mailed enrollment link: what it does,
// and a button (a GET changes nothing).
func (u *UI) showEnrollmentLink(w http.ResponseWriter, r *http.Request) {
	token, ok := u.openLink(w, r, storage.LinkEnrollment)
	if !ok {
		return
	}
	u.renderMessage(w, r, http.StatusOK, messagePage{
		Heading: "Set up two-step verification on this browser",
		Lead:    "Continue, then sign in with your password: this browser may add a new second factor to your account for the next 24 hours.",
		Form: &buttonForm{Action: directory.PathEnrollmentLink, Hidden: []hiddenField{{"token", token}},
			Button: "Continue", ButtonID: "use-link"},
		Hint: "The link works once. If you did not ask for this, close this page and tell your administrator.",
	})
}

// redeemEnrollmentLink is POST of the enrollment link: this browser gets
// the grant and goes to the security settings (signing in first).
func (u *UI) redeemEnrollmentLink(w http.ResponseWriter, r *http.Request) {
	if !u.parseForm(w, r) {
		return
	}
	_, grant, err := u.dir.RedeemEnrollmentLink(r.Context(), actor(r, "", ""), linkToken(r))
	if err != nil {
		if !u.linkError(w, r, err) {
			u.serverError(w, r, "using an enrollment link failed", err)
		}
		return
	}
	u.setGrantCookie(w, grant)
	http.Redirect(w, r, accountHome, http.StatusSeeOther)
}
