package directory

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/storage"
)

// factorEvents are the audit events of adding and removing each kind.
var factorEvents = map[mfa.FactorKind]struct{ added, removed EventType }{
	mfa.FactorTOTP:     {EventTOTPEnrolled, EventTOTPDisabled},
	mfa.FactorWebAuthn: {EventKeyAdded, EventKeyRemoved},
}

func eventsOf(kind mfa.FactorKind) (added, removed EventType, err error) {
	e, ok := factorEvents[kind]
	if !ok {
		return "", "", fmt.Errorf("no audit events for factor kind %q", kind)
	}
	return e.added, e.removed, nil
}

// BeginFactor stores f, a factor the user is adding (its ID set and its
// secret sealed by the caller), in place of any unfinished one of its kind.
// It counts for nothing until ConfirmFactor.
func (d *Directory) BeginFactor(ctx context.Context, f *storage.Factor) error {
	return d.store.InTx(ctx, func(tx *storage.Store) error {
		if err := tx.Factors().DeletePending(ctx, f.UserID, f.Kind); err != nil {
			return err
		}
		return tx.Factors().CreatePending(ctx, f)
	})
}

// ConfirmFactor activates the user's pending enrolment id of this kind,
// started after notBefore, proved by an answer that left the factor's
// counter at step. Recovery codes whose HMACs are hashes replace any old
// ones; nil hashes keep them (the user had a factor already: the first
// factor a user adds issues the codes). ErrEnrollmentGone when the
// enrolment is no longer pending, ErrHasFactor when the user already has
// an active factor of the kind. After a reset, the browser must hold an
// enrollment grant for the user (grant, its secret), or it is
// ErrGrantNeeded: the password alone never puts a new factor on a
// just-reset account. The first factor after a reset ends the wait, and
// every enrollment link and grant with it.
func (d *Directory) ConfirmFactor(ctx context.Context, actor Actor, user *storage.User, kind mfa.FactorKind, id string, step int64, notBefore time.Time, hashes [][]byte, grant string) error {
	return d.addFactor(ctx, actor, user, kind, id, hashes, grant, func(tx *storage.Store) error {
		switch err := tx.Factors().Confirm(ctx, user.ID, id, step, notBefore); {
		case errors.Is(err, storage.ErrNotFound):
			return ErrEnrollmentGone
		case errors.Is(err, storage.ErrConflict):
			return ErrHasFactor
		case err != nil:
			return err
		}
		return tx.Factors().DeletePending(ctx, user.ID, kind)
	})
}

// AddKey stores f, a security key or passkey whose registration the caller
// verified, as the user's active factor, under the rules of ConfirmFactor
// (recovery codes, and the grant after a reset). A key registered already,
// to anyone, is ErrHasFactor.
func (d *Directory) AddKey(ctx context.Context, actor Actor, user *storage.User, f *storage.Factor, hashes [][]byte, grant string) error {
	f.UserID, f.Kind = user.ID, mfa.FactorWebAuthn
	return d.addFactor(ctx, actor, user, f.Kind, f.ID, hashes, grant, func(tx *storage.Store) error {
		if err := tx.Factors().CreateConfirmed(ctx, f); errors.Is(err, storage.ErrConflict) {
			return ErrHasFactor
		} else if err != nil {
			return err
		}
		return nil
	})
}

// addFactor runs store, which makes factor id of this kind active, in one
// transaction with what every new factor brings: the grant's check and end
// after a reset, the recovery codes, the audit event and the notice.
func (d *Directory) addFactor(ctx context.Context, actor Actor, user *storage.User, kind mfa.FactorKind, id string, hashes [][]byte, grant string, store func(tx *storage.Store) error) error {
	added, _, err := eventsOf(kind)
	if err != nil {
		return err
	}
	return d.store.InTx(ctx, func(tx *storage.Store) error {
		now := d.now()
		current, err := tx.Users().Get(ctx, user.ID)
		if err != nil {
			return err
		}
		if current.ReenrollSince != nil {
			ok, err := enrollmentGranted(ctx, tx, user.ID, grant, now)
			if err != nil {
				return err
			}
			if !ok {
				return ErrGrantNeeded
			}
			if err := tx.Users().SetReenroll(ctx, user.ID, nil); err != nil {
				return err
			}
			if err := tx.Links().End(ctx, user.ID, storage.LinkCancelled, now, storage.LinkEnrollment); err != nil {
				return err
			}
			if err := tx.Links().End(ctx, user.ID, storage.LinkUsed, now, storage.LinkEnrollmentGrant); err != nil {
				return err
			}
		}
		if err := store(tx); err != nil {
			return err
		}
		if hashes != nil {
			if err := tx.RecoveryCodes().Replace(ctx, user.ID, hashes); err != nil {
				return err
			}
		}
		return d.recordAndNotify(ctx, tx, actor, user, Event{Type: added, Details: map[string]string{"factor_id": id}})
	})
}

