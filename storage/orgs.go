package storage

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/mfa"
)

// Roles a member can hold in an organisation.
const (
	RoleOwner  = "owner"
	RoleAdmin  = "admin"
	RoleMember = "member"
)

// ValidRole reports whether r is one of the roles above.
func ValidRole(r string) bool { return r == RoleOwner || r == RoleAdmin || r == RoleMember }

// ErrLastOwner refuses a change that would leave an organisation without an owner.
var ErrLastOwner = errors.New("an organisation must keep at least one owner")

// Org is an organisation: a group of users under one 2FA policy.
type Org struct {
	ID        string    `db:"id"`
	Slug      string    `db:"slug"`
	Name      string    `db:"name"`
	CreatedAt time.Time `db:"created_at"`
	UpdatedAt time.Time `db:"updated_at"`
	Policy
}

// Policy is an organisation's two-factor policy.
type Policy struct {
	RequireMFA bool `db:"require_mfa"`
	// GraceSeconds, when set, lets members postpone enrollment for this
	// long after the policy applies to them.
	GraceSeconds *int64 `db:"mfa_grace_seconds"`
	// RequiredFrom, when set, is the date from which enrollment is required.
	RequiredFrom *time.Time `db:"mfa_required_from"`
	// AllowedFactors is a comma-separated list of factor kinds; empty means all.
	AllowedFactors string `db:"allowed_factors"`
	// RequiredSince is when RequireMFA was last turned on.
	RequiredSince *time.Time `db:"mfa_required_since"`
}

// Factors returns AllowedFactors as a list (nil: every factor is allowed).
func (p Policy) Factors() []mfa.FactorKind {
	if p.AllowedFactors == "" {
		return nil
	}
	var out []mfa.FactorKind
	for _, k := range strings.Split(p.AllowedFactors, ",") {
		out = append(out, mfa.FactorKind(k))
	}
	return out
}

// FactorList is the stored form of a list of allowed factor kinds.
func FactorList(kinds []mfa.FactorKind) string {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = string(k)
	}
	return strings.Join(names, ",")
}

// Member is a user's membership in an organisation, as the organisation
// lists it.
type Member struct {
	OrgID  string `db:"org_id"`
	UserID string `db:"user_id"`
	Role   string `db:"role"`
	// MemberRequireMFA: the organisation requires 2FA of this member,
	// whatever its policy for everyone says.
	MemberRequireMFA bool      `db:"require_mfa"`
	CreatedAt        time.Time `db:"created_at"`
	Email            string    `db:"email"`
	Name             string    `db:"name"`
}

// Orgs stores organisations and their memberships.
type Orgs struct{ q queryer }

// Orgs returns the organisation repository.
func (s *Store) Orgs() Orgs { return Orgs{s.q} }

const orgColumns = `id, slug, name, require_mfa, mfa_grace_seconds, mfa_required_from, allowed_factors, mfa_required_since, created_at, updated_at`

// Create inserts o, filling ID and timestamps. ErrConflict if the slug is taken.
func (r Orgs) Create(ctx context.Context, o *Org) error {
	o.ID = newID()
	o.CreatedAt = now()
	o.UpdatedAt = o.CreatedAt
	if o.RequireMFA && o.RequiredSince == nil {
		o.RequiredSince = &o.CreatedAt
	}
	_, err := r.q.ExecContext(ctx, `INSERT INTO orgs (`+orgColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		o.ID, o.Slug, o.Name, o.RequireMFA, o.GraceSeconds, o.RequiredFrom, o.AllowedFactors, utcPtr(o.RequiredSince), o.CreatedAt, o.UpdatedAt)
	return wrap(err, "create organisation")
}

// Get returns the organisation with this id.
func (r Orgs) Get(ctx context.Context, id string) (*Org, error) {
	var o Org
	err := r.q.GetContext(ctx, &o, `SELECT `+orgColumns+` FROM orgs WHERE id = $1`, id)
	return &o, wrap(err, "get organisation")
}

