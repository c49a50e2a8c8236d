package ui

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/mfa/totp"
	"github.com/gatehouse-id/gatehouse/middleware"
	"github.com/gatehouse-id/gatehouse/password"
	"github.com/gatehouse-id/gatehouse/storage"
)

// recentSignIn: a change to the password or the second factors needs a
// sign-in at most this old (NIST SP 800-63B §4.2.3: a fresh
// authentication before changing authenticators).
const recentSignIn = 10 * time.Minute

// accountRoutes mounts the account pages; r already sets the security
// headers and limits bodies.
func (u *UI) accountRoutes(r chi.Router) {
	r.Get("/account", u.toAccountHome)
	r.Get("/account/", u.toAccountHome)
	r.Get(accountCallbackPath, u.accountCallback)
	r.Get(accountHome, u.showSecurity)
	r.Get("/account/security/totp/guide", u.showAccountGuide)
	r.Get("/account/security/totp/setup", u.showAccountSetup)
	r.Get("/account/security/totp/disable", u.showDisable)
	r.Get("/account/security/codes/regenerate", u.showRegenerate)
	// The addresses forms post to, opened as pages, lead to the settings.
	for _, path := range []string{"/account/security/password", "/account/security/totp/start",
		"/account/security/sessions/end", "/account/security/sessions/end-others", "/account/security/consents/revoke",
		"/account/security/totp/confirm", "/account/security/codes/download", "/account/security/keys/rename"} {
		r.Get(path, u.toAccountHome)
	}
	r.Group(func(r chi.Router) {
		r.Use(u.csrf.Handler)
		r.Post("/account/security/password", u.changePassword)
		r.Post("/account/security/totp/start", u.startAccountEnrollment)
		r.Post("/account/security/totp/confirm", u.confirmAccountEnrollment)
		r.Post("/account/security/totp/disable", u.disableTOTP)
		r.Post("/account/security/codes/regenerate", u.regenerateCodes)
		r.Post("/account/security/codes/download", u.downloadCodes)
		r.Post("/account/security/sessions/end", u.endOneSession)
		r.Post("/account/security/sessions/end-others", u.endOtherSessions)
		r.Post("/account/security/consents/revoke", u.revokeConsent)
		if u.keys != nil {
			r.Post("/account/security/keys/add", u.finishAccountKeyAdd)
			r.Post("/account/security/keys/rename", u.renameKey)
			r.Post("/account/security/keys/remove", u.removeKey)
		}
	})
	if u.keys != nil {
		r.Get("/account/security/keys/add", u.showAccountKeyAdd)
		r.Get("/account/security/keys/remove", u.showKeyRemove)
	}
	r.Get(accountReenrollPath, u.showAccountReenroll)
	r.Get(accountInvitationPath, u.showAccountInvitation)
	r.With(u.csrf.Handler).Post(accountReenrollPath, u.sendAccountEnrollmentLink)
	r.HandleFunc("/account/*", u.notFound)
}

func (u *UI) toAccountHome(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, accountHome, http.StatusSeeOther)
}

// accountSession is a browser session the account pages may serve, with
// what they show about its user.
type accountSession struct {
	*browserSession
	factors []storage.Factor // confirmed ones
}

// totp is the user's authenticator app, or nil.
func (a *accountSession) totp() *storage.Factor {
	f, _ := factorOf(a.factors, mfa.FactorTOTP)
	return f
}

// removal is what removing the factor f, named what, leaves: whether it
// was the user's last factor, and why organisations refuse it ("" when
// none does: the user's other factors still meet what they require).
func (a *accountSession) removal(f *storage.Factor, what string) (last bool, refusal string) {
	var left []mfa.FactorKind
	for _, g := range a.factors {
		if g.ID != f.ID {
			left = append(left, g.Kind)
		}
	}
	return len(left) == 0, removalRefusal(directory.OrgsUnmetWithout(a.memberships, left), what)
}

// signInComplete: the session passed every step a sign-in asks of this
// user. One that stopped after the password (the user has a second factor,
// or must enroll one) must not reach the settings.
func (a *accountSession) signInComplete(u *UI, now time.Time) bool {
	// A requirement whose deadline is ahead does not keep the user from
	// the settings, where it is met.
	in := u.policyInput(mfa.Request{EnrollmentDeferred: true}, a.browserSession, kindsOf(a.factors), a.memberships, false)
	in.Now = now
	return mfa.Decide(in).Next == mfa.Complete
}

