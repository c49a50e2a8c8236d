package ui

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/mfa/recovery"
	"github.com/gatehouse-id/gatehouse/storage"
)

// methodRecoveryCode names recovery codes in the lockout's audit events.
const methodRecoveryCode mfa.FactorKind = "recovery_code"

// recoveryWhileLocked is how many recovery codes an account may try per
// hour while its second factor is locked: the owner keeps a way back in,
// a guesser gets nowhere.
const recoveryWhileLocked = 5

// The recovery's addresses.
func recoveryStepURL(id string) string { return "/login/recovery?id=" + url.QueryEscape(id) }
func recoverySentURL(id string) string { return "/login/recovery/sent?id=" + url.QueryEscape(id) }

const (
	msgRecoveryCodeForm  = "A recovery code has 12 letters and digits (2–9 and a–z without i, l, o and u), like abcd-efgh-jkmn."
	msgWrongRecoveryCode = "That is not one of your unused recovery codes. Check it and try again."
)

// recoveryRoutes mounts the self-serve recovery: the recovery code step
// of a sign-in, and the pages its mail's links open.
func (u *UI) recoveryRoutes(r chi.Router) {
	r.Get("/login/recovery", u.showRecovery)
	r.Get("/login/recovery/sent", u.showRecoverySent)
	r.Get(directory.PathRecoveryConfirm, u.showRecoveryConfirm)
	r.Get(directory.PathRecoveryCancel, u.showRecoveryCancel)
	r.Group(func(r chi.Router) {
		r.Use(u.csrf.Handler)
		r.Post("/login/recovery", u.submitRecovery)
		r.Post("/login/recovery/resend", u.resendRecovery)
		r.Post(directory.PathRecoveryConfirm, u.confirmRecovery)
		r.Post(directory.PathRecoveryCancel, u.cancelRecovery)
	})
}

// recoveryPage is the recovery code form.
type recoveryPage struct {
	layout
	ID, MaskedEmail  string
	Error, CodeError string
	// Locked says that the app's codes are locked but recovery codes work.
	Locked string
}

// BackURL returns to the authenticator code.
func (p recoveryPage) BackURL() string { return otpStepURL(p.ID) }

func (u *UI) renderRecovery(w http.ResponseWriter, r *http.Request, status int, p recoveryPage) {
	p.layout = u.layout(r)
	u.render(w, r, status, recoveryTemplate, p)
}

// recoveryStep loads the sign-in id for the recovery pages: the password
// is proved and the policy asks for a second factor the user has.
func (u *UI) recoveryStep(w http.ResponseWriter, r *http.Request, id string) *signin {
	return u.secondFactorStep(w, r, id, nil)
}

// showRecovery is GET /login/recovery?id=ID. With a recovery pending, it
// goes to the page that offers to send its mail again: no new code needed.
func (u *UI) showRecovery(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	s := u.recoveryStep(w, r, id)
	if s == nil {
		return
	}
	ctx := r.Context()
	user := s.session.user
	pending, err := u.dir.RecoveryPending(ctx, user.ID)
	if err != nil {
		u.serverError(w, r, "looking for a pending recovery failed", err)
		return
	}
	if pending {
		http.Redirect(w, r, recoverySentURL(id), http.StatusSeeOther)
		return
	}
	p := recoveryPage{ID: id, MaskedEmail: maskEmail(user.Email)}
	lock, err := u.mfaLockState(ctx, user.ID)
	if err != nil {
		u.serverError(w, r, "reading the second-factor lock failed", err)
		return
	}
	if lock.Locked() {
		p.Locked = "Codes from your app are locked after too many attempts, but recovery codes still work."
	}
	u.renderRecovery(w, r, http.StatusOK, p)
}