// RemoveFactor removes one of the user's second factors (checked by the
// caller with a current answer), and with the last one the recovery codes.
// A *FactorRequiredError refuses it when what would remain no longer meets
// what an organisation of the user requires (a factor at all, or a
// phishing-resistant one).
func (d *Directory) RemoveFactor(ctx context.Context, actor Actor, user *storage.User, f *storage.Factor) error {
	_, removed, err := eventsOf(f.Kind)
	if err != nil {
		return err
	}
	return d.store.InTx(ctx, func(tx *storage.Store) error {
		all, err := tx.Factors().Confirmed(ctx, user.ID)
		if err != nil {
			return err
		}
		var left []mfa.FactorKind
		for _, g := range all {
			if g.ID != f.ID {
				left = append(left, g.Kind)
			}
		}
		ms, err := tx.Orgs().MembershipsOf(ctx, user.ID)
		if err != nil {
			return err
		}
		if orgs := OrgsUnmetWithout(ms, left); len(orgs) > 0 {
			return &FactorRequiredError{Orgs: orgs}
		}
		if err := tx.Factors().Delete(ctx, user.ID, f.ID); errors.Is(err, storage.ErrNotFound) {
			return ErrNoFactor
		} else if err != nil {
			return err
		}
		if err := tx.Factors().DeletePending(ctx, user.ID, f.Kind); err != nil {
			return err
		}
		if len(left) == 0 {
			if err := tx.RecoveryCodes().Replace(ctx, user.ID, nil); err != nil {
				return err
			}
		}
		return d.recordAndNotify(ctx, tx, actor, user, Event{Type: removed, Details: map[string]string{"factor_id": f.ID}})
	})
}

// OrgsUnmetWithout names the organisations among ms whose requirement
// (deadline or not) the factor kinds left would no longer meet.
func OrgsUnmetWithout(ms []storage.Membership, left []mfa.FactorKind) []string {
	var names []string
	for _, m := range ms {
		p := m.MFAPolicy()
		if _, required := p.Deadline(); !required {
			continue
		}
		if !slices.ContainsFunc(left, func(k mfa.FactorKind) bool { return k == mfa.FactorWebAuthn || !p.PhishingResistant }) {
			names = append(names, m.Name)
		}
	}
	return names
}

// RenameFactor changes the name of one of the user's factors (a security
// key's, as the user tells their keys apart), recorded.
func (d *Directory) RenameFactor(ctx context.Context, actor Actor, user *storage.User, id, name string) error {
	return d.store.InTx(ctx, func(tx *storage.Store) error {
		if err := tx.Factors().Rename(ctx, user.ID, id, name); errors.Is(err, storage.ErrNotFound) {
			return ErrNoFactor
		} else if err != nil {
			return err
		}
		return Record(ctx, tx, actor, Event{Type: EventKeyRenamed, SubjectID: user.ID, Details: map[string]string{"factor_id": id, "name": name}})
	})
}

// RegenerateRecoveryCodes replaces the user's recovery codes with new ones
// whose HMACs are hashes; the old ones stop working at once.
func (d *Directory) RegenerateRecoveryCodes(ctx context.Context, actor Actor, user *storage.User, hashes [][]byte) error {
	return d.store.InTx(ctx, func(tx *storage.Store) error {
		if err := tx.RecoveryCodes().Replace(ctx, user.ID, hashes); err != nil {
			return err
		}
		return d.recordAndNotify(ctx, tx, actor, user, Event{Type: EventRecoveryCodesRegenerated})
	})
}

// FactorLocked records that wrong answers locked the second factor of the
// user userID, until a time (zero: until it is lifted), and tells them.
// details must never hold a secret.
func (d *Directory) FactorLocked(ctx context.Context, actor Actor, userID string, until time.Time, details any) error {
	return d.store.InTx(ctx, func(tx *storage.Store) error {
		u, err := tx.Users().Get(ctx, userID)
		if err != nil {
			return err
		}
		return d.notifyWith(ctx, tx, actor, u, Event{Type: EventFactorLocked, Details: details}, until)
	})
}

// recordAndNotify records e about user and tells them, in tx.
func (d *Directory) recordAndNotify(ctx context.Context, tx *storage.Store, actor Actor, user *storage.User, e Event) error {
	return d.notifyWith(ctx, tx, actor, user, e, time.Time{})
}

func (d *Directory) notifyWith(ctx context.Context, tx *storage.Store, actor Actor, user *storage.User, e Event, until time.Time) error {
	e.SubjectID = user.ID
	if err := Record(ctx, tx, actor, e); err != nil {
		return err
	}
	if err := d.notify.Notify(ctx, tx, Notice{Event: e.Type, User: user, Actor: actor, At: time.Now(), Until: until}); err != nil {
		return fmt.Errorf("notify the user of %s: %w", e.Type, err)
	}
	return nil
}

// FactorLockKey names the counter, shared by every replica, of a user's
// wrong second-factor answers (every method together).
func FactorLockKey(userID string) string { return "mfa:" + userID }

// Unlock is an operator lifting the lock that wrong second-factor answers
// set on a user (a timed one, or the one that lasts until lifted), and
// starting the count again.
func (d *Directory) Unlock(ctx context.Context, actor Actor, email string) (*storage.User, error) {
	var u *storage.User
	err := d.store.InTx(ctx, func(tx *storage.Store) (err error) {
		if u, err = userByEmail(ctx, tx, email); err != nil {
			return err
		}
		c, err := tx.RateLimits().Get(ctx, FactorLockKey(u.ID))
		if err != nil {
			return err
		}
		if err := tx.RateLimits().Reset(ctx, FactorLockKey(u.ID)); err != nil {
			return err
		}
		return Record(ctx, tx, actor, Event{Type: EventFactorUnlocked, SubjectID: u.ID,
			Details: map[string]any{"email": u.Email, "failures": c.Failures}})
	})
	return u, err
}
