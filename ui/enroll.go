package ui

import (
	"context"
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/mfa/totp"
	"github.com/gatehouse-id/gatehouse/storage"
)

// pendingTTL: an authenticator app must be confirmed this soon after its
// enrollment started.
const pendingTTL = 15 * time.Minute

// factorName is what the settings call an authenticator app.
const factorName = "Authenticator app"

// enrollmentRoutes mounts the enrollment a sign-in asks for (a user who must
// have a second factor and has none);
// r already sets the security headers and limits bodies.
func (u *UI) enrollmentRoutes(r chi.Router) {
	r.Get("/login/enroll", u.showSignInEnrollStart)
	r.Get("/login/enroll/guide", u.showSignInGuide)
	r.Get("/login/enroll/setup", u.showSignInSetup)
	r.Group(func(r chi.Router) {
		r.Use(u.csrf.Handler)
		r.Post("/login/enroll/later", u.remindLater)
		r.Post("/login/enroll/start", u.startSignInEnrollment)
		r.Post("/login/enroll/confirm", u.confirmSignInEnrollment)
	})
}

// enrollFlow says where an enrollment's pages are: on the account pages,
// or inside the sign-in for an auth request.
type enrollFlow struct {
	RequestID string // "" on the account pages
}

func (f enrollFlow) base() string {
	if f.RequestID != "" {
		return "/login/enroll"
	}
	return "/account/security/totp"
}

// with adds the auth request to a page address of the sign-in flow.
func (f enrollFlow) with(path string, q url.Values) string {
	if f.RequestID != "" {
		if q == nil {
			q = url.Values{}
		}
		q.Set("id", f.RequestID)
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// The addresses the enrollment pages link and post to.
func (f enrollFlow) GuideURL() string      { return f.with(f.base()+"/guide", nil) }
func (f enrollFlow) StartAction() string   { return f.base() + "/start" }
func (f enrollFlow) ConfirmAction() string { return f.base() + "/confirm" }
func (f enrollFlow) KeyURL() string        { return f.with("/login/enroll/key", nil) }

// BackURL leaves the enrollment for where it started.
func (f enrollFlow) BackURL() string {
	if f.RequestID != "" {
		return f.with("/login/enroll", nil)
	}
	return accountHome
}

func (f enrollFlow) setupURL(enrollmentID string, guide bool) string {
	q := url.Values{"enrollment": {enrollmentID}}
	if guide {
		q.Set("guide", "1")
	}
	return f.with(f.base()+"/setup", q)
}

// The enrollment's pages.
type (
	// enrollStartPage offers the two ways to add an app during a sign-in.
	enrollStartPage struct {
		layout
		Flow       enrollFlow
		ClientName string
		Later      *remindLater
		// App and Key: an authenticator app, a security key may be set up.
		App, Key bool
	}
	// enrollGuidePage is the guide's first step: install an app.
	enrollGuidePage struct {
		layout
		Flow enrollFlow
	}
	// enrollQRPage shows the new secret and asks for a code from the app.
	enrollQRPage struct {
		layout
		Flow         enrollFlow
		EnrollmentID string
		Guide        bool
		QR           template.URL // a data: URL of the PNG
		KeyText      string
		Issuer       string
		Account      string
		CodeError    string
	}
)

func (u *UI) renderEnrollStart(w http.ResponseWriter, r *http.Request, p enrollStartPage) {
	p.layout = u.layout(r)
	u.render(w, r, http.StatusOK, enrollStartTemplate, p)
}

func (u *UI) renderEnrollGuide(w http.ResponseWriter, r *http.Request, p enrollGuidePage) {
	p.layout = u.layout(r)
	u.render(w, r, http.StatusOK, enrollGuideTemplate, p)
}

func (u *UI) renderEnrollQR(w http.ResponseWriter, r *http.Request, status int, p enrollQRPage) {
	p.layout = u.layout(r)
	u.render(w, r, status, enrollQRTemplate, p)
}

var (
	errEnrollmentExpired = pageError{http.StatusBadRequest, "This setup has expired",
		"An authenticator app must be added within 15 minutes of starting. Start again; if the app already shows an entry for this attempt, delete it there."}
	errTOTPAlreadySetUp = pageError{http.StatusConflict, "An authenticator app is already set up",
		"Your account already has one. Its recovery codes were shown when it was added; you can generate new ones in your security settings."}
	errSessionEnded = pageError{http.StatusUnauthorized, "You were signed out",
		"Nothing was changed. Sign in again and start once more."}
)

// --- Steps shared by both flows ---

// beginEnrollment stores a new pending authenticator app for user with a
// fresh secret, encrypted for this user and factor, in place of any
// unfinished one. It returns the enrollment's id.
func (u *UI) beginEnrollment(ctx context.Context, user *storage.User) (string, error) {
	key, err := u.totpKey()
	if err != nil {
		return "", err
	}
	secret, err := totp.NewSecret()
	if err != nil {
		return "", err
	}
	f := &storage.Factor{ID: storage.NewFactorID(), UserID: user.ID, Kind: mfa.FactorTOTP, Name: factorName}
	if f.Secret, err = totp.Encrypt(key, user.ID, f.ID, secret); err != nil {
		return "", err
	}
	return f.ID, u.dir.BeginFactor(ctx, f)
}

// pendingEnrollment loads user's enrollment id with its secret. For an id
// that is unknown, another user's, confirmed or too old it shows the page
// saying so and returns nil.
func (u *UI) pendingEnrollment(w http.ResponseWriter, r *http.Request, user *storage.User, id string) (*storage.Factor, []byte) {
	if id == "" || !plausibleID(id) {
		u.renderError(w, r, errEnrollmentExpired)
		return nil, nil
	}
	f, err := u.store.Factors().Get(r.Context(), user.ID, id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		u.renderError(w, r, errEnrollmentExpired)
		return nil, nil
	case err != nil:
		u.serverError(w, r, "loading the enrollment failed", err)
		return nil, nil
	case f.ConfirmedAt != nil:
		u.renderError(w, r, errTOTPAlreadySetUp)
		return nil, nil
	case f.Kind != mfa.FactorTOTP || time.Since(f.CreatedAt) > pendingTTL:
		u.renderError(w, r, errEnrollmentExpired)
		return nil, nil
	}
	key, err := u.totpKey()
	if err != nil {
		u.serverError(w, r, "the authenticator key is not configured", err)
		return nil, nil
	}
	secret, err := totp.Decrypt(key, user.ID, f.ID, f.Secret)
	if err != nil {
		u.serverError(w, r, "opening an enrollment's secret failed", err)
		return nil, nil
	}
	return f, secret
}

// qrPage fills the page that shows a pending secret.
func (u *UI) qrPage(user *storage.User, f *storage.Factor, secret totp.Secret, flow enrollFlow, guide bool) (enrollQRPage, error) {
	e, err := totp.NewEnrollment(otpLabel(u.cfg.ProductName, "Gatehouse"), otpLabel(user.Email, user.ID), secret)
	if err != nil {
		return enrollQRPage{}, err
	}
	png, err := e.QRPNG()
	if err != nil {
		return enrollQRPage{}, err
	}
	return enrollQRPage{
		Flow:         flow,
		EnrollmentID: f.ID,
		Guide:        guide,
		QR:           template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png)),
		KeyText:      e.KeyText,
		Issuer:       e.Issuer,
		Account:      e.Account,
	}, nil
}

