package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/mfa"
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

// orgInfo is an organisation as commands print it.
type orgInfo struct {
	ID      string               `json:"id"`
	Slug    string               `json:"slug"`
	Name    string               `json:"name"`
	Members int                  `json:"members"`
	Policy  directory.PolicyView `json:"policy"`
}

func newOrgCreateCmd() *cobra.Command {
	var slug, name string
	cmd := &cobra.Command{
		Use:   "create --slug S --name N",
		Short: "Create an organisation",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var o *storage.Org
			err := withDirectory(cmd, func(ctx context.Context, dir *directory.Directory) (err error) {
				o, err = dir.CreateOrg(ctx, directory.Operator(), slug, name)
				return err
			})
			if err != nil {
				return subject{slug: slug}.explain(err)
			}
			text := fmt.Sprintf("Created organisation %s (%s), id %s.\n"+
				"Add its first owner with: gatehouse org add-member --org %s --email E --role owner",
				o.Slug, o.Name, o.ID, o.Slug)
			return emit(cmd, orgInfo{ID: o.ID, Slug: o.Slug, Name: o.Name, Policy: directory.ViewPolicy(o.Policy)}, text)
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
					views = append(views, orgInfo{ID: o.ID, Slug: o.Slug, Name: o.Name, Members: len(members), Policy: directory.ViewPolicy(o.Policy)})
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
// --email. act runs the operation and returns its result and the text to
// print.
func membershipCmd(use, short string, act func(ctx context.Context, dir *directory.Directory, slug, email string) (*directory.Membership, func(*directory.Membership, *memberInfo) string, error)) *cobra.Command {
	var slug, email string
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
	}
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		var m *directory.Membership
		var describe func(*directory.Membership, *memberInfo) string
		err := withDirectory(cmd, func(ctx context.Context, dir *directory.Directory) (err error) {
			m, describe, err = act(ctx, dir, slug, email)
			return err
		})
		if err != nil {
			return subject{email: email, slug: slug}.explain(err)
		}
		v := memberInfo{Org: m.Org.Slug, Email: m.User.Email, UserID: m.User.ID, Changed: m.Changed}
		text := describe(m, &v)
		return emit(cmd, v, text)
	}
	cmd.Flags().StringVar(&slug, "org", "", "the organisation's `slug`")
	cmd.Flags().StringVar(&email, "email", "", "the member's email `address`")
	cmd.MarkFlagRequired("org")
	cmd.MarkFlagRequired("email")
	return cmd
}

func newOrgAddMemberCmd() *cobra.Command {
	var role string
	cmd := membershipCmd("add-member --org S --email E [--role owner|admin|member]", "Add a user to an organisation",
		func(ctx context.Context, dir *directory.Directory, slug, email string) (*directory.Membership, func(*directory.Membership, *memberInfo) string, error) {
			m, err := dir.AddMember(ctx, directory.Operator(), slug, email, role)
			return m, func(m *directory.Membership, v *memberInfo) string {
				v.Role = m.Role
				return fmt.Sprintf("Added %s to %s as %s.", m.User.Email, m.Org.Slug, m.Role)
			}, err
		})
	cmd.Flags().StringVar(&role, "role", storage.RoleMember, "the `role`: owner, admin or member")
	return cmd
}

func newOrgRemoveMemberCmd() *cobra.Command {
	return membershipCmd("remove-member --org S --email E", "Remove a user from an organisation",
		func(ctx context.Context, dir *directory.Directory, slug, email string) (*directory.Membership, func(*directory.Membership, *memberInfo) string, error) {
			m, err := dir.RemoveMember(ctx, directory.Operator(), slug, email)
			return m, func(m *directory.Membership, v *memberInfo) string {
				v.PreviousRole = m.PreviousRole
				return fmt.Sprintf("Removed %s from %s.", m.User.Email, m.Org.Slug)
			}, err
		})
}

func newOrgSetRoleCmd() *cobra.Command {
	var role string
	cmd := membershipCmd("set-role --org S --email E --role owner|admin|member", "Change a member's role",
		func(ctx context.Context, dir *directory.Directory, slug, email string) (*directory.Membership, func(*directory.Membership, *memberInfo) string, error) {
			m, err := dir.SetRole(ctx, directory.Operator(), slug, email, role)
			return m, func(m *directory.Membership, v *memberInfo) string {
				v.Role, v.PreviousRole = role, m.PreviousRole
				if !m.Changed {
					return fmt.Sprintf("%s is already %s of %s; nothing changed.", m.User.Email, role, m.Org.Slug)
				}
				return fmt.Sprintf("%s is now %s of %s (was %s).", m.User.Email, role, m.Org.Slug, m.PreviousRole)
			}, err
		})
	cmd.Flags().StringVar(&role, "role", "", "the new `role`: owner, admin or member")
	cmd.MarkFlagRequired("role")
	return cmd
}

