package ui

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/mfa/webauthn"
	"github.com/gatehouse-id/gatehouse/storage"
)

// keyScript is the one script of the hosted pages: the browser half of
// security keys and passkeys. Every page works without it for the other
// factors.
const keyScript = "webauthn.js"

// maxKeyResponse bounds the browser's WebAuthn answer: a few kilobytes of
// JSON for any authenticator that asks for no attestation.
const maxKeyResponse = 16 << 10

// The messages of security keys and passkeys.
const (
	msgKeyGone        = "This request expired or was already used. Try again."
	msgKeyForeign     = "This answer belongs to another sign-in or another browser. Try again."
	msgKeyUnknown     = "This security key or passkey is not registered for your account. Try another one, or another way to sign in."
	msgPasskeyUnknown = "This passkey is not registered here. Sign in with your email and password."
	msgPasskeyNoUV    = "Your passkey did not check that it is you (a PIN, fingerprint or face), so it cannot sign you in on its own. Sign in with your password instead."
	msgPasskeyRefused = "This passkey cannot sign you in. Sign in with your email and password, or ask your administrator."
	msgKeyNotAdded    = "Your browser's answer could not be verified, so no key was added. Try again."
	msgKeyName        = "Give the key a name of at most 64 characters, without line breaks."
	msgKeyRegistered  = "This key is already registered. Use another one."
)

// keyCeremony is a WebAuthn ceremony as a page carries it: its id, posted
// back with the answer, and the options the script hands to the browser.
type keyCeremony struct {
	ID      string
	Options string
}

// keyLayout is the frame of a page that uses security keys: with the script.
func (u *UI) keyLayout(r *http.Request) layout {
	l := u.layout(r)
	l.ScriptURL = u.assets.url(keyScript)
	return l
}

// beginCeremony stores the server half of challenge c, single use and for
// webauthn.CeremonyTTL, for the user userID (nil: a passkey sign-in, which
// names its user) and the sign-in requestID ("" on the account pages).
func (u *UI) beginCeremony(ctx context.Context, purpose webauthn.Purpose, userID *string, requestID string, c mfa.Challenge) (keyCeremony, error) {
	secret, digest := storage.NewSecret()
	err := u.store.Ceremonies().Create(ctx, &storage.Ceremony{IDHash: digest, Purpose: string(purpose), UserID: userID,
		RequestID: requestID, State: c.State, ExpiresAt: time.Now().Add(webauthn.CeremonyTTL)})
	return keyCeremony{ID: secret, Options: string(c.Options)}, err
}

// keyRefusal is why an answer from a key was refused before it was checked.
type keyRefusal struct {
	reason  string // for the audit log
	message string // for the user
}

// takeCeremony takes the posted ceremony, once, and checks that it was
// begun for this purpose, user (nil: none) and sign-in. A refusal says why
// not; the ceremony is used up either way.
func (u *UI) takeCeremony(ctx context.Context, r *http.Request, purpose webauthn.Purpose, userID *string, requestID string) (*storage.Ceremony, *keyRefusal, error) {
	id := r.PostForm.Get("ceremony")
	if id == "" || len(id) > 128 {
		return nil, &keyRefusal{"challenge_unknown", msgKeyGone}, nil
	}
	c, err := u.store.Ceremonies().Take(ctx, storage.HashSecret(id), time.Now())
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, &keyRefusal{"challenge_unknown", msgKeyGone}, nil
	case err != nil:
		return nil, nil, err
	}
	sameUser := (c.UserID == nil && userID == nil) || (c.UserID != nil && userID != nil && *c.UserID == *userID)
	if c.Purpose != string(purpose) || !sameUser || c.RequestID != requestID {
		return nil, &keyRefusal{"ceremony_mismatch", msgKeyForeign}, nil
	}
	return c, nil, nil
}

// keyAnswer is the posted answer to a ceremony: the ceremony, taken once
// and checked as takeCeremony does, and the browser's response; or a
// refusal when either cannot be used.
func (u *UI) keyAnswer(ctx context.Context, r *http.Request, purpose webauthn.Purpose, userID *string, requestID string) (*storage.Ceremony, []byte, *keyRefusal, error) {
	c, ref, err := u.takeCeremony(ctx, r, purpose, userID, requestID)
	if ref != nil || err != nil {
		return nil, nil, ref, err
	}
	resp, ref := keyResponse(r)
	return c, resp, ref, nil
}