// otpLabel makes s something an authenticator app can show: no colon,
// which separates issuer and account, and never empty.
func otpLabel(s, fallback string) string {
	s = strings.TrimSpace(strings.ReplaceAll(s, ":", " "))
	if s == "" {
		return fallback
	}
	return s
}

// showSetup answers a GET of the QR code page.
func (u *UI) showSetup(w http.ResponseWriter, r *http.Request, user *storage.User, flow enrollFlow) {
	q := r.URL.Query()
	f, secret := u.pendingEnrollment(w, r, user, q.Get("enrollment"))
	if f == nil {
		return
	}
	p, err := u.qrPage(user, f, secret, flow, q.Get("guide") == "1")
	if err != nil {
		u.serverError(w, r, "drawing the QR code failed", err)
		return
	}
	u.renderEnrollQR(w, r, http.StatusOK, p)
}

// confirmEnrollment answers the code form of the QR code page. A valid
// code from the app for this user's pending enrollment activates it, in
// one transaction: the factor (with the code's time step, so the code
// cannot sign in again), new recovery codes, the audit event, and this
// browser's session, which has now proved the app. The recovery codes are
// then shown, this once.
func (u *UI) confirmEnrollment(w http.ResponseWriter, r *http.Request, bs *browserSession, flow enrollFlow, clientID string) {
	ctx := r.Context()
	user := bs.user
	f, secret := u.pendingEnrollment(w, r, user, r.PostForm.Get("enrollment"))
	if f == nil {
		return
	}
	others, err := u.store.Factors().Confirmed(ctx, user.ID)
	if err != nil {
		u.serverError(w, r, "loading the factors failed", err)
		return
	}
	codes, hashes, err := u.codesForNewFactor(others)
	if err != nil {
		u.serverError(w, r, "making recovery codes failed", err)
		return
	}
	o, err := u.prove(ctx, w, r, proof{
		purpose: proofEnroll, user: user, clientID: clientID, factor: totp.Factor{}, factorID: f.ID,
		answer:  mfa.Answer{Secret: secret, LastUsed: f.LastUsedStep, Response: r.PostForm.Get("code")},
		session: bs,
		apply: func(tx *storage.Store, step int64) error {
			return u.dir.In(tx).ConfirmFactor(ctx, actor(r, user.ID, clientID), user, mfa.FactorTOTP, f.ID, step,
				time.Now().Add(-pendingTTL), hashes, bs.grant)
		},
	})
	switch {
	case errors.Is(err, directory.ErrEnrollmentGone):
		u.renderError(w, r, errEnrollmentExpired)
		return
	case errors.Is(err, directory.ErrHasFactor):
		u.renderError(w, r, errTOTPAlreadySetUp)
		return
	case errors.Is(err, directory.ErrGrantNeeded):
		u.renderReenroll(w, r, http.StatusForbidden, user, buttonForm{Action: accountReenrollPath}, "", "")
		return
	case errors.Is(err, errSessionGone):
		u.renderError(w, r, errSessionEnded)
		return
	case err != nil:
		u.serverError(w, r, "activating the authenticator app failed", err)
		return
	case !o.Accepted:
		p, qrErr := u.qrPage(user, f, secret, flow, r.PostForm.Get("guide") == "1")
		if qrErr != nil {
			u.serverError(w, r, "drawing the QR code failed", qrErr)
			return
		}
		p.CodeError = o.FieldError
		if o.FormError != "" {
			p.CodeError = o.FormError
		}
		u.renderEnrollQR(w, r, o.Status, p)
		return
	}
	continueURL := accountHome
	if flow.RequestID != "" {
		continueURL = dispatcherURL(flow.RequestID)
	}
	if codes == nil {
		// The user's codes came with their first factor.
		if flow.RequestID == "" {
			continueURL += "?done=app-added"
		}
		http.Redirect(w, r, continueURL, http.StatusSeeOther)
		return
	}
	u.renderRecoveryCodes(w, r, recoveryCodesPage{Codes: codes, ContinueURL: continueURL, InSignIn: flow.RequestID != ""})
}

