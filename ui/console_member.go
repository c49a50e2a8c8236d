package ui

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/mfa/recovery"
	"github.com/gatehouse-id/gatehouse/storage"
)

// memberPage is /orgs/{slug}/members/{id}: one member, and how the admin
// may help them.
type memberPage struct {
	consolePage
	Member memberView
	ID     string
	// Refusal says why this admin may not help; "" when they may.
	Refusal string
	Done    string
}

// RoleAction and RemoveAction are where the membership forms post.
func (p memberPage) RoleAction() string   { return memberURL(p.Slug, p.ID) + "/role" }
func (p memberPage) RemoveAction() string { return memberURL(p.Slug, p.ID) + "/remove" }

// Roles are the roles the role form offers.
func (p memberPage) Roles() []string {
	return []string{storage.RoleOwner, storage.RoleAdmin, storage.RoleMember}
}

// PassAction is where the temporary access pass form posts.
func (p memberPage) PassAction() string {
	return "/orgs/" + url.PathEscape(p.Slug) + "/members/" + url.PathEscape(p.ID) + "/access-pass"
}

// ResetAction is where the reset form posts.
func (p memberPage) ResetAction() string {
	return "/orgs/" + url.PathEscape(p.Slug) + "/members/" + url.PathEscape(p.ID) + "/reset-mfa"
}

func memberURL(slug, id string) string {
	return "/orgs/" + url.PathEscape(slug) + "/members/" + url.PathEscape(id)
}

// consoleMember loads the member in the address, or shows 404 and returns nil.
func (u *UI) consoleMember(w http.ResponseWriter, r *http.Request, c *console) *storage.MemberRow {
	id := chi.URLParam(r, "member")
	if !plausibleID(id) {
		u.renderError(w, r, errNotFound)
		return nil
	}
	rows, err := u.store.Orgs().MemberRow(r.Context(), c.org.ID, id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		u.renderError(w, r, errNotFound)
		return nil
	case err != nil:
		u.serverError(w, r, "loading the member failed", err)
		return nil
	}
	return rows
}

// memberChange loads what a change to a member (a POST) works on: the
// form, the console with a recent sign-in, and the member in the address.
// Otherwise it answers and returns nil.
func (u *UI) memberChange(w http.ResponseWriter, r *http.Request) (*console, *storage.MemberRow) {
	if !u.parseForm(w, r) {
		return nil, nil
	}
	c := u.requireConsole(w, r, true)
	if c == nil {
		return nil, nil
	}
	return c, u.consoleMember(w, r, c)
}

// showMember is GET /orgs/{slug}/members/{member}.
func (u *UI) showMember(w http.ResponseWriter, r *http.Request) {
	c := u.requireConsole(w, r, false)
	if c == nil {
		return
	}
	row := u.consoleMember(w, r, c)
	if row == nil {
		return
	}
	views, err := u.memberViews(r, c.org, []storage.MemberRow{*row}, u.cfg.Now())
	if err != nil {
		u.serverError(w, r, "loading the member's factors failed", err)
		return
	}
	p := memberPage{consolePage: u.consolePage(r, c, "members"), Member: views[0], ID: row.UserID}
	switch r.URL.Query().Get("done") {
	case "reset":
		p.Done = "Two-step verification was reset. " + row.Email + " was signed out everywhere and mailed a link to set up a new second factor."
	case "role":
		p.Done = "The role was changed."
	}
	var refused *directory.HelpRefusedError
	switch err := u.dir.MayHelp(r.Context(), actor(r, c.user.ID, AccountClientID), c.org.ID, row.UserID); {
	case errors.As(err, &refused):
		p.Refusal = "You cannot reset this member's two-step verification: " + refused.Reason + ". Ask an operator."
	case err != nil:
		u.serverError(w, r, "checking who may help the member failed", err)
		return
	}
	u.render(w, r, http.StatusOK, consoleMemberTemplate, p)
}

// resetMember is POST /orgs/{slug}/members/{member}/reset-mfa: the last
// resort for a member who lost their factor. It needs a sign-in with the
// admin's own second factor in the last ten minutes.
func (u *UI) resetMember(w http.ResponseWriter, r *http.Request) {
	c, row := u.memberChange(w, r)
	if row == nil {
		return
	}
	_, err := u.dir.AdminResetFactors(r.Context(), actor(r, c.user.ID, AccountClientID), c.org.Slug, row.UserID)
	var refused *directory.HelpRefusedError
	switch {
	case errors.As(err, &refused):
		u.renderError(w, r, pageError{http.StatusForbidden, "Ask an operator", "You cannot reset this member's two-step verification: " + refused.Reason + "."})
	case errors.Is(err, directory.ErrNotMember):
		u.renderError(w, r, errNotFound)
	case err != nil:
		u.serverError(w, r, "resetting a member's second factors failed", err)
	default:
		http.Redirect(w, r, memberURL(c.org.Slug, row.UserID)+"?done=reset", http.StatusSeeOther)
	}
}

