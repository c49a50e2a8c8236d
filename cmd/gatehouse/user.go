package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/password"
	"github.com/gatehouse-id/gatehouse/storage"
)

func newUserCmd() *cobra.Command {
	return groupCmd("user", "Manage users",
		newUserCreateCmd(),
		newUserListCmd(),
		newUserSetPasswordCmd(),
		newUserSetDisabledCmd("disable", true),
		newUserSetDisabledCmd("enable", false),
		newUserSignOutCmd(),
		newUserUnlockCmd(),
		newUserResetMFACmd(),
	)
}

// userInfo is a user as commands print it: never with the password hash.
type userInfo struct {
	ID          string    `json:"id"`
	Email       string    `json:"email"`
	Name        string    `json:"name"`
	Disabled    bool      `json:"disabled"`
	PasswordSet bool      `json:"password_set"`
	CreatedAt   time.Time `json:"created_at"`
}

func userInfoOf(u *storage.User) userInfo {
	return userInfo{
		ID:          u.ID,
		Email:       u.Email,
		Name:        u.Name,
		Disabled:    u.Disabled,
		PasswordSet: u.PasswordHash != nil,
		CreatedAt:   u.CreatedAt,
	}
}

type userCreateOpts struct {
	email, name, org, role string
	passwordStdin          bool
}

func newUserCreateCmd() *cobra.Command {
	var o userCreateOpts
	cmd := &cobra.Command{
		Use:   "create --email E [--name N] [--password-stdin] [--org SLUG [--role owner|admin|member]]",
		Short: "Create a user",
		Long: "Creates a user. With --password-stdin the password is read from the first line\n" +
			"of standard input; without it the account cannot sign in until a password is\n" +
			"set with gatehouse user set-password.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runUserCreate(cmd, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.email, "email", "", "the user's email `address`")
	f.StringVar(&o.name, "name", "", "the user's display `name`")
	f.BoolVar(&o.passwordStdin, "password-stdin", false, "read the password from the first line of standard input")
	f.StringVar(&o.org, "org", "", "add the user to the organisation with this `slug`")
	f.StringVar(&o.role, "role", storage.RoleMember, "the `role` in the organisation: owner, admin or member")
	cmd.MarkFlagRequired("email")
	return cmd
}

type createdUser struct {
	userInfo
	Org  string `json:"org,omitempty"`
	Role string `json:"role,omitempty"`
}

func runUserCreate(cmd *cobra.Command, o userCreateOpts) error {
	if cmd.Flags().Changed("role") && o.org == "" {
		return errors.New("--role needs --org: a role is held in an organisation")
	}
	names := subject{email: o.email, slug: o.org}
	// The flags are checked before the password is read and hashed.
	if _, err := directory.ParseEmail(o.email); err != nil {
		return names.explain(err)
	}
	if err := directory.CheckRole(o.role); err != nil {
		return names.explain(err)
	}
	var hash *string
	if o.passwordStdin {
		h, err := newPasswordHash(cmd)
		if err != nil {
			return err
		}
		hash = &h
	}
	var u *storage.User
	err := withDirectory(cmd, func(ctx context.Context, dir *directory.Directory) (err error) {
		u, err = dir.CreateUser(ctx, directory.Operator(), directory.NewUser{Email: o.email, Name: o.name, PasswordHash: hash, OrgSlug: o.org, Role: o.role})
		return err
	})
	if err != nil {
		return names.explain(err)
	}

	out := createdUser{userInfo: userInfoOf(u)}
	var text strings.Builder
	fmt.Fprintf(&text, "Created user %s (id %s).\n", u.Email, u.ID)
	if o.org != "" {
		out.Org, out.Role = o.org, o.role
		fmt.Fprintf(&text, "Added to organisation %s as %s.\n", o.org, o.role)
	}
	if hash == nil {
		fmt.Fprintf(&text, "The account has no password and cannot sign in until one is set:\n"+
			"  gatehouse user set-password --email %s --password-stdin\n", u.Email)
	}
	return emit(cmd, out, text.String())
}

func newUserListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List users",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var users []storage.User
			err := withStore(cmd, func(ctx context.Context, st *storage.Store) (err error) {
				users, err = st.Users().List(ctx)
				return err
			})
			if err != nil {
				return err
			}
			views := make([]userInfo, 0, len(users))
			rows := make([][]string, 0, len(users))
			for i := range users {
				v := userInfoOf(&users[i])
				views = append(views, v)
				rows = append(rows, []string{v.ID, v.Email, v.Name, userStatus(v.Disabled), yesNo(v.PasswordSet)})
			}
			text := "No users yet. Create one with: gatehouse user create --email E --password-stdin"
			if len(users) > 0 {
				text = textTable([]string{"ID", "EMAIL", "NAME", "STATUS", "PASSWORD SET"}, rows)
			}
			return emit(cmd, views, text)
		},
	}
}

