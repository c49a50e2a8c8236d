package ui

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/middleware"
	"github.com/gatehouse-id/gatehouse/password"
	"github.com/gatehouse-id/gatehouse/storage"
)

// forgotURL is the forgotten-password page of the sign-in id.
func forgotURL(id string) string { return "/login/forgot?id=" + url.QueryEscape(id) }

// resetMailTimeout bounds the work of mailing a reset link, done after
// the answer.
const resetMailTimeout = 30 * time.Second

func (u *UI) forgotRoutes(r chi.Router) {
	r.Get("/login/forgot", u.showForgot)
	r.Get(directory.PathPasswordReset, u.showReset)
	r.Group(func(r chi.Router) {
		r.Use(u.csrf.Handler)
		r.Post("/login/forgot", u.submitForgot)
		r.Post(directory.PathPasswordReset, u.submitReset)
	})
}

// forgotPage asks for the account's email.
type forgotPage struct {
	layout
	ID, Email         string
	Error, EmailError string
}

func (u *UI) renderForgot(w http.ResponseWriter, r *http.Request, status int, p forgotPage) {
	p.layout = u.layout(r)
	u.render(w, r, status, forgotTemplate, p)
}

// showForgot is GET /login/forgot?id=ID: id, the sign-in it came from, is
// carried along so that the browser that asked can go on with it.
func (u *UI) showForgot(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	if !plausibleID(id) {
		id = ""
	}
	u.renderForgot(w, r, http.StatusOK, forgotPage{ID: id})
}

// submitForgot is POST /login/forgot. The answer is the same page, as fast,
// whether or not an account has the address: the lookup and the mail
// happen after it. Requests are limited per address and per network.
func (u *UI) submitForgot(w http.ResponseWriter, r *http.Request) {
	if !u.parseForm(w, r) {
		return
	}
	ctx := r.Context()
	p := forgotPage{ID: r.PostForm.Get("id"), Email: r.PostForm.Get("email")}
	if !plausibleID(p.ID) {
		p.ID = ""
	}
	email, err := directory.ParseEmail(p.Email)
	if err != nil {
		p.EmailError = "Enter the email address of your account, like alice@example.com."
		u.renderForgot(w, r, http.StatusBadRequest, p)
		return
	}
	network := "unknown"
	if ip := middleware.ClientIPFrom(ctx); ip.IsValid() {
		network = networkOf(ip)
	}
	switch err := u.dir.LimitPasswordResets(ctx, email, network); {
	case errors.Is(err, directory.ErrTooMany):
		w.Header().Set("Retry-After", "3600")
		p.Error = "Several reset links were asked for already. Use the most recent mail, or try again in an hour."
		u.renderForgot(w, r, http.StatusTooManyRequests, p)
		return
	case err != nil:
		u.serverError(w, r, "counting a password reset request failed", err)
		return
	}
	who, id := actor(r, "", ""), p.ID
	u.afterAnswer(ctx, func(ctx context.Context) {
		if err := u.dir.RequestPasswordReset(ctx, who, email, id); err != nil {
			u.log.ErrorContext(ctx, "mailing a password reset link failed", slog.String("error", err.Error()))
		}
	})
	u.renderMessage(w, r, http.StatusOK, messagePage{
		Heading: "Check your mail",
		Lead:    "If " + email + " is the address of an account, we sent it a link to choose a new password.",
		Paragraphs: []string{
			"The link works for 30 minutes. Open it in this browser to go on signing in where you left off.",
		},
		Hint: "No mail after a few minutes? Look in your spam folder, and check the address you typed.",
	})
}

// afterAnswer runs fn once the handler is done, apart from the request
// (whose context ends with it) but with its values; Wait waits for it.
func (u *UI) afterAnswer(ctx context.Context, fn func(ctx context.Context)) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), resetMailTimeout)
	u.background.Go(func() {
		defer cancel()
		fn(ctx)
	})
}

// Wait waits for the work the pages do after their answers (mailing a
// password reset link), for a clean shutdown.
func (u *UI) Wait() { u.background.Wait() }

// resetPage asks for the new password.
type resetPage struct {
	layout
	Token, Email                                  string
	Error, NewPasswordError, ConfirmPasswordError string
}

func (u *UI) renderReset(w http.ResponseWriter, r *http.Request, status int, p resetPage) {
	p.layout = u.layout(r)
	u.render(w, r, status, resetTemplate, p)
}

