package storage

import (
	"context"
	"errors"
	"time"

	"github.com/gatehouse-id/gatehouse/mfa"
)

// ErrReplayed reports a one-time code whose time step was already used.
var ErrReplayed = errors.New("code already used")

// Factor is a second factor of a user. A factor without ConfirmedAt is an
// enrollment in progress: it never counts for sign-in.
type Factor struct {
	ID     string         `db:"id"`
	UserID string         `db:"user_id"`
	Kind   mfa.FactorKind `db:"kind"`
	Name   string         `db:"name"`
	Secret []byte         `db:"secret"` // encrypted by the caller, bound to user and factor ids
	// CredentialID and Credential are a security key's: the id browsers
	// name it by and its public key record. Nil for other kinds.
	CredentialID []byte `db:"credential_id"`
	Credential   []byte `db:"credential"`
	// LastUsedStep is the replay guard: the time step of the last accepted
	// code, or a key's signature counter.
	LastUsedStep int64      `db:"last_used_step"`
	CreatedAt    time.Time  `db:"created_at"`
	ConfirmedAt  *time.Time `db:"confirmed_at"`
	LastUsedAt   *time.Time `db:"last_used_at"`
}

// Factors stores second factors.
type Factors struct{ q queryer }

// Factors returns the second-factor repository.
func (s *Store) Factors() Factors { return Factors{s.q} }

const factorColumns = `id, user_id, kind, name, secret, credential_id, credential, last_used_step, created_at, confirmed_at, last_used_at`

// NewFactorID returns an id for a factor, known before its secret is
// encrypted so the ciphertext can be bound to it.
func NewFactorID() string { return newID() }

