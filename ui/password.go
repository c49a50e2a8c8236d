package ui

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/middleware"
	"github.com/gatehouse-id/gatehouse/password"
	"github.com/gatehouse-id/gatehouse/storage"
)

// maxEmailLen is the longest email address there can be (RFC 5321's path
// limit less the brackets).
const maxEmailLen = 254

// msgIncorrect is the one answer to every refused password step: an unknown
// email, a wrong password, a user without a password and a disabled user
// must look alike.
const msgIncorrect = "Incorrect email or password."

// showPassword is GET /login/password?id=ID: the password form.
func (u *UI) showPassword(w http.ResponseWriter, r *http.Request) {
	a := u.openAuthRequest(w, r, r.URL.Query().Get("id"))
	if a == nil {
		return
	}
	name, ok := u.clientName(w, r, a.ClientID)
	if !ok {
		return
	}
	page := passwordPage{ID: a.ID, ClientName: name}
	switch {
	case emailFieldError(a.LoginHint) == "":
		page.Email = a.LoginHint
	case r.URL.Query().Get("another") == "1":
		// The user chose another account than the signed-in one.
	default:
		// Signing in again (prompt=login, max_age): the same user, most likely.
		bs, err := u.currentSession(r.Context(), r)
		if err != nil {
			u.serverError(w, r, "loading the browser session failed", err)
			return
		}
		if bs != nil && !bs.user.Disabled {
			page.Email = bs.user.Email
		}
	}
	u.renderPassword(w, r, http.StatusOK, page)
}

// submitPassword is POST /login/password: it checks the email and password
// and, when they match, starts a new browser session and returns to the
// dispatcher. Rate limits are checked before any hashing.
func (u *UI) submitPassword(w http.ResponseWriter, r *http.Request) {
	if !u.parseForm(w, r) {
		return
	}
	a := u.openAuthRequest(w, r, r.PostForm.Get("id"))
	if a == nil {
		return
	}
	name, ok := u.clientName(w, r, a.ClientID)
	if !ok {
		return
	}
	email := strings.TrimSpace(r.PostForm.Get("email"))
	plain := r.PostForm.Get("password")
	page := passwordPage{ID: a.ID, ClientName: name, Email: email, EmailError: emailFieldError(email)}
	if plain == "" {
		page.PasswordError = "Enter your password."
	}
	if page.EmailError != "" || page.PasswordError != "" {
		u.renderPassword(w, r, http.StatusBadRequest, page)
		return
	}

	ctx := r.Context()
	start := time.Now()
	user, err := u.store.Users().GetByEmail(ctx, email)
	if errors.Is(err, storage.ErrNotFound) {
		user, err = nil, nil
	}
	if err != nil {
		u.serverError(w, r, "looking up the user failed", err)
		return
	}
	device := ""
	if user != nil {
		device = u.knownDevice(r, user.ID, start)
	}
	attempt, until, err := reservePassword(ctx, u.store.RateLimits(), email, middleware.ClientIPFrom(ctx), device, start)
	if err != nil {
		u.serverError(w, r, "reserving the password attempt failed", err)
		return
	}
	if attempt == nil {
		u.metrics.signin(factorPassword, outcomeLocked)
		w.Header().Set("Retry-After", retryAfter(until, start))
		page.Error = lockedMessage(until)
		u.renderPassword(w, r, http.StatusTooManyRequests, page)
		return
	}

	refusal, err := u.checkPassword(fairly(ctx, email, middleware.ClientIPFrom(ctx)), user, plain)
	if errors.Is(err, password.ErrBusy) {
		u.refund(ctx, attempt)
		u.metrics.signin(factorPassword, outcomeBusy)
		w.Header().Set("Retry-After", "1")
		page.Error = u.cfg.ProductName + " is busy, please try again in a moment."
		u.renderPassword(w, r, http.StatusServiceUnavailable, page)
		return
	}
	if err != nil {
		u.refund(ctx, attempt)
		u.serverError(w, r, "checking the password failed", err)
		return
	}
	if refusal != "" {
		// The answer is only given once the failure is counted.
		if err := u.recordFailure(ctx, r, a, user, attempt, refusal); err != nil {
			u.serverError(w, r, "recording a failed password step failed", err)
			return
		}
		u.metrics.signin(factorPassword, outcomeFailure)
		u.metrics.passwordDuration.Observe(time.Since(start).Seconds())
		page.Error = msgIncorrect
		u.renderPassword(w, r, http.StatusUnauthorized, page)
		return
	}
	if a.HintSubject != "" && a.HintSubject != user.ID {
		u.refund(ctx, attempt)
		page.Error = "This application asked you to sign in with a different account."
		u.renderPassword(w, r, http.StatusForbidden, page)
		return
	}

	secret, err := u.startSession(ctx, r, a, user, u.rehash(ctx, user, plain), attempt.emailKey())
	if err != nil {
		u.serverError(w, r, "starting the session failed", err)
		return
	}
	u.setSessionCookie(w, secret)
	u.setDeviceCookie(w, user.ID, time.Now())
	u.metrics.signin(factorPassword, outcomeSuccess)
	u.metrics.passwordDuration.Observe(time.Since(start).Seconds())
	http.Redirect(w, r, dispatcherURL(a.ID), http.StatusSeeOther)
}

