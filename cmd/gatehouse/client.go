package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse-id/gatehouse/directory"
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

func clientType(public bool) string {
	if public {
		return "public"
	}
	return "confidential"
}

type clientCreateOpts struct {
	name                                            string
	redirectURIs, postLogoutURIs                    []string
	public, requireMFA, adminAPI                    bool
	jwtAccessTokens, resourceServer, requireConsent bool
	org                                             string
}

func newClientCreateCmd() *cobra.Command {
	var o clientCreateOpts
	cmd := &cobra.Command{
		Use:   "create --name N --redirect-uri U [--redirect-uri U2] [--public] [--post-logout-redirect-uri U] [--require-mfa] [--org S] [--admin-api] [--jwt-access-tokens] [--resource-server] [--require-consent]",
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
	f.BoolVar(&o.resourceServer, "resource-server", false, "an API that may introspect access tokens issued to other clients")
	f.BoolVar(&o.requireConsent, "require-consent", false, "a third-party application: each user allows it once per set of scopes")
	cmd.MarkFlagRequired("name")
	return cmd
}

type createdClient struct {
	directory.ClientView
	Secret string `json:"secret,omitempty"`
}

func runClientCreate(cmd *cobra.Command, o clientCreateOpts) error {
	var c *storage.Client
	var secret string
	err := withDirectory(cmd, func(ctx context.Context, dir *directory.Directory) (err error) {
		c, secret, err = dir.CreateClient(ctx, directory.Operator(), directory.NewClient{
			Name:                   o.name,
			RedirectURIs:           o.redirectURIs,
			PostLogoutRedirectURIs: o.postLogoutURIs,
			Public:                 o.public,
			RequireMFA:             o.requireMFA,
			AdminAPI:               o.adminAPI,
			JWTAccessTokens:        o.jwtAccessTokens,
			ResourceServer:         o.resourceServer,
			RequireConsent:         o.requireConsent,
			OrgSlug:                o.org,
		})
		return err
	})
	if err != nil {
		return subject{slug: o.org}.explain(err)
	}

	out := createdClient{ClientView: directory.ViewClient(c, o.org), Secret: secret}
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
			var views []directory.ClientView
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
				views = make([]directory.ClientView, 0, len(clients))
				for i := range clients {
					slug := ""
					if id := clients[i].OrgID; id != nil {
						slug = slugs[*id]
					}
					views = append(views, directory.ViewClient(&clients[i], slug))
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
			err := withDirectory(cmd, func(ctx context.Context, dir *directory.Directory) (err error) {
				c, err = dir.DeleteClient(ctx, directory.Operator(), id)
				return err
			})
			if err != nil {
				return subject{clientID: id}.explain(err)
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
			var secret string
			err := withDirectory(cmd, func(ctx context.Context, dir *directory.Directory) (err error) {
				secret, err = dir.RotateClientSecret(ctx, directory.Operator(), id)
				return err
			})
			if err != nil {
				return subject{clientID: id}.explain(err)
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
