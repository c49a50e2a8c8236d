package ui

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/mfa/webauthn"
	"github.com/gatehouse-id/gatehouse/storage"
)

// keyAddPage registers a security key or passkey, on the account pages or
// during a sign-in (RequestID set).
type keyAddPage struct {
	layout
	Action     string
	RequestID  string
	ClientName string
	BackURL    string
	Ceremony   keyCeremony
	Name       string
	Error      string
}

// keyAdding is one place a key is added: the account pages or a sign-in.
type keyAdding struct {
	bs        *browserSession
	factors   []storage.Factor // the user's confirmed ones
	requestID string           // "" on the account pages
	client    *storage.Client  // the application signing in, or nil
}

func (k keyAdding) clientID() string {
	if k.client != nil {
		return k.client.ID
	}
	return AccountClientID
}

func (k keyAdding) page() keyAddPage {
	if k.requestID == "" {
		return keyAddPage{Action: "/account/security/keys/add", BackURL: accountHome}
	}
	return keyAddPage{Action: "/login/enroll/key", RequestID: k.requestID, ClientName: k.client.Name, BackURL: enrollStepURL(k.requestID)}
}

// renderKeyAdd shows the registration with a new challenge, which
// excludes the keys the user has so that none is added twice.
func (u *UI) renderKeyAdd(w http.ResponseWriter, r *http.Request, status int, k keyAdding, name, msg string) {
	user := k.bs.user
	c, err := u.keys.RP.BeginRegistration(keyUser(user, k.factors))
	if err != nil {
		u.serverError(w, r, "starting a key registration failed", err)
		return
	}
	uid := user.ID
	kc, err := u.beginCeremony(r.Context(), webauthn.PurposeRegister, &uid, k.requestID, c)
	if err != nil {
		u.serverError(w, r, "storing a key registration's challenge failed", err)
		return
	}
	p := k.page()
	p.layout, p.Ceremony, p.Name, p.Error = u.keyLayout(r), kc, name, msg
	u.render(w, r, status, keyAddTemplate, p)
}

// finishKeyAdd verifies the posted registration and stores the key, then
// shows the recovery codes if it is the user's first factor, or goes on.
// Refusals are recorded and shown with a new challenge; nothing is stored.
func (u *UI) finishKeyAdd(w http.ResponseWriter, r *http.Request, k keyAdding, next string) {
	ctx := r.Context()
	user := k.bs.user
	typed := r.PostForm.Get("name")
	refuse := func(status int, ref *keyRefusal) {
		if err := u.recordKeyRefusal(ctx, r, user.ID, k.clientID(), webauthn.PurposeRegister, ref); err != nil {
			u.serverError(w, r, "recording a refused key failed", err)
			return
		}
		u.renderKeyAdd(w, r, status, k, typed, ref.message)
	}
	uid := user.ID
	c, resp, ref, err := u.keyAnswer(ctx, r, webauthn.PurposeRegister, &uid, k.requestID)
	if err != nil {
		u.serverError(w, r, "taking a key registration's challenge failed", err)
		return
	}
	if ref != nil {
		refuse(http.StatusBadRequest, ref)
		return
	}
	key, err := u.keys.RP.FinishRegistration(keyUser(user, k.factors), c.State, resp)
	if err != nil {
		refuse(http.StatusBadRequest, &keyRefusal{"registration_refused: " + err.Error(), msgKeyNotAdded})
		return
	}
	name, problem := keyName(typed, key.Synced)
	if problem != "" {
		u.renderKeyAdd(w, r, http.StatusBadRequest, k, typed, problem)
		return
	}
	codes, hashes, err := u.codesForNewFactor(k.factors)
	if err != nil {
		u.serverError(w, r, "making recovery codes failed", err)
		return
	}
	f := &storage.Factor{ID: storage.NewFactorID(), Name: name, CredentialID: key.CredentialID, Credential: key.Record, LastUsedStep: key.Counter}
	err = u.dir.AddKey(ctx, actor(r, user.ID, k.clientID()), user, f, hashes, k.bs.grant)
	switch {
	case errors.Is(err, directory.ErrHasFactor):
		refuse(http.StatusConflict, &keyRefusal{"key_registered_already", msgKeyRegistered})
		return
	case errors.Is(err, directory.ErrGrantNeeded):
		u.renderReenroll(w, r, http.StatusForbidden, user, buttonForm{Action: accountReenrollPath}, "", "")
		return
	case err != nil:
		u.serverError(w, r, "adding the security key failed", err)
		return
	}
	u.metrics.enrolled(mfa.FactorWebAuthn)
	if codes == nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	u.renderRecoveryCodes(w, r, recoveryCodesPage{Codes: codes, ContinueURL: next, InSignIn: k.requestID != ""})
}

