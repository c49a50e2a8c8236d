package main

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-id/gatehouse/storage"
)

func newOrgCmd() *cobra.Command {
	return groupCmd("org", "Manage organisations, their members and their 2FA policy",
		newOrgCreateCmd(),
		newOrgListCmd(),
		newOrgAddMemberCmd(),
		newOrgRemoveMemberCmd(),
		newOrgSetRoleCmd(),
		newOrgPolicyCmd(),
		newOrgRequireMemberMFACmd(),
	)
}

// slugPattern: 2 to 63 lower-case letters, digits and dashes, neither
// starting nor ending with a dash, so a slug is safe in URLs (/orgs/{slug}).
var slugPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$`)

func checkSlug(slug string) error {
	if !slugPattern.MatchString(slug) {
		return fmt.Errorf("--slug %q is not a valid slug: use 2 to 63 lower-case letters, digits and dashes, not starting or ending with a dash", slug)
	}
	return nil
}

// orgInfo is an organisation as commands print it.
type orgInfo struct {
	ID      string     `json:"id"`
	Slug    string     `json:"slug"`
	Name    string     `json:"name"`
	Members int        `json:"members"`
	Policy  policyInfo `json:"policy"`
}

func newOrgCreateCmd() *cobra.Command {
	var slug, name string
	cmd := &cobra.Command{
		Use:   "create --slug S --name N",
		Short: "Create an organisation",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkSlug(slug); err != nil {
				return err
			}
			name, err := cleanName("--name", name, true)
			if err != nil {
				return err
			}
			o := storage.Org{Slug: slug, Name: name}
			err = withStore(cmd, func(ctx context.Context, st *storage.Store) error {
				return st.InTx(ctx, func(tx *storage.Store) error {
					if err := tx.Orgs().Create(ctx, &o); err != nil {
						if errors.Is(err, storage.ErrConflict) {
							return fmt.Errorf("an organisation with slug %q already exists", slug)
						}
						return err
					}
					return audit(ctx, tx, "org.created", storage.AuditEvent{OrgID: o.ID},
						map[string]any{"slug": o.Slug, "name": o.Name})
				})
			})
			if err != nil {
				return err
			}
			text := fmt.Sprintf("Created organisation %s (%s), id %s.\n"+
				"Add its first owner with: gatehouse org add-member --org %s --email E --role owner",
				o.Slug, o.Name, o.ID, o.Slug)
			return emit(cmd, orgInfo{ID: o.ID, Slug: o.Slug, Name: o.Name, Policy: policyInfoOf(o.Policy)}, text)
		},
	}
	cmd.Flags().StringVar(&slug, "slug", "", "short `name` used in URLs: lower-case letters, digits and dashes")
	cmd.Flags().StringVar(&name, "name", "", "display `name`")
	cmd.MarkFlagRequired("slug")
	cmd.MarkFlagRequired("name")
	return cmd
}

func newOrgListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List organisations",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var views []orgInfo
			err := withStore(cmd, func(ctx context.Context, st *storage.Store) error {
				orgs, err := st.Orgs().List(ctx)
				if err != nil {
					return err
				}
				views = make([]orgInfo, 0, len(orgs))
				for _, o := range orgs {
					members, err := st.Orgs().Members(ctx, o.ID)
					if err != nil {
						return err
					}
					views = append(views, orgInfo{ID: o.ID, Slug: o.Slug, Name: o.Name, Members: len(members), Policy: policyInfoOf(o.Policy)})
				}
				return nil
			})
			if err != nil {
				return err
			}
			text := "No organisations yet. Create one with: gatehouse org create --slug S --name N"
			if len(views) > 0 {
				rows := make([][]string, 0, len(views))
				for _, v := range views {
					rows = append(rows, []string{v.Slug, v.Name, fmt.Sprint(v.Members), yesNo(v.Policy.RequireMFA), v.ID})
				}
				text = textTable([]string{"SLUG", "NAME", "MEMBERS", "2FA REQUIRED", "ID"}, rows)
			}
			return emit(cmd, views, text)
		},
	}
}

// memberInfo is one membership as commands print it.
type memberInfo struct {
	Org          string `json:"org"`
	Email        string `json:"email"`
	UserID       string `json:"user_id"`
	Role         string `json:"role,omitempty"`
	PreviousRole string `json:"previous_role,omitempty"`
	RequireMFA   *bool  `json:"require_mfa,omitempty"`
	Changed      bool   `json:"changed"`
}

// membershipCmd builds a command acting on one member, named by --org and
// --email. act runs in the same transaction as the look-ups; it fills the
// view and returns the text to print.
func membershipCmd(use, short string, act func(ctx context.Context, tx *storage.Store, org *storage.Org, u *storage.User, v *memberInfo) (string, error)) *cobra.Command {
	var slug, email string
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
	}
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if role := cmd.Flags().Lookup("role"); role != nil {
			if err := checkRole(role.Value.String()); err != nil {
				return err
			}
		}
		var v memberInfo
		var text string
		err := withStore(cmd, func(ctx context.Context, st *storage.Store) error {
			return st.InTx(ctx, func(tx *storage.Store) error {
				org, err := orgBySlug(ctx, tx, slug)
				if err != nil {
					return err
				}
				u, err := userByEmail(ctx, tx, email)
				if err != nil {
					return err
				}
				v.Org, v.Email, v.UserID = org.Slug, u.Email, u.ID
				text, err = act(ctx, tx, org, u, &v)
				return err
			})
		})
		if err != nil {
			return err
		}
		return emit(cmd, v, text)
	}
	cmd.Flags().StringVar(&slug, "org", "", "the organisation's `slug`")
	cmd.Flags().StringVar(&email, "email", "", "the member's email `address`")
	cmd.MarkFlagRequired("org")
	cmd.MarkFlagRequired("email")
	return cmd
}

// currentMember reads a membership, explaining a missing one.
func currentMember(ctx context.Context, tx *storage.Store, org *storage.Org, u *storage.User) (*storage.Member, error) {
	m, err := tx.Orgs().Member(ctx, org.ID, u.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, notMemberError(org, u)
	}
	return m, err
}

func notMemberError(org *storage.Org, u *storage.User) error {
	return fmt.Errorf("%q is not a member of organisation %q", u.Email, org.Slug)
}

// ownerError explains storage.ErrLastOwner.
func ownerError(err error, org *storage.Org, u *storage.User) error {
	switch {
	case errors.Is(err, storage.ErrLastOwner):
		return fmt.Errorf("%q is the last owner of organisation %q; make another member an owner first", u.Email, org.Slug)
	case errors.Is(err, storage.ErrNotFound):
		return notMemberError(org, u)
	}
	return err
}

func newOrgAddMemberCmd() *cobra.Command {
	var role string
	cmd := membershipCmd("add-member --org S --email E [--role owner|admin|member]", "Add a user to an organisation",
		func(ctx context.Context, tx *storage.Store, org *storage.Org, u *storage.User, v *memberInfo) (string, error) {
			if err := tx.Orgs().AddMember(ctx, org.ID, u.ID, role); err != nil {
				if errors.Is(err, storage.ErrConflict) {
					return "", fmt.Errorf("%q is already a member of organisation %q (change the role with gatehouse org set-role)", u.Email, org.Slug)
				}
				return "", err
			}
			v.Role, v.Changed = role, true
			err := audit(ctx, tx, "org.member_added", storage.AuditEvent{SubjectID: u.ID, OrgID: org.ID},
				map[string]any{"email": u.Email, "role": role})
			return fmt.Sprintf("Added %s to %s as %s.", u.Email, org.Slug, role), err
		})
	cmd.Flags().StringVar(&role, "role", storage.RoleMember, "the `role`: owner, admin or member")
	return cmd
}

func newOrgRemoveMemberCmd() *cobra.Command {
	cmd := membershipCmd("remove-member --org S --email E", "Remove a user from an organisation",
		func(ctx context.Context, tx *storage.Store, org *storage.Org, u *storage.User, v *memberInfo) (string, error) {
			m, err := currentMember(ctx, tx, org, u)
			if err != nil {
				return "", err
			}
			if err := tx.Orgs().RemoveMember(ctx, org.ID, u.ID); err != nil {
				return "", ownerError(err, org, u)
			}
			v.PreviousRole, v.Changed = m.Role, true
			err = audit(ctx, tx, "org.member_removed", storage.AuditEvent{SubjectID: u.ID, OrgID: org.ID},
				map[string]any{"email": u.Email, "role": m.Role})
			return fmt.Sprintf("Removed %s from %s.", u.Email, org.Slug), err
		})
	return cmd
}

func newOrgSetRoleCmd() *cobra.Command {
	var role string
	cmd := membershipCmd("set-role --org S --email E --role owner|admin|member", "Change a member's role",
		func(ctx context.Context, tx *storage.Store, org *storage.Org, u *storage.User, v *memberInfo) (string, error) {
			m, err := currentMember(ctx, tx, org, u)
			if err != nil {
				return "", err
			}
			v.Role, v.PreviousRole = role, m.Role
			if m.Role == role {
				return fmt.Sprintf("%s is already %s of %s; nothing changed.", u.Email, role, org.Slug), nil
			}
			if err := tx.Orgs().SetRole(ctx, org.ID, u.ID, role); err != nil {
				return "", ownerError(err, org, u)
			}
			v.Changed = true
			err = audit(ctx, tx, "org.role_changed", storage.AuditEvent{SubjectID: u.ID, OrgID: org.ID},
				map[string]any{"email": u.Email, "from": m.Role, "to": role})
			return fmt.Sprintf("%s is now %s of %s (was %s).", u.Email, role, org.Slug, m.Role), err
		})
	cmd.Flags().StringVar(&role, "role", "", "the new `role`: owner, admin or member")
	cmd.MarkFlagRequired("role")
	return cmd
}

func newOrgRequireMemberMFACmd() *cobra.Command {
	var off bool
	cmd := membershipCmd("require-member-mfa --org S --email E [--off]",
		"Require two-factor authentication of one member, where the organisation does not",
		func(ctx context.Context, tx *storage.Store, org *storage.Org, u *storage.User, v *memberInfo) (string, error) {
			m, err := currentMember(ctx, tx, org, u)
			if err != nil {
				return "", err
			}
			require := !off
			v.Role, v.RequireMFA = m.Role, &require
			if m.RequireMFA == require {
				return fmt.Sprintf("Nothing changed: %s", memberMFAText(org, u, require)), nil
			}
			if err := tx.Orgs().SetMemberRequireMFA(ctx, org.ID, u.ID, require); err != nil {
				return "", ownerError(err, org, u)
			}
			v.Changed = true
			err = audit(ctx, tx, "org.member_policy_changed", storage.AuditEvent{SubjectID: u.ID, OrgID: org.ID},
				map[string]any{"email": u.Email, "require_mfa": require})
			return memberMFAText(org, u, require), err
		})
	cmd.Flags().BoolVar(&off, "off", false, "stop requiring it of this member (the organisation's own policy still applies)")
	return cmd
}

func memberMFAText(org *storage.Org, u *storage.User, require bool) string {
	if require {
		return fmt.Sprintf("%s requires two-factor authentication of %s.", org.Slug, u.Email)
	}
	return fmt.Sprintf("%s does not require two-factor authentication of %s beyond its own policy.", org.Slug, u.Email)
}

// knownFactors are the second factors an organisation may allow, in the
// order they are stored and shown.
var knownFactors = []string{"totp", "webauthn"}

// policyInfo is an organisation's 2FA policy as commands print it.
type policyInfo struct {
	RequireMFA         bool       `json:"require_mfa"`
	GracePeriodSeconds *int64     `json:"grace_period_seconds"`
	RequiredFrom       *time.Time `json:"required_from"`
	// AllowedFactors is empty when every factor Gatehouse offers is allowed.
	AllowedFactors []string `json:"allowed_factors"`
}

func policyInfoOf(p storage.Policy) policyInfo {
	factors := p.Factors()
	if factors == nil {
		factors = []string{}
	}
	return policyInfo{RequireMFA: p.RequireMFA, GracePeriodSeconds: p.GraceSeconds, RequiredFrom: p.RequiredFrom, AllowedFactors: factors}
}

func (v policyInfo) text(slug string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Two-factor policy of %s:\n", slug)
	required := "not required"
	if v.RequireMFA {
		required = "required"
	}
	fmt.Fprintf(&b, "  two-factor authentication: %s\n", required)
	grace := "none"
	if v.GracePeriodSeconds != nil {
		grace = (time.Duration(*v.GracePeriodSeconds) * time.Second).String()
	}
	fmt.Fprintf(&b, "  grace period:              %s\n", grace)
	from := "not set"
	if v.RequiredFrom != nil {
		from = formatDate(*v.RequiredFrom)
	}
	fmt.Fprintf(&b, "  required from:             %s\n", from)
	factors := strings.Join(v.AllowedFactors, ", ")
	if len(v.AllowedFactors) == 0 {
		factors = "any (" + strings.Join(knownFactors, ", ") + ")"
	}
	fmt.Fprintf(&b, "  allowed factors:           %s\n", factors)
	return b.String()
}

// formatDate shows a midnight-UTC time as a plain date, the form
// --required-from takes, and any other time in full.
func formatDate(t time.Time) string {
	t = t.UTC()
	if t.Equal(t.Truncate(24 * time.Hour)) {
		return t.Format(time.DateOnly)
	}
	return t.Format(time.RFC3339)
}

type policyOpts struct {
	slug         string
	requireMFA   bool
	grace        time.Duration
	requiredFrom string
	factors      []string
}

type policyResult struct {
	Org string `json:"org"`
	policyInfo
	Changed bool `json:"changed"`
}

func newOrgPolicyCmd() *cobra.Command {
	var o policyOpts
	cmd := &cobra.Command{
		Use:   "policy --org S [--require-mfa=true|false] [--grace-period 72h | --required-from DATE] [--allowed-factors totp,webauthn]",
		Short: "Show or change an organisation's two-factor policy",
		Long: "Shows an organisation's two-factor policy, changing only the settings given.\n" +
			"A grace period lets each member postpone enrollment for that long; a\n" +
			"required-from date lets every member postpone it until that day. Setting one\n" +
			"clears the other; --grace-period 0 and --required-from \"\" clear them.\n" +
			"--allowed-factors \"\" allows every factor Gatehouse offers.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runOrgPolicy(cmd, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.slug, "org", "", "the organisation's `slug`")
	f.BoolVar(&o.requireMFA, "require-mfa", false, "require two-factor authentication of every member")
	f.DurationVar(&o.grace, "grace-period", 0, "how long each member may postpone enrollment (`duration`, like 72h; 0 clears it)")
	f.StringVar(&o.requiredFrom, "required-from", "", "the `date` (YYYY-MM-DD, UTC) from which enrollment is required; \"\" clears it")
	f.StringSliceVar(&o.factors, "allowed-factors", nil, "the second `factors` members may use: totp, webauthn (empty: all)")
	cmd.MarkFlagRequired("org")
	return cmd
}

// policyChange is what the flags given ask to change.
type policyChange func(p *storage.Policy)

func parsePolicyFlags(cmd *cobra.Command, o policyOpts) ([]policyChange, error) {
	flags := cmd.Flags()
	var changes []policyChange
	if flags.Changed("grace-period") && flags.Changed("required-from") {
		return nil, errors.New("--grace-period and --required-from cannot be used together: choose a grace period per member or one date for everyone")
	}
	if flags.Changed("require-mfa") {
		changes = append(changes, func(p *storage.Policy) { p.RequireMFA = o.requireMFA })
	}
	if flags.Changed("grace-period") {
		secs := int64(o.grace / time.Second)
		switch {
		case o.grace < 0:
			return nil, fmt.Errorf("--grace-period %s must not be negative", o.grace)
		case o.grace > 0 && secs == 0:
			return nil, fmt.Errorf("--grace-period %s is shorter than a second", o.grace)
		}
		changes = append(changes, func(p *storage.Policy) {
			p.GraceSeconds = nil
			if secs > 0 {
				p.GraceSeconds = &secs
				p.RequiredFrom = nil
			}
		})
	}
	if flags.Changed("required-from") {
		var from *time.Time
		if o.requiredFrom != "" {
			t, err := time.ParseInLocation(time.DateOnly, o.requiredFrom, time.UTC)
			if err != nil {
				return nil, fmt.Errorf("--required-from %q is not a date; use YYYY-MM-DD, like 2027-01-31", o.requiredFrom)
			}
			from = &t
		}
		changes = append(changes, func(p *storage.Policy) {
			p.RequiredFrom = from
			if from != nil {
				p.GraceSeconds = nil
			}
		})
	}
	if flags.Changed("allowed-factors") {
		factors, err := parseFactors(o.factors)
		if err != nil {
			return nil, err
		}
		changes = append(changes, func(p *storage.Policy) { p.AllowedFactors = factors })
	}
	return changes, nil
}

// parseFactors checks and deduplicates factor names, returning them in
// the stored form: comma-separated, in knownFactors' order.
func parseFactors(given []string) (string, error) {
	seen := map[string]bool{}
	for _, f := range given {
		f = strings.ToLower(strings.TrimSpace(f))
		if f == "" {
			continue
		}
		if !slices.Contains(knownFactors, f) {
			return "", fmt.Errorf("--allowed-factors: %q is not a factor Gatehouse offers; use %s", f, strings.Join(knownFactors, ", "))
		}
		seen[f] = true
	}
	var out []string
	for _, f := range knownFactors {
		if seen[f] {
			out = append(out, f)
		}
	}
	return strings.Join(out, ","), nil
}

func samePolicy(a, b storage.Policy) bool {
	sameGrace := (a.GraceSeconds == nil) == (b.GraceSeconds == nil) &&
		(a.GraceSeconds == nil || *a.GraceSeconds == *b.GraceSeconds)
	sameFrom := (a.RequiredFrom == nil) == (b.RequiredFrom == nil) &&
		(a.RequiredFrom == nil || a.RequiredFrom.Equal(*b.RequiredFrom))
	return a.RequireMFA == b.RequireMFA && sameGrace && sameFrom && a.AllowedFactors == b.AllowedFactors
}

func runOrgPolicy(cmd *cobra.Command, o policyOpts) error {
	changes, err := parsePolicyFlags(cmd, o)
	if err != nil {
		return err
	}
	var res policyResult
	err = withStore(cmd, func(ctx context.Context, st *storage.Store) error {
		return st.InTx(ctx, func(tx *storage.Store) error {
			org, err := orgBySlug(ctx, tx, o.slug)
			if err != nil {
				return err
			}
			p := org.Policy
			for _, change := range changes {
				change(&p)
			}
			res = policyResult{Org: org.Slug, policyInfo: policyInfoOf(p)}
			if samePolicy(p, org.Policy) {
				return nil
			}
			if err := tx.Orgs().SetPolicy(ctx, org.ID, p); err != nil {
				return err
			}
			res.Changed = true
			return audit(ctx, tx, "org.policy_changed", storage.AuditEvent{OrgID: org.ID},
				map[string]any{"slug": org.Slug, "from": policyInfoOf(org.Policy), "to": res.policyInfo})
		})
	})
	if err != nil {
		return err
	}
	text := res.policyInfo.text(res.Org)
	if len(changes) > 0 && !res.Changed {
		text += "Nothing changed: the policy already had these settings.\n"
	}
	return emit(cmd, res, text)
}
