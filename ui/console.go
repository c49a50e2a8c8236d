package ui

import (
	"encoding/base64"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/storage"
)

// membersPerPage is how many members a console page lists.
const membersPerPage = 50

// The console's refusals.
var (
	errConsoleForMembers = pageError{http.StatusForbidden, "Only owners and admins can open the console",
		"Ask an owner or admin of the organisation for what you need."}
	errConsoleNeedsFactor = pageError{http.StatusForbidden, "Set up two-step verification first",
		"Administrators must protect their own account before managing others. Add an authenticator app in your security settings, then come back."}
	errBadFilter = pageError{http.StatusBadRequest, "That list cannot be shown",
		"The address holds a filter or page that is not valid. Go back to the members list and choose again."}
)

// consoleRoutes mounts the organisation console at /orgs/{slug}.
func (u *UI) consoleRoutes(r chi.Router) {
	r.Get("/orgs/{slug}", u.showConsole)
	r.Get("/orgs/{slug}/members", u.showMembers)
	r.Get("/orgs/{slug}/members.csv", u.exportMembers)
	r.Get("/orgs/{slug}/members/{member}", u.showMember)
	r.Get("/orgs/{slug}/audit", u.showAudit)
	r.Get("/orgs/{slug}/policy", u.showPolicy)
	r.With(u.csrf.Handler).Post("/orgs/{slug}/policy", u.submitPolicy)
	r.Get("/orgs/{slug}/audit.csv", u.exportAudit)
	r.With(u.csrf.Handler).Post("/orgs/{slug}/members/{member}/reset-mfa", u.resetMember)
	r.With(u.csrf.Handler).Post("/orgs/{slug}/members/{member}/access-pass", u.issueAccessPass)
	r.With(u.csrf.Handler).Post("/orgs/{slug}/members/{member}/role", u.setMemberRole)
	r.With(u.csrf.Handler).Post("/orgs/{slug}/members/{member}/remove", u.removeMember)
	r.With(u.csrf.Handler).Post("/orgs/{slug}/invitations", u.inviteMember)
	r.Get("/orgs/{slug}/welcome", u.showWelcome)
	r.HandleFunc("/orgs/*", u.notFound)
}

// console is a signed-in owner or admin of an organisation.
type console struct {
	*accountSession
	org  *storage.Org
	role string
}

// requireConsole checks that the browser's user may open the console of
// the organisation in the address: an owner or admin of it (members get
// 403, anybody else the same 404 as an unknown organisation) with a
// second factor of their own. Without a complete sign-in it runs one.
//
// A change (change true) also needs a sign-in in the last ten minutes,
// which for an admin includes their second factor; otherwise the sign-in
// runs again and comes back to the page the change was made from.
func (u *UI) requireConsole(w http.ResponseWriter, r *http.Request, change bool) *console {
	returnTo := r.URL.RequestURI()
	if r.Method != http.MethodGet {
		returnTo = strings.TrimSuffix(r.URL.Path[:strings.LastIndex(r.URL.Path, "/")+1], "/")
	}
	a := u.requireAccount(w, r, returnTo, change)
	if a == nil {
		return nil
	}
	slug := chi.URLParam(r, "slug")
	for i := range a.memberships {
		if a.memberships[i].Slug != slug {
			continue
		}
		// The membership holds the organisation and its policy, read in this request.
		c := &console{accountSession: a, org: &a.memberships[i].Org, role: a.memberships[i].Role}
		switch {
		case c.role == storage.RoleMember:
			u.renderError(w, r, errConsoleForMembers)
			return nil
		case len(a.factors) == 0:
			u.renderError(w, r, errConsoleNeedsFactor)
			return nil
		}
		return c
	}
	u.renderError(w, r, errNotFound)
	return nil
}

// consolePage is what every console page shows at the top.
type consolePage struct {
	layout
	Slug, OrgName string
	Section       string // "overview" or "members"
}

// complianceView is the overview's counts and bar.
type complianceView struct {
	directory.Compliance
	Policy  string // the policy in words
	Nearest string // the nearest deadline, formatted
}

// NotEnrolledCount is shown when the organisation requires nothing.
func (v complianceView) NotEnrolledCount() int { return v.NotEnrolled() }

// consoleHome is /orgs/{slug}.
type consoleHome struct {
	consolePage
	Compliance complianceView
}

