package directory

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/storage"
)

// CreateOrg creates an organisation with the default policy (no 2FA
// required).
func (d *Directory) CreateOrg(ctx context.Context, actor Actor, slug, name string) (*storage.Org, error) {
	if err := checkSlug(slug); err != nil {
		return nil, err
	}
	name, err := cleanName(name, true)
	if err != nil {
		return nil, err
	}
	o := &storage.Org{Slug: slug, Name: name}
	err = d.store.InTx(ctx, func(tx *storage.Store) error {
		if err := tx.Orgs().Create(ctx, o); err != nil {
			if errors.Is(err, storage.ErrConflict) {
				return ErrSlugTaken
			}
			return err
		}
		return Record(ctx, tx, actor, Event{Type: EventOrgCreated, OrgID: o.ID, Details: map[string]any{"slug": o.Slug, "name": o.Name}})
	})
	if err != nil {
		return nil, err
	}
	return o, nil
}

// Membership is one member of one organisation, as an operation found it.
type Membership struct {
	Org  *storage.Org
	User *storage.User
	// Role is the role after the operation; PreviousRole the one before
	// ("" for a new member).
	Role, PreviousRole string
	// MemberRequireMFA is the member's own requirement after the operation.
	MemberRequireMFA bool
	Changed          bool
}

// member loads the organisation, the user and (unless adding) their
// membership, inside tx; ErrNotMember when an existing one is missing.
func member(ctx context.Context, tx *storage.Store, slug, email string, existing bool) (*Membership, error) {
	org, err := orgBySlug(ctx, tx, slug)
	if err != nil {
		return nil, err
	}
	u, err := userByEmail(ctx, tx, email)
	if err != nil {
		return nil, err
	}
	m := &Membership{Org: org, User: u}
	if !existing {
		return m, nil
	}
	cur, err := tx.Orgs().Member(ctx, org.ID, u.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrNotMember
	}
	if err != nil {
		return nil, err
	}
	m.Role, m.PreviousRole, m.MemberRequireMFA = cur.Role, cur.Role, cur.MemberRequireMFA
	return m, nil
}

// ErrOwnersOnly: only an owner may make an owner, or change or remove one.
var ErrOwnersOnly = errors.New("only an owner may make an owner, or change or remove one")

// mayManage checks that actor may change the membership of someone whose
// role is from to the role to ("" removes them). An operator (no user)
// may do anything; a user must be an owner or admin of the organisation,
// and an admin never touches an owner or makes one.
func mayManage(ctx context.Context, tx *storage.Store, actor Actor, orgID, from, to string) error {
	role, err := actorRole(ctx, tx, actor, orgID)
	if err != nil {
		return err
	}
	switch {
	case role == roleOperator || role == storage.RoleOwner:
		return nil
	case role != storage.RoleAdmin:
		return ErrOwnersOnly
	case from == storage.RoleOwner || to == storage.RoleOwner:
		return ErrOwnersOnly
	}
	return nil
}

// roleOperator is the actor's "role" on the command line: every right.
const roleOperator = "operator"

// actorRole is the role actor acts with in the organisation orgID: an
// operator's at the command line, an admin's for a service client of the
// admin API (its own organisation is checked by the API), or the user's
// membership. ErrNotMember for a user who is not a member.
func actorRole(ctx context.Context, tx *storage.Store, actor Actor, orgID string) (string, error) {
	switch {
	case actor.UserID == "" && actor.Channel == ChannelAPI:
		return storage.RoleAdmin, nil
	case actor.UserID == "":
		return roleOperator, nil
	}
	mine, err := tx.Orgs().Member(ctx, orgID, actor.UserID)
	if errors.Is(err, storage.ErrNotFound) {
		return "", ErrNotMember
	}
	return mine.Role, err
}

// ownerGuard turns the storage refusals of a membership change into ours.
func ownerGuard(err error) error {
	switch {
	case errors.Is(err, storage.ErrLastOwner):
		return ErrLastOwner
	case errors.Is(err, storage.ErrNotFound):
		return ErrNotMember
	}
	return err
}

// AddMember adds a user to an organisation with a role.
func (d *Directory) AddMember(ctx context.Context, actor Actor, slug, email, role string) (*Membership, error) {
	if err := CheckRole(role); err != nil {
		return nil, err
	}
	var m *Membership
	err := d.store.InTx(ctx, func(tx *storage.Store) (err error) {
		if m, err = member(ctx, tx, slug, email, false); err != nil {
			return err
		}
		if err := d.In(tx).addMember(ctx, actor, m.Org, m.User, role); err != nil {
			return err
		}
		m.Role, m.Changed = role, true
		return nil
	})
	return m, err
}

