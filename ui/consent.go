package ui

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/storage"
)

// consentURL is the consent step of a sign-in.
func consentURL(id string) string { return "/login/consent?id=" + url.QueryEscape(id) }

// scopeWords say what each scope lets the application do.
var scopeWords = map[string]string{
	"openid":         "Know who you are",
	"email":          "See your email address",
	"profile":        "See your name",
	"offline_access": "Stay signed in and act for you while you are away",
	// The admin API's scope (see package adminapi).
	"gatehouse:admin": "Manage the organisations you administer: members, policy, passes and resets",
}

// consentPage asks the user to allow what the client asks.
type consentPage struct {
	layout
	ID, ClientName, Email string
	Scopes                []string
}

func (u *UI) renderConsent(w http.ResponseWriter, r *http.Request, p consentPage) {
	p.layout = u.layout(r)
	u.render(w, r, http.StatusOK, consentTemplate, p)
}

// showConsent is GET /login/consent?id=ID.
func (u *UI) showConsent(w http.ResponseWriter, r *http.Request) {
	a, s := u.stepFor(w, r, r.URL.Query().Get("id"), mfa.NeedConsent)
	if a == nil {
		return
	}
	p := consentPage{ID: a.ID, ClientName: s.client.Name, Email: s.session.user.Email}
	for _, scope := range a.Scopes {
		if words, ok := scopeWords[scope]; ok {
			p.Scopes = append(p.Scopes, words)
		} else {
			p.Scopes = append(p.Scopes, "Use "+scope)
		}
	}
	u.renderConsent(w, r, p)
}

// submitConsent is POST /login/consent: Allow records the consent (and,
// for a client that asks once, remembers it); Cancel ends the sign-in with
// access_denied for the client.
func (u *UI) submitConsent(w http.ResponseWriter, r *http.Request) {
	if !u.parseForm(w, r) {
		return
	}
	a, s := u.stepFor(w, r, r.PostForm.Get("id"), mfa.NeedConsent)
	if a == nil {
		return
	}
	ctx := r.Context()
	var err error
	switch r.PostForm.Get("decision") {
	case "allow":
		err = u.store.InTx(ctx, func(tx *storage.Store) error {
			if err := tx.AuthRequests().GiveConsent(ctx, a.ID); err != nil {
				return err
			}
			if !s.client.RequireConsent {
				return nil
			}
			return tx.Consents().Grant(ctx, s.session.user.ID, s.client.ID, a.Scopes)
		})
	case "deny":
		err = u.store.AuthRequests().Fail(ctx, a.ID, mfa.AccessDenied, "The user did not allow the application's request.")
	default:
		u.renderError(w, r, errBadForm)
		return
	}
	switch {
	case errors.Is(err, storage.ErrNotFound):
		u.renderError(w, r, errFinishedRequest)
	case err != nil:
		u.serverError(w, r, "recording the consent failed", err)
	default:
		http.Redirect(w, r, dispatcherURL(a.ID), http.StatusSeeOther)
	}
}

// consentRow is a remembered consent as the account page lists it.
type consentRow struct {
	ClientID, ClientName, GrantedOn string
}

var errNoConsent = pageError{http.StatusNotFound, "That application is not in your list",
	"Go back to your security settings to see the applications you allowed."}

// revokeConsent is POST /account/security/consents/revoke: the application
// asks again at the next sign-in.
func (u *UI) revokeConsent(w http.ResponseWriter, r *http.Request) {
	if !u.parseForm(w, r) {
		return
	}
	a := u.requireAccount(w, r, accountHome, false)
	if a == nil {
		return
	}
	clientID := r.PostForm.Get("client")
	if !plausibleID(clientID) {
		u.renderError(w, r, errNoConsent)
		return
	}
	err := u.store.Consents().Revoke(r.Context(), a.user.ID, clientID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		u.renderError(w, r, errNoConsent)
	case err != nil:
		u.serverError(w, r, "revoking a consent failed", err)
	default:
		http.Redirect(w, r, accountHome+"?done=consent", http.StatusSeeOther)
	}
}