// --- The account pages ---

// showAccountGuide is GET /account/security/totp/guide.
func (u *UI) showAccountGuide(w http.ResponseWriter, r *http.Request) {
	a := u.requireAccount(w, r, r.URL.Path, false)
	if a == nil {
		return
	}
	if a.totp() != nil {
		u.renderError(w, r, errTOTPAlreadySetUp)
		return
	}
	if !u.mayEnroll(w, r, a.user) {
		return
	}
	u.renderEnrollGuide(w, r, enrollGuidePage{})
}

// startAccountEnrollment is POST /account/security/totp/start.
func (u *UI) startAccountEnrollment(w http.ResponseWriter, r *http.Request) {
	if !u.parseForm(w, r) {
		return
	}
	a := u.requireAccount(w, r, accountHome, true)
	if a == nil {
		return
	}
	if a.totp() != nil {
		u.renderError(w, r, errTOTPAlreadySetUp)
		return
	}
	if !u.mayEnroll(w, r, a.user) {
		return
	}
	id, err := u.beginEnrollment(r.Context(), a.user)
	if err != nil {
		u.serverError(w, r, "starting an enrollment failed", err)
		return
	}
	http.Redirect(w, r, enrollFlow{}.setupURL(id, r.PostForm.Get("guide") == "1"), http.StatusSeeOther)
}

// showAccountSetup is GET /account/security/totp/setup?enrollment=ID.
func (u *UI) showAccountSetup(w http.ResponseWriter, r *http.Request) {
	a := u.requireAccount(w, r, accountHome, true)
	if a == nil || !u.mayEnroll(w, r, a.user) {
		return
	}
	u.showSetup(w, r, a.user, enrollFlow{})
}

// confirmAccountEnrollment is POST /account/security/totp/confirm.
func (u *UI) confirmAccountEnrollment(w http.ResponseWriter, r *http.Request) {
	if !u.parseForm(w, r) {
		return
	}
	a := u.requireAccount(w, r, accountHome, true)
	if a == nil || !u.mayEnroll(w, r, a.user) {
		return
	}
	u.confirmEnrollment(w, r, a.browserSession, enrollFlow{}, AccountClientID)
}

// --- The enrollment a sign-in asks for ---

// signInEnrollment is a sign-in whose user may add an authenticator app.
type signInEnrollment struct {
	req    *storage.AuthRequest
	bs     *browserSession
	client *storage.Client
	later  *remindLater // nil: no "Remind me later"
	// factors are the kinds the user may set up to go on.
	factors []mfa.FactorKind
}

