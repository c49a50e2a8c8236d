package directory

import (
	"context"
	"errors"
	"fmt"

	"github.com/gatehouse-id/gatehouse/storage"
)

// HelpRefusedError says why an administrator may not help a member (reset
// their second factors, or give them a temporary access pass): a member's
// factors protect every organisation they belong to, so only someone who
// administers all of them may weaken them.
type HelpRefusedError struct{ Reason string }

func (e *HelpRefusedError) Error() string { return "ask an operator: " + e.Reason }

func refuseHelp(format string, args ...any) error {
	return &HelpRefusedError{Reason: fmt.Sprintf(format, args...)}
}

// mayHelp checks that actor may help the user memberID of the
// organisation orgID: never oneself; the actor is an owner or admin of
// every organisation the member belongs to (a service client of the admin
// API administers its own organisation only); and an admin never helps an
// owner or another admin.
func mayHelp(ctx context.Context, tx *storage.Store, actor Actor, orgID, memberID string) error {
	if actor.UserID == memberID {
		return refuseHelp("nobody can reset their own two-step verification from the console")
	}
	theirs, err := tx.Orgs().MembershipsOf(ctx, memberID)
	if err != nil {
		return err
	}
	roles := map[string]string{}
	if actor.UserID == "" {
		role, err := actorRole(ctx, tx, actor, orgID)
		if err != nil {
			return err
		}
		roles[orgID] = role
	} else {
		mine, err := tx.Orgs().MembershipsOf(ctx, actor.UserID)
		if err != nil {
			return err
		}
		for _, m := range mine {
			roles[m.ID] = m.Role
		}
	}
	for _, m := range theirs {
		switch role := roles[m.ID]; {
		case role == roleOperator || role == storage.RoleOwner:
		case role != storage.RoleAdmin:
			return refuseHelp("they also belong to %s, which you do not administer", m.Name)
		case m.Role != storage.RoleMember:
			return refuseHelp("they are %s of %s, and only an owner may help an owner or admin", article(m.Role), m.Name)
		}
	}
	return nil
}

func article(role string) string {
	if role == storage.RoleAdmin {
		return "an admin"
	}
	return "an " + role
}

// MayHelp reports (nil) whether actor may help member of the org orgID:
// see mayHelp. A *HelpRefusedError says why not.
func (d *Directory) MayHelp(ctx context.Context, actor Actor, orgID, memberID string) error {
	return mayHelp(ctx, d.store, actor, orgID, memberID)
}

// AdminResetFactors is an organisation's owner or admin resetting the
// second factors of a member who lost theirs, the last resort: as an
// operator's reset (every factor and recovery code gone, sessions and
// refresh tokens ended, locks cleared, a new factor only through the
// mailed enrollment link), allowed only as mayHelp says.
func (d *Directory) AdminResetFactors(ctx context.Context, actor Actor, slug, memberID string) (*storage.User, error) {
	var user *storage.User
	err := d.store.InTx(ctx, func(tx *storage.Store) error {
		org, err := orgBySlug(ctx, tx, slug)
		if err != nil {
			return err
		}
		if _, err := tx.Orgs().Member(ctx, org.ID, memberID); errors.Is(err, storage.ErrNotFound) {
			return ErrNotMember
		} else if err != nil {
			return err
		}
		if err := mayHelp(ctx, tx, actor, org.ID, memberID); err != nil {
			return err
		}
		if user, err = tx.Users().Get(ctx, memberID); err != nil {
			return err
		}
		_, err = d.resetFactorsWithLink(ctx, tx, actor, user, "an administrator of "+org.Name, org.ID)
		return err
	})
	return user, err
}