// CreatePending stores an enrollment in progress; ID must be set.
func (r Factors) CreatePending(ctx context.Context, f *Factor) error {
	f.CreatedAt = now()
	f.ConfirmedAt = nil
	_, err := r.q.ExecContext(ctx, `INSERT INTO factors (id, user_id, kind, name, secret, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		f.ID, f.UserID, f.Kind, f.Name, f.Secret, f.CreatedAt)
	return wrap(err, "create factor")
}

// CreateConfirmed stores a factor that is active at once (a security key,
// whose registration itself proved it); ID must be set. A credential id
// that is already registered is ErrConflict.
func (r Factors) CreateConfirmed(ctx context.Context, f *Factor) error {
	t := now()
	f.CreatedAt, f.ConfirmedAt = t, &t
	_, err := r.q.ExecContext(ctx, `INSERT INTO factors (id, user_id, kind, name, secret, credential_id, credential, last_used_step, created_at, confirmed_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)`,
		f.ID, f.UserID, f.Kind, f.Name, f.Secret, f.CredentialID, f.Credential, f.LastUsedStep, t)
	return wrap(err, "create factor")
}

// ByCredential returns the active security key browsers name credentialID,
// whoever's it is; ErrNotFound when there is none.
func (r Factors) ByCredential(ctx context.Context, credentialID []byte) (*Factor, error) {
	var f Factor
	err := r.q.GetContext(ctx, &f, `SELECT `+factorColumns+` FROM factors WHERE credential_id = $1 AND confirmed_at IS NOT NULL`, credentialID)
	return &f, wrap(err, "get factor by credential")
}

// UseCounter records a security key's accepted signature counter, exactly
// once across replicas: it must grow, except for a key that keeps it at
// zero (many passkeys do; their challenges are single use instead). Any
// other is ErrReplayed.
func (r Factors) UseCounter(ctx context.Context, userID, id string, counter int64) error {
	res, err := r.q.ExecContext(ctx, `UPDATE factors SET last_used_step = $1, last_used_at = $2
		WHERE id = $3 AND user_id = $4 AND confirmed_at IS NOT NULL AND (last_used_step < $1 OR (last_used_step = 0 AND $1 = 0))`,
		counter, now(), id, userID)
	err = expectOne(res, err, "use key")
	if errors.Is(err, ErrNotFound) {
		return ErrReplayed
	}
	return err
}

// Rename changes the name the user gave one of their factors.
func (r Factors) Rename(ctx context.Context, userID, id, name string) error {
	res, err := r.q.ExecContext(ctx, `UPDATE factors SET name = $1 WHERE id = $2 AND user_id = $3 AND confirmed_at IS NOT NULL`, name, id, userID)
	return expectOne(res, err, "rename factor")
}

// Get returns a user's factor, pending or confirmed. Another user's factor
// is ErrNotFound.
func (r Factors) Get(ctx context.Context, userID, id string) (*Factor, error) {
	var f Factor
	err := r.q.GetContext(ctx, &f, `SELECT `+factorColumns+` FROM factors WHERE id = $1 AND user_id = $2`, id, userID)
	return &f, wrap(err, "get factor")
}

// Confirmed lists the user's active factors, oldest first.
func (r Factors) Confirmed(ctx context.Context, userID string) ([]Factor, error) {
	var fs []Factor
	err := r.q.SelectContext(ctx, &fs, `SELECT `+factorColumns+` FROM factors
		WHERE user_id = $1 AND confirmed_at IS NOT NULL ORDER BY confirmed_at, id`, userID)
	return fs, wrap(err, "list factors")
}

// Confirm activates a pending enrollment created after notBefore, recording
// the time step of the code that proved it. ErrNotFound for a stale,
// foreign or already confirmed enrollment; ErrConflict when the user
// already has an active factor of this kind.
func (r Factors) Confirm(ctx context.Context, userID, id string, step int64, notBefore time.Time) error {
	t := now()
	res, err := r.q.ExecContext(ctx, `UPDATE factors SET confirmed_at = $1, last_used_step = $2, last_used_at = $1
		WHERE id = $3 AND user_id = $4 AND confirmed_at IS NULL AND created_at > $5`, t, step, id, userID, notBefore.UTC())
	return expectOne(res, err, "confirm factor")
}

// UseStep records that a code of this time step was accepted, exactly once
// across replicas: a step at or before the last used one is ErrReplayed.
func (r Factors) UseStep(ctx context.Context, userID, id string, step int64) error {
	res, err := r.q.ExecContext(ctx, `UPDATE factors SET last_used_step = $1, last_used_at = $2
		WHERE id = $3 AND user_id = $4 AND confirmed_at IS NOT NULL AND last_used_step < $1`, step, now(), id, userID)
	err = expectOne(res, err, "use factor")
	if errors.Is(err, ErrNotFound) {
		return ErrReplayed
	}
	return err
}

// Delete removes one of the user's factors.
func (r Factors) Delete(ctx context.Context, userID, id string) error {
	res, err := r.q.ExecContext(ctx, `DELETE FROM factors WHERE id = $1 AND user_id = $2`, id, userID)
	return expectOne(res, err, "delete factor")
}

// DeletePending removes the user's unfinished enrollments of a kind.
func (r Factors) DeletePending(ctx context.Context, userID string, kind mfa.FactorKind) error {
	_, err := r.q.ExecContext(ctx, `DELETE FROM factors WHERE user_id = $1 AND kind = $2 AND confirmed_at IS NULL`, userID, kind)
	return wrap(err, "delete pending factors")
}

// DeleteUser removes every factor and recovery code of a user (a reset).
func (r Factors) DeleteUser(ctx context.Context, userID string) error {
	if _, err := r.q.ExecContext(ctx, `DELETE FROM factors WHERE user_id = $1`, userID); err != nil {
		return wrap(err, "delete factors")
	}
	_, err := r.q.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = $1`, userID)
	return wrap(err, "delete recovery codes")
}

// RecoveryCodes stores HMACs of users' recovery codes.
type RecoveryCodes struct{ q queryer }

// RecoveryCodes returns the recovery code repository.
func (s *Store) RecoveryCodes() RecoveryCodes { return RecoveryCodes{s.q} }

// Replace drops the user's codes and stores new ones, in one statement
// each; call it inside InTx so old codes stop working exactly when the new
// ones start.
func (r RecoveryCodes) Replace(ctx context.Context, userID string, hashes [][]byte) error {
	if _, err := r.q.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = $1`, userID); err != nil {
		return wrap(err, "delete recovery codes")
	}
	if len(hashes) == 0 {
		return nil
	}
	t := now()
	query := `INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES `
	args := make([]any, 0, 3*len(hashes))
	for i, h := range hashes {
		if i > 0 {
			query += ", "
		}
		query += placeholders(len(args)+1, 3)
		args = append(args, userID, h, t)
	}
	_, err := r.q.ExecContext(ctx, query, args...)
	return wrap(err, "store recovery codes")
}

// Consume uses one code exactly once across replicas; an unknown or used
// code is ErrNotFound.
func (r RecoveryCodes) Consume(ctx context.Context, userID string, hash []byte) error {
	res, err := r.q.ExecContext(ctx, `UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL`,
		now(), userID, hash)
	return expectOne(res, err, "use recovery code")
}

// Remaining counts the user's unused codes.
func (r RecoveryCodes) Remaining(ctx context.Context, userID string) (int, error) {
	var n int
	err := r.q.GetContext(ctx, &n, `SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL`, userID)
	return n, wrap(err, "count recovery codes")
}
