package storage

import (
	"context"
	"time"
)

// Consent is a user's remembered consent to a client: the scopes allowed.
type Consent struct {
	UserID     string     `db:"user_id"`
	ClientID   string     `db:"client_id"`
	ClientName string     `db:"client_name"`
	Scopes     StringList `db:"scopes"`
	GrantedAt  time.Time  `db:"granted_at"`
}

// Consents stores remembered consents.
type Consents struct{ q queryer }

// Consents returns the consent repository.
func (s *Store) Consents() Consents { return Consents{s.q} }

// Grant remembers that the user allowed the client these scopes, in place
// of what was allowed before.
func (r Consents) Grant(ctx context.Context, userID, clientID string, scopes []string) error {
	_, err := r.q.ExecContext(ctx, `INSERT INTO consents (user_id, client_id, scopes, granted_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (user_id, client_id) DO UPDATE SET scopes = $3, granted_at = $4`, userID, clientID, StringList(scopes), now())
	return wrap(err, "grant consent")
}

// Get returns the user's consent to the client, or ErrNotFound.
func (r Consents) Get(ctx context.Context, userID, clientID string) (*Consent, error) {
	var c Consent
	err := r.q.GetContext(ctx, &c, `SELECT c.user_id, c.client_id, k.name AS client_name, c.scopes, c.granted_at
		FROM consents c JOIN clients k ON k.id = c.client_id WHERE c.user_id = $1 AND c.client_id = $2`, userID, clientID)
	return &c, wrap(err, "get consent")
}

// OfUser lists the user's consents, by application name.
func (r Consents) OfUser(ctx context.Context, userID string) ([]Consent, error) {
	var cs []Consent
	err := r.q.SelectContext(ctx, &cs, `SELECT c.user_id, c.client_id, k.name AS client_name, c.scopes, c.granted_at
		FROM consents c JOIN clients k ON k.id = c.client_id WHERE c.user_id = $1 ORDER BY k.name, c.client_id`, userID)
	return cs, wrap(err, "list consents")
}

// Revoke forgets the user's consent to the client.
func (r Consents) Revoke(ctx context.Context, userID, clientID string) error {
	res, err := r.q.ExecContext(ctx, `DELETE FROM consents WHERE user_id = $1 AND client_id = $2`, userID, clientID)
	return expectOne(res, err, "revoke consent")
}