func (d *Directory) addMember(ctx context.Context, actor Actor, org *storage.Org, u *storage.User, role string) error {
	if err := d.store.Orgs().AddMember(ctx, org.ID, u.ID, role); err != nil {
		if errors.Is(err, storage.ErrConflict) {
			return ErrAlreadyMember
		}
		return err
	}
	if err := Record(ctx, d.store, actor, Event{Type: EventMemberAdded, SubjectID: u.ID, OrgID: org.ID,
		Details: map[string]any{"email": u.Email, "role": role}}); err != nil {
		return err
	}
	if !org.RequireMFA {
		return nil
	}
	// The policy starts to apply to them: they hear of it, as members did
	// when it was turned on.
	return d.notify.Notify(ctx, d.store, Notice{Event: EventMemberAdded, User: u, Actor: actor, At: d.now(), Org: org.Name})
}

// RemoveMember removes a user from an organisation; its last owner stays.
func (d *Directory) RemoveMember(ctx context.Context, actor Actor, slug, email string) (*Membership, error) {
	var m *Membership
	err := d.store.InTx(ctx, func(tx *storage.Store) (err error) {
		if m, err = member(ctx, tx, slug, email, true); err != nil {
			return err
		}
		if err := mayManage(ctx, tx, actor, m.Org.ID, m.Role, ""); err != nil {
			return err
		}
		if err := tx.Orgs().RemoveMember(ctx, m.Org.ID, m.User.ID); err != nil {
			return ownerGuard(err)
		}
		m.Role, m.Changed = "", true
		return Record(ctx, tx, actor, Event{Type: EventMemberRemoved, SubjectID: m.User.ID, OrgID: m.Org.ID,
			Details: map[string]any{"email": m.User.Email, "role": m.PreviousRole}})
	})
	return m, err
}

// SetRole changes a member's role; the last owner cannot step down.
func (d *Directory) SetRole(ctx context.Context, actor Actor, slug, email, role string) (*Membership, error) {
	if err := CheckRole(role); err != nil {
		return nil, err
	}
	var m *Membership
	err := d.store.InTx(ctx, func(tx *storage.Store) (err error) {
		if m, err = member(ctx, tx, slug, email, true); err != nil {
			return err
		}
		if m.Role == role {
			return nil
		}
		if err := mayManage(ctx, tx, actor, m.Org.ID, m.Role, role); err != nil {
			return err
		}
		if err := tx.Orgs().SetRole(ctx, m.Org.ID, m.User.ID, role); err != nil {
			return ownerGuard(err)
		}
		m.Role, m.Changed = role, true
		return Record(ctx, tx, actor, Event{Type: EventRoleChanged, SubjectID: m.User.ID, OrgID: m.Org.ID,
			Details: map[string]any{"email": m.User.Email, "from": m.PreviousRole, "to": role}})
	})
	return m, err
}

// SetMemberRequireMFA requires (or stops requiring) 2FA of one member,
// whatever the organisation's policy for everyone says.
func (d *Directory) SetMemberRequireMFA(ctx context.Context, actor Actor, slug, email string, require bool) (*Membership, error) {
	var m *Membership
	err := d.store.InTx(ctx, func(tx *storage.Store) (err error) {
		if m, err = member(ctx, tx, slug, email, true); err != nil {
			return err
		}
		if m.MemberRequireMFA == require {
			return nil
		}
		if err := tx.Orgs().SetMemberRequireMFA(ctx, m.Org.ID, m.User.ID, require); err != nil {
			return ownerGuard(err)
		}
		m.MemberRequireMFA, m.Changed = require, true
		return Record(ctx, tx, actor, Event{Type: EventMemberPolicyChanged, SubjectID: m.User.ID, OrgID: m.Org.ID,
			Details: map[string]any{"email": m.User.Email, "require_mfa": require}})
	})
	return m, err
}

// PolicyView is an organisation's 2FA policy as callers print it and the
// audit log records it.
type PolicyView struct {
	RequireMFA         bool       `json:"require_mfa"`
	GracePeriodSeconds *int64     `json:"grace_period_seconds"`
	RequiredFrom       *time.Time `json:"required_from"`
	// AllowedFactors is empty when every factor Gatehouse offers is allowed.
	AllowedFactors []mfa.FactorKind `json:"allowed_factors"`
}