// refund gives back an attempt whose password was never checked; a failure
// to do so is only logged (the attempt then counts as a failure).
func (u *UI) refund(ctx context.Context, a *passwordAttempt) {
	if err := a.refund(ctx, u.store.RateLimits()); err != nil {
		u.log.WarnContext(ctx, "refunding a password attempt failed", slog.String("error", err.Error()))
	}
}

// emailFieldError says what is wrong with the email field, or "".
func emailFieldError(email string) string {
	switch {
	case email == "":
		return "Enter your email address."
	case len(email) > maxEmailLen:
		return "This email address is too long."
	case !utf8.ValidString(email) || strings.ContainsFunc(email, unicode.IsControl) || !strings.Contains(email, "@"):
		return "Enter an email address like name@example.com."
	}
	return ""
}

// checkPassword returns "" when plain is user's password and the user may
// sign in, or why not, for the audit log. Every refusal costs one hash, so
// none answers faster than the others.
func (u *UI) checkPassword(ctx context.Context, user *storage.User, plain string) (refusal string, err error) {
	if user == nil {
		return "unknown_email", u.hasher.VerifyDummy(ctx, plain)
	}
	if user.PasswordHash == nil {
		return "no_password", u.hasher.VerifyDummy(ctx, plain)
	}
	ok, err := u.hasher.Verify(ctx, plain, *user.PasswordHash)
	if err != nil && !errors.Is(err, password.ErrBusy) {
		u.log.ErrorContext(ctx, "a stored password hash is unreadable",
			slog.String("user_id", user.ID), slog.String("error", err.Error()))
		return "unreadable_hash", u.hasher.VerifyDummy(ctx, plain)
	}
	switch {
	case err != nil:
		return "", err
	case !ok:
		return "wrong_password", nil
	case user.Disabled:
		return "disabled", nil
	}
	return "", nil
}

// recordFailure counts a refused attempt, locks counters that reached
// their limit and writes the audit events, all in one transaction.
func (u *UI) recordFailure(ctx context.Context, r *http.Request, a *storage.AuthRequest, user *storage.User, attempt *passwordAttempt, refusal string) error {
	subject := ""
	if user != nil {
		subject = user.ID
	}
	return u.store.InTx(ctx, func(tx *storage.Store) error {
		locks, err := attempt.failed(ctx, tx.RateLimits(), time.Now())
		if err != nil {
			return err
		}
		who := actor(r, "", a.ClientID)
		failed := directory.Event{Type: directory.EventPasswordFailed, SubjectID: subject, Details: map[string]string{"reason": refusal}}
		if err := directory.Record(ctx, tx, who, failed); err != nil {
			return err
		}
		return recordLocks(ctx, tx, who, subject, locks)
	})
}

// rehash returns a new hash of plain when user's was made with weaker
// settings than today's, or "" (also when hashing fails: the old hash still
// works, and the next sign-in tries again).
func (u *UI) rehash(ctx context.Context, user *storage.User, plain string) string {
	if !u.hasher.NeedsRehash(*user.PasswordHash) {
		return ""
	}
	hash, err := u.hasher.Hash(ctx, plain)
	if err != nil {
		u.log.WarnContext(ctx, "upgrading a password hash failed", slog.String("user_id", user.ID), slog.String("error", err.Error()))
		return ""
	}
	return hash
}

// startSession replaces the browser's session with a new one for user,
// proved by the password now, and returns the new cookie value. A fresh id
// after each step means an id planted before the sign-in is worthless.
func (u *UI) startSession(ctx context.Context, r *http.Request, a *storage.AuthRequest, user *storage.User, newHash string, emailKey string) (string, error) {
	secret, digest := storage.NewSecret()
	now := time.Now()
	s := &storage.Session{
		IDHash:    digest,
		UserID:    user.ID,
		AuthTime:  now,
		AMR:       storage.StringList{string(mfa.AMRPassword)},
		ExpiresAt: now.Add(u.cfg.SessionMax),
		UserAgent: directory.CleanUserAgent(r.UserAgent()),
		IP:        actor(r, "", "").IP,
	}
	old := u.cookieHash(r)
	err := u.store.InTx(ctx, func(tx *storage.Store) error {
		if old != nil {
			if err := tx.Sessions().Delete(ctx, old); err != nil {
				return err
			}
		}
		if err := tx.Sessions().Create(ctx, s); err != nil {
			return err
		}
		if err := tx.RateLimits().Reset(ctx, emailKey); err != nil {
			return err
		}
		if err := tx.Users().SignedIn(ctx, user.ID, now); err != nil {
			return err
		}
		if newHash != "" {
			if err := tx.Users().SetPassword(ctx, user.ID, newHash); err != nil {
				return err
			}
		}
		return directory.Record(ctx, tx, actor(r, user.ID, a.ClientID), directory.Event{Type: directory.EventPasswordOK, SubjectID: user.ID})
	})
	return secret, err
}

// recordLocks records each lock that a failed password set, in tx.
func recordLocks(ctx context.Context, tx *storage.Store, who directory.Actor, subject string, locks []newLock) error {
	for _, l := range locks {
		if err := directory.Record(ctx, tx, who, directory.Event{Type: directory.EventPasswordLocked, SubjectID: subject, Details: l}); err != nil {
			return err
		}
	}
	return nil
}
