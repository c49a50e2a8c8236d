package directory

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/gatehouse-id/gatehouse/storage"
)

// NewClient is an application to register.
type NewClient struct {
	Name                   string
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	Public                 bool // a single-page or native app: no secret, PKCE required
	RequireMFA             bool
	AdminAPI               bool
	JWTAccessTokens        bool
	ResourceServer         bool   // an API that may introspect other clients' access tokens
	RequireConsent         bool   // a third-party application: each user allows it once per scope set
	OrgSlug                string // the organisation that owns it, if any
}

// ClientView is a client as callers print it and the audit log records
// it: never with its secret or digest.
type ClientView struct {
	ID                     string    `json:"id"`
	Name                   string    `json:"name"`
	Public                 bool      `json:"public"`
	RedirectURIs           []string  `json:"redirect_uris"`
	PostLogoutRedirectURIs []string  `json:"post_logout_redirect_uris"`
	RequireMFA             bool      `json:"require_mfa"`
	AdminAPI               bool      `json:"admin_api"`
	JWTAccessTokens        bool      `json:"jwt_access_tokens"`
	ResourceServer         bool      `json:"resource_server"`
	RequireConsent         bool      `json:"require_consent"`
	Org                    string    `json:"org"` // the organisation's slug, or ""
	CreatedAt              time.Time `json:"created_at"`
}

// ViewClient is c, owned by the organisation orgSlug ("" for none), as
// callers print it.
func ViewClient(c *storage.Client, orgSlug string) ClientView {
	return ClientView{
		ID:                     c.ID,
		Name:                   c.Name,
		Public:                 c.Public,
		RedirectURIs:           nonNil(c.RedirectURIs),
		PostLogoutRedirectURIs: nonNil(c.PostLogoutRedirectURIs),
		RequireMFA:             c.RequireMFA,
		AdminAPI:               c.AdminAPI,
		JWTAccessTokens:        c.JWTAccessTokens,
		ResourceServer:         c.ResourceServer,
		RequireConsent:         c.RequireConsent,
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

// checkRedirectURIs validates every URI given for field and drops repeats.
func checkRedirectURIs(field string, uris []string) ([]string, error) {
	var out []string
	for _, u := range uris {
		if err := validateRedirectURI(u); err != nil {
			return nil, invalid(field, err.Error())
		}
		if !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	return out, nil
}

// CreateClient registers an application. A confidential client gets a
// secret, returned here once: only its digest is stored.
func (d *Directory) CreateClient(ctx context.Context, actor Actor, n NewClient) (c *storage.Client, secret string, err error) {
	name, err := cleanName(n.Name, true)
	if err != nil {
		return nil, "", err
	}
	if len(n.RedirectURIs) == 0 {
		return nil, "", ErrNoRedirectURI
	}
	redirects, err := checkRedirectURIs("redirect_uri", n.RedirectURIs)
	if err != nil {
		return nil, "", err
	}
	postLogout, err := checkRedirectURIs("post_logout_redirect_uri", n.PostLogoutRedirectURIs)
	if err != nil {
		return nil, "", err
	}
	c = &storage.Client{
		Name:                   name,
		RedirectURIs:           redirects,
		PostLogoutRedirectURIs: postLogout,
		Public:                 n.Public,
		RequireMFA:             n.RequireMFA,
		AdminAPI:               n.AdminAPI,
		JWTAccessTokens:        n.JWTAccessTokens,
		ResourceServer:         n.ResourceServer,
		RequireConsent:         n.RequireConsent,
	}
	if !n.Public {
		secret, c.SecretHash = storage.NewSecret()
	}
	err = d.store.InTx(ctx, func(tx *storage.Store) error {
		e := Event{Type: EventClientCreated}
		if n.OrgSlug != "" {
			org, err := orgBySlug(ctx, tx, n.OrgSlug)
			if err != nil {
				return err
			}
			c.OrgID, e.OrgID = &org.ID, org.ID
		}
		if err := tx.Clients().Create(ctx, c); err != nil {
			return err
		}
		e.ClientID, e.Details = c.ID, ViewClient(c, n.OrgSlug)
		return Record(ctx, tx, actor, e)
	})
	if err != nil {
		return nil, "", err
	}
	return c, secret, nil
}

// DeleteClient removes an application and revokes every token issued to it.
func (d *Directory) DeleteClient(ctx context.Context, actor Actor, id string) (*storage.Client, error) {
	var c *storage.Client
	err := d.store.InTx(ctx, func(tx *storage.Store) (err error) {
		if c, err = clientByID(ctx, tx, id); err != nil {
			return err
		}
		if err := tx.Clients().Delete(ctx, c.ID); err != nil {
			return err
		}
		if err := tx.Tokens().RevokeClient(ctx, c.ID); err != nil {
			return err
		}
		return Record(ctx, tx, actor, Event{Type: EventClientDeleted, ClientID: c.ID, Details: map[string]any{"name": c.Name}})
	})
	return c, err
}

// RotateClientSecret replaces a confidential client's secret; the old one
// stops working at once. The new secret is returned here once.
func (d *Directory) RotateClientSecret(ctx context.Context, actor Actor, id string) (string, error) {
	secret, digest := storage.NewSecret()
	err := d.store.InTx(ctx, func(tx *storage.Store) error {
		c, err := clientByID(ctx, tx, id)
		if err != nil {
			return err
		}
		err = tx.Clients().SetSecretHash(ctx, c.ID, digest)
		if errors.Is(err, storage.ErrClientHasNoSecret) {
			return ErrPublicClient
		}
		if err != nil {
			return err
		}
		return Record(ctx, tx, actor, Event{Type: EventClientSecretRotated, ClientID: c.ID, Details: map[string]any{"name": c.Name}})
	})
	if err != nil {
		return "", err
	}
	return secret, nil
}

// RecordKeyRotated records that an operator rotated the signing key.
func (d *Directory) RecordKeyRotated(ctx context.Context, actor Actor, kid, alg string, now bool) error {
	return Record(ctx, d.store, actor, Event{Type: EventKeyRotated, Details: map[string]any{"kid": kid, "alg": alg, "now": now}})
}