func newOrgRequireMemberMFACmd() *cobra.Command {
	var off bool
	cmd := membershipCmd("require-member-mfa --org S --email E [--off]",
		"Require two-factor authentication of one member, where the organisation does not",
		func(ctx context.Context, dir *directory.Directory, slug, email string) (*directory.Membership, func(*directory.Membership, *memberInfo) string, error) {
			require := !off
			m, err := dir.SetMemberRequireMFA(ctx, directory.Operator(), slug, email, require)
			return m, func(m *directory.Membership, v *memberInfo) string {
				v.Role, v.RequireMFA = m.Role, &require
				text := memberMFAText(m, require)
				if !m.Changed {
					return "Nothing changed: " + text
				}
				return text
			}, err
		})
	cmd.Flags().BoolVar(&off, "off", false, "stop requiring it of this member (the organisation's own policy still applies)")
	return cmd
}

func memberMFAText(m *directory.Membership, require bool) string {
	if require {
		return fmt.Sprintf("%s requires two-factor authentication of %s.", m.Org.Slug, m.User.Email)
	}
	return fmt.Sprintf("%s does not require two-factor authentication of %s beyond its own policy.", m.Org.Slug, m.User.Email)
}

// policyText is an organisation's 2FA policy as the command prints it.
func policyText(v directory.PolicyView, slug string) string {
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
	factors := factorNames(v.AllowedFactors)
	if len(v.AllowedFactors) == 0 {
		factors = "any (" + factorNames(mfa.FactorKinds) + ")"
	}
	fmt.Fprintf(&b, "  allowed factors:           %s\n", factors)
	return b.String()
}

func factorNames(kinds []mfa.FactorKind) string {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
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
	directory.PolicyView
	Changed bool `json:"changed"`
	// AdminsWithoutFactor are the owners and admins who have no second
	// factor yet, when the change started requiring one.
	AdminsWithoutFactor []string `json:"admins_without_factor,omitempty"`
}

func newOrgPolicyCmd() *cobra.Command {
	var o policyOpts
	cmd := &cobra.Command{
		Use:   "policy --org S [--require-mfa=true|false] [--grace-period 72h | --required-from DATE] [--allowed-factors totp,webauthn]",
		Short: "Show or change an organisation's two-factor policy",
		Long: "Shows an organisation's two-factor policy, changing only the settings given.\n" +
			"A grace period lets each member postpone enrollment for that long, counted\n" +
			"from when the requirement is turned on or the member joins, whichever is\n" +
			"later; a required-from date lets every member postpone it until that day.\n" +
			"Once a requirement is in force, tokens are issued only for sign-ins that\n" +
			"proved a second factor. Setting one\n" +
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

// parsePolicyFlags turns the flags given into the change they ask for.
func parsePolicyFlags(cmd *cobra.Command, o policyOpts) (directory.PolicyChange, error) {
	flags := cmd.Flags()
	var c directory.PolicyChange
	if flags.Changed("require-mfa") {
		c.RequireMFA = &o.requireMFA
	}
	if flags.Changed("grace-period") {
		c.GracePeriod = &o.grace
	}
	if flags.Changed("required-from") {
		var from time.Time
		if o.requiredFrom != "" {
			t, err := time.ParseInLocation(time.DateOnly, o.requiredFrom, time.UTC)
			if err != nil {
				return c, fmt.Errorf("--required-from %q is not a date; use YYYY-MM-DD, like 2027-01-31", o.requiredFrom)
			}
			from = t
		}
		c.RequiredFrom = &from
	}
	if flags.Changed("allowed-factors") {
		var kinds []mfa.FactorKind
		for _, name := range o.factors {
			if strings.TrimSpace(name) == "" {
				continue
			}
			k, ok := mfa.ParseFactorKind(name)
			if !ok {
				return c, fmt.Errorf("--allowed-factors: %q is not a factor Gatehouse offers; use %s", strings.ToLower(strings.TrimSpace(name)), factorNames(mfa.FactorKinds))
			}
			kinds = append(kinds, k)
		}
		c.AllowedFactors = &kinds
	}
	return c, nil
}

func runOrgPolicy(cmd *cobra.Command, o policyOpts) error {
	names := subject{slug: o.slug}
	if cmd.Flags().Changed("grace-period") && cmd.Flags().Changed("required-from") {
		return names.explain(directory.ErrGraceAndDate)
	}
	change, err := parsePolicyFlags(cmd, o)
	if err != nil {
		return err
	}
	var res *directory.PolicyResult
	err = withDirectory(cmd, func(ctx context.Context, dir *directory.Directory) (err error) {
		res, err = dir.SetPolicy(ctx, directory.Operator(), o.slug, change)
		return err
	})
	if err != nil {
		return names.explain(err)
	}
	out := policyResult{Org: res.Org.Slug, PolicyView: directory.ViewPolicy(res.After), Changed: res.Changed, AdminsWithoutFactor: res.Unenrolled}
	text := policyText(out.PolicyView, out.Org)
	if change != (directory.PolicyChange{}) && !res.Changed {
		text += "Nothing changed: the policy already had these settings.\n"
	}
	if len(res.Unenrolled) > 0 {
		warning := fmt.Sprintf("warning: these owners and admins of %s have no second factor yet and must set one up at their next sign-in: %s",
			res.Org.Slug, strings.Join(res.Unenrolled, ", "))
		fmt.Fprintln(cmd.ErrOrStderr(), warning)
	}
	return emit(cmd, out, text)
}
