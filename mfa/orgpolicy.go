package mfa

import "time"

// OrgPolicy is what one organisation of the user requires of them, as
// plain values: the policy for every member, the requirement of this
// member alone, and when each is in force for them.
type OrgPolicy struct {
	Org string // its name, for pages
	// RequireMFA: the organisation requires a second factor of every
	// member: at once, after Grace, or from RequiredFrom.
	RequireMFA bool
	// MemberRequireMFA: an admin requires it of this member, at once.
	MemberRequireMFA bool
	// Grace gives each member this long to set up a factor, counted from
	// Since or JoinedAt, whichever is later (new members get their own).
	Grace time.Duration
	// RequiredFrom is the date from which it is required; zero: none.
	RequiredFrom time.Time
	// Since is when RequireMFA was turned on; JoinedAt when the member joined.
	Since, JoinedAt time.Time
	// PhishingResistant: only a phishing-resistant factor satisfies it
	// (the organisation allows security keys and passkeys alone).
	PhishingResistant bool
}

// Deadline is when the requirement is in force for the member (the zero
// time: at once), and whether there is one at all.
func (p OrgPolicy) Deadline() (time.Time, bool) {
	switch {
	case p.MemberRequireMFA:
		return time.Time{}, true
	case !p.RequireMFA:
		return time.Time{}, false
	case p.Grace > 0:
		start := p.Since
		if p.JoinedAt.After(start) {
			start = p.JoinedAt
		}
		return start.Add(p.Grace), true
	case !p.RequiredFrom.IsZero():
		return p.RequiredFrom, true
	}
	return time.Time{}, true
}

// level is the acr rank a factor must reach to satisfy p.
func (p OrgPolicy) level() int {
	if p.PhishingResistant {
		return ACRRank(ACRPhishingResistant)
	}
	return ACRRank(ACRMFA)
}

// OrgRequirement is what the user's organisations require together: the
// strictest minimum from the earliest deadline, so that several
// organisations never conflict (a stronger factor satisfies every weaker
// minimum). Rank is 0 when none requires anything.
func OrgRequirement(orgs []OrgPolicy) (rank int, from time.Time) {
	first := true
	for _, p := range orgs {
		deadline, ok := p.Deadline()
		if !ok {
			continue
		}
		rank = max(rank, p.level())
		if first || deadline.Before(from) {
			from, first = deadline, false
		}
	}
	return rank, from
}

// GrantRank is the acr rank a grant (a code exchange, a refresh) for the
// user needs now: what their organisations require once it is in force,
// and the client's own requirement. 0 when nothing is required.
func GrantRank(orgs []OrgPolicy, clientRequiresMFA bool, now time.Time) int {
	need := 0
	if rank, from := OrgRequirement(orgs); rank > 0 && !from.After(now) {
		need = rank
	}
	if clientRequiresMFA {
		need = max(need, ACRRank(ACRMFA))
	}
	return need
}

// Satisfies reports whether what a session proved (amr) meets rank.
func Satisfies(amr []string, rank int) bool { return ACRRank(ACRFor(amr)) >= rank }