// GetBySlug returns the organisation with this slug.
func (r Orgs) GetBySlug(ctx context.Context, slug string) (*Org, error) {
	var o Org
	err := r.q.GetContext(ctx, &o, `SELECT `+orgColumns+` FROM orgs WHERE slug = $1`, slug)
	return &o, wrap(err, "get organisation")
}

// List returns every organisation, ordered by slug.
func (r Orgs) List(ctx context.Context) ([]Org, error) {
	var os []Org
	err := r.q.SelectContext(ctx, &os, `SELECT `+orgColumns+` FROM orgs ORDER BY slug`)
	return os, wrap(err, "list organisations")
}

// SetPolicy replaces the organisation's 2FA policy.
func (r Orgs) SetPolicy(ctx context.Context, id string, p Policy) error {
	res, err := r.q.ExecContext(ctx, `UPDATE orgs SET require_mfa = $1, mfa_grace_seconds = $2, mfa_required_from = $3,
		allowed_factors = $4, mfa_required_since = $5, updated_at = $6 WHERE id = $7`,
		p.RequireMFA, p.GraceSeconds, p.RequiredFrom, p.AllowedFactors, utcPtr(p.RequiredSince), now(), id)
	return expectOne(res, err, "set policy")
}

// AddMember adds a user with a role. ErrConflict if already a member.
func (r Orgs) AddMember(ctx context.Context, orgID, userID, role string) error {
	_, err := r.q.ExecContext(ctx, `INSERT INTO memberships (org_id, user_id, role, created_at, email_normalized)
		VALUES ($1, $2, $3, $4, (SELECT email_normalized FROM users WHERE id = $2))`,
		orgID, userID, role, now())
	return wrap(err, "add member")
}

// Member returns one membership.
func (r Orgs) Member(ctx context.Context, orgID, userID string) (*Member, error) {
	var m Member
	err := r.q.GetContext(ctx, &m, `SELECT m.org_id, m.user_id, m.role, m.require_mfa, m.created_at, u.email, u.name
		FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.org_id = $1 AND m.user_id = $2`, orgID, userID)
	return &m, wrap(err, "get member")
}

// Members lists an organisation's members, ordered by email.
func (r Orgs) Members(ctx context.Context, orgID string) ([]Member, error) {
	var ms []Member
	err := r.q.SelectContext(ctx, &ms, `SELECT m.org_id, m.user_id, m.role, m.require_mfa, m.created_at, u.email, u.name
		FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.org_id = $1 ORDER BY u.email_normalized`, orgID)
	return ms, wrap(err, "list members")
}

// Membership is one organisation a user belongs to, with its policy: the
// embedded Org's RequireMFA is the policy for every member, MemberRequireMFA
// the requirement of this member alone.
type Membership struct {
	Org
	Role             string    `db:"role"`
	MemberRequireMFA bool      `db:"member_require_mfa"`
	JoinedAt         time.Time `db:"joined_at"`
}

// MFAPolicy is what the membership requires, as the sign-in policy
// reads it. A minimum that lists an authenticator app allows any second
// factor; one of security keys alone asks for a phishing-resistant one.
func (m Membership) MFAPolicy() mfa.OrgPolicy {
	p := mfa.OrgPolicy{Org: m.Name, RequireMFA: m.RequireMFA, MemberRequireMFA: m.MemberRequireMFA, JoinedAt: m.JoinedAt}
	if m.GraceSeconds != nil {
		p.Grace = time.Duration(*m.GraceSeconds) * time.Second
	}
	if m.RequiredFrom != nil {
		p.RequiredFrom = *m.RequiredFrom
	}
	if m.RequiredSince != nil {
		p.Since = *m.RequiredSince
	}
	if factors := m.Factors(); factors != nil && !slices.Contains(factors, mfa.FactorTOTP) {
		p.PhishingResistant = true
	}
	return p
}

