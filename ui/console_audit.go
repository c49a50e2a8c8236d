package ui

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gatehouse-id/gatehouse/storage"
)

// auditPerPage is how many events a page of the audit log shows.
const auditPerPage = 50

// auditQuery is the audit log's filters, from the address.
type auditQuery struct {
	Type, Member string // an event type; a member's email
	Before       int64  // the cursor: the last event id of the previous page
}

// parseAuditQuery reads the filters, refusing anything it does not know.
func parseAuditQuery(q url.Values) (auditQuery, bool) {
	a := auditQuery{Type: q.Get("type"), Member: strings.TrimSpace(q.Get("member"))}
	if len(a.Type) > 64 || strings.ContainsFunc(a.Type, func(r rune) bool { return !(r == '.' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') }) {
		return a, false
	}
	if len(a.Member) > 254 || !utf8.ValidString(a.Member) || strings.ContainsFunc(a.Member, unicode.IsControl) {
		return a, false
	}
	if v := q.Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return a, false
		}
		a.Before = n
	}
	return a, true
}

func (a auditQuery) with(slug string, before int64) string {
	q := url.Values{}
	if a.Type != "" {
		q.Set("type", a.Type)
	}
	if a.Member != "" {
		q.Set("member", a.Member)
	}
	if before > 0 {
		q.Set("before", strconv.FormatInt(before, 10))
	}
	path := "/orgs/" + url.PathEscape(slug) + "/audit"
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// auditRow is one event as the console shows it.
type auditRow struct {
	Time, Type, Actor, Subject, IP, Details string
}

// auditPage is /orgs/{slug}/audit.
type auditPage struct {
	consolePage
	Query           auditQuery
	Events          []auditRow
	NextURL, CSVURL string
}

// auditEvents loads a page of the organisation's events for q, with the
// actors and subjects named by email; found is false for a member filter
// that names nobody in the organisation.
func (u *UI) auditEvents(r *http.Request, c *console, q auditQuery, limit int) (rows []auditRow, events []storage.AuditEvent, found bool, err error) {
	ctx := r.Context()
	f := storage.AuditFilter{OrgID: c.org.ID, Type: q.Type, BeforeID: q.Before, Limit: limit}
	if q.Member != "" {
		user, err := u.store.Users().GetByEmail(ctx, q.Member)
		if err != nil {
			return nil, nil, false, nil
		}
		if _, err := u.store.Orgs().Member(ctx, c.org.ID, user.ID); err != nil {
			return nil, nil, false, nil
		}
		f.SubjectID = user.ID
	}
	if events, err = u.store.Audit().List(ctx, f); err != nil {
		return nil, nil, true, err
	}
	var ids []string
	for _, e := range events {
		ids = append(ids, e.ActorID, e.SubjectID)
	}
	emails, err := u.store.Users().Emails(ctx, ids)
	if err != nil {
		return nil, nil, true, err
	}
	name := func(id string) string {
		switch {
		case id == "":
			return "—"
		case id == "cli":
			return "an operator (command line)"
		case emails[id] != "":
			return emails[id]
		}
		return "a deleted user"
	}
	for _, e := range events {
		rows = append(rows, auditRow{Time: e.CreatedAt.UTC().Format("2006-01-02 15:04:05 UTC"), Type: e.Type,
			Actor: name(e.ActorID), Subject: name(e.SubjectID), IP: e.IP, Details: e.Details})
	}
	return rows, events, true, nil
}

// showAudit is GET /orgs/{slug}/audit: the organisation's audit log,
// newest first, 50 a page, by event type and by member.
func (u *UI) showAudit(w http.ResponseWriter, r *http.Request) {
	c := u.requireConsole(w, r, false)
	if c == nil {
		return
	}
	q, ok := parseAuditQuery(r.URL.Query())
	if !ok {
		u.renderError(w, r, errBadFilter)
		return
	}
	rows, events, found, err := u.auditEvents(r, c, q, auditPerPage+1)
	if err != nil {
		u.serverError(w, r, "listing the audit log failed", err)
		return
	}
	p := auditPage{consolePage: u.consolePage(r, c, "audit"), Query: q,
		CSVURL: strings.Replace(auditQuery{Type: q.Type, Member: q.Member}.with(c.org.Slug, 0), "/audit", "/audit.csv", 1)}
	if !found {
		u.render(w, r, http.StatusOK, consoleAuditTemplate, p)
		return
	}
	if len(rows) > auditPerPage {
		rows = rows[:auditPerPage]
		p.NextURL = q.with(c.org.Slug, events[auditPerPage-1].ID)
	}
	p.Events = rows
	u.render(w, r, http.StatusOK, consoleAuditTemplate, p)
}

// exportAudit is GET /orgs/{slug}/audit.csv: the filtered log as CSV, the
// newest 5,000 events at most, cells defused as the members' export.
func (u *UI) exportAudit(w http.ResponseWriter, r *http.Request) {
	c := u.requireConsole(w, r, false)
	if c == nil {
		return
	}
	q, ok := parseAuditQuery(r.URL.Query())
	if !ok || q.Before != 0 {
		u.renderError(w, r, errBadFilter)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-audit.csv"`, c.org.Slug))
	h.Set("Cache-Control", "no-store")
	out := csv.NewWriter(w)
	out.Write([]string{"time", "event", "actor", "subject", "ip", "details"})
	for page := 0; page < 10; page++ {
		rows, events, found, err := u.auditEvents(r, c, q, 500)
		if err != nil {
			u.log.ErrorContext(r.Context(), "exporting the audit log failed", "error", err.Error())
			break
		}
		for _, row := range rows {
			out.Write(csvSafe(row.Time, row.Type, row.Actor, row.Subject, row.IP, row.Details))
		}
		if !found || len(events) < 500 {
			break
		}
		q.Before = events[len(events)-1].ID
	}
	out.Flush()
}