// resetLink loads the open reset link token and its user, or shows the
// page saying what became of it and returns nil.
func (u *UI) resetLink(w http.ResponseWriter, r *http.Request, token string) *storage.User {
	ctx := r.Context()
	l, err := u.dir.CheckLink(ctx, storage.LinkPasswordReset, token)
	if err != nil {
		if !u.linkError(w, r, err) {
			u.serverError(w, r, "checking a password reset link failed", err)
		}
		return nil
	}
	user, err := u.store.Users().Get(ctx, l.UserID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		u.renderError(w, r, errLinkUnknown)
		return nil
	case err != nil:
		u.serverError(w, r, "loading the user of a reset link failed", err)
		return nil
	case user.Disabled:
		u.renderError(w, r, errLinkUserDisabled)
		return nil
	}
	return user
}

// showReset is GET of the mailed reset link: the new password's form.
func (u *UI) showReset(w http.ResponseWriter, r *http.Request) {
	token := linkToken(r)
	if user := u.resetLink(w, r, token); user != nil {
		u.renderReset(w, r, http.StatusOK, resetPage{Token: token, Email: user.Email})
	}
}

// submitReset is POST of the reset link: the new password (the length and
// common-password rules), then every session and refresh token of the
// user ends. The browser that asked for the link goes on with its sign-in,
// where the second factor is still asked; any other is told to sign in
// from the application.
func (u *UI) submitReset(w http.ResponseWriter, r *http.Request) {
	if !u.parseForm(w, r) {
		return
	}
	ctx := r.Context()
	token := linkToken(r)
	user := u.resetLink(w, r, token)
	if user == nil {
		return
	}
	p := resetPage{Token: token, Email: user.Email}
	next, confirm := r.PostForm.Get("new_password"), r.PostForm.Get("confirm_password")
	p.NewPasswordError, p.ConfirmPasswordError = newPasswordErrors(next, confirm)
	if p.NewPasswordError != "" || p.ConfirmPasswordError != "" {
		u.renderReset(w, r, http.StatusBadRequest, p)
		return
	}
	ip := middleware.ClientIPFrom(ctx)
	hash, err := u.hasher.Hash(fairly(ctx, user.Email, ip), next)
	if errors.Is(err, password.ErrBusy) {
		w.Header().Set("Retry-After", "1")
		p.Error = u.cfg.ProductName + " is busy, please try again in a moment."
		u.renderReset(w, r, http.StatusServiceUnavailable, p)
		return
	}
	if err != nil {
		u.serverError(w, r, "hashing a new password failed", err)
		return
	}
	user, requestID, err := u.dir.ResetPassword(ctx, actor(r, "", ""), token, hash)
	if err != nil {
		if !u.linkError(w, r, err) {
			u.serverError(w, r, "resetting a password failed", err)
		}
		return
	}
	if a := u.continuableRequest(r, requestID); a != nil {
		// The new password is this sign-in's password step.
		cookie, err := u.startSession(ctx, r, a, user, "", passwordCounters(user.Email, ip)[0].key)
		if err != nil {
			u.serverError(w, r, "starting the session after a password reset failed", err)
			return
		}
		u.setSessionCookie(w, cookie)
		http.Redirect(w, r, dispatcherURL(a.ID), http.StatusSeeOther)
		return
	}
	u.renderMessage(w, r, http.StatusOK, messagePage{
		Heading: "Password changed — sign in from your application",
		Lead:    "The password of " + user.Email + " was changed, and every device was signed out.",
		Paragraphs: []string{
			"Go back to the application you were using and sign in with the new password.",
		},
	})
}

// newPasswordErrors checks a new password typed twice (the length and
// common-password rules), before any hashing.
func newPasswordErrors(next, confirm string) (nextErr, confirmErr string) {
	var weak *password.WeakPasswordError
	switch err := password.Check(next); {
	case next == "":
		nextErr = "Choose a password."
	case errors.As(err, &weak):
		nextErr = sentence(weak.Error())
	case err != nil:
		nextErr = "This password cannot be used."
	case confirm != next:
		confirmErr = "The two passwords are different: type the same one twice."
	}
	return nextErr, confirmErr
}

// continuableRequest is the open sign-in id when this browser started it,
// or nil.
func (u *UI) continuableRequest(r *http.Request, id string) *storage.AuthRequest {
	if id == "" || !plausibleID(id) {
		return nil
	}
	a, err := u.store.AuthRequests().Get(r.Context(), id)
	if err != nil || finished(a) || !u.boundToBrowser(r, a) || !a.ExpiresAt.After(time.Now()) {
		return nil
	}
	return a
}
