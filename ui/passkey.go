package ui

import (
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/mfa/webauthn"
	"github.com/gatehouse-id/gatehouse/storage"
)

// errNoUserVerification rolls back a passkey answer that proved the key
// but not its user: no sign-in, and no guess counted either.
var errNoUserVerification = errors.New("the passkey did not verify its user")

// passkeyCeremony begins the passkey sign-in the password page offers
// beside the form, for the sign-in id.
func (u *UI) passkeyCeremony(r *http.Request, id string) (*keyCeremony, error) {
	c, err := u.keys.RP.BeginPasskey()
	if err != nil {
		return nil, err
	}
	kc, err := u.beginCeremony(r.Context(), webauthn.PurposePasskey, nil, id, c)
	return &kc, err
}

// submitPasskey is POST /login/passkey: a passkey alone signs the user in.
// The browser's assertion names the key, and through it the user; it must
// verify, and the key must have verified its user (a PIN or biometrics),
// which makes two factors. The account's second-factor lock applies: a
// locked account is refused unchecked, and an assertion of its key that
// does not verify counts toward the lock. A disabled user is refused.
func (u *UI) submitPasskey(w http.ResponseWriter, r *http.Request) {
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
	ctx := r.Context()
	page := passwordPage{ID: a.ID, ClientName: name}
	refuse := func(userID string, status int, ref *keyRefusal) {
		if err := u.recordKeyRefusal(ctx, r, userID, a.ClientID, webauthn.PurposePasskey, ref); err != nil {
			u.serverError(w, r, "recording a refused passkey failed", err)
			return
		}
		page.Error = ref.message
		u.renderPassword(w, r, status, page)
	}
	c, resp, ref, err := u.keyAnswer(ctx, r, webauthn.PurposePasskey, nil, a.ID)
	if err != nil {
		u.serverError(w, r, "taking the passkey challenge failed", err)
		return
	}
	if ref != nil {
		refuse("", http.StatusBadRequest, ref)
		return
	}
	assertion, err := webauthn.ReadAssertion(resp)
	if err != nil {
		refuse("", http.StatusBadRequest, &keyRefusal{"malformed", msgKeyMalformed})
		return
	}
	f, err := u.store.Factors().ByCredential(ctx, assertion.CredentialID)
	if errors.Is(err, storage.ErrNotFound) {
		refuse("", http.StatusBadRequest, &keyRefusal{"unknown_key", msgPasskeyUnknown})
		return
	}
	if err != nil {
		u.serverError(w, r, "finding the passkey failed", err)
		return
	}
	user, err := u.store.Users().Get(ctx, f.UserID)
	if err != nil {
		u.serverError(w, r, "loading the passkey's user failed", err)
		return
	}
	if user.Disabled {
		refuse(user.ID, http.StatusForbidden, &keyRefusal{"user_disabled", msgPasskeyRefused})
		return
	}
	var cookie string
	res, err := u.guardSecondFactor(ctx, r, mfaAttempt{UserID: user.ID, ClientID: a.ClientID, Method: mfa.FactorWebAuthn},
		func(tx *storage.Store) (string, error) {
			proved, err := u.keys.Finish(ctx, mfa.Answer{Secret: f.Credential, LastUsed: f.LastUsedStep, State: c.State, Response: string(resp), Now: time.Now()})
			if refusal, err := refusalOf(err, mfa.FactorWebAuthn); refusal != "" || err != nil {
				return refusal, err
			}
			if !slices.Contains(proved.Methods, mfa.AMRUser) {
				return "", errNoUserVerification
			}
			if err := tx.Factors().UseCounter(ctx, user.ID, f.ID, proved.Counter); errors.Is(err, storage.ErrReplayed) {
				return "replayed", nil
			} else if err != nil {
				return "", err
			}
			cookie, err = u.startPasskeySession(tx, r, a, user, proved.Methods)
			return "", err
		})
	switch {
	case errors.Is(err, errNoUserVerification):
		refuse(user.ID, http.StatusUnauthorized, &keyRefusal{"no_user_verification", msgPasskeyNoUV})
		return
	case errors.Is(err, errMalformedAnswer):
		refuse(user.ID, http.StatusBadRequest, &keyRefusal{"malformed", msgKeyMalformed})
		return
	case err != nil:
		u.serverError(w, r, "checking the passkey failed", err)
		return
	}
	u.countProof(proofSignIn, mfa.FactorWebAuthn, res)
	switch {
	case res.Accepted():
		u.setSessionCookie(w, cookie)
		http.Redirect(w, r, dispatcherURL(a.ID), http.StatusSeeOther)
	case res.Lock.Locked():
		res.Lock.answer(w, time.Now())
		page.Error = res.Lock.Message()
		u.renderPassword(w, r, http.StatusTooManyRequests, page)
	default:
		page.Error = refusalMessage(res.Refusal, proofSignIn, mfa.FactorWebAuthn)
		u.renderPassword(w, r, http.StatusUnauthorized, page)
	}
}

// startPasskeySession replaces the browser's session, in tx, with one for
// user proved by a passkey now (methods, such as swk and user), and returns
// the new cookie value.
func (u *UI) startPasskeySession(tx *storage.Store, r *http.Request, a *storage.AuthRequest, user *storage.User, methods []mfa.AMR) (string, error) {
	ctx := r.Context()
	secret, digest := storage.NewSecret()
	now := time.Now()
	s := &storage.Session{
		IDHash:    digest,
		UserID:    user.ID,
		AuthTime:  now,
		AMR:       storage.StringList(mfa.WithFactor(nil, methods...)),
		MFATime:   &now,
		ExpiresAt: now.Add(u.cfg.SessionMax),
		UserAgent: directory.CleanUserAgent(r.UserAgent()),
		IP:        actor(r, "", "").IP,
	}
	if old := u.cookieHash(r); old != nil {
		if err := tx.Sessions().Delete(ctx, old); err != nil {
			return "", err
		}
	}
	if err := tx.Sessions().Create(ctx, s); err != nil {
		return "", err
	}
	if err := tx.Users().SignedIn(ctx, user.ID, now); err != nil {
		return "", err
	}
	return secret, directory.Record(ctx, tx, actor(r, user.ID, a.ClientID), directory.Event{Type: directory.EventPasskeyOK, SubjectID: user.ID})
}
