package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-id/gatehouse/storage"
)

func newClientCmd() *cobra.Command {
	return groupCmd("client", "Manage the applications that sign users in through Gatehouse",
		newClientCreateCmd(),
		newClientListCmd(),
		newClientDeleteCmd(),
		newClientRotateSecretCmd(),
	)
}

// clientInfo is a client as commands print it: never with its secret digest.
type clientInfo struct {
	ID                     string    `json:"id"`
	Name                   string    `json:"name"`
	Public                 bool      `json:"public"`
	RedirectURIs           []string  `json:"redirect_uris"`
	PostLogoutRedirectURIs []string  `json:"post_logout_redirect_uris"`
	RequireMFA             bool      `json:"require_mfa"`
	AdminAPI               bool      `json:"admin_api"`
	JWTAccessTokens        bool      `json:"jwt_access_tokens"`
	Org                    string    `json:"org"` // the organisation's slug, or ""
	CreatedAt              time.Time `json:"created_at"`
}

func clientInfoOf(c *storage.Client, orgSlug string) clientInfo {
	return clientInfo{
		ID:                     c.ID,
		Name:                   c.Name,
		Public:                 c.Public,
		RedirectURIs:           nonNil(c.RedirectURIs),
		PostLogoutRedirectURIs: nonNil(c.PostLogoutRedirectURIs),
		RequireMFA:             c.RequireMFA,
		AdminAPI:               c.AdminAPI,
		JWTAccessTokens:        c.JWTAccessTokens,
		Org:                    orgSlug,
		CreatedAt:              c.CreatedAt,
	}
}

// nonNil makes an empty list print as [] in JSON, not null.
func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

func clientType(public bool) string {
	if public {
		return "public"
	}
	return "confidential"
}

type clientCreateOpts struct {
	name                         string
	redirectURIs, postLogoutURIs []string
	public, requireMFA, adminAPI bool
	jwtAccessTokens              bool
	org                          string
}

func newClientCreateCmd() *cobra.Command {
	var o clientCreateOpts
	cmd := &cobra.Command{
		Use:   "create --name N --redirect-uri U [--redirect-uri U2] [--public] [--post-logout-redirect-uri U] [--require-mfa] [--org S] [--admin-api] [--jwt-access-tokens]",
		Short: "Register an application",
		Long: "Registers an application. A confidential client (the default) gets a secret,\n" +
			"printed once; a public client (--public: a single-page or native app) has none\n" +
			"and must use PKCE. Redirect URIs must use https, except http on localhost,\n" +
			"127.0.0.1 and [::1], or a native app's reverse-domain scheme\n" +
			"(com.example.app:/callback).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runClientCreate(cmd, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.name, "name", "", "the application's `name`, shown to users")
	f.StringArrayVar(&o.redirectURIs, "redirect-uri", nil, "a `URI` the application receives sign-in responses at (repeatable)")
	f.StringArrayVar(&o.postLogoutURIs, "post-logout-redirect-uri", nil, "a `URI` the application may send users to after logout (repeatable)")
	f.BoolVar(&o.public, "public", false, "a public client (no secret; PKCE required)")
	f.BoolVar(&o.requireMFA, "require-mfa", false, "require two-factor authentication of everyone signing in to this application")
	f.StringVar(&o.org, "org", "", "the `slug` of the organisation that owns the application")
	f.BoolVar(&o.adminAPI, "admin-api", false, "let the application call Gatehouse's admin API")
	f.BoolVar(&o.jwtAccessTokens, "jwt-access-tokens", false, "issue JWT access tokens instead of opaque ones")
	cmd.MarkFlagRequired("name")
	return cmd
}

// checkRedirectURIs validates every URI given with flag and drops repeats.
func checkRedirectURIs(flag string, uris []string) ([]string, error) {
	var out []string
	for _, u := range uris {
		if err := validateRedirectURI(u); err != nil {
			return nil, fmt.Errorf("%s %w", flag, err)
		}
		if !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	return out, nil
}

type createdClient struct {
	clientInfo
	Secret string `json:"secret,omitempty"`
}

func runClientCreate(cmd *cobra.Command, o clientCreateOpts) error {
	name, err := cleanName("--name", o.name, true)
	if err != nil {
		return err
	}
	if len(o.redirectURIs) == 0 {
		return errors.New("at least one --redirect-uri is required")
	}
	redirects, err := checkRedirectURIs("--redirect-uri", o.redirectURIs)
	if err != nil {
		return err
	}
	postLogout, err := checkRedirectURIs("--post-logout-redirect-uri", o.postLogoutURIs)
	if err != nil {
		return err
	}
	c := storage.Client{
		Name:                   name,
		RedirectURIs:           redirects,
		PostLogoutRedirectURIs: postLogout,
		Public:                 o.public,
		RequireMFA:             o.requireMFA,
		AdminAPI:               o.adminAPI,
		JWTAccessTokens:        o.jwtAccessTokens,
	}
	var secret string
	if !o.public {
		secret, c.SecretHash = storage.NewSecret()
	}
	err = withStore(cmd, func(ctx context.Context, st *storage.Store) error {
		return st.InTx(ctx, func(tx *storage.Store) error {
			if o.org != "" {
				org, err := orgBySlug(ctx, tx, o.org)
				if err != nil {
					return err
				}
				c.OrgID = &org.ID
			}
			if err := tx.Clients().Create(ctx, &c); err != nil {
				return err
			}
			e := storage.AuditEvent{ClientID: c.ID}
			if c.OrgID != nil {
				e.OrgID = *c.OrgID
			}
			// The view holds no secret: only the digest is stored, and
			// neither goes into the audit trail.
			return audit(ctx, tx, "client.created", e, clientInfoOf(&c, o.org))
		})
	})
	if err != nil {
		return err
	}

	out := createdClient{clientInfo: clientInfoOf(&c, o.org), Secret: secret}
	var text strings.Builder
	fmt.Fprintf(&text, "Created %s client %s.\n", clientType(c.Public), c.Name)
	fmt.Fprintf(&text, "Client ID:     %s\n", c.ID)
	if c.Public {
		text.WriteString("It has no secret: it must use PKCE.\n")
	} else {
		fmt.Fprintf(&text, "Client secret: %s\n", secret)
		fmt.Fprintf(&text, "The secret is shown only once: store it now. If it is lost, make a new one with\n"+
			"  gatehouse client rotate-secret --id %s\n", c.ID)
	}
	return emit(cmd, out, text.String())
}

func newClientListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List registered applications",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var views []clientInfo
			err := withStore(cmd, func(ctx context.Context, st *storage.Store) error {
				clients, err := st.Clients().List(ctx)
				if err != nil {
					return err
				}
				orgs, err := st.Orgs().List(ctx)
				if err != nil {
					return err
				}
				slugs := make(map[string]string, len(orgs))
				for _, o := range orgs {
					slugs[o.ID] = o.Slug
				}
				views = make([]clientInfo, 0, len(clients))
				for i := range clients {
					slug := ""
					if id := clients[i].OrgID; id != nil {
						slug = slugs[*id]
					}
					views = append(views, clientInfoOf(&clients[i], slug))
				}
				return nil
			})
			if err != nil {
				return err
			}
			text := "No clients yet. Register one with: gatehouse client create --name N --redirect-uri U"
			if len(views) > 0 {
				rows := make([][]string, 0, len(views))
				for _, v := range views {
					rows = append(rows, []string{v.ID, v.Name, clientType(v.Public), v.Org, strings.Join(v.RedirectURIs, " ")})
				}
				text = textTable([]string{"ID", "NAME", "TYPE", "ORG", "REDIRECT URIS"}, rows)
			}
			return emit(cmd, views, text)
		},
	}
}

