package directory

import (
	"context"
	"errors"
	"time"

	"github.com/gatehouse-id/gatehouse/storage"
)

// InvitationTTL is how long an invitation's link works.
const InvitationTTL = 7 * 24 * time.Hour

// Invite is an owner or admin of the organisation slug inviting the person
// with this email as role (an admin never invites an owner): they are
// mailed a link to accept, signing in first or, without an account yet,
// choosing a password.
func (d *Directory) Invite(ctx context.Context, actor Actor, slug, email, role string) error {
	email, err := ParseEmail(email)
	if err != nil {
		return err
	}
	if err := CheckRole(role); err != nil {
		return err
	}
	return d.store.InTx(ctx, func(tx *storage.Store) error {
		org, err := orgBySlug(ctx, tx, slug)
		if err != nil {
			return err
		}
		if err := mayManage(ctx, tx, actor, org.ID, "", role); err != nil {
			return err
		}
		if u, err := tx.Users().GetByEmail(ctx, email); err == nil {
			if _, err := tx.Orgs().Member(ctx, org.ID, u.ID); err == nil {
				return ErrAlreadyMember
			} else if !errors.Is(err, storage.ErrNotFound) {
				return err
			}
		} else if !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		inviter := "An administrator"
		if actor.UserID != "" {
			if u, err := tx.Users().Get(ctx, actor.UserID); err == nil {
				inviter = u.Email
			}
		}
		token, digest := storage.NewSecret()
		now := d.now()
		inv := &storage.Invitation{TokenHash: digest, OrgID: org.ID, Email: email, Role: role, InvitedBy: actor.auditID(),
			CreatedAt: now, ExpiresAt: now.Add(InvitationTTL)}
		if err := tx.Invitations().Create(ctx, inv); err != nil {
			return err
		}
		if err := Record(ctx, tx, actor, Event{Type: EventMemberInvited, OrgID: org.ID, Details: map[string]any{"email": email, "role": role}}); err != nil {
			return err
		}
		return d.notify.Notify(ctx, tx, Notice{Event: EventMemberInvited, User: &storage.User{Email: email}, Actor: actor, At: now,
			Org: org.Name, Token: token, By: inviter})
	})
}

// OpenInvitation is an invitation whose link still works.
type OpenInvitation struct {
	Invitation *storage.Invitation
	Org        *storage.Org
	// User is the account with the invitation's email, or nil: accepting
	// then creates one.
	User *storage.User
}

// CheckInvitation loads the invitation of the link token, changing
// nothing, or says what became of it (ErrLinkUnknown, ErrLinkUsed,
// ErrLinkExpired).
func (d *Directory) CheckInvitation(ctx context.Context, token string) (*OpenInvitation, error) {
	return d.openInvitation(ctx, d.store, token)
}

func (d *Directory) openInvitation(ctx context.Context, st *storage.Store, token string) (*OpenInvitation, error) {
	if token == "" || len(token) > 128 {
		return nil, ErrLinkUnknown
	}
	inv, err := st.Invitations().Get(ctx, storage.HashSecret(token))
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, ErrLinkUnknown
	case err != nil:
		return nil, err
	case inv.UsedAt != nil:
		return nil, ErrLinkUsed
	case !inv.ExpiresAt.After(d.now()):
		return nil, ErrLinkExpired
	}
	org, err := st.Orgs().Get(ctx, inv.OrgID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrLinkUnknown
	}
	if err != nil {
		return nil, err
	}
	open := &OpenInvitation{Invitation: inv, Org: org}
	u, err := st.Users().GetByEmail(ctx, inv.Email)
	switch {
	case err == nil:
		open.User = u
	case !errors.Is(err, storage.ErrNotFound):
		return nil, err
	}
	return open, nil
}

// AcceptInvitation makes the signed-in user (whose email the invitation
// must be for) a member as invited; the link works once.
func (d *Directory) AcceptInvitation(ctx context.Context, actor Actor, token string, user *storage.User) (*storage.Org, error) {
	var org *storage.Org
	err := d.store.InTx(ctx, func(tx *storage.Store) error {
		open, err := d.openInvitation(ctx, tx, token)
		if err != nil {
			return err
		}
		if open.User == nil || open.User.ID != user.ID {
			return ErrNotInvited
		}
		org = open.Org
		return d.useInvitation(ctx, tx, actor, open, user)
	})
	return org, err
}

// AcceptInvitationWithPassword creates the account an invitation is for,
// with the encoded hash of an accepted password, and makes it a member.
// ErrEmailTaken when the address has an account already (it signs in
// and accepts instead).
func (d *Directory) AcceptInvitationWithPassword(ctx context.Context, actor Actor, token, passwordHash string) (*storage.User, *storage.Org, error) {
	var user *storage.User
	var org *storage.Org
	err := d.store.InTx(ctx, func(tx *storage.Store) error {
		open, err := d.openInvitation(ctx, tx, token)
		if err != nil {
			return err
		}
		if open.User != nil {
			return ErrEmailTaken
		}
		user = &storage.User{Email: open.Invitation.Email, PasswordHash: &passwordHash}
		if err := tx.Users().Create(ctx, user); errors.Is(err, storage.ErrConflict) {
			return ErrEmailTaken
		} else if err != nil {
			return err
		}
		actor.UserID = user.ID
		if err := Record(ctx, tx, actor, Event{Type: EventUserCreated, SubjectID: user.ID,
			Details: map[string]any{"email": user.Email, "password_set": true, "invited": true}}); err != nil {
			return err
		}
		org = open.Org
		return d.useInvitation(ctx, tx, actor, open, user)
	})
	return user, org, err
}

func (d *Directory) useInvitation(ctx context.Context, tx *storage.Store, actor Actor, open *OpenInvitation, user *storage.User) error {
	if err := tx.Invitations().Use(ctx, open.Invitation.TokenHash, d.now()); errors.Is(err, storage.ErrNotFound) {
		return ErrLinkUsed
	} else if err != nil {
		return err
	}
	return d.In(tx).addMember(ctx, actor, open.Org, user, open.Invitation.Role)
}