// keyResponse is the posted answer, or a refusal when it cannot be one.
func keyResponse(r *http.Request) ([]byte, *keyRefusal) {
	resp := r.PostForm.Get("response")
	if resp == "" || len(resp) > maxKeyResponse || !utf8.ValidString(resp) {
		return nil, &keyRefusal{"malformed", msgKeyMalformed}
	}
	return []byte(resp), nil
}

// recordKeyRefusal records an answer refused before it was checked; such
// answers never count toward the second-factor lock.
func (u *UI) recordKeyRefusal(ctx context.Context, r *http.Request, userID, clientID string, purpose webauthn.Purpose, ref *keyRefusal) error {
	return directory.Record(ctx, u.store, actor(r, userID, clientID), directory.Event{Type: directory.EventKeyRefused, SubjectID: userID,
		Details: map[string]string{"reason": ref.reason, "purpose": string(purpose)}})
}

// keyUser is the WebAuthn account of user with their keys among fs.
func keyUser(user *storage.User, fs []storage.Factor) webauthn.User {
	ku := webauthn.User{Handle: []byte(user.ID), Name: user.Email}
	for _, f := range fs {
		if f.Kind == mfa.FactorWebAuthn {
			ku.Credentials = append(ku.Credentials, f.Credential)
		}
	}
	return ku
}

// keyByCredential is the factor among fs that browsers name credentialID.
func keyByCredential(fs []storage.Factor, credentialID []byte) (*storage.Factor, bool) {
	for i := range fs {
		if fs[i].Kind == mfa.FactorWebAuthn && bytes.Equal(fs[i].CredentialID, credentialID) {
			return &fs[i], true
		}
	}
	return nil, false
}

// keyName is the name a user typed for a key, trimmed, or why it cannot
// be one; empty becomes what the key is.
func keyName(typed string, synced bool) (string, string) {
	name := strings.TrimSpace(typed)
	switch {
	case !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl) || utf8.RuneCountInString(name) > 64:
		return "", msgKeyName
	case name == "" && synced:
		return "Passkey", ""
	case name == "":
		return "Security key", ""
	}
	return name, ""
}

// keyRoutes mounts the key step of a sign-in, the passkey sign-in and the
// adding of a key during a sign-in.
func (u *UI) keyRoutes(r chi.Router) {
	if u.keys == nil {
		return
	}
	r.Get("/login/key", u.showKeyStep)
	r.Get("/login/enroll/key", u.showSignInKeyEnrollment)
	r.Group(func(r chi.Router) {
		r.Use(u.csrf.Handler)
		r.Post("/login/key", u.submitKeyStep)
		r.Post("/login/passkey", u.submitPasskey)
		r.Post("/login/enroll/key", u.finishSignInKeyEnrollment)
	})
}

// keyStepURL is the security-key step of a sign-in.
func keyStepURL(id string) string { return "/login/key?id=" + url.QueryEscape(id) }

// keyStepPage asks for the user's security key after the password.
type keyStepPage struct {
	layout
	ID         string
	ClientName string
	Ceremony   keyCeremony
	Error      string
	// HasApp: the user may use their authenticator app instead.
	HasApp bool
}

// OTPURL, RecoveryURL and AccessPassURL are the other ways on.
func (p keyStepPage) OTPURL() string        { return otpStepURL(p.ID) }
func (p keyStepPage) RecoveryURL() string   { return recoveryStepURL(p.ID) }
func (p keyStepPage) AccessPassURL() string { return accessPassURL(p.ID) }

// keyStep loads the sign-in id for the key step: the policy asks for a
// second factor that a security key of the user's meets.
func (u *UI) keyStep(w http.ResponseWriter, r *http.Request, id string) *signin {
	return u.secondFactorStep(w, r, id, func(s *signin, d mfa.Decision) bool {
		_, has := s.factor(mfa.FactorWebAuthn)
		return has && slices.Contains(d.Factors, mfa.FactorWebAuthn)
	})
}