func userStatus(disabled bool) string {
	if disabled {
		return "disabled"
	}
	return "active"
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func newUserSetPasswordCmd() *cobra.Command {
	var email string
	var fromStdin bool
	cmd := &cobra.Command{
		Use:   "set-password --email E --password-stdin",
		Short: "Set a user's password, read from standard input",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			hash, err := newPasswordHash(cmd)
			if err != nil {
				return err
			}
			var u *storage.User
			err = withDirectory(cmd, func(ctx context.Context, dir *directory.Directory) (err error) {
				u, err = dir.SetPassword(ctx, directory.Operator(), email, hash)
				return err
			})
			if err != nil {
				return subject{email: email}.explain(err)
			}
			return emit(cmd, userInfoOf(u), fmt.Sprintf("Set a new password for %s.", u.Email))
		},
	}
	cmd.Flags().StringVar(&email, "email", "", "the user's email `address`")
	cmd.Flags().BoolVar(&fromStdin, "password-stdin", false, "read the password from the first line of standard input (required)")
	cmd.MarkFlagRequired("email")
	cmd.MarkFlagRequired("password-stdin")
	return cmd
}

type disabledResult struct {
	userInfo
	Changed bool `json:"changed"`
}

// newUserSetDisabledCmd builds "user disable" and "user enable".
func newUserSetDisabledCmd(verb string, disable bool) *cobra.Command {
	var email string
	short := "Let a disabled user sign in again"
	if disable {
		short = "Stop a user from signing in"
	}
	cmd := &cobra.Command{
		Use:   verb + " --email E",
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var u *storage.User
			var changed bool
			err := withDirectory(cmd, func(ctx context.Context, dir *directory.Directory) (err error) {
				u, changed, err = dir.SetDisabled(ctx, directory.Operator(), email, disable)
				return err
			})
			if err != nil {
				return subject{email: email}.explain(err)
			}
			var text string
			switch {
			case !changed:
				text = fmt.Sprintf("%s is already %sd; nothing changed.", u.Email, verb)
			case disable:
				text = fmt.Sprintf("Disabled %s: they can no longer sign in; their sessions and tokens ended.", u.Email)
			default:
				text = fmt.Sprintf("Enabled %s: they can sign in again.", u.Email)
			}
			return emit(cmd, disabledResult{userInfo: userInfoOf(u), Changed: changed}, text)
		},
	}
	cmd.Flags().StringVar(&email, "email", "", "the user's email `address`")
	cmd.MarkFlagRequired("email")
	return cmd
}

type signedOut struct {
	userInfo
	SignedOut bool `json:"signed_out"`
}

func newUserSignOutCmd() *cobra.Command {
	var email string
	cmd := &cobra.Command{
		Use:   "sign-out --email E",
		Short: "End every browser session and refresh token of a user",
		Long: "Ends every browser session of the user and revokes their refresh tokens: they must\n" +
			"sign in again everywhere. Their password and second factors stay as they are.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var u *storage.User
			err := withDirectory(cmd, func(ctx context.Context, dir *directory.Directory) (err error) {
				u, err = dir.SignOut(ctx, directory.Operator(), email)
				return err
			})
			if err != nil {
				return subject{email: email}.explain(err)
			}
			return emit(cmd, signedOut{userInfo: userInfoOf(u), SignedOut: true},
				fmt.Sprintf("Signed %s out everywhere: every browser session ended and every refresh token was revoked.", u.Email))
		},
	}
	cmd.Flags().StringVar(&email, "email", "", "the user's email `address`")
	cmd.MarkFlagRequired("email")
	return cmd
}