// codesForNewFactor makes recovery codes when the user has no factor yet
// (fs): the first factor a user adds, whatever its kind, issues them. Nil
// when the user has codes already.
func (u *UI) codesForNewFactor(fs []storage.Factor) ([]string, [][]byte, error) {
	if len(fs) > 0 {
		return nil, nil, nil
	}
	return u.newRecoveryCodes()
}

// --- During a sign-in ---

// showSignInKeyEnrollment is GET /login/enroll/key?id=ID.
func (u *UI) showSignInKeyEnrollment(w http.ResponseWriter, r *http.Request) {
	s, k := u.signInKeyAdding(w, r, r.URL.Query().Get("id"))
	if s == nil {
		return
	}
	u.renderKeyAdd(w, r, http.StatusOK, k, "", "")
}

// finishSignInKeyEnrollment is POST /login/enroll/key. The sign-in then
// asks for the new key, whose registration proved nothing by itself.
func (u *UI) finishSignInKeyEnrollment(w http.ResponseWriter, r *http.Request) {
	if !u.parseForm(w, r) {
		return
	}
	s, k := u.signInKeyAdding(w, r, r.PostForm.Get("id"))
	if s == nil {
		return
	}
	u.finishKeyAdd(w, r, k, dispatcherURL(s.req.ID))
}

func (u *UI) signInKeyAdding(w http.ResponseWriter, r *http.Request, id string) (*signInEnrollment, keyAdding) {
	s := u.signInEnrollerFor(w, r, id, mfa.FactorWebAuthn, false)
	if s == nil {
		return nil, keyAdding{}
	}
	fs, err := u.store.Factors().Confirmed(r.Context(), s.bs.user.ID)
	if err != nil {
		u.serverError(w, r, "loading the factors failed", err)
		return nil, keyAdding{}
	}
	return s, keyAdding{bs: s.bs, factors: fs, requestID: s.req.ID, client: s.client}
}

// --- On the account pages ---

// keyRow is a security key as the settings list it.
type keyRow struct {
	ID, Name string
	Synced   bool
	*factorSummary
}

// Kind says what the key is, in words.
func (k keyRow) Kind() string {
	if k.Synced {
		return "Synced passkey"
	}
	return "Security key"
}

func keyRows(fs []storage.Factor) []keyRow {
	var rows []keyRow
	for i := range fs {
		if fs[i].Kind == mfa.FactorWebAuthn {
			rows = append(rows, keyRow{ID: fs[i].ID, Name: fs[i].Name, Synced: webauthn.Synced(fs[i].Credential), factorSummary: summarize(&fs[i])})
		}
	}
	return rows
}

// accountKeyAdding is the account's key registration, for a session that
// signed in recently and may add a factor.
func (u *UI) accountKeyAdding(w http.ResponseWriter, r *http.Request) (keyAdding, bool) {
	a := u.requireAccount(w, r, "/account/security/keys/add", true)
	if a == nil || !u.mayEnroll(w, r, a.user) {
		return keyAdding{}, false
	}
	return keyAdding{bs: a.browserSession, factors: a.factors}, true
}

// showAccountKeyAdd is GET /account/security/keys/add.
func (u *UI) showAccountKeyAdd(w http.ResponseWriter, r *http.Request) {
	if k, ok := u.accountKeyAdding(w, r); ok {
		u.renderKeyAdd(w, r, http.StatusOK, k, "", "")
	}
}

// finishAccountKeyAdd is POST /account/security/keys/add.
func (u *UI) finishAccountKeyAdd(w http.ResponseWriter, r *http.Request) {
	if !u.parseForm(w, r) {
		return
	}
	if k, ok := u.accountKeyAdding(w, r); ok {
		u.finishKeyAdd(w, r, k, accountHome+"?done=key-added")
	}
}