// renderKeyStep shows the key step with a new challenge.
func (u *UI) renderKeyStep(w http.ResponseWriter, r *http.Request, status int, id string, s *signin, msg string) {
	user := s.session.user
	c, err := u.keys.Begin(r.Context(), mfa.Subject{UserID: user.ID, Name: user.Email, Credentials: keyUser(user, s.factors).Credentials})
	if err != nil {
		u.serverError(w, r, "starting the key step failed", err)
		return
	}
	uid := user.ID
	kc, err := u.beginCeremony(r.Context(), webauthn.PurposeSecondFactor, &uid, id, c)
	if err != nil {
		u.serverError(w, r, "storing the key step's challenge failed", err)
		return
	}
	_, hasApp := s.factor(mfa.FactorTOTP)
	p := keyStepPage{layout: u.keyLayout(r), ID: id, ClientName: s.client.Name, Ceremony: kc, Error: msg,
		HasApp: hasApp && slices.Contains(s.decide().Factors, mfa.FactorTOTP)}
	u.render(w, r, status, keyStepTemplate, p)
}

// showKeyStep is GET /login/key?id=ID.
func (u *UI) showKeyStep(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	s := u.keyStep(w, r, id)
	if s == nil {
		return
	}
	if status, msg, ok := u.stepLock(w, r, s.session.user.ID); ok {
		u.renderKeyStep(w, r, status, id, s, msg)
	}
}

// submitKeyStep is POST /login/key: the browser's assertion is checked
// like a code (see prove): under the account's lockout, its signature
// counter recorded so that it only grows, and the session moved to a new
// id that has proved the key.
func (u *UI) submitKeyStep(w http.ResponseWriter, r *http.Request) {
	if !u.parseForm(w, r) {
		return
	}
	id := r.PostForm.Get("id")
	s := u.keyStep(w, r, id)
	if s == nil {
		return
	}
	ctx := r.Context()
	user := s.session.user
	refuse := func(ref *keyRefusal) {
		if err := u.recordKeyRefusal(ctx, r, user.ID, s.client.ID, webauthn.PurposeSecondFactor, ref); err != nil {
			u.serverError(w, r, "recording a refused key failed", err)
			return
		}
		u.renderKeyStep(w, r, http.StatusBadRequest, id, s, ref.message)
	}
	uid := user.ID
	c, resp, ref, err := u.keyAnswer(ctx, r, webauthn.PurposeSecondFactor, &uid, id)
	if err != nil {
		u.serverError(w, r, "taking the key step's challenge failed", err)
		return
	}
	if ref != nil {
		refuse(ref)
		return
	}
	a, err := webauthn.ReadAssertion(resp)
	if err != nil {
		refuse(&keyRefusal{"malformed", msgKeyMalformed})
		return
	}
	f, ok := keyByCredential(s.factors, a.CredentialID)
	if !ok {
		refuse(&keyRefusal{"unknown_key", msgKeyUnknown})
		return
	}
	o, err := u.prove(ctx, w, r, proof{
		purpose: proofSignIn, user: user, clientID: s.client.ID, factor: *u.keys, factorID: f.ID,
		answer:  mfa.Answer{Secret: f.Credential, LastUsed: f.LastUsedStep, State: c.State, Response: string(resp)},
		session: s.session,
		use: func(tx *storage.Store, counter int64) error {
			return tx.Factors().UseCounter(ctx, user.ID, f.ID, counter)
		},
	})
	switch {
	case errors.Is(err, errSessionGone):
		http.Redirect(w, r, dispatcherURL(id), http.StatusSeeOther)
	case err != nil:
		u.serverError(w, r, "checking the security key failed", err)
	case o.Accepted:
		http.Redirect(w, r, dispatcherURL(id), http.StatusSeeOther)
	case o.FormError != "":
		u.renderKeyStep(w, r, o.Status, id, s, o.FormError)
	default:
		u.renderKeyStep(w, r, o.Status, id, s, o.FieldError)
	}
}