// ViewPolicy is p as callers print it.
func ViewPolicy(p storage.Policy) PolicyView {
	factors := p.Factors()
	if factors == nil {
		factors = []mfa.FactorKind{}
	}
	return PolicyView{RequireMFA: p.RequireMFA, GracePeriodSeconds: p.GraceSeconds, RequiredFrom: p.RequiredFrom, AllowedFactors: factors}
}

// PolicyChange is what to change in a policy; nil fields stay as they are.
type PolicyChange struct {
	RequireMFA *bool
	// GracePeriod lets each member postpone enrolment for this long after
	// the policy applies to them; 0 clears it. Setting one clears
	// RequiredFrom.
	GracePeriod *time.Duration
	// RequiredFrom is the date from which enrolment is required; the zero
	// time clears it. Setting one clears GracePeriod.
	RequiredFrom *time.Time
	// AllowedFactors are the factors members may use; empty allows every
	// factor.
	AllowedFactors *[]mfa.FactorKind
}

// PolicyResult is an organisation's policy before and after a change.
type PolicyResult struct {
	Org           *storage.Org
	Before, After storage.Policy
	Changed       bool
	// Unenrolled names the owners and admins (by email) who have no second
	// factor yet, when the change starts requiring one.
	Unenrolled []string
}

// maxGrace bounds a grace period: beyond a year it is not a policy.
const maxGrace = 366 * 24 * time.Hour

// SetPolicy changes an organisation's 2FA policy.
func (d *Directory) SetPolicy(ctx context.Context, actor Actor, slug string, c PolicyChange) (*PolicyResult, error) {
	apply, err := c.check()
	if err != nil {
		return nil, err
	}
	var res *PolicyResult
	err = d.store.InTx(ctx, func(tx *storage.Store) error {
		org, err := orgBySlug(ctx, tx, slug)
		if err != nil {
			return err
		}
		res = &PolicyResult{Org: org, Before: org.Policy, After: org.Policy}
		apply(&res.After)
		if samePolicy(res.Before, res.After) {
			return nil
		}
		if err := offerable(res.After, d.offered); err != nil {
			return err
		}
		if res.After.RequireMFA && !res.Before.RequireMFA {
			// A grace period counts from now (or from when a member joins).
			since := d.now().UTC().Truncate(time.Microsecond)
			res.After.RequiredSince = &since
			if res.Unenrolled, err = unenrolledAdmins(ctx, tx, org.ID); err != nil {
				return err
			}
		}
		if err := tx.Orgs().SetPolicy(ctx, org.ID, res.After); err != nil {
			return err
		}
		res.Changed = true
		if err := Record(ctx, tx, actor, Event{Type: EventPolicyChanged, OrgID: org.ID,
			Details: map[string]any{"slug": org.Slug, "from": ViewPolicy(res.Before), "to": ViewPolicy(res.After)}}); err != nil {
			return err
		}
		if err := d.tellOwners(ctx, tx, actor, org, res); err != nil {
			return err
		}
		if members, ok := d.notify.(MembersNotifier); ok && res.After.RequireMFA && !res.Before.RequireMFA {
			// Every member hears of it, in batches, after this commits.
			return members.NotifyMembers(ctx, tx, "org_requires_mfa", org.ID)
		}
		return nil
	})
	return res, err
}

// PreviewPolicy is the policy p would become with change c at now, as
// SetPolicy would store it, or why c is refused.
func (d *Directory) PreviewPolicy(p storage.Policy, c PolicyChange, now time.Time) (storage.Policy, error) {
	apply, err := c.check()
	if err != nil {
		return p, err
	}
	after := p
	apply(&after)
	if err := offerable(after, d.offered); err != nil {
		return p, err
	}
	if after.RequireMFA && !p.RequireMFA {
		since := now.UTC()
		after.RequiredSince = &since
	}
	return after, nil
}