// MemberPolicy is what org requires of a member who joined at joined
// (memberRequire: an admin requires it of them): MFAPolicy of their
// membership.
func MemberPolicy(org Org, memberRequire bool, joined time.Time) mfa.OrgPolicy {
	return Membership{Org: org, MemberRequireMFA: memberRequire, JoinedAt: joined}.MFAPolicy()
}

// MFAPolicies is MFAPolicy of each membership.
func MFAPolicies(ms []Membership) []mfa.OrgPolicy {
	out := make([]mfa.OrgPolicy, len(ms))
	for i, m := range ms {
		out[i] = m.MFAPolicy()
	}
	return out
}

// MembershipsOf lists the organisations a user belongs to, in one query:
// sign-in needs every policy that applies to the user.
func (r Orgs) MembershipsOf(ctx context.Context, userID string) ([]Membership, error) {
	var ms []Membership
	err := r.q.SelectContext(ctx, &ms, `SELECT o.id, o.slug, o.name, o.require_mfa, o.mfa_grace_seconds, o.mfa_required_from,
		o.allowed_factors, o.mfa_required_since, o.created_at, o.updated_at, m.role, m.require_mfa AS member_require_mfa, m.created_at AS joined_at
		FROM memberships m JOIN orgs o ON o.id = m.org_id WHERE m.user_id = $1 ORDER BY o.slug`, userID)
	return ms, wrap(err, "list memberships")
}

// SetRole changes a member's role, refusing to demote the last owner.
func (r Orgs) SetRole(ctx context.Context, orgID, userID, role string) error {
	if err := r.lockOrg(ctx, orgID); err != nil {
		return err
	}
	res, err := r.q.ExecContext(ctx, `UPDATE memberships SET role = $1 WHERE org_id = $2 AND user_id = $3
		AND (role <> 'owner' OR $1 = 'owner' OR (SELECT COUNT(*) FROM memberships WHERE org_id = $2 AND role = 'owner') > 1)`,
		role, orgID, userID)
	return r.ownerGuard(ctx, orgID, userID, res, err, "set role")
}

// RemoveMember removes a member, refusing to remove the last owner.
func (r Orgs) RemoveMember(ctx context.Context, orgID, userID string) error {
	if err := r.lockOrg(ctx, orgID); err != nil {
		return err
	}
	res, err := r.q.ExecContext(ctx, `DELETE FROM memberships WHERE org_id = $1 AND user_id = $2
		AND (role <> 'owner' OR (SELECT COUNT(*) FROM memberships WHERE org_id = $1 AND role = 'owner') > 1)`,
		orgID, userID)
	return r.ownerGuard(ctx, orgID, userID, res, err, "remove member")
}

// SetMemberRequireMFA requires (or stops requiring) 2FA of one member.
func (r Orgs) SetMemberRequireMFA(ctx context.Context, orgID, userID string, require bool) error {
	res, err := r.q.ExecContext(ctx, `UPDATE memberships SET require_mfa = $1 WHERE org_id = $2 AND user_id = $3`,
		require, orgID, userID)
	return expectOne(res, err, "set member 2FA requirement")
}

// lockOrg touches the organisation row. Inside a transaction this holds
// PostgreSQL's row lock until commit, so two concurrent demotions of the
// last two owners cannot both see "another owner is left". (SQLite
// serialises writing transactions anyway.) Call it inside Store.InTx.
func (r Orgs) lockOrg(ctx context.Context, orgID string) error {
	res, err := r.q.ExecContext(ctx, `UPDATE orgs SET updated_at = $1 WHERE id = $2`, now(), orgID)
	return expectOne(res, err, "lock organisation")
}

// ownerGuard explains an UPDATE or DELETE that touched no row: either the
// member does not exist, or it is the last owner.
func (r Orgs) ownerGuard(ctx context.Context, orgID, userID string, res interface{ RowsAffected() (int64, error) }, err error, what string) error {
	if err != nil {
		return wrap(err, what)
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return wrap(err, what)
	}
	if _, err := r.Member(ctx, orgID, userID); err != nil {
		return err
	}
	return ErrLastOwner
}