type unlocked struct {
	userInfo
	Unlocked bool `json:"unlocked"`
}

func newUserUnlockCmd() *cobra.Command {
	var email string
	cmd := &cobra.Command{
		Use:   "unlock --email E",
		Short: "Lift the lock that wrong second-factor codes set on a user",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var u *storage.User
			err := withDirectory(cmd, func(ctx context.Context, dir *directory.Directory) (err error) {
				u, err = dir.Unlock(ctx, directory.Operator(), email)
				return err
			})
			if err != nil {
				return subject{email: email}.explain(err)
			}
			return emit(cmd, unlocked{userInfo: userInfoOf(u), Unlocked: true},
				fmt.Sprintf("Unlocked %s: their second factor can be used again, and the count of wrong codes starts again.", u.Email))
		},
	}
	cmd.Flags().StringVar(&email, "email", "", "the user's email `address`")
	cmd.MarkFlagRequired("email")
	return cmd
}

type factorsReset struct {
	userInfo
	Reset bool `json:"reset"`
	// EnrollmentLink is printed when no mail server sends it.
	EnrollmentLink string `json:"enrollment_link,omitempty"`
}

func newUserResetMFACmd() *cobra.Command {
	var email string
	cmd := &cobra.Command{
		Use:   "reset-mfa --email E",
		Short: "Remove every second factor of a user who lost theirs (the last resort)",
		Long: "Removes the user's second factors and recovery codes, ends their sessions and refresh\n" +
			"tokens and clears their second-factor locks. The password alone cannot add a new factor\n" +
			"afterwards: the user gets a one-time enrollment link by mail (24 hours), printed here\n" +
			"when no mail server is configured. Recorded in the audit log with the operator as actor.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var res factorsReset
			err := withDirectoryMailing(cmd, func(ctx context.Context, dir *directory.Directory, m *mailing) error {
				u, token, err := dir.ResetFactors(ctx, directory.Operator(), email)
				if err != nil {
					return err
				}
				res = factorsReset{userInfo: userInfoOf(u), Reset: true}
				if !m.smtp {
					res.EnrollmentLink = m.links.Enrollment(token)
				}
				return nil
			})
			if err != nil {
				return subject{email: email}.explain(err)
			}
			text := fmt.Sprintf("Reset the second factors of %s: every factor and recovery code was removed and every session ended.", res.Email)
			if res.EnrollmentLink == "" {
				text += "\nThey were mailed a one-time link to set up a new one (valid 24 hours)."
			} else {
				text += "\nNo mail server is configured: give them this one-time link to set up a new one (valid 24 hours, one browser):\n" + res.EnrollmentLink
			}
			return emit(cmd, res, text)
		},
	}
	cmd.Flags().StringVar(&email, "email", "", "the user's email `address`")
	cmd.MarkFlagRequired("email")
	return cmd
}

// newPasswordHash reads a new password from standard input, checks that
// it is strong enough and hashes it.
func newPasswordHash(cmd *cobra.Command) (string, error) {
	plain, err := readPassword(cmd.InOrStdin())
	if err != nil {
		return "", err
	}
	if err := password.Check(plain); err != nil {
		return "", err
	}
	return password.NewHasher(password.DefaultParams, 0).Hash(cmd.Context(), plain)
}

// maxPasswordInput bounds what is read from standard input: far more than
// the longest acceptable password, far less than a mistaken pipe of a file.
const maxPasswordInput = 4096

// readPassword reads the first line of r, without its line ending. Every
// other character, spaces included, is part of the password.
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, maxPasswordInput+1)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("--password-stdin: reading standard input: %w", err)
	}
	line = strings.TrimSuffix(line, "\n")
	line = strings.TrimSuffix(line, "\r")
	switch {
	case len(line) > maxPasswordInput:
		return "", fmt.Errorf("--password-stdin: the first line of standard input is longer than %d bytes", maxPasswordInput)
	case line == "":
		return "", errors.New("--password-stdin: standard input is empty; pipe the password in as one line")
	}
	return line, nil
}