// signedInRecently: the user signed in (with the password) within recentSignIn.
func (a *accountSession) signedInRecently(now time.Time) bool {
	return now.Sub(a.session.AuthTime) <= recentSignIn
}

// loadAccountSession returns the browser's session with its user's
// factors and organisations, or nil when it has none or the user is disabled.
func (u *UI) loadAccountSession(ctx context.Context, r *http.Request) (*accountSession, error) {
	bs, err := u.currentSession(ctx, r)
	if err != nil || bs == nil || bs.user.Disabled {
		return nil, err
	}
	a := &accountSession{browserSession: bs}
	if a.factors, err = u.store.Factors().Confirmed(ctx, bs.user.ID); err != nil {
		return nil, err
	}
	return a, nil
}

// requireAccount returns the session for an account page. Without one that
// passed every factor the sign-in asks of the user, or, for a change,
// without a sign-in in the last ten minutes, it sends the browser to sign
// in, back to returnTo, and returns nil.
func (u *UI) requireAccount(w http.ResponseWriter, r *http.Request, returnTo string, change bool) *accountSession {
	a, err := u.loadAccountSession(r.Context(), r)
	if err != nil {
		u.serverError(w, r, "loading the account session failed", err)
		return nil
	}
	switch {
	case a == nil || !a.signInComplete(u, u.cfg.Now()):
		u.redirectToSignIn(w, r, returnTo, false, "")
		return nil
	case change && !a.signedInRecently(time.Now()):
		u.redirectToSignIn(w, r, returnTo, true, a.user.Email)
		return nil
	}
	return a
}

// securityPage is /account/security: what protects the account, and the
// password form.
type securityPage struct {
	layout
	Email  string
	Notice string // what the last change did
	// NoMail: the server cannot tell the user about changes by mail.
	NoMail bool
	// Sessions are the user's live browser sessions, this one included.
	Sessions []sessionRow
	// Consents are the applications the user allowed, remembered.
	Consents      []consentRow
	OtherSessions bool
	// The authenticator app, when set up.
	TOTP *factorSummary
	// KeysOffered: security keys can be added; Keys are the user's.
	KeysOffered bool
	Keys        []keyRow
	// RecoveryCodesLeft counts the unused recovery codes.
	RecoveryCodesLeft int
	// The password form's errors, for the whole form and per field.
	PasswordError, CurrentPasswordError, NewPasswordError, ConfirmPasswordError string
}

// factorSummary is an enrolled factor as the settings show it.
type factorSummary struct {
	AddedOn, LastUsed       string // "" when never used
	AddedOnISO, LastUsedISO string
}

// FewCodesLeft warns before the user runs out of recovery codes.
func (p securityPage) FewCodesLeft() bool { return p.HasFactor() && p.RecoveryCodesLeft <= 3 }

// HasFactor: the user has a second factor, and so recovery codes.
func (p securityPage) HasFactor() bool { return p.TOTP != nil || len(p.Keys) > 0 }

// notices are the messages a change leaves for the page it returns to;
// the query names one, so nothing from the URL is ever shown.
var notices = map[string]string{
	"session":  "That browser was signed out.",
	"consent":  "The application was removed: it asks again the next time you sign in to it.",
	"others":   "Every other browser was signed out, and applications there must sign you in again.",
	"password": "Your password was changed. Other browsers where you were signed in were signed out.",
	"disabled": "The authenticator app was removed. Sign-in now asks only for your password.",
	"joined":   "You joined the organisation.",

	"app-added":   "The authenticator app was added. Your recovery codes stay as they were.",
	"app-removed": "The authenticator app was removed. Sign-in now asks for your security key.",
	"key-added":   "The security key was added. Sign-in can now ask for it instead of a code.",
	"key-renamed": "The security key was renamed.",
	"key-removed": "The security key was removed.",
}