// passTTLs are the lifetimes the pass form offers, the first the default.
var passTTLs = []time.Duration{time.Hour, 4 * time.Hour, 8 * time.Hour, 24 * time.Hour}

// issueAccessPass is POST /orgs/{slug}/members/{member}/access-pass: a
// temporary access pass for a member who lost their factor, shown once.
// It needs the admin's own recent sign-in with a second factor.
func (u *UI) issueAccessPass(w http.ResponseWriter, r *http.Request) {
	c, row := u.memberChange(w, r)
	if row == nil {
		return
	}
	ttl, err := time.ParseDuration(r.PostForm.Get("ttl"))
	if r.PostForm.Get("ttl") == "" {
		ttl, err = directory.DefaultAccessPassTTL, nil
	}
	if err != nil || !slices.Contains(passTTLs, ttl) {
		u.renderError(w, r, errBadForm)
		return
	}
	if len(u.cfg.AccessPassKey) != 32 {
		u.serverError(w, r, "the access pass key is not configured", errors.New("ui: Config.AccessPassKey must be 32 bytes"))
		return
	}
	passes, err := recovery.Generate(1)
	if err != nil {
		u.serverError(w, r, "making an access pass failed", err)
		return
	}
	expires, err := u.dir.IssueAccessPass(r.Context(), actor(r, c.user.ID, AccountClientID), c.org.Slug, row.UserID,
		recovery.Hash(u.cfg.AccessPassKey, passes[0]), ttl)
	var refused *directory.HelpRefusedError
	switch {
	case errors.As(err, &refused):
		u.renderError(w, r, pageError{http.StatusForbidden, "Ask an operator", "You cannot give this member a temporary access pass: " + refused.Reason + "."})
		return
	case errors.Is(err, directory.ErrNotMember):
		u.renderError(w, r, errNotFound)
		return
	case err != nil:
		u.serverError(w, r, "issuing an access pass failed", err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	u.render(w, r, http.StatusOK, consolePassTemplate, passPage{consolePage: u.consolePage(r, c, "members"), Email: row.Email,
		Pass: passes[0], Expires: expires.UTC().Format("15:04 UTC on 2 January 2006"), Back: memberURL(c.org.Slug, row.UserID)})
}

// passPage shows a new temporary access pass, once.
type passPage struct {
	consolePage
	Email, Pass, Expires, Back string
}

// membershipRefusal is the page for a membership change the directory refused.
func (u *UI) membershipRefusal(w http.ResponseWriter, r *http.Request, err error) bool {
	switch {
	case errors.Is(err, directory.ErrOwnersOnly):
		u.renderError(w, r, pageError{http.StatusForbidden, "Only an owner can do that", "Only an owner may make an owner, or change or remove one."})
	case errors.Is(err, directory.ErrLastOwner):
		u.renderError(w, r, pageError{http.StatusConflict, "The organisation needs an owner", "This is its last owner. Make another member an owner first."})
	case errors.Is(err, directory.ErrNotMember):
		u.renderError(w, r, errNotFound)
	default:
		var invalid *directory.InvalidError
		if !errors.As(err, &invalid) {
			return false
		}
		u.renderError(w, r, errBadForm)
	}
	return true
}

// setMemberRole is POST /orgs/{slug}/members/{member}/role.
func (u *UI) setMemberRole(w http.ResponseWriter, r *http.Request) {
	c, row := u.memberChange(w, r)
	if row == nil {
		return
	}
	_, err := u.dir.SetRole(r.Context(), actor(r, c.user.ID, AccountClientID), c.org.Slug, row.Email, r.PostForm.Get("role"))
	switch {
	case err == nil:
		http.Redirect(w, r, memberURL(c.org.Slug, row.UserID)+"?done=role", http.StatusSeeOther)
	case !u.membershipRefusal(w, r, err):
		u.serverError(w, r, "changing a member's role failed", err)
	}
}

// removeMember is POST /orgs/{slug}/members/{member}/remove.
func (u *UI) removeMember(w http.ResponseWriter, r *http.Request) {
	c, row := u.memberChange(w, r)
	if row == nil {
		return
	}
	_, err := u.dir.RemoveMember(r.Context(), actor(r, c.user.ID, AccountClientID), c.org.Slug, row.Email)
	switch {
	case err == nil && row.UserID == c.user.ID:
		http.Redirect(w, r, accountHome, http.StatusSeeOther)
	case err == nil:
		http.Redirect(w, r, "/orgs/"+url.PathEscape(c.org.Slug)+"/members", http.StatusSeeOther)
	case !u.membershipRefusal(w, r, err):
		u.serverError(w, r, "removing a member failed", err)
	}
}