// accountKey loads the session for a change to one of its user's keys
// (the form's "key"), which needs a second factor proved in the last ten
// minutes (NIST SP 800-63B §4.2.3); without one the browser signs in again
// and comes back to returnTo.
func (u *UI) accountKey(w http.ResponseWriter, r *http.Request, id, returnTo string) (*accountSession, *storage.Factor) {
	a := u.requireAccount(w, r, returnTo, true)
	if a == nil {
		return nil, nil
	}
	f := a.key(id)
	if f == nil {
		u.renderError(w, r, errNoKey)
		return nil, nil
	}
	if !u.recentFactor(w, r, a, returnTo) {
		return nil, nil
	}
	return a, f
}

// recentFactor reports whether a's session proved a second factor in the
// last ten minutes; if not, the browser signs in again, back to returnTo.
func (u *UI) recentFactor(w http.ResponseWriter, r *http.Request, a *accountSession, returnTo string) bool {
	if mt := a.session.MFATime; mt == nil || time.Since(*mt) > recentSignIn {
		u.redirectToSignIn(w, r, returnTo, true, a.user.Email)
		return false
	}
	return true
}

// key is the user's security key with this id, or nil.
func (a *accountSession) key(id string) *storage.Factor {
	for i := range a.factors {
		if a.factors[i].Kind == mfa.FactorWebAuthn && a.factors[i].ID == id {
			return &a.factors[i]
		}
	}
	return nil
}

var errNoKey = pageError{http.StatusNotFound, "No such security key",
	"It may have been removed already. Go back to your security settings to see your keys."}

// keyRemovePage confirms removing a key, or says why it must stay.
type keyRemovePage struct {
	layout
	KeyID, Name string
	Last        bool // the user's last factor
	Refusal     string
}

// thisKey is how the refusals name a key.
const thisKey = "this key"

// showKeyRemove is GET /account/security/keys/remove?key=ID.
func (u *UI) showKeyRemove(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("key")
	a, f := u.accountKey(w, r, id, "/account/security/keys/remove?key="+url.QueryEscape(id))
	if a == nil {
		return
	}
	last, refusal := a.removal(f, thisKey)
	u.render(w, r, http.StatusOK, keyRemoveTemplate, keyRemovePage{layout: u.layout(r), KeyID: f.ID, Name: f.Name, Last: last, Refusal: refusal})
}

// removeKey is POST /account/security/keys/remove.
func (u *UI) removeKey(w http.ResponseWriter, r *http.Request) {
	if !u.parseForm(w, r) {
		return
	}
	id := r.PostForm.Get("key")
	a, f := u.accountKey(w, r, id, "/account/security/keys/remove?key="+url.QueryEscape(id))
	if a == nil {
		return
	}
	err := u.dir.RemoveFactor(r.Context(), actor(r, a.user.ID, AccountClientID), a.user, f)
	var required *directory.FactorRequiredError
	switch {
	case errors.As(err, &required):
		p := keyRemovePage{layout: u.layout(r), KeyID: f.ID, Name: f.Name, Refusal: removalRefusal(required.Orgs, thisKey)}
		u.render(w, r, http.StatusForbidden, keyRemoveTemplate, p)
	case errors.Is(err, directory.ErrNoFactor):
		u.renderError(w, r, errNoKey)
	case err != nil:
		u.serverError(w, r, "removing the security key failed", err)
	default:
		http.Redirect(w, r, accountHome+"?done=key-removed", http.StatusSeeOther)
	}
}

// renameKey is POST /account/security/keys/rename: a new name for a key.
func (u *UI) renameKey(w http.ResponseWriter, r *http.Request) {
	if !u.parseForm(w, r) {
		return
	}
	a := u.requireAccount(w, r, accountHome, true)
	if a == nil {
		return
	}
	f := a.key(r.PostForm.Get("key"))
	if f == nil {
		u.renderError(w, r, errNoKey)
		return
	}
	name, problem := keyName(r.PostForm.Get("name"), webauthn.Synced(f.Credential))
	if problem != "" {
		u.renderError(w, r, pageError{http.StatusBadRequest, "That name does not work", problem})
		return
	}
	switch err := u.dir.RenameFactor(r.Context(), actor(r, a.user.ID, AccountClientID), a.user, f.ID, name); {
	case errors.Is(err, directory.ErrNoFactor):
		u.renderError(w, r, errNoKey)
	case err != nil:
		u.serverError(w, r, "renaming the security key failed", err)
	default:
		http.Redirect(w, r, accountHome+"?done=key-renamed", http.StatusSeeOther)
	}
}
