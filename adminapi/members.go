package adminapi

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/go-chi/chi/v5"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/storage"
)

// member loads the member in the address, or answers 404 and returns nil.
func (a *API) member(w http.ResponseWriter, r *http.Request, c *caller) *storage.MemberRow {
	id := chi.URLParam(r, "member")
	if id == "" || !plain(id, 64) {
		writeProblem(w, http.StatusNotFound, "Not Found", "No such member.", "member")
		return nil
	}
	row, err := a.store.Orgs().MemberRow(r.Context(), c.org.ID, id)
	if errors.Is(err, storage.ErrNotFound) {
		writeProblem(w, http.StatusNotFound, "Not Found", "No such member.", "member")
		return nil
	}
	if err != nil {
		a.serverError(w, r, "loading a member failed", err)
		return nil
	}
	return row
}

// memberChange authorises a change to the member in the address and
// loads them, or answers and returns nil.
func (a *API) memberChange(w http.ResponseWriter, r *http.Request) (*caller, *storage.MemberRow) {
	c := a.authorize(w, r, true)
	if c == nil {
		return nil, nil
	}
	return c, a.member(w, r, c)
}

// refused answers a refusal of the operations with its problem; false for
// any other error.
func refused(w http.ResponseWriter, err error) bool {
	var invalid *directory.InvalidError
	var help *directory.HelpRefusedError
	switch {
	case errors.As(err, &invalid):
		writeProblem(w, http.StatusBadRequest, "Bad Request", invalid.Field+" "+invalid.Message, invalid.Field)
	case errors.As(err, &help):
		writeProblem(w, http.StatusForbidden, "Forbidden", help.Error(), "")
	case errors.Is(err, directory.ErrOwnersOnly):
		writeProblem(w, http.StatusForbidden, "Forbidden", "Only an owner may make an owner, or change or remove one.", "role")
	case errors.Is(err, directory.ErrLastOwner):
		writeProblem(w, http.StatusConflict, "Conflict", "This is the organisation's last owner; make another member an owner first.", "")
	case errors.Is(err, directory.ErrAlreadyMember):
		writeProblem(w, http.StatusConflict, "Conflict", "Already a member.", "email")
	case errors.Is(err, directory.ErrNotMember):
		writeProblem(w, http.StatusNotFound, "Not Found", "No such member.", "member")
	default:
		return false
	}
	return true
}

type inviteBody struct {
	Email string `json:"email"`
	Role  string `json:"role"`
}

// invite is POST …/invitations: a mailed invitation to join.
func (a *API) invite(w http.ResponseWriter, r *http.Request) {
	c := a.authorize(w, r, true)
	if c == nil {
		return
	}
	var body inviteBody
	if !readJSON(w, r, &body) {
		return
	}
	err := a.dir.Invite(r.Context(), c.actor(r), c.org.Slug, body.Email, body.Role)
	switch {
	case err == nil:
		writeJSON(w, http.StatusAccepted, map[string]string{"email": storage.NormalizeEmail(body.Email), "role": body.Role})
	case !refused(w, err):
		a.serverError(w, r, "inviting failed", err)
	}
}

type roleBody struct {
	Role string `json:"role"`
}

// setRole is PUT …/members/{member}/role.
func (a *API) setRole(w http.ResponseWriter, r *http.Request) {
	c, row := a.memberChange(w, r)
	if row == nil {
		return
	}
	var body roleBody
	if !readJSON(w, r, &body) {
		return
	}
	_, err := a.dir.SetRole(r.Context(), c.actor(r), c.org.Slug, row.Email, body.Role)
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, map[string]string{"id": row.UserID, "role": body.Role})
	case !refused(w, err):
		a.serverError(w, r, "changing a role failed", err)
	}
}

// removeMember is DELETE …/members/{member}.
func (a *API) removeMember(w http.ResponseWriter, r *http.Request) {
	c, row := a.memberChange(w, r)
	if row == nil {
		return
	}
	_, err := a.dir.RemoveMember(r.Context(), c.actor(r), c.org.Slug, row.Email)
	switch {
	case err == nil:
		w.WriteHeader(http.StatusNoContent)
	case !refused(w, err):
		a.serverError(w, r, "removing a member failed", err)
	}
}