// submitRecovery is POST /login/recovery: a recovery code, checked under
// the account's lockout like any second factor (wrong ones count toward
// it). While a lock is in force, codes are still checked under their own
// limit. A right code is used up and starts the recovery: the user gets a
// mail to confirm it. The code alone signs nobody in.
func (u *UI) submitRecovery(w http.ResponseWriter, r *http.Request) {
	if !u.parseForm(w, r) {
		return
	}
	id := r.PostForm.Get("id")
	s := u.recoveryStep(w, r, id)
	if s == nil {
		return
	}
	ctx := r.Context()
	user := s.session.user
	p := recoveryPage{ID: id, MaskedEmail: maskEmail(user.Email)}
	code, err := recovery.Normalize(r.PostForm.Get("code"))
	if err != nil {
		p.CodeError = msgRecoveryCodeForm
		u.renderRecovery(w, r, http.StatusBadRequest, p)
		return
	}
	if len(u.cfg.RecoveryKey) != 32 {
		u.serverError(w, r, "the recovery code key is not configured", errors.New("ui: Config.RecoveryKey must be 32 bytes"))
		return
	}
	hash := recovery.Hash(u.cfg.RecoveryKey, code)
	who := actor(r, user.ID, s.client.ID)
	start := func(tx *storage.Store) (string, error) {
		err := u.dir.In(tx).StartRecovery(ctx, who, user, hash)
		if errors.Is(err, directory.ErrWrongRecoveryCode) {
			return "wrong_code", nil
		}
		return "", err
	}
	at := mfaAttempt{UserID: user.ID, ClientID: s.client.ID, Method: methodRecoveryCode}
	res, err := u.guardSecondFactor(ctx, r, at, start)
	var limited time.Time
	if err == nil && res.Refusal == "" && res.Lock.Locked() {
		// Locked before this code: the way back in stays open, under its own limit.
		res.Lock = mfaLock{}
		res.Refusal, limited, err = u.recoverWhileLocked(ctx, r, at, start)
	}
	switch {
	case err != nil:
		u.serverError(w, r, "checking the recovery code failed", err)
	case !limited.IsZero():
		w.Header().Set("Retry-After", retryAfter(limited, time.Now()))
		p.Error = "Too many recovery codes were tried. " + tryAgainAt(limited)
		u.renderRecovery(w, r, http.StatusTooManyRequests, p)
	case res.Lock.Locked():
		res.Lock.answer(w, time.Now())
		p.Error, p.CodeError = res.Lock.Message(), msgWrongRecoveryCode
		u.renderRecovery(w, r, http.StatusTooManyRequests, p)
	case res.Refusal != "":
		p.CodeError = msgWrongRecoveryCode
		u.renderRecovery(w, r, http.StatusUnauthorized, p)
	default:
		http.Redirect(w, r, recoverySentURL(id), http.StatusSeeOther)
	}
}

// recoverWhileLocked checks a recovery code on an account whose second
// factor is locked: at most recoveryWhileLocked attempts an hour, each
// reserved before the check (so parallel guesses cannot outrun it); a
// wrong one is recorded. limited is when the next attempt may come, when
// this one was refused unchecked.
func (u *UI) recoverWhileLocked(ctx context.Context, r *http.Request, at mfaAttempt,
	check func(tx *storage.Store) (string, error)) (refusal string, limited time.Time, err error) {
	err = u.store.InTx(ctx, func(tx *storage.Store) error {
		now := time.Now()
		c, ok, err := tx.RateLimits().Reserve(ctx, directory.RecoveryLimitKey(at.UserID), recoveryWhileLocked, now, now.Add(time.Hour))
		if err != nil {
			return err
		}
		if !ok {
			limited = c.ExpiresAt
			return nil
		}
		if refusal, err = check(tx); err != nil || refusal == "" {
			return err
		}
		details := map[string]any{"method": at.Method, "reason": refusal, "while_locked": true, "attempts": c.Failures}
		return directory.Record(ctx, tx, actor(r, at.UserID, at.ClientID),
			directory.Event{Type: directory.EventFactorFailed, SubjectID: at.UserID, Details: details})
	})
	return refusal, limited, err
}

// showRecoverySent is GET /login/recovery/sent?id=ID: the mail is on its
// way; it can be sent again.
func (u *UI) showRecoverySent(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	s := u.recoveryStep(w, r, id)
	if s == nil {
		return
	}
	pending, err := u.dir.RecoveryPending(r.Context(), s.session.user.ID)
	if err != nil {
		u.serverError(w, r, "looking for a pending recovery failed", err)
		return
	}
	if !pending {
		http.Redirect(w, r, recoveryStepURL(id), http.StatusSeeOther)
		return
	}
	u.renderRecoverySent(w, r, http.StatusOK, id, s.session.user, "", "")
}

func (u *UI) renderRecoverySent(w http.ResponseWriter, r *http.Request, status int, id string, user *storage.User, done, alert string) {
	u.renderMessage(w, r, status, messagePage{
		Heading: "Check your mail",
		Lead:    "We sent a mail to " + maskEmail(user.Email) + ". Open the link in it to reset two-step verification.",
		Done:    done, Alert: alert,
		Paragraphs: []string{
			"The link works for 30 minutes, on any device. Opening it shows what will happen; nothing changes until you confirm.",
			"After the reset you sign in with your password and set up a new second factor.",
		},
		Form: &buttonForm{Action: "/login/recovery/resend", Hidden: []hiddenField{{"id", id}},
			Button: "Send it again", ButtonID: "send-again"},
		Hint: "No mail after a few minutes? Look in your spam folder, then send it again: you do not need another recovery code.",
	})
}