// showConsole is GET /orgs/{slug}: compliance at a glance.
func (u *UI) showConsole(w http.ResponseWriter, r *http.Request) {
	c := u.requireConsole(w, r, false)
	if c == nil {
		return
	}
	now := u.cfg.Now()
	comp, err := u.dir.OrgCompliance(r.Context(), c.org, now)
	if err != nil {
		u.serverError(w, r, "counting the organisation's compliance failed", err)
		return
	}
	p := consoleHome{consolePage: u.consolePage(r, c, "overview"),
		Compliance: complianceView{Compliance: comp, Policy: directory.DescribePolicy(c.org.Policy)}}
	if comp.NearestDeadline != nil {
		p.Compliance.Nearest = comp.NearestDeadline.UTC().Format("2 January 2006, 15:04 UTC")
	}
	u.render(w, r, http.StatusOK, consoleHomeTemplate, p)
}

func (u *UI) consolePage(r *http.Request, c *console, section string) consolePage {
	return consolePage{layout: u.layout(r), Slug: c.org.Slug, OrgName: c.org.Name, Section: section}
}

// memberQuery is the members list's filters, from the address.
type memberQuery struct {
	Status string // "", "not-enrolled" or "overdue"
	Role   string // "", or a role
	Email  string // a prefix
	After  string // the cursor: the last email of the previous page, encoded
}

// parseMemberQuery reads the filters, refusing anything it does not know.
func parseMemberQuery(q url.Values) (memberQuery, string, bool) {
	m := memberQuery{Status: q.Get("status"), Role: q.Get("role"), Email: strings.TrimSpace(q.Get("email")), After: q.Get("after")}
	switch m.Status {
	case "", "not-enrolled", "overdue":
	default:
		return m, "", false
	}
	if m.Role != "" && !storage.ValidRole(m.Role) {
		return m, "", false
	}
	if len(m.Email) > 254 || !utf8.ValidString(m.Email) || strings.ContainsFunc(m.Email, func(r rune) bool { return r < ' ' }) {
		return m, "", false
	}
	after := ""
	if m.After != "" {
		b, err := base64.RawURLEncoding.DecodeString(m.After)
		if err != nil || len(b) > 254 || !utf8.Valid(b) || strings.ContainsFunc(string(b), unicode.IsControl) {
			return m, "", false
		}
		after = string(b)
	}
	return m, after, true
}

