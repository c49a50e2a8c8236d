package directory

import (
	"context"
	"time"

	"github.com/gatehouse-id/gatehouse/storage"
)

// Compliance is how an organisation's members stand with its policy.
type Compliance struct {
	Required bool // the organisation requires a second factor
	Members  int
	Enrolled int
	// Pending members have no factor and a deadline ahead, the nearest
	// at NearestDeadline; Overdue ones have none past their deadline (or a
	// requirement of their own).
	Pending, Overdue int
	NearestDeadline  *time.Time
}

// NotEnrolled counts the members without a second factor.
func (c Compliance) NotEnrolled() int { return c.Members - c.Enrolled }

// deadlineRule is which of an organisation's members without a factor are
// overdue at now: everyone (all); those who joined by cutoff (a grace
// period that is over for them); or, otherwise, only those with a
// requirement of their own, the others having until a date or the end of
// their grace period.
type deadlineRule struct {
	all    bool
	cutoff *time.Time
	grace  time.Duration
	date   *time.Time
}

func ruleOf(p storage.Policy, now time.Time) deadlineRule {
	switch {
	case !p.RequireMFA:
		return deadlineRule{}
	case p.GraceSeconds != nil:
		g := time.Duration(*p.GraceSeconds) * time.Second
		cutoff := now.Add(-g)
		if p.RequiredSince != nil && p.RequiredSince.After(cutoff) {
			return deadlineRule{grace: g} // turned on recently: everyone still has time
		}
		return deadlineRule{cutoff: &cutoff, grace: g}
	case p.RequiredFrom != nil && p.RequiredFrom.After(now):
		return deadlineRule{date: p.RequiredFrom}
	}
	return deadlineRule{all: true}
}

// OverdueFilter is the members filter of those past their deadline at now.
func OverdueFilter(p storage.Policy, now time.Time) *storage.Overdue {
	r := ruleOf(p, now)
	return &storage.Overdue{All: r.all, JoinedBy: r.cutoff}
}

// OrgCompliance counts how the organisation's members stand at now, with
// a query or two whatever their number.
func (d *Directory) OrgCompliance(ctx context.Context, org *storage.Org, now time.Time) (Compliance, error) {
	r := ruleOf(org.Policy, now)
	split := now
	if r.cutoff != nil {
		split = *r.cutoff
	} else if r.grace > 0 && org.RequiredSince != nil {
		split = *org.RequiredSince
	}
	c, err := d.store.Orgs().Compliance(ctx, org.ID, split)
	if err != nil {
		return Compliance{}, err
	}
	out := Compliance{Required: org.RequireMFA, Members: c.Members, Enrolled: c.Enrolled}
	unenrolled := c.Members - c.Enrolled
	switch {
	case r.all:
		out.Overdue = unenrolled
	case r.cutoff != nil:
		out.Pending, out.Overdue = c.UnenrolledJoinedAfter, unenrolled-c.UnenrolledJoinedAfter
		if first, err := d.store.Orgs().FirstUnenrolledJoinAfter(ctx, org.ID, *r.cutoff); err != nil {
			return Compliance{}, err
		} else if first != nil {
			nearest := first.Add(r.grace)
			out.NearestDeadline = &nearest
		}
	case r.grace > 0:
		// Every member without a factor still has time; those who joined
		// before the policy have the nearest deadline.
		out.Pending, out.Overdue = unenrolled-c.UnenrolledFlagged, c.UnenrolledFlagged
		if out.Pending > 0 {
			nearest := org.RequiredSince.Add(r.grace)
			if c.UnenrolledJoinedAfter == out.Pending {
				first, err := d.store.Orgs().FirstUnenrolledJoinAfter(ctx, org.ID, *org.RequiredSince)
				if err != nil {
					return Compliance{}, err
				}
				if first != nil {
					nearest = first.Add(r.grace)
				}
			}
			out.NearestDeadline = &nearest
		}
	case r.date != nil:
		out.Pending, out.Overdue = unenrolled-c.UnenrolledFlagged, c.UnenrolledFlagged
		if out.Pending > 0 {
			out.NearestDeadline = r.date
		}
	default:
		out.Overdue = c.UnenrolledFlagged
	}
	return out, nil
}