// resetMember is POST …/members/{member}/reset-mfa, the last resort.
func (a *API) resetMember(w http.ResponseWriter, r *http.Request) {
	c, row := a.memberChange(w, r)
	if row == nil {
		return
	}
	_, err := a.dir.AdminResetFactors(r.Context(), c.actor(r), c.org.Slug, row.UserID)
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, map[string]any{"id": row.UserID, "reset": true})
	case !refused(w, err):
		a.serverError(w, r, "resetting a member failed", err)
	}
}

type passRequest struct {
	// TTLSeconds is how long the pass works: 60 to 86400, default 3600.
	TTLSeconds *int64 `json:"ttl_seconds"`
}

type passBody struct {
	Pass      string    `json:"pass"`
	ExpiresAt time.Time `json:"expires_at"`
}

// issuePass is POST …/members/{member}/access-pass: a temporary access
// pass, in the answer only.
func (a *API) issuePass(w http.ResponseWriter, r *http.Request) {
	c, row := a.memberChange(w, r)
	if row == nil {
		return
	}
	body := passRequest{}
	if r.ContentLength != 0 && !readJSON(w, r, &body) {
		return
	}
	ttl := directory.DefaultAccessPassTTL
	if body.TTLSeconds != nil {
		ttl = time.Duration(*body.TTLSeconds) * time.Second
	}
	if a.passes == nil {
		a.serverError(w, r, "issuing a pass failed", errors.New("adminapi: no access pass maker configured"))
		return
	}
	pass, hash, err := a.passes()
	if err != nil {
		a.serverError(w, r, "making a pass failed", err)
		return
	}
	expires, err := a.dir.IssueAccessPass(r.Context(), c.actor(r), c.org.Slug, row.UserID, hash, ttl)
	var invalid *directory.InvalidError
	switch {
	case errors.As(err, &invalid):
		writeProblem(w, http.StatusBadRequest, "Bad Request", "ttl_seconds is from 60 to 86400.", "ttl_seconds")
	case err == nil:
		writeJSON(w, http.StatusCreated, passBody{Pass: pass, ExpiresAt: expires.UTC()})
	case !refused(w, err):
		a.serverError(w, r, "issuing a pass failed", err)
	}
}

type auditEvent struct {
	ID      int64          `json:"id"`
	Time    time.Time      `json:"time"`
	Type    string         `json:"type"`
	Actor   string         `json:"actor"`
	Client  string         `json:"client,omitempty"`
	Subject string         `json:"subject,omitempty"`
	IP      string         `json:"ip,omitempty"`
	Details map[string]any `json:"details"`
}

type auditBody struct {
	Events []auditEvent `json:"events"`
	Next   string       `json:"next"`
}

// audit is GET …/audit?type=&member=&cursor=&limit=: the organisation's
// events, newest first.
func (a *API) audit(w http.ResponseWriter, r *http.Request) {
	c := a.authorize(w, r, false)
	if c == nil {
		return
	}
	q := r.URL.Query()
	f := storage.AuditFilter{OrgID: c.org.ID, Type: q.Get("type"), SubjectID: q.Get("member"), Limit: 50}
	if len(f.Type) > 64 || strings.ContainsFunc(f.Type, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		writeProblem(w, http.StatusBadRequest, "Bad Request", "type is an event type, like mfa.reset.", "type")
		return
	}
	if !plain(f.SubjectID, 64) {
		writeProblem(w, http.StatusBadRequest, "Bad Request", "member is a member's id.", "member")
		return
	}
	var cursor string
	var ok bool
	if f.Limit, cursor, ok = page(w, q); !ok {
		return
	}
	if cursor != "" {
		n, err := strconv.ParseInt(cursor, 10, 64)
		if err != nil || n <= 0 {
			badCursor(w)
			return
		}
		f.BeforeID = n
	}
	limit := f.Limit
	f.Limit++
	es, err := a.store.Audit().List(r.Context(), f)
	if err != nil {
		a.serverError(w, r, "listing the audit log failed", err)
		return
	}
	out := auditBody{Events: []auditEvent{}}
	if len(es) > limit {
		es = es[:limit]
		out.Next = strconv.FormatInt(es[len(es)-1].ID, 10)
	}
	for _, e := range es {
		ev := auditEvent{ID: e.ID, Time: e.CreatedAt.UTC(), Type: e.Type, Actor: e.ActorID, Client: e.ClientID, Subject: e.SubjectID, IP: e.IP}
		if err := jsonObject(e.Details, &ev.Details); err != nil {
			a.serverError(w, r, "reading an audit event failed", err)
			return
		}
		out.Events = append(out.Events, ev)
	}
	writeJSON(w, http.StatusOK, out)
}