// signInEnroller checks that the browser may enroll during the sign-in for
// auth request id: the request is open, the sign-in policy asks the user
// to enroll an authenticator app, and the user entered the password during
// this very sign-in (a session left open in a browser is not enough to add
// a factor). Otherwise it sends the browser where the sign-in goes on, or
// shows the page saying why it cannot, and returns nil.
func (u *UI) signInEnroller(w http.ResponseWriter, r *http.Request, id string) *signInEnrollment {
	return u.signInEnrollerFor(w, r, id, mfa.FactorTOTP, false)
}

// signInEnrollerFor is signInEnroller for a factor of this kind (""
// for any); offer is the page that only offers the ways to set up a factor
// (and "Remind me later"), which a session from an earlier sign-in may see
// too: putting it off adds nothing, and starting asks for the password
// again.
func (u *UI) signInEnrollerFor(w http.ResponseWriter, r *http.Request, id string, kind mfa.FactorKind, offer bool) *signInEnrollment {
	a := u.openAuthRequest(w, r, id)
	if a == nil {
		return nil
	}
	s := u.signinFor(w, r, a)
	if s == nil {
		return nil
	}
	d := s.decide()
	if d.Next != mfa.NeedEnrollment || (kind != "" && !slices.Contains(d.Factors, kind)) {
		http.Redirect(w, r, dispatcherURL(a.ID), http.StatusSeeOther)
		return nil
	}
	later := laterFor(a.ID, s, d, s.input.Now)
	if !s.session.session.AuthTime.After(a.CreatedAt) && (!offer || later == nil) {
		http.Redirect(w, r, passwordURL(a.ID), http.StatusSeeOther)
		return nil
	}
	return &signInEnrollment{req: a, bs: s.session, client: s.client, later: later, factors: d.Factors}
}

func (s *signInEnrollment) flow() enrollFlow { return enrollFlow{RequestID: s.req.ID} }

// showSignInEnrollStart is GET /login/enroll?id=ID.
func (u *UI) showSignInEnrollStart(w http.ResponseWriter, r *http.Request) {
	s := u.signInEnrollerFor(w, r, r.URL.Query().Get("id"), "", true)
	if s == nil {
		return
	}
	u.renderEnrollStart(w, r, enrollStartPage{Flow: s.flow(), ClientName: s.client.Name, Later: s.later,
		App: slices.Contains(s.factors, mfa.FactorTOTP), Key: slices.Contains(s.factors, mfa.FactorWebAuthn)})
}

// showSignInGuide is GET /login/enroll/guide?id=ID.
func (u *UI) showSignInGuide(w http.ResponseWriter, r *http.Request) {
	s := u.signInEnroller(w, r, r.URL.Query().Get("id"))
	if s == nil {
		return
	}
	u.renderEnrollGuide(w, r, enrollGuidePage{Flow: s.flow()})
}

// startSignInEnrollment is POST /login/enroll/start.
func (u *UI) startSignInEnrollment(w http.ResponseWriter, r *http.Request) {
	if !u.parseForm(w, r) {
		return
	}
	s := u.signInEnroller(w, r, r.PostForm.Get("id"))
	if s == nil {
		return
	}
	id, err := u.beginEnrollment(r.Context(), s.bs.user)
	if err != nil {
		u.serverError(w, r, "starting an enrollment failed", err)
		return
	}
	http.Redirect(w, r, s.flow().setupURL(id, r.PostForm.Get("guide") == "1"), http.StatusSeeOther)
}

// showSignInSetup is GET /login/enroll/setup?id=ID&enrollment=ID.
func (u *UI) showSignInSetup(w http.ResponseWriter, r *http.Request) {
	s := u.signInEnroller(w, r, r.URL.Query().Get("id"))
	if s == nil {
		return
	}
	u.showSetup(w, r, s.bs.user, s.flow())
}

// confirmSignInEnrollment is POST /login/enroll/confirm.
func (u *UI) confirmSignInEnrollment(w http.ResponseWriter, r *http.Request) {
	if !u.parseForm(w, r) {
		return
	}
	s := u.signInEnroller(w, r, r.PostForm.Get("id"))
	if s == nil {
		return
	}
	u.confirmEnrollment(w, r, s.bs, s.flow(), s.req.ClientID)
}

// totpKey is the key that encrypts authenticator secrets.
func (u *UI) totpKey() ([]byte, error) {
	if len(u.cfg.TOTPKey) != 32 {
		return nil, errors.New("ui: Config.TOTPKey must be the 32-byte key derived for TOTP secrets")
	}
	return u.cfg.TOTPKey, nil
}
