package directory

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-id/gatehouse/storage"
)

// The lifetimes a temporary access pass may have.
const (
	DefaultAccessPassTTL = time.Hour
	MaxAccessPassTTL     = 24 * time.Hour
)

// ErrWrongAccessPass: not the user's open, unexpired access pass.
var ErrWrongAccessPass = errors.New("not a temporary access pass of the user")

// IssueAccessPass is an owner or admin of the organisation slug giving
// the member memberID a temporary access pass (its keyed hash, passHash;
// the caller shows the pass once), valid for ttl, in place of any earlier
// one. Allowed only as mayHelp says. The member's second-factor locks are
// cleared, and they are told.
func (d *Directory) IssueAccessPass(ctx context.Context, actor Actor, slug, memberID string, passHash []byte, ttl time.Duration) (time.Time, error) {
	if ttl < time.Minute || ttl > MaxAccessPassTTL {
		return time.Time{}, invalid("ttl", fmt.Sprintf("%s must be between 1m and %s", ttl, MaxAccessPassTTL))
	}
	var expires time.Time
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
		user, err := tx.Users().Get(ctx, memberID)
		if err != nil {
			return err
		}
		now := d.now()
		if err := tx.Links().End(ctx, user.ID, storage.LinkReplaced, now, storage.LinkAccessPass); err != nil {
			return err
		}
		expires = now.Add(ttl)
		if err := tx.Links().Create(ctx, &storage.Link{TokenHash: passHash, Kind: storage.LinkAccessPass, UserID: user.ID,
			CreatedAt: now, ExpiresAt: expires}); err != nil {
			return err
		}
		for _, key := range []string{FactorLockKey(user.ID), RecoveryLimitKey(user.ID)} {
			if err := tx.RateLimits().Reset(ctx, key); err != nil {
				return err
			}
		}
		e := Event{Type: EventAccessPassIssued, OrgID: org.ID, Details: map[string]any{"expires": expires.UTC()}}
		return d.tell(ctx, tx, actor, user, e, Notice{Org: org.Name, Until: expires})
	})
	return expires, err
}

// UseAccessPass is the user, after their password in this sign-in, typing
// the temporary access pass passHash is the keyed hash of, in tx (the
// caller counts the attempt under the lockout). The pass works once. It
// stands in for the lost factor: every factor and recovery code goes,
// every session and refresh token ends (keep, the browser's new session,
// is stored after), and the returned grant lets this browser set up the
// new factor, which it must before going on. ErrWrongAccessPass writes
// nothing.
func (d *Directory) UseAccessPass(ctx context.Context, actor Actor, user *storage.User, passHash []byte, keep *storage.Session) (grant string, err error) {
	err = d.store.InTx(ctx, func(tx *storage.Store) error {
		now := d.now()
		if _, err := tx.Links().UseOwn(ctx, passHash, storage.LinkAccessPass, user.ID, now); errors.Is(err, storage.ErrNotFound) {
			return ErrWrongAccessPass
		} else if err != nil {
			return err
		}
		token, err := d.resetFactorsQuietly(ctx, tx, user)
		if err != nil {
			return err
		}
		if err := tx.Sessions().Create(ctx, keep); err != nil {
			return err
		}
		if grant, err = newLink(ctx, tx, storage.LinkEnrollmentGrant, user.ID, "", now, EnrollmentGrantTTL); err != nil {
			return err
		}
		return d.tell(ctx, tx, actor, user, Event{Type: EventAccessPassUsed}, Notice{Token: token})
	})
	return grant, err
}