// check validates the change and returns how it applies to a policy.
func (c PolicyChange) check() (func(*storage.Policy), error) {
	clearsBoth := c.GracePeriod != nil && *c.GracePeriod == 0 && c.RequiredFrom != nil && c.RequiredFrom.IsZero()
	if c.GracePeriod != nil && c.RequiredFrom != nil && !clearsBoth {
		return nil, ErrGraceAndDate
	}
	var grace *int64
	if c.GracePeriod != nil {
		g := *c.GracePeriod
		secs := int64(g / time.Second)
		switch {
		case g < 0:
			return nil, invalid("grace_period", fmt.Sprintf("%s must not be negative", g))
		case g > 0 && secs == 0:
			return nil, invalid("grace_period", fmt.Sprintf("%s is shorter than a second", g))
		case g > maxGrace:
			return nil, invalid("grace_period", fmt.Sprintf("%s is longer than a year; choose a date with --required-from instead", g))
		}
		if secs > 0 {
			grace = &secs
		}
	}
	var factors string
	if c.AllowedFactors != nil {
		var kinds []mfa.FactorKind
		for _, k := range mfa.FactorKinds {
			if slices.Contains(*c.AllowedFactors, k) {
				kinds = append(kinds, k)
			}
		}
		for _, k := range *c.AllowedFactors {
			if !slices.Contains(mfa.FactorKinds, k) {
				return nil, invalid("allowed_factors", fmt.Sprintf("%q is not a factor Gatehouse offers", k))
			}
		}
		factors = storage.FactorList(kinds)
	}
	return func(p *storage.Policy) {
		if c.RequireMFA != nil {
			p.RequireMFA = *c.RequireMFA
		}
		if c.GracePeriod != nil {
			p.GraceSeconds = grace
			if grace != nil {
				p.RequiredFrom = nil
			}
		}
		if c.RequiredFrom != nil {
			p.RequiredFrom = nil
			if !c.RequiredFrom.IsZero() {
				from := c.RequiredFrom.UTC()
				p.RequiredFrom, p.GraceSeconds = &from, nil
			}
		}
		if c.AllowedFactors != nil {
			p.AllowedFactors = factors
		}
	}, nil
}

// offerable refuses a policy that requires a second factor no member can
// set up here (security keys alone, where this server cannot offer them).
func offerable(p storage.Policy, offered []mfa.FactorKind) error {
	if !p.RequireMFA || p.AllowedFactors == "" {
		return nil
	}
	for _, k := range p.Factors() {
		if slices.Contains(offered, k) {
			return nil
		}
	}
	return invalid("allowed_factors", fmt.Sprintf("%q cannot be required: this server offers only %s to members", p.AllowedFactors, storage.FactorList(offered)))
}

// unenrolledAdmins are the emails of the organisation's owners and admins
// who have no second factor.
func unenrolledAdmins(ctx context.Context, tx *storage.Store, orgID string) ([]string, error) {
	members, err := tx.Orgs().Members(ctx, orgID)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range members {
		if m.Role == storage.RoleMember {
			continue
		}
		fs, err := tx.Factors().Confirmed(ctx, m.UserID)
		if err != nil {
			return nil, err
		}
		if len(fs) == 0 {
			out = append(out, m.Email)
		}
	}
	return out, nil
}

// tellOwners mails each owner of org the policy change res.
func (d *Directory) tellOwners(ctx context.Context, tx *storage.Store, actor Actor, org *storage.Org, res *PolicyResult) error {
	members, err := tx.Orgs().Members(ctx, org.ID)
	if err != nil {
		return err
	}
	for _, m := range members {
		if m.Role != storage.RoleOwner {
			continue
		}
		owner, err := tx.Users().Get(ctx, m.UserID)
		if err != nil {
			return err
		}
		n := Notice{Event: EventPolicyChanged, User: owner, Actor: actor, At: d.now(), Org: org.Name,
			Change: DescribePolicy(res.Before) + " → " + DescribePolicy(res.After)}
		if err := d.notify.Notify(ctx, tx, n); err != nil {
			return fmt.Errorf("notify the owners of %s: %w", org.Slug, err)
		}
	}
	return nil
}

// DescribePolicy says in words what a policy requires of members.
func DescribePolicy(p storage.Policy) string {
	if !p.RequireMFA {
		return "two-step verification not required"
	}
	s := "two-step verification required at once"
	switch {
	case p.GraceSeconds != nil:
		s = "two-step verification required, each member having " + (time.Duration(*p.GraceSeconds) * time.Second).String() + " to set it up"
	case p.RequiredFrom != nil:
		s = "two-step verification required from " + p.RequiredFrom.UTC().Format("2 January 2006")
	}
	if p.AllowedFactors != "" {
		s += " (" + p.AllowedFactors + ")"
	}
	return s
}

func samePolicy(a, b storage.Policy) bool {
	sameGrace := (a.GraceSeconds == nil) == (b.GraceSeconds == nil) &&
		(a.GraceSeconds == nil || *a.GraceSeconds == *b.GraceSeconds)
	sameFrom := (a.RequiredFrom == nil) == (b.RequiredFrom == nil) &&
		(a.RequiredFrom == nil || a.RequiredFrom.Equal(*b.RequiredFrom))
	return a.RequireMFA == b.RequireMFA && sameGrace && sameFrom && a.AllowedFactors == b.AllowedFactors
}
