package directory

import (
	"context"
	"errors"

	"github.com/gatehouse-id/gatehouse/storage"
)

// ErrNoSession: the session to end is not one of the user's.
var ErrNoSession = errors.New("no such session")

// EndSession signs one of the user's browsers out.
func (d *Directory) EndSession(ctx context.Context, actor Actor, user *storage.User, idHash []byte) error {
	return d.store.InTx(ctx, func(tx *storage.Store) error {
		if err := tx.Sessions().DeleteOfUser(ctx, user.ID, idHash); errors.Is(err, storage.ErrNotFound) {
			return ErrNoSession
		} else if err != nil {
			return err
		}
		return Record(ctx, tx, actor, Event{Type: EventSessionEnded, SubjectID: user.ID})
	})
}

// EndOtherSessions signs the user out of every browser but keep (the one
// asking) and revokes their refresh tokens, so applications elsewhere must
// sign them in again too.
func (d *Directory) EndOtherSessions(ctx context.Context, actor Actor, user *storage.User, keep []byte) error {
	return d.store.InTx(ctx, func(tx *storage.Store) error {
		if err := tx.Sessions().DeleteUserExcept(ctx, user.ID, keep); err != nil {
			return err
		}
		if err := tx.Tokens().RevokeRefresh(ctx, user.ID); err != nil {
			return err
		}
		return Record(ctx, tx, actor, Event{Type: EventOtherSessionsEnded, SubjectID: user.ID})
	})
}

// SignOut is an operator ending every browser session and refresh token of
// the user with this email.
func (d *Directory) SignOut(ctx context.Context, actor Actor, email string) (*storage.User, error) {
	var u *storage.User
	err := d.store.InTx(ctx, func(tx *storage.Store) (err error) {
		if u, err = userByEmail(ctx, tx, email); err != nil {
			return err
		}
		if err := endSignIns(ctx, tx, u.ID); err != nil {
			return err
		}
		return Record(ctx, tx, actor, Event{Type: EventSignedOutEverywhere, SubjectID: u.ID, Details: map[string]any{"email": u.Email}})
	})
	return u, err
}
