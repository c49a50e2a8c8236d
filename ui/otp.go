package ui

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/mfa/totp"
	"github.com/gatehouse-id/gatehouse/storage"
)

// otpStepURL is the authenticator-app code step of a sign-in.
func otpStepURL(id string) string { return "/login/otp?id=" + url.QueryEscape(id) }

// maxCodeInput bounds the code field: six digits and some spaces.
const maxCodeInput = 32

// errNoCodeStep answers a code sent for a sign-in that has not passed its
// password step (or no longer has a session): nothing is checked.
var errNoCodeStep = pageError{http.StatusForbidden, "Sign in with your password first",
	"The code from your app comes after your password. Go back to the application and start signing in again."}

// otpPage is the code step's form.
type otpPage struct {
	layout
	ID         string // the auth request
	ClientName string
	Email      string // who is signing in
	// Error is about the whole form (a lock); CodeError about the code.
	Error, CodeError string
	// KeyURL is the key step, when the user may use a key instead.
	KeyURL string
}

// RecoveryURL is the recovery code step of this sign-in.
func (p otpPage) RecoveryURL() string { return recoveryStepURL(p.ID) }

// AccessPassURL is where an administrator's pass is entered.
func (p otpPage) AccessPassURL() string { return accessPassURL(p.ID) }

func (u *UI) renderOTP(w http.ResponseWriter, r *http.Request, status int, p otpPage) {
	p.layout = u.layout(r)
	u.render(w, r, status, otpTemplate, p)
}

// codeStep loads what the code step works on and checks that the policy
// asks this browser for an authenticator code now. Otherwise it returns
// nil after answering: a code posted before the password step gets a page
// saying so; anything else goes back to the dispatcher, which knows the
// next step.
func (u *UI) codeStep(w http.ResponseWriter, r *http.Request, id string) *signin {
	return u.secondFactorStep(w, r, id, func(s *signin, d mfa.Decision) bool {
		_, hasTOTP := s.factor(mfa.FactorTOTP)
		return slices.Contains(d.Factors, mfa.FactorTOTP) && hasTOTP
	})
}

// secondFactorStep loads the sign-in id for a second-factor page: the
// password is proved, the policy asks for a second factor and, when fits
// is set, one this page takes. Otherwise it answers as codeStep does and
// returns nil.
func (u *UI) secondFactorStep(w http.ResponseWriter, r *http.Request, id string, fits func(*signin, mfa.Decision) bool) *signin {
	a := u.openAuthRequest(w, r, id)
	if a == nil {
		return nil
	}
	s := u.signinFor(w, r, a)
	if s == nil {
		return nil
	}
	if err := u.loadFactors(r.Context(), s); err != nil {
		u.serverError(w, r, "loading the user's factors failed", err)
		return nil
	}
	switch d := s.decide(); {
	case d.Next == mfa.NeedSecondFactor && (fits == nil || fits(s, d)):
		return s
	case r.Method == http.MethodPost && d.Next == mfa.NeedPassword:
		u.renderError(w, r, errNoCodeStep)
	default:
		http.Redirect(w, r, dispatcherURL(a.ID), http.StatusSeeOther)
	}
	return nil
}

// showOTP is GET /login/otp?id=ID: the code form.
func (u *UI) showOTP(w http.ResponseWriter, r *http.Request) {
	s := u.codeStep(w, r, r.URL.Query().Get("id"))
	if s == nil {
		return
	}
	p := otpPage{ID: r.URL.Query().Get("id"), ClientName: s.client.Name, Email: s.session.user.Email, KeyURL: u.keyAlternative(s, r.URL.Query().Get("id"))}
	status, msg, ok := u.stepLock(w, r, s.session.user.ID)
	if !ok {
		return
	}
	p.Error = msg
	u.renderOTP(w, r, status, p)
}

// submitOTP is POST /login/otp: it checks the code under the account's
// lockout and, when it is right, records that its time step was used (the
// replay guard every replica shares), moves the session to a new id that
// has proved both factors, and returns to the dispatcher.
func (u *UI) submitOTP(w http.ResponseWriter, r *http.Request) {
	if !u.parseForm(w, r) {
		return
	}
	id := r.PostForm.Get("id")
	s := u.codeStep(w, r, id)
	if s == nil {
		return
	}
	ctx := r.Context()
	user := s.session.user
	p := otpPage{ID: id, ClientName: s.client.Name, Email: user.Email, KeyURL: u.keyAlternative(s, id)}
	f, _ := s.factor(mfa.FactorTOTP)
	secret, err := u.openSecret(user, f)
	if err != nil {
		u.serverError(w, r, "opening an authenticator secret failed", err)
		return
	}
	o, err := u.prove(ctx, w, r, proof{
		purpose: proofSignIn, user: user, clientID: s.client.ID, factor: totp.Factor{}, factorID: f.ID,
		answer:  mfa.Answer{Secret: secret, LastUsed: f.LastUsedStep, Response: r.PostForm.Get("code")},
		session: s.session,
		// The step is used once, whichever replica asks first.
		use: func(tx *storage.Store, step int64) error { return tx.Factors().UseStep(ctx, user.ID, f.ID, step) },
	})
	switch {
	case errors.Is(err, errSessionGone):
		// The session ended (a sign-out) while the code was checked.
		http.Redirect(w, r, dispatcherURL(id), http.StatusSeeOther)
	case err != nil:
		u.serverError(w, r, "checking the authenticator code failed", err)
	case o.Accepted:
		http.Redirect(w, r, dispatcherURL(id), http.StatusSeeOther)
	default:
		p.Error, p.CodeError = o.FormError, o.FieldError
		u.renderOTP(w, r, o.Status, p)
	}
}

// keyAlternative is the key step of sign-in id when the user may use a
// security key there instead of the app, or "".
func (u *UI) keyAlternative(s *signin, id string) string {
	if _, has := s.factor(mfa.FactorWebAuthn); !has || u.keys == nil || !slices.Contains(s.decide().Factors, mfa.FactorWebAuthn) {
		return ""
	}
	return keyStepURL(id)
}

// normalizeCode returns the digits of a typed code, or what is wrong with
// it. Spaces (as apps group the digits) are ignored.
func normalizeCode(typed string) (code, problem string) {
	if len(typed) > maxCodeInput {
		return "", msgCodeLength
	}
	code = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, typed)
	switch {
	case code == "":
		return "", msgEnterCode
	case strings.ContainsFunc(code, func(r rune) bool { return r < '0' || r > '9' }):
		return "", msgCodeDigits
	case len(code) != totp.Digits:
		return "", msgCodeLength
	}
	return code, ""
}

// otpRoutes mounts the code step: GET /login/otp and its POST.
func (u *UI) otpRoutes(r chi.Router) {
	r.Get("/login/otp", u.showOTP)
	r.With(u.csrf.Handler).Post("/login/otp", u.submitOTP)
}
