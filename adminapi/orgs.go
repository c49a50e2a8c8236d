package adminapi

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/storage"
)

// complianceBody is GET …/compliance.
type complianceBody struct {
	Required        bool       `json:"required"`
	Members         int        `json:"members"`
	Enrolled        int        `json:"enrolled"`
	Pending         int        `json:"pending"`
	Overdue         int        `json:"overdue"`
	NearestDeadline *time.Time `json:"nearest_deadline"`
}

func (a *API) compliance(w http.ResponseWriter, r *http.Request) {
	c := a.authorize(w, r, false)
	if c == nil {
		return
	}
	comp, err := a.dir.OrgCompliance(r.Context(), c.org, a.now())
	if err != nil {
		a.serverError(w, r, "counting compliance failed", err)
		return
	}
	writeJSON(w, http.StatusOK, complianceBody{Required: comp.Required, Members: comp.Members, Enrolled: comp.Enrolled,
		Pending: comp.Pending, Overdue: comp.Overdue, NearestDeadline: comp.NearestDeadline})
}

// memberBody is one member in GET …/members.
type memberBody struct {
	ID           string     `json:"id"`
	Email        string     `json:"email"`
	Name         string     `json:"name"`
	Role         string     `json:"role"`
	Enrolled     bool       `json:"enrolled"`
	JoinedAt     time.Time  `json:"joined_at"`
	LastSignInAt *time.Time `json:"last_sign_in_at"`
	// Deadline is when 2FA is required of them, if it is and they have no
	// factor; Overdue when it has passed.
	Deadline *time.Time `json:"deadline"`
	Overdue  bool       `json:"overdue"`
}

type membersBody struct {
	Members []memberBody `json:"members"`
	// Next is the cursor of the next page, or "" at the end.
	Next string `json:"next"`
}

// members is GET …/members?status=&role=&email=&cursor=&limit=.
func (a *API) members(w http.ResponseWriter, r *http.Request) {
	c := a.authorize(w, r, false)
	if c == nil {
		return
	}
	q := r.URL.Query()
	now := a.now()
	f := storage.MemberFilter{Role: q.Get("role"), EmailPrefix: strings.TrimSpace(q.Get("email")), Limit: 50}
	switch q.Get("status") {
	case "":
	case "not_enrolled":
		f.Unenrolled = true
	case "overdue":
		f.Overdue = directory.OverdueFilter(c.org.Policy, now)
	default:
		writeProblem(w, http.StatusBadRequest, "Bad Request", "status is not_enrolled or overdue.", "status")
		return
	}
	if f.Role != "" && !storage.ValidRole(f.Role) {
		writeProblem(w, http.StatusBadRequest, "Bad Request", "role is owner, admin or member.", "role")
		return
	}
	if !plain(f.EmailPrefix, 254) {
		writeProblem(w, http.StatusBadRequest, "Bad Request", "email is the start of an address.", "email")
		return
	}
	var cursor string
	var ok bool
	if f.Limit, cursor, ok = page(w, q); !ok {
		return
	}
	if cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil || !plain(string(b), 254) {
			badCursor(w)
			return
		}
		f.After = string(b)
	}
	limit := f.Limit
	f.Limit++
	rows, err := a.store.Orgs().ListMembers(r.Context(), c.org.ID, f)
	if err != nil {
		a.serverError(w, r, "listing members failed", err)
		return
	}
	out := membersBody{Members: []memberBody{}}
	if len(rows) > limit {
		rows = rows[:limit]
		out.Next = base64.RawURLEncoding.EncodeToString([]byte(rows[len(rows)-1].EmailNormalized))
	}
	for _, row := range rows {
		m := memberBody{ID: row.UserID, Email: row.Email, Name: row.Name, Role: row.Role, Enrolled: row.HasFactor,
			JoinedAt: row.JoinedAt.UTC(), LastSignInAt: row.LastSignInAt}
		if !row.HasFactor {
			if deadline, ok := storage.MemberPolicy(*c.org, row.MemberRequireMFA, row.JoinedAt).Deadline(); ok {
				if deadline.IsZero() {
					deadline = row.JoinedAt
				}
				d := deadline.UTC()
				m.Deadline, m.Overdue = &d, !d.After(now)
			}
		}
		out.Members = append(out.Members, m)
	}
	writeJSON(w, http.StatusOK, out)
}

// policyBody is the policy, as GET …/policy answers and PUT takes.
type policyBody struct {
	RequireMFA bool `json:"require_mfa"`
	// GracePeriodSeconds and RequiredFrom: at most one; neither means at once.
	GracePeriodSeconds *int64           `json:"grace_period_seconds"`
	RequiredFrom       *time.Time       `json:"required_from"`
	AllowedFactors     []mfa.FactorKind `json:"allowed_factors"`
}

func (a *API) policy(w http.ResponseWriter, r *http.Request) {
	c := a.authorize(w, r, false)
	if c == nil {
		return
	}
	writeJSON(w, http.StatusOK, policyOf(c.org.Policy))
}

func policyOf(p storage.Policy) policyBody {
	v := directory.ViewPolicy(p)
	return policyBody{RequireMFA: v.RequireMFA, GracePeriodSeconds: v.GracePeriodSeconds, RequiredFrom: v.RequiredFrom, AllowedFactors: v.AllowedFactors}
}

// putPolicy is PUT …/policy: the whole policy, through the same operation
// as the console and the command line.
func (a *API) putPolicy(w http.ResponseWriter, r *http.Request) {
	c := a.authorize(w, r, true)
	if c == nil {
		return
	}
	var body policyBody
	if !readJSON(w, r, &body) {
		return
	}
	change := directory.PolicyChange{RequireMFA: &body.RequireMFA, AllowedFactors: &body.AllowedFactors}
	var grace time.Duration
	var from time.Time
	switch {
	case body.GracePeriodSeconds != nil && body.RequiredFrom != nil:
		writeProblem(w, http.StatusBadRequest, "Bad Request", "Set grace_period_seconds or required_from, not both.", "grace_period_seconds")
		return
	case body.GracePeriodSeconds != nil:
		if *body.GracePeriodSeconds < 1 || *body.GracePeriodSeconds > 366*86400 {
			writeProblem(w, http.StatusBadRequest, "Bad Request", "grace_period_seconds is from 1 to 31622400.", "grace_period_seconds")
			return
		}
		grace = time.Duration(*body.GracePeriodSeconds) * time.Second
		change.GracePeriod = &grace
	case body.RequiredFrom != nil:
		from = *body.RequiredFrom
		change.RequiredFrom = &from
	default:
		change.GracePeriod, change.RequiredFrom = &grace, &from
	}
	res, err := a.dir.SetPolicy(r.Context(), c.actor(r), c.org.Slug, change)
	var invalid *directory.InvalidError
	switch {
	case errors.As(err, &invalid):
		writeProblem(w, http.StatusBadRequest, "Bad Request", invalid.Field+" "+invalid.Message, invalid.Field)
	case err != nil:
		a.serverError(w, r, "setting the policy failed", err)
	default:
		writeJSON(w, http.StatusOK, policyOf(res.After))
	}
}