// clientByID finds a client, turning "not found" into a message that
// names the id.
func clientByID(ctx context.Context, st *storage.Store, id string) (*storage.Client, error) {
	c, err := st.Clients().Get(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, fmt.Errorf("no client with id %q", id)
	}
	return c, err
}

type deletedClient struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Deleted bool   `json:"deleted"`
}

func newClientDeleteCmd() *cobra.Command {
	var id string
	cmd := &cobra.Command{
		Use:   "delete --id ID",
		Short: "Remove a registered application",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var c *storage.Client
			err := withStore(cmd, func(ctx context.Context, st *storage.Store) error {
				return st.InTx(ctx, func(tx *storage.Store) (err error) {
					if c, err = clientByID(ctx, tx, id); err != nil {
						return err
					}
					if err := tx.Clients().Delete(ctx, c.ID); err != nil {
						return err
					}
					if err := tx.Tokens().RevokeClient(ctx, c.ID); err != nil {
						return err
					}
					return audit(ctx, tx, "client.deleted", storage.AuditEvent{ClientID: c.ID},
						map[string]any{"name": c.Name})
				})
			})
			if err != nil {
				return err
			}
			return emit(cmd, deletedClient{ID: c.ID, Name: c.Name, Deleted: true},
				fmt.Sprintf("Deleted client %s (%s).", c.ID, c.Name))
		},
	}
	cmd.Flags().StringVar(&id, "id", "", "the client `id`")
	cmd.MarkFlagRequired("id")
	return cmd
}

type rotatedSecret struct {
	ID     string `json:"id"`
	Secret string `json:"secret"`
}

func newClientRotateSecretCmd() *cobra.Command {
	var id string
	cmd := &cobra.Command{
		Use:   "rotate-secret --id ID",
		Short: "Replace a confidential client's secret",
		Long:  "Replaces a confidential client's secret. The old secret stops working at once.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			secret, digest := storage.NewSecret()
			err := withStore(cmd, func(ctx context.Context, st *storage.Store) error {
				return st.InTx(ctx, func(tx *storage.Store) error {
					c, err := clientByID(ctx, tx, id)
					if err != nil {
						return err
					}
					err = tx.Clients().SetSecretHash(ctx, c.ID, digest)
					if errors.Is(err, storage.ErrClientHasNoSecret) {
						return fmt.Errorf("client %q is public and has no secret to rotate", c.ID)
					}
					if err != nil {
						return err
					}
					return audit(ctx, tx, "client.secret_rotated", storage.AuditEvent{ClientID: c.ID},
						map[string]any{"name": c.Name})
				})
			})
			if err != nil {
				return err
			}
			text := fmt.Sprintf("New secret for client %s: %s\n"+
				"The secret is shown only once: store it now. The old secret no longer works.", id, secret)
			return emit(cmd, rotatedSecret{ID: id, Secret: secret}, text)
		},
	}
	cmd.Flags().StringVar(&id, "id", "", "the client `id`")
	cmd.MarkFlagRequired("id")
	return cmd
}
