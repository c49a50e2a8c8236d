package ui

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/storage"
)

// selectAccountURL is the account choice of a sign-in (prompt=select_account).
func selectAccountURL(id string) string { return "/login/select?id=" + url.QueryEscape(id) }

// selectAccountPage offers the signed-in account or another one.
type selectAccountPage struct {
	layout
	ID, ClientName, Email string
}

// showSelectAccount is GET /login/select?id=ID.
func (u *UI) showSelectAccount(w http.ResponseWriter, r *http.Request) {
	a, s := u.stepFor(w, r, r.URL.Query().Get("id"), mfa.NeedAccountChoice)
	if a == nil {
		return
	}
	u.renderSelectAccount(w, r, selectAccountPage{ID: a.ID, ClientName: s.client.Name, Email: s.session.user.Email})
}

func (u *UI) renderSelectAccount(w http.ResponseWriter, r *http.Request, p selectAccountPage) {
	p.layout = u.layout(r)
	u.render(w, r, http.StatusOK, selectAccountTemplate, p)
}

// submitSelectAccount is POST /login/select: continue as the signed-in user,
// or sign in as another (the password step, with an empty form).
func (u *UI) submitSelectAccount(w http.ResponseWriter, r *http.Request) {
	if !u.parseForm(w, r) {
		return
	}
	a, _ := u.stepFor(w, r, r.PostForm.Get("id"), mfa.NeedAccountChoice)
	if a == nil {
		return
	}
	switch r.PostForm.Get("choice") {
	case "continue":
		err := u.store.AuthRequests().ChooseAccount(r.Context(), a.ID)
		if errors.Is(err, storage.ErrNotFound) {
			u.renderError(w, r, errFinishedRequest)
			return
		}
		if err != nil {
			u.serverError(w, r, "recording the account choice failed", err)
			return
		}
		http.Redirect(w, r, dispatcherURL(a.ID), http.StatusSeeOther)
	case "other":
		http.Redirect(w, r, passwordURL(a.ID)+"&another=1", http.StatusSeeOther)
	default:
		u.renderError(w, r, errBadForm)
	}
}