// with is the list's address with these filters and cursor.
func (m memberQuery) with(slug, after string) string {
	q := url.Values{}
	for k, v := range map[string]string{"status": m.Status, "role": m.Role, "email": m.Email} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if after != "" {
		q.Set("after", base64.RawURLEncoding.EncodeToString([]byte(after)))
	}
	path := "/orgs/" + url.PathEscape(slug) + "/members"
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// filter is the storage filter of the query for org at now.
func (m memberQuery) filter(org *storage.Org, after string, now time.Time, limit int) storage.MemberFilter {
	f := storage.MemberFilter{Role: m.Role, EmailPrefix: m.Email, After: after, Limit: limit}
	switch m.Status {
	case "not-enrolled":
		f.Unenrolled = true
	case "overdue":
		f.Overdue = directory.OverdueFilter(org.Policy, now)
	}
	return f
}

// memberView is one row of the members table.
type memberView struct {
	URL               string // the member's page
	Email, Name, Role string
	Factors           []string // "Authenticator app, added 2 January 2026, last used 3 January 2026"
	LastSignIn        string
	Deadline          string // "", "overdue", or when 2FA is required of them
}

// membersPage is /orgs/{slug}/members.
type membersPage struct {
	consolePage
	Done            string
	Query           memberQuery
	Members         []memberView
	NextURL, CSVURL string
}

// showMembers is GET /orgs/{slug}/members: the members with their second
// factors, filtered, 50 a page.
func (u *UI) showMembers(w http.ResponseWriter, r *http.Request) {
	c := u.requireConsole(w, r, false)
	if c == nil {
		return
	}
	q, after, ok := parseMemberQuery(r.URL.Query())
	if !ok {
		u.renderError(w, r, errBadFilter)
		return
	}
	now := u.cfg.Now()
	rows, err := u.store.Orgs().ListMembers(r.Context(), c.org.ID, q.filter(c.org, after, now, membersPerPage+1))
	if err != nil {
		u.serverError(w, r, "listing the members failed", err)
		return
	}
	p := membersPage{consolePage: u.consolePage(r, c, "members"), Query: q,
		Done:   map[string]string{"1": "The invitation was sent."}[r.URL.Query().Get("invited")],
		CSVURL: strings.Replace(q.with(c.org.Slug, ""), "/members", "/members.csv", 1)}
	if len(rows) > membersPerPage {
		rows = rows[:membersPerPage]
		p.NextURL = q.with(c.org.Slug, rows[len(rows)-1].EmailNormalized)
	}
	if p.Members, err = u.memberViews(r, c.org, rows, now); err != nil {
		u.serverError(w, r, "listing the members' factors failed", err)
		return
	}
	u.render(w, r, http.StatusOK, consoleMembersTemplate, p)
}

// memberViews fills the rows with their factors (one query) and deadlines.
func (u *UI) memberViews(r *http.Request, org *storage.Org, rows []storage.MemberRow, now time.Time) ([]memberView, error) {
	ids := make([]string, len(rows))
	for i, row := range rows {
		ids[i] = row.UserID
	}
	factors, err := u.store.Factors().FactorsOf(r.Context(), ids)
	if err != nil {
		return nil, err
	}
	byUser := map[string][]string{}
	for _, f := range factors {
		desc := factorLabel(f.Kind) + ", added " + f.ConfirmedAt.UTC().Format(dateFormat)
		if f.LastUsedAt != nil {
			desc += ", last used " + f.LastUsedAt.UTC().Format(dateFormat)
		}
		byUser[f.UserID] = append(byUser[f.UserID], desc)
	}
	views := make([]memberView, len(rows))
	for i, row := range rows {
		v := memberView{URL: memberURL(org.Slug, row.UserID), Email: row.Email, Name: row.Name, Role: row.Role,
			Factors: byUser[row.UserID], LastSignIn: "never"}
		if row.LastSignInAt != nil {
			v.LastSignIn = row.LastSignInAt.UTC().Format(dateFormat)
		}
		if !row.HasFactor {
			if deadline, ok := storage.MemberPolicy(*org, row.MemberRequireMFA, row.JoinedAt).Deadline(); ok {
				v.Deadline = "overdue"
				if deadline.After(now) {
					v.Deadline = deadline.UTC().Format(dateFormat)
				}
			}
		}
		views[i] = v
	}
	return views, nil
}

const dateFormat = "2 Jan 2006"

// factorLabel names a factor kind for admins.
func factorLabel(k mfa.FactorKind) string {
	switch k {
	case mfa.FactorTOTP:
		return factorName
	case mfa.FactorWebAuthn:
		return "Security key or passkey"
	}
	return string(k)
}

// exportMembers is GET /orgs/{slug}/members.csv: the filtered list, every
// page of it, as CSV (UTF-8, a header row, cells that a spreadsheet would
// run as formulas defused).
func (u *UI) exportMembers(w http.ResponseWriter, r *http.Request) {
	c := u.requireConsole(w, r, false)
	if c == nil {
		return
	}
	q, _, ok := parseMemberQuery(r.URL.Query())
	if !ok || q.After != "" {
		u.renderError(w, r, errBadFilter)
		return
	}
	now := u.cfg.Now()
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-members.csv"`, c.org.Slug))
	h.Set("Cache-Control", "no-store")
	out := csv.NewWriter(w)
	out.Write([]string{"email", "name", "role", "second factors", "last sign-in", "2FA deadline"})
	for after := ""; ; {
		rows, err := u.store.Orgs().ListMembers(r.Context(), c.org.ID, q.filter(c.org, after, now, 500))
		if err == nil && len(rows) > 0 {
			var views []memberView
			if views, err = u.memberViews(r, c.org, rows, now); err == nil {
				for _, v := range views {
					out.Write(csvSafe(v.Email, v.Name, v.Role, strings.Join(v.Factors, "; "), v.LastSignIn, v.Deadline))
				}
			}
		}
		if err != nil {
			// The header is sent: end the file short and say so in the log.
			u.log.ErrorContext(r.Context(), "exporting the members failed", "error", err.Error())
			break
		}
		if len(rows) < 500 {
			break
		}
		after = rows[len(rows)-1].EmailNormalized
	}
	out.Flush()
}

// csvSafe defuses cells a spreadsheet would read as a formula (OWASP,
// "CSV Injection"): they start with a quote.
func csvSafe(cells ...string) []string {
	for i, c := range cells {
		if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
			cells[i] = "'" + c
		}
	}
	return cells
}