func (u *UI) renderSecurity(w http.ResponseWriter, r *http.Request, status int, p securityPage) {
	p.layout = u.layout(r)
	u.render(w, r, status, accountSecurityTemplate, p)
}

// securityPageFor fills what the page shows about a.
func (u *UI) securityPageFor(ctx context.Context, a *accountSession) (securityPage, error) {
	p := securityPage{Email: a.user.Email, NoMail: !u.cfg.MailConfigured}
	live, err := u.store.Sessions().Live(ctx, a.user.ID, time.Now(), u.cfg.SessionIdle)
	if err != nil {
		return p, err
	}
	for i := range live {
		row := sessionRowOf(&live[i], bytes.Equal(live[i].IDHash, a.hash))
		p.Sessions = append(p.Sessions, row)
		p.OtherSessions = p.OtherSessions || !row.Current
	}
	consents, err := u.store.Consents().OfUser(ctx, a.user.ID)
	if err != nil {
		return p, err
	}
	for _, c := range consents {
		p.Consents = append(p.Consents, consentRow{ClientID: c.ClientID, ClientName: c.ClientName,
			GrantedOn: c.GrantedAt.UTC().Format("2 January 2006")})
	}
	p.KeysOffered, p.Keys = u.keys != nil, keyRows(a.factors)
	if f := a.totp(); f != nil {
		p.TOTP = summarize(f)
	}
	if !p.HasFactor() {
		return p, nil
	}
	p.RecoveryCodesLeft, err = u.store.RecoveryCodes().Remaining(ctx, a.user.ID)
	return p, err
}

func summarize(f *storage.Factor) *factorSummary {
	s := &factorSummary{}
	added := f.CreatedAt
	if f.ConfirmedAt != nil {
		added = *f.ConfirmedAt
	}
	s.AddedOn, s.AddedOnISO = added.UTC().Format("2 January 2006"), added.UTC().Format(time.RFC3339)
	if f.LastUsedAt != nil {
		s.LastUsed, s.LastUsedISO = f.LastUsedAt.UTC().Format("2 January 2006 at 15:04 UTC"), f.LastUsedAt.UTC().Format(time.RFC3339)
	}
	return s
}

// showSecurity is GET /account/security.
func (u *UI) showSecurity(w http.ResponseWriter, r *http.Request) {
	a := u.requireAccount(w, r, accountHome, false)
	if a == nil {
		return
	}
	p, err := u.securityPageFor(r.Context(), a)
	if err != nil {
		u.serverError(w, r, "loading the security settings failed", err)
		return
	}
	p.Notice = notices[r.URL.Query().Get("done")]
	u.renderSecurity(w, r, http.StatusOK, p)
}

// changePassword is POST /account/security/password: with the current
// password, it sets a new one and signs out the user's other browsers.
func (u *UI) changePassword(w http.ResponseWriter, r *http.Request) {
	if !u.parseForm(w, r) {
		return
	}
	a := u.requireAccount(w, r, accountHome, true)
	if a == nil {
		return
	}
	ctx := r.Context()
	p, err := u.securityPageFor(ctx, a)
	if err != nil {
		u.serverError(w, r, "loading the security settings failed", err)
		return
	}
	current := r.PostForm.Get("current_password")
	next := r.PostForm.Get("new_password")
	p.CurrentPasswordError, p.NewPasswordError, p.ConfirmPasswordError =
		passwordFieldErrors(current, next, r.PostForm.Get("confirm_password"))
	if p.CurrentPasswordError != "" || p.NewPasswordError != "" || p.ConfirmPasswordError != "" {
		u.renderSecurity(w, r, http.StatusBadRequest, p)
		return
	}

	// The current password is guessed no faster here than at sign-in: the
	// same limits, reserved before the hash.
	now := time.Now()
	attempt, until, err := reservePassword(ctx, u.store.RateLimits(), a.user.Email, middleware.ClientIPFrom(ctx),
		u.knownDevice(r, a.user.ID, now), now)
	if err != nil {
		u.serverError(w, r, "reserving the password attempt failed", err)
		return
	}
	if attempt == nil {
		w.Header().Set("Retry-After", retryAfter(until, now))
		p.PasswordError = lockedMessage(until)
		u.renderSecurity(w, r, http.StatusTooManyRequests, p)
		return
	}
	fair := fairly(ctx, a.user.Email, middleware.ClientIPFrom(ctx))
	refusal, err := u.checkPassword(fair, a.user, current)
	if err == nil && refusal == "" {
		var hash string
		if hash, err = u.hasher.Hash(fair, next); err == nil {
			err = u.storeNewPassword(ctx, w, r, a, hash, attempt.emailKey())
		}
	}
	switch {
	case errors.Is(err, password.ErrBusy):
		u.refund(ctx, attempt)
		w.Header().Set("Retry-After", "1")
		p.PasswordError = u.cfg.ProductName + " is busy, please try again in a moment."
		u.renderSecurity(w, r, http.StatusServiceUnavailable, p)
	case err != nil:
		u.refund(ctx, attempt)
		u.serverError(w, r, "changing the password failed", err)
	case refusal != "":
		if err := u.countPasswordFailure(ctx, r, a.user, attempt); err != nil {
			u.serverError(w, r, "recording a wrong current password failed", err)
			return
		}
		p.CurrentPasswordError = "This is not your current password."
		u.renderSecurity(w, r, http.StatusUnauthorized, p)
	default:
		http.Redirect(w, r, accountHome+"?done=password", http.StatusSeeOther)
	}
}

