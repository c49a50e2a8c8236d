package storage

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Client is a relying-party application registered with Gatehouse.
type Client struct {
	ID                     string     `db:"id"`
	Name                   string     `db:"name"`
	SecretHash             []byte     `db:"secret_hash"` // SHA-256 of the secret; nil for public clients
	RedirectURIs           StringList `db:"redirect_uris"`
	PostLogoutRedirectURIs StringList `db:"post_logout_redirect_uris"`
	Public                 bool       `db:"public"`
	RequireMFA             bool       `db:"require_mfa"`
	AdminAPI               bool       `db:"admin_api"`
	JWTAccessTokens        bool       `db:"jwt_access_tokens"`
	ResourceServer         bool       `db:"resource_server"` // may introspect other clients' access tokens
	RequireConsent         bool       `db:"require_consent"` // asks each user's consent, once per scope set
	OrgID                  *string    `db:"org_id"`
	CreatedAt              time.Time  `db:"created_at"`
	UpdatedAt              time.Time  `db:"updated_at"`
}

// StringList is a list of strings stored as a JSON array.
type StringList []string

// Value implements driver.Valuer.
func (l StringList) Value() (driver.Value, error) {
	if l == nil {
		l = StringList{}
	}
	b, err := json.Marshal([]string(l))
	return string(b), err
}

// Scan implements sql.Scanner.
func (l *StringList) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case string:
		b = []byte(v)
	case []byte:
		b = v
	case nil:
		*l = nil
		return nil
	default:
		return fmt.Errorf("string list: unexpected %T", src)
	}
	return json.Unmarshal(b, (*[]string)(l))
}

// ErrClientHasNoSecret refuses rotating the secret of a public client.
var ErrClientHasNoSecret = errors.New("public clients have no secret")

// Clients stores relying-party clients.
type Clients struct{ q queryer }

// Clients returns the client repository.
func (s *Store) Clients() Clients { return Clients{s.q} }

const clientColumns = `id, name, secret_hash, redirect_uris, post_logout_redirect_uris, public, require_mfa, admin_api,
	jwt_access_tokens, org_id, created_at, updated_at, resource_server, require_consent`

// Create inserts c, filling ID (unless set) and timestamps.
func (r Clients) Create(ctx context.Context, c *Client) error {
	if c.ID == "" {
		c.ID = newID()
	}
	c.CreatedAt = now()
	c.UpdatedAt = c.CreatedAt
	_, err := r.q.ExecContext(ctx, `INSERT INTO clients (`+clientColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		c.ID, c.Name, c.SecretHash, c.RedirectURIs, c.PostLogoutRedirectURIs, c.Public, c.RequireMFA, c.AdminAPI,
		c.JWTAccessTokens, c.OrgID, c.CreatedAt, c.UpdatedAt, c.ResourceServer, c.RequireConsent)
	return wrap(err, "create client")
}

// Get returns the client with this id.
func (r Clients) Get(ctx context.Context, id string) (*Client, error) {
	var c Client
	err := r.q.GetContext(ctx, &c, `SELECT `+clientColumns+` FROM clients WHERE id = $1`, id)
	return &c, wrap(err, "get client")
}

// List returns every client, ordered by name.
func (r Clients) List(ctx context.Context) ([]Client, error) {
	var cs []Client
	err := r.q.SelectContext(ctx, &cs, `SELECT `+clientColumns+` FROM clients ORDER BY name, id`)
	return cs, wrap(err, "list clients")
}

// Delete removes a client.
func (r Clients) Delete(ctx context.Context, id string) error {
	res, err := r.q.ExecContext(ctx, `DELETE FROM clients WHERE id = $1`, id)
	return expectOne(res, err, "delete client")
}

// SetSecretHash replaces a confidential client's secret digest.
func (r Clients) SetSecretHash(ctx context.Context, id string, digest []byte) error {
	res, err := r.q.ExecContext(ctx, `UPDATE clients SET secret_hash = $1, updated_at = $2 WHERE id = $3 AND public = FALSE`,
		digest, now(), id)
	err = expectOne(res, err, "rotate client secret")
	if errors.Is(err, ErrNotFound) {
		if _, getErr := r.Get(ctx, id); getErr == nil {
			return ErrClientHasNoSecret
		}
	}
	return err
}

// AnyBut reports whether there is a client other than the one with id
// except (Gatehouse's own account client).
func (r Clients) AnyBut(ctx context.Context, except string) (bool, error) {
	var n int
	err := r.q.GetContext(ctx, &n, `SELECT COUNT(*) FROM (SELECT 1 FROM clients WHERE id <> $1 LIMIT 1) AS one`, except)
	return n > 0, wrap(err, "look for clients")
}
