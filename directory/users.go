package directory

import (
	"context"
	"errors"

	"github.com/gatehouse-id/gatehouse/storage"
)

// NewUser is a user to create.
type NewUser struct {
	Email string
	Name  string
	// PasswordHash is the encoded hash of an accepted password (see package
	// password), or nil: the account cannot sign in until one is set.
	PasswordHash *string
	// OrgSlug, when set, adds the user to that organisation with Role.
	OrgSlug string
	Role    string
}

// CreateUser creates a user and, when asked, their first membership.
func (d *Directory) CreateUser(ctx context.Context, actor Actor, n NewUser) (*storage.User, error) {
	email, err := ParseEmail(n.Email)
	if err != nil {
		return nil, err
	}
	name, err := cleanName(n.Name, false)
	if err != nil {
		return nil, err
	}
	if n.OrgSlug != "" {
		if err := CheckRole(n.Role); err != nil {
			return nil, err
		}
	}
	u := &storage.User{Email: email, Name: name, PasswordHash: n.PasswordHash}
	err = d.store.InTx(ctx, func(tx *storage.Store) error {
		var org *storage.Org
		if n.OrgSlug != "" {
			if org, err = orgBySlug(ctx, tx, n.OrgSlug); err != nil {
				return err
			}
		}
		if err := tx.Users().Create(ctx, u); err != nil {
			if errors.Is(err, storage.ErrConflict) {
				return ErrEmailTaken
			}
			return err
		}
		err := Record(ctx, tx, actor, Event{Type: EventUserCreated, SubjectID: u.ID,
			Details: map[string]any{"email": u.Email, "password_set": n.PasswordHash != nil}})
		if err != nil || org == nil {
			return err
		}
		return d.In(tx).addMember(ctx, actor, org, u, n.Role)
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// SetPassword is an operator setting a user's password to the encoded hash
// of an accepted one. Every session of the user ends and every refresh
// token is revoked with it: whoever held the old password is signed out.
func (d *Directory) SetPassword(ctx context.Context, actor Actor, email, hash string) (*storage.User, error) {
	var u *storage.User
	err := d.store.InTx(ctx, func(tx *storage.Store) (err error) {
		if u, err = userByEmail(ctx, tx, email); err != nil {
			return err
		}
		if err := tx.Users().SetPassword(ctx, u.ID, hash); err != nil {
			return err
		}
		if err := endSignIns(ctx, tx, u.ID); err != nil {
			return err
		}
		u.PasswordHash = &hash
		return d.In(tx).recordAndNotify(ctx, tx, actor, u, Event{Type: EventPasswordSet, Details: map[string]any{"email": u.Email}})
	})
	return u, err
}

// ChangePassword is a signed-in user replacing their own password (checked
// by the caller) with the encoded hash of an accepted new one. The user's
// other browser sessions end and their refresh tokens are revoked; keep,
// the session the change was made from, moves to its new id (keep.IDHash)
// so it stays signed in.
func (d *Directory) ChangePassword(ctx context.Context, actor Actor, user *storage.User, hash string, keep *storage.Session) error {
	return d.store.InTx(ctx, func(tx *storage.Store) error {
		if err := tx.Users().SetPassword(ctx, user.ID, hash); err != nil {
			return err
		}
		if err := endSignIns(ctx, tx, user.ID); err != nil {
			return err
		}
		if err := tx.Sessions().Create(ctx, keep); err != nil {
			return err
		}
		return d.In(tx).recordAndNotify(ctx, tx, actor, user, Event{Type: EventPasswordChanged})
	})
}

// SetDisabled stops (or allows again) a user's sign-in. Disabling ends
// their sessions and revokes their tokens with the change. changed is false
// when the user already was so.
func (d *Directory) SetDisabled(ctx context.Context, actor Actor, email string, disable bool) (u *storage.User, changed bool, err error) {
	err = d.store.InTx(ctx, func(tx *storage.Store) (err error) {
		if u, err = userByEmail(ctx, tx, email); err != nil {
			return err
		}
		if u.Disabled == disable {
			return nil
		}
		if err := tx.Users().SetDisabled(ctx, u.ID, disable); err != nil {
			return err
		}
		event := EventUserEnabled
		if disable {
			event = EventUserDisabled
			if err := tx.Sessions().DeleteUser(ctx, u.ID); err != nil {
				return err
			}
			if err := tx.Tokens().RevokeSubject(ctx, u.ID); err != nil {
				return err
			}
		}
		changed, u.Disabled = true, disable
		return Record(ctx, tx, actor, Event{Type: event, SubjectID: u.ID, Details: map[string]any{"email": u.Email}})
	})
	return u, changed, err
}

// endSignIns ends every browser session of the user and revokes their
// refresh tokens, as a credential change must (NIST SP 800-63B §6.1.2.3):
// access tokens run out on their own within minutes.
func endSignIns(ctx context.Context, tx *storage.Store, userID string) error {
	if err := tx.Sessions().DeleteUser(ctx, userID); err != nil {
		return err
	}
	return tx.Tokens().RevokeRefresh(ctx, userID)
}