// passwordFieldErrors checks the password form before any hashing.
func passwordFieldErrors(current, next, confirm string) (currentErr, nextErr, confirmErr string) {
	if current == "" {
		currentErr = "Enter your current password."
	}
	var weak *password.WeakPasswordError
	switch err := password.Check(next); {
	case next == "":
		nextErr = "Enter a new password."
	case errors.As(err, &weak):
		nextErr = sentence(weak.Error())
	case err != nil:
		nextErr = "This password cannot be used."
	case next == current:
		nextErr = "The new password is your current one: choose a different one."
	case confirm != next:
		confirmErr = "The two new passwords are different: type the same one twice."
	}
	return currentErr, nextErr, confirmErr
}

// sentence turns a message that starts in lower case into a sentence.
func sentence(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	s = string(unicode.ToUpper(r)) + s[n:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// storeNewPassword saves the hash, ends the user's other sessions and
// moves this browser to a new session id, in one transaction; then the
// email's failure counter starts again.
func (u *UI) storeNewPassword(ctx context.Context, w http.ResponseWriter, r *http.Request, a *accountSession, hash string, emailKey string) error {
	secret, digest := storage.NewSecret()
	s := *a.session
	s.IDHash = digest
	if err := u.dir.ChangePassword(ctx, actor(r, a.user.ID, AccountClientID), a.user, hash, &s); err != nil {
		return err
	}
	u.setSessionCookie(w, secret)
	return u.store.RateLimits().Reset(ctx, emailKey)
}

// countPasswordFailure charges a wrong current password to the same
// counters as a failed sign-in, and records the locks it sets.
func (u *UI) countPasswordFailure(ctx context.Context, r *http.Request, user *storage.User, attempt *passwordAttempt) error {
	return u.store.InTx(ctx, func(tx *storage.Store) error {
		locks, err := attempt.failed(ctx, tx.RateLimits(), time.Now())
		if err != nil {
			return err
		}
		return recordLocks(ctx, tx, actor(r, "", AccountClientID), user.ID, locks)
	})
}

// disablePage asks for a current code before removing the authenticator
// app, or says why it cannot be removed.
type disablePage struct {
	layout
	Refusal string // why the app must stay, or ""
	Error   string
	// KeysLeft: the user has security keys, which sign-in asks for instead.
	KeysLeft bool
}

func (u *UI) renderDisable(w http.ResponseWriter, r *http.Request, status int, p disablePage) {
	p.layout = u.layout(r)
	u.render(w, r, status, accountDisableTemplate, p)
}

// appName is how the refusals name the authenticator app.
const appName = "the authenticator app"

// removalRefusal explains that organisations require the factor what to
// stay, or is "" when none does.
func removalRefusal(orgs []string, what string) string {
	switch len(orgs) {
	case 0:
		return ""
	case 1:
		return "Your organisation " + orgs[0] + " requires two-step verification, so " + what + " cannot be removed."
	}
	return "Your organisations " + strings.Join(orgs[:len(orgs)-1], ", ") + " and " + orgs[len(orgs)-1] +
		" require two-step verification, so " + what + " cannot be removed."
}

var errNoTOTP = pageError{http.StatusNotFound, "No authenticator app is set up",
	"There is nothing to change. Go back to your security settings to add one."}

// requireTOTPAccount is requireAccount for the pages that change an
// authenticator app: without one they show errNoTOTP and return nil.
func (u *UI) requireTOTPAccount(w http.ResponseWriter, r *http.Request, returnTo string, change bool) (*accountSession, *storage.Factor) {
	a := u.requireAccount(w, r, returnTo, change)
	if a == nil {
		return nil, nil
	}
	f := a.totp()
	if f == nil {
		u.renderError(w, r, errNoTOTP)
		return nil, nil
	}
	return a, f
}

// showDisable is GET /account/security/totp/disable.
func (u *UI) showDisable(w http.ResponseWriter, r *http.Request) {
	a, f := u.requireTOTPAccount(w, r, r.URL.Path, false)
	if a == nil {
		return
	}
	last, refusal := a.removal(f, appName)
	u.renderDisable(w, r, http.StatusOK, disablePage{Refusal: refusal, KeysLeft: !last})
}

// disableTOTP is POST /account/security/totp/disable: with a current code,
// it removes the authenticator app and the recovery codes that went with it.
func (u *UI) disableTOTP(w http.ResponseWriter, r *http.Request) {
	if !u.parseForm(w, r) {
		return
	}
	a, f := u.requireTOTPAccount(w, r, accountHome, true)
	if a == nil {
		return
	}
	last, refusal := a.removal(f, appName)
	p := disablePage{Refusal: refusal, KeysLeft: !last}
	if p.Refusal != "" {
		u.renderDisable(w, r, http.StatusForbidden, p)
		return
	}
	ctx := r.Context()
	ok := u.checkActiveCode(w, r, a, f, r.PostForm.Get("code"), func(status int, msg string) {
		p.Error = msg
		u.renderDisable(w, r, status, p)
	}, func(tx *storage.Store) error {
		return u.dir.In(tx).RemoveFactor(ctx, actor(r, a.user.ID, AccountClientID), a.user, f)
	})
	switch {
	case ok && !last:
		http.Redirect(w, r, accountHome+"?done=app-removed", http.StatusSeeOther)
	case ok:
		http.Redirect(w, r, accountHome+"?done=disabled", http.StatusSeeOther)
	}
}

// checkActiveCode checks a current code from the user's authenticator app
// (see prove) and when it is right runs apply in the same transaction as
// recording the code's time step, so the code works once. Otherwise refuse
// shows why. It reports whether apply ran. An organisation's refusal to let
// the factor go is shown like a refused code.
func (u *UI) checkActiveCode(w http.ResponseWriter, r *http.Request, a *accountSession, f *storage.Factor, code string,
	refuse func(status int, msg string), apply func(tx *storage.Store) error) bool {
	ctx := r.Context()
	secret, err := u.openSecret(a.user, f)
	if err != nil {
		u.serverError(w, r, "opening an authenticator secret failed", err)
		return false
	}
	o, err := u.prove(ctx, w, r, proof{
		purpose: proofConfirm, user: a.user, clientID: AccountClientID, factor: totp.Factor{}, factorID: f.ID,
		answer: mfa.Answer{Secret: secret, LastUsed: f.LastUsedStep, Response: code},
		use:    func(tx *storage.Store, step int64) error { return tx.Factors().UseStep(ctx, a.user.ID, f.ID, step) },
		apply:  func(tx *storage.Store, _ int64) error { return apply(tx) },
	})
	var required *directory.FactorRequiredError
	switch {
	case errors.As(err, &required):
		refuse(http.StatusForbidden, removalRefusal(required.Orgs, appName))
	case err != nil:
		u.serverError(w, r, "checking an authenticator code failed", err)
	case !o.Accepted && o.FormError != "":
		refuse(o.Status, o.FormError)
	case !o.Accepted:
		refuse(o.Status, o.FieldError)
	default:
		return true
	}
	return false
}
