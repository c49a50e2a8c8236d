package ui

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/storage"
)

// policyForm is the console's policy form, as shown and as posted.
type policyForm struct {
	Require   bool
	Mode      string // "now", "grace" or "date"
	GraceDays string
	Date      string // YYYY-MM-DD
	Factors   []string
}

func (f policyForm) HasFactor(k string) bool { return slices.Contains(f.Factors, k) }

// formOf is the form that shows p.
func formOf(p storage.Policy) policyForm {
	f := policyForm{Require: p.RequireMFA, Mode: "now", GraceDays: "7"}
	switch {
	case p.GraceSeconds != nil:
		f.Mode, f.GraceDays = "grace", strconv.FormatInt(*p.GraceSeconds/86400, 10)
	case p.RequiredFrom != nil:
		f.Mode, f.Date = "date", p.RequiredFrom.UTC().Format(time.DateOnly)
	}
	for _, k := range p.Factors() {
		f.Factors = append(f.Factors, string(k))
	}
	if len(f.Factors) == 0 {
		f.Factors = []string{string(mfa.FactorTOTP), string(mfa.FactorWebAuthn)}
	}
	return f
}

// change reads the posted form into a policy change, or says what is wrong.
func (f policyForm) change() (directory.PolicyChange, string) {
	c := directory.PolicyChange{RequireMFA: &f.Require}
	var none time.Duration
	var zero time.Time
	switch f.Mode {
	case "now":
		c.GracePeriod, c.RequiredFrom = &none, &zero
	case "grace":
		days, err := strconv.Atoi(f.GraceDays)
		if err != nil || days < 1 || days > 366 {
			return c, "A grace period is a number of days from 1 to 366."
		}
		g := time.Duration(days) * 24 * time.Hour
		c.GracePeriod = &g
	case "date":
		t, err := time.ParseInLocation(time.DateOnly, f.Date, time.UTC)
		if err != nil {
			return c, "Choose the date from which two-step verification is required."
		}
		c.RequiredFrom = &t
	default:
		return c, "Choose when two-step verification is required."
	}
	var kinds []mfa.FactorKind
	for _, name := range f.Factors {
		k, ok := mfa.ParseFactorKind(name)
		if !ok {
			return c, "Choose the second factors members may use."
		}
		kinds = append(kinds, k)
	}
	if len(kinds) == 0 {
		return c, "Allow at least one kind of second factor."
	}
	c.AllowedFactors = &kinds
	return c, ""
}

// policyPage is /orgs/{slug}/policy.
type policyPage struct {
	consolePage
	Form    policyForm
	Current string
	Preview string // what the posted policy would do, before saving
	Error   string
	Done    string
}

// Action is where the form posts.
func (p policyPage) Action() string { return "/orgs/" + url.PathEscape(p.Slug) + "/policy" }

// showPolicy is GET /orgs/{slug}/policy.
func (u *UI) showPolicy(w http.ResponseWriter, r *http.Request) {
	c := u.requireConsole(w, r, false)
	if c == nil {
		return
	}
	p := policyPage{consolePage: u.consolePage(r, c, "policy"), Form: formOf(c.org.Policy), Current: directory.DescribePolicy(c.org.Policy)}
	if r.URL.Query().Get("done") == "1" {
		p.Done = "The policy was saved. The owners were told by mail."
	}
	u.render(w, r, http.StatusOK, consolePolicyTemplate, p)
}

// submitPolicy is POST /orgs/{slug}/policy: with preview, what the policy
// would do (how many members it affects, from when), changing nothing;
// otherwise the change, which needs a recent sign-in with a second factor.
func (u *UI) submitPolicy(w http.ResponseWriter, r *http.Request) {
	if !u.parseForm(w, r) {
		return
	}
	preview := r.PostForm.Get("action") == "preview"
	c := u.requireConsole(w, r, !preview)
	if c == nil {
		return
	}
	f := policyForm{Require: r.PostForm.Get("require") == "on", Mode: r.PostForm.Get("mode"), GraceDays: r.PostForm.Get("grace_days"),
		Date: r.PostForm.Get("date"), Factors: r.PostForm["factors"]}
	p := policyPage{consolePage: u.consolePage(r, c, "policy"), Form: f, Current: directory.DescribePolicy(c.org.Policy)}
	change, problem := f.change()
	if problem != "" {
		p.Error = problem
		u.render(w, r, http.StatusBadRequest, consolePolicyTemplate, p)
		return
	}
	if preview {
		text, err := u.previewPolicy(r, c, change)
		var invalid *directory.InvalidError
		switch {
		case errors.As(err, &invalid):
			p.Error = sentence(invalid.Message)
			u.render(w, r, http.StatusBadRequest, consolePolicyTemplate, p)
		case err != nil:
			u.serverError(w, r, "previewing a policy failed", err)
		default:
			p.Preview = text
			u.render(w, r, http.StatusOK, consolePolicyTemplate, p)
		}
		return
	}
	_, err := u.dir.SetPolicy(r.Context(), actor(r, c.user.ID, AccountClientID), c.org.Slug, change)
	var invalid *directory.InvalidError
	switch {
	case errors.As(err, &invalid):
		p.Error = sentence(invalid.Message)
		u.render(w, r, http.StatusBadRequest, consolePolicyTemplate, p)
	case err != nil:
		u.serverError(w, r, "saving the policy failed", err)
	default:
		http.Redirect(w, r, p.Action()+"?done=1", http.StatusSeeOther)
	}
}

// previewPolicy says what the change would mean for the members now.
func (u *UI) previewPolicy(r *http.Request, c *console, change directory.PolicyChange) (string, error) {
	now := u.cfg.Now()
	after, err := u.dir.PreviewPolicy(c.org.Policy, change, now)
	if err != nil {
		return "", err
	}
	org := *c.org
	org.Policy = after
	comp, err := u.dir.OrgCompliance(r.Context(), &org, now)
	if err != nil {
		return "", err
	}
	if !after.RequireMFA {
		return fmt.Sprintf("Nothing would be required: %d of %d members have a second factor.", comp.Enrolled, comp.Members), nil
	}
	text := fmt.Sprintf("%s. Of %d members, %d have a second factor; ", sentence(directory.DescribePolicy(after)), comp.Members, comp.Enrolled)
	switch {
	case comp.NotEnrolled() == 0:
		text += "nobody would need to set one up."
	case comp.Pending > 0 && comp.NearestDeadline != nil:
		text += fmt.Sprintf("%d would need to set one up, the first by %s", comp.NotEnrolled(), comp.NearestDeadline.UTC().Format("2 January 2006"))
		if comp.Overdue > 0 {
			text += fmt.Sprintf(" (%d at once)", comp.Overdue)
		}
		text += "."
	default:
		text += fmt.Sprintf("%d would have to set one up at their next sign-in; their tokens would stop working until they do.", comp.NotEnrolled())
	}
	return text, nil
}