// resendRecovery is POST /login/recovery/resend: the pending recovery's
// mail again, with new links.
func (u *UI) resendRecovery(w http.ResponseWriter, r *http.Request) {
	if !u.parseForm(w, r) {
		return
	}
	id := r.PostForm.Get("id")
	s := u.recoveryStep(w, r, id)
	if s == nil {
		return
	}
	user := s.session.user
	switch err := u.dir.ResendRecovery(r.Context(), actor(r, user.ID, s.client.ID), user); {
	case errors.Is(err, directory.ErrNoRecovery):
		http.Redirect(w, r, recoveryStepURL(id), http.StatusSeeOther)
	case errors.Is(err, directory.ErrTooMany):
		u.renderRecoverySent(w, r, http.StatusTooManyRequests, id, user, "",
			"The mail was sent several times already. Wait an hour, or look for it in your spam folder.")
	case err != nil:
		u.serverError(w, r, "sending the recovery mail again failed", err)
	default:
		u.renderRecoverySent(w, r, http.StatusOK, id, user, "We sent the mail again. Links in earlier ones no longer work.", "")
	}
}

// linkToken is the token of a mailed link, from its address or its form.
func linkToken(r *http.Request) string {
	if r.Method == http.MethodPost {
		return r.PostForm.Get("token")
	}
	return r.URL.Query().Get("token")
}

// showRecoveryConfirm is GET of the mail's confirmation link: it says what
// confirming does and changes nothing, so a mail scanner that opens links
// resets nothing.
func (u *UI) showRecoveryConfirm(w http.ResponseWriter, r *http.Request) {
	token, ok := u.openLink(w, r, storage.LinkRecoveryConfirm)
	if !ok {
		return
	}
	u.renderMessage(w, r, http.StatusOK, messagePage{
		Heading: "Reset two-step verification?",
		Lead:    "Confirming removes every second factor and recovery code of your account and signs out every device.",
		Paragraphs: []string{
			"Then you sign in with your password and set up a new second factor, on this browser within 24 hours, or from the link in the mail that follows.",
		},
		Form: &buttonForm{Action: directory.PathRecoveryConfirm, Hidden: []hiddenField{{"token", token}},
			Button: "Reset two-step verification", ButtonID: "confirm-reset", Danger: true},
		Hint: "If you did not ask for this, close this page and use the mail's \"This wasn't me\" link.",
	})
}

// confirmRecovery is POST of the confirmation link: the reset, and this
// browser may set up the new factor.
func (u *UI) confirmRecovery(w http.ResponseWriter, r *http.Request) {
	if !u.parseForm(w, r) {
		return
	}
	user, grant, err := u.dir.ConfirmRecovery(r.Context(), actor(r, "", ""), linkToken(r))
	if err != nil {
		if !u.linkError(w, r, err) {
			u.serverError(w, r, "confirming a recovery failed", err)
		}
		return
	}
	u.setGrantCookie(w, grant)
	u.renderMessage(w, r, http.StatusOK, messagePage{
		Heading: "Two-step verification was reset",
		Lead:    "Every second factor of " + maskEmail(user.Email) + " was removed and every device was signed out.",
		Paragraphs: []string{
			"Go back to the application and sign in with your password. On this browser, you can set up a new second factor for the next 24 hours.",
		},
		Links: []pageLink{{URL: accountHome, Label: "Set up two-step verification now", ID: "to-security"}},
	})
}

// showRecoveryCancel is GET of the mail's "this wasn't me" link.
func (u *UI) showRecoveryCancel(w http.ResponseWriter, r *http.Request) {
	token, ok := u.openLink(w, r, storage.LinkRecoveryCancel)
	if !ok {
		return
	}
	u.renderMessage(w, r, http.StatusOK, messagePage{
		Heading: "Cancel the reset?",
		Lead:    "Your second factors stay as they are, and the reset's confirmation link stops working.",
		Form: &buttonForm{Action: directory.PathRecoveryCancel, Hidden: []hiddenField{{"token", token}},
			Button: "Cancel the reset", ButtonID: "cancel-reset"},
	})
}

// cancelRecovery is POST of the "this wasn't me" link.
func (u *UI) cancelRecovery(w http.ResponseWriter, r *http.Request) {
	if !u.parseForm(w, r) {
		return
	}
	if _, err := u.dir.CancelRecovery(r.Context(), actor(r, "", ""), linkToken(r)); err != nil {
		if !u.linkError(w, r, err) {
			u.serverError(w, r, "cancelling a recovery failed", err)
		}
		return
	}
	u.renderMessage(w, r, http.StatusOK, messagePage{
		Heading: "The reset was cancelled",
		Lead:    "Your second factors are unchanged.",
		Paragraphs: []string{
			"Whoever started it knew your password and had one of your recovery codes. Sign in, change your password and make new recovery codes now.",
		},
		Links: []pageLink{{URL: accountHome, Label: "Go to your security settings", ID: "to-security"}},
	})
}
