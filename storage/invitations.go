package storage

import (
	"context"
	"time"
)

// Invitation is an invitation to join an organisation, by email.
type Invitation struct {
	TokenHash []byte     `db:"token_hash"`
	OrgID     string     `db:"org_id"`
	Email     string     `db:"email_normalized"`
	Role      string     `db:"role"`
	InvitedBy string     `db:"invited_by"`
	CreatedAt time.Time  `db:"created_at"`
	ExpiresAt time.Time  `db:"expires_at"`
	UsedAt    *time.Time `db:"used_at"`
}

// Invitations stores invitations.
type Invitations struct{ q queryer }

// Invitations returns the invitation repository.
func (s *Store) Invitations() Invitations { return Invitations{s.q} }

const invitationColumns = `token_hash, org_id, email_normalized, role, invited_by, created_at, expires_at, used_at`

// Create stores inv in place of any open invitation of the same address
// to the same organisation.
func (r Invitations) Create(ctx context.Context, inv *Invitation) error {
	inv.Email = NormalizeEmail(inv.Email)
	if _, err := r.q.ExecContext(ctx, `DELETE FROM invitations WHERE org_id = $1 AND email_normalized = $2 AND used_at IS NULL`,
		inv.OrgID, inv.Email); err != nil {
		return wrap(err, "replace invitation")
	}
	_, err := r.q.ExecContext(ctx, `INSERT INTO invitations (`+invitationColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL)`,
		inv.TokenHash, inv.OrgID, inv.Email, inv.Role, inv.InvitedBy, inv.CreatedAt.UTC(), inv.ExpiresAt.UTC())
	return wrap(err, "create invitation")
}

// Get returns the invitation with this digest, used or not.
func (r Invitations) Get(ctx context.Context, tokenHash []byte) (*Invitation, error) {
	var inv Invitation
	err := r.q.GetContext(ctx, &inv, `SELECT `+invitationColumns+` FROM invitations WHERE token_hash = $1`, tokenHash)
	return &inv, wrap(err, "get invitation")
}

// Use marks the open, unexpired invitation used at t, once across
// replicas; any other is ErrNotFound.
func (r Invitations) Use(ctx context.Context, tokenHash []byte, t time.Time) error {
	res, err := r.q.ExecContext(ctx, `UPDATE invitations SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1`,
		t.UTC(), tokenHash)
	return expectOne(res, err, "use invitation")
}

// DeleteExpired removes up to limit invitations that expired a week before t.
func (r Invitations) DeleteExpired(ctx context.Context, t time.Time, limit int) (int64, error) {
	return deleteBatch(ctx, r.q, `DELETE FROM invitations WHERE token_hash IN (SELECT token_hash FROM invitations
		WHERE expires_at < $1 LIMIT $2)`, t.Add(-linkRetention), limit)
}
