package directory

import (
	"context"
	"errors"
	"time"

	"github.com/gatehouse-id/gatehouse/storage"
)

// How long each kind of mailed link, and what it leads to, lasts. A saved
// recovery code plus a secret sent to the account's address is what NIST
// SP 800-63B-4's account recovery accepts at AAL2; the secrets are 256-bit
// and stored only as SHA-256 digests.
const (
	RecoveryLinkTTL    = 30 * time.Minute
	RecoveryPendingTTL = 24 * time.Hour // the user may ask for the mail again without another code
	EnrollmentLinkTTL  = 24 * time.Hour
	EnrollmentGrantTTL = 24 * time.Hour
	PasswordResetTTL   = 30 * time.Minute
)

// The limits on what a user may ask to be mailed, per account.
const (
	enrollmentLinksPerDay = 3
	recoveryMailsPerHour  = 5
)

// RecoveryLimitKey names the counter of recovery codes tried while the
// account's second factor is locked: the owner keeps a way back in, under
// its own tight limit.
func RecoveryLimitKey(userID string) string { return "recovery:" + userID }

// The pages mailed links open, below the issuer.
const (
	PathRecoveryConfirm = "/login/recovery/confirm"
	PathRecoveryCancel  = "/login/recovery/cancel"
	PathEnrollmentLink  = "/login/enroll-link"
	PathPasswordReset   = "/login/reset"
	PathInvitation      = "/login/invitation"
)

// Links builds the addresses of mailed links from their secrets.
type Links struct {
	// Base is the issuer URL.
	Base string
}

func (l Links) with(path, token string) string { return l.Base + path + "?token=" + token }

// RecoveryConfirm is the link that confirms a pending recovery.
func (l Links) RecoveryConfirm(token string) string { return l.with(PathRecoveryConfirm, token) }

// RecoveryCancel is the link that cancels it.
func (l Links) RecoveryCancel(token string) string { return l.with(PathRecoveryCancel, token) }

// Enrollment is the link that lets a browser set up a factor after a reset.
func (l Links) Enrollment(token string) string { return l.with(PathEnrollmentLink, token) }

// Invitation is the link that accepts an invitation to an organisation.
func (l Links) Invitation(token string) string { return l.with(PathInvitation, token) }

// PasswordReset is the link that sets a new password.
func (l Links) PasswordReset(token string) string { return l.with(PathPasswordReset, token) }

// newLink stores a new open link of the user, made now to last ttl, and
// returns its secret.
func newLink(ctx context.Context, tx *storage.Store, kind storage.LinkKind, userID, requestID string, now time.Time, ttl time.Duration) (string, error) {
	token, digest := storage.NewSecret()
	err := tx.Links().Create(ctx, &storage.Link{TokenHash: digest, Kind: kind, UserID: userID, RequestID: requestID,
		CreatedAt: now, ExpiresAt: now.Add(ttl)})
	return token, err
}

// useLink ends the open link token of this kind, once; for any other it
// returns what became of it (ErrLinkUnknown, ErrLinkUsed, …).
func (d *Directory) useLink(ctx context.Context, tx *storage.Store, kind storage.LinkKind, token string) (*storage.Link, error) {
	l, err := tx.Links().Use(ctx, storage.HashSecret(token), kind, d.now())
	if !errors.Is(err, storage.ErrNotFound) {
		return l, err
	}
	if _, err := d.linkState(ctx, tx, kind, token); err != nil {
		return nil, err
	}
	return nil, ErrLinkUsed // by another request, just now
}

// CheckLink reports whether token is an open link of this kind, without
// changing anything (a page shown before a confirm button). It returns the
// link, or what became of it.
func (d *Directory) CheckLink(ctx context.Context, kind storage.LinkKind, token string) (*storage.Link, error) {
	return d.linkState(ctx, d.store, kind, token)
}

func (d *Directory) linkState(ctx context.Context, st *storage.Store, kind storage.LinkKind, token string) (*storage.Link, error) {
	if token == "" || len(token) > 128 {
		return nil, ErrLinkUnknown
	}
	l, err := st.Links().Get(ctx, storage.HashSecret(token))
	switch {
	case errors.Is(err, storage.ErrNotFound) || err == nil && l.Kind != kind:
		return nil, ErrLinkUnknown
	case err != nil:
		return nil, err
	case l.State == storage.LinkUsed:
		return nil, ErrLinkUsed
	case l.State == storage.LinkReplaced:
		return nil, ErrLinkReplaced
	case l.State != storage.LinkOpen:
		return nil, ErrLinkEnded
	case !l.ExpiresAt.After(d.now()):
		return nil, ErrLinkExpired
	}
	return l, nil
}

// linkUser loads the user a link is for; a disabled one may not use it.
func linkUser(ctx context.Context, tx *storage.Store, l *storage.Link) (*storage.User, error) {
	u, err := tx.Users().Get(ctx, l.UserID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, ErrLinkUnknown
	case err != nil:
		return nil, err
	case u.Disabled:
		return nil, ErrUserDisabled
	}
	return u, nil
}

// StartRecovery uses one of the user's recovery codes (its HMAC, codeHash)
// exactly once, and mails the user a link to confirm resetting their
// second factors and one to cancel. The caller checked the password in
// this sign-in and counts the attempt. ErrWrongRecoveryCode writes nothing.
func (d *Directory) StartRecovery(ctx context.Context, actor Actor, user *storage.User, codeHash []byte) error {
	return d.store.InTx(ctx, func(tx *storage.Store) error {
		if err := tx.RecoveryCodes().Consume(ctx, user.ID, codeHash); errors.Is(err, storage.ErrNotFound) {
			return ErrWrongRecoveryCode
		} else if err != nil {
			return err
		}
		if err := tx.Recoveries().Start(ctx, user.ID, d.now().Add(RecoveryPendingTTL)); err != nil {
			return err
		}
		return d.mailRecovery(ctx, tx, actor, user, EventRecoveryStarted)
	})
}

// ResendRecovery mails the user's pending recovery again, with new links
// (the earlier ones stop working), at most a few times an hour.
// ErrNoRecovery when none is pending.
func (d *Directory) ResendRecovery(ctx context.Context, actor Actor, user *storage.User) error {
	return d.store.InTx(ctx, func(tx *storage.Store) error {
		pending, err := tx.Recoveries().Pending(ctx, user.ID, d.now())
		if err != nil {
			return err
		}
		if !pending {
			return ErrNoRecovery
		}
		if err := d.limit(ctx, tx, "recovery-mail:"+user.ID, recoveryMailsPerHour, time.Hour); err != nil {
			return err
		}
		return d.mailRecovery(ctx, tx, actor, user, EventRecoveryResent)
	})
}

// RecoveryPending reports whether the user has a recovery waiting for its
// mail's confirmation.
func (d *Directory) RecoveryPending(ctx context.Context, userID string) (bool, error) {
	return d.store.Recoveries().Pending(ctx, userID, d.now())
}

// mailRecovery replaces the recovery's links with new ones and mails them.
func (d *Directory) mailRecovery(ctx context.Context, tx *storage.Store, actor Actor, user *storage.User, e EventType) error {
	now := d.now()
	if err := tx.Links().End(ctx, user.ID, storage.LinkReplaced, now, storage.LinkRecoveryConfirm, storage.LinkRecoveryCancel); err != nil {
		return err
	}
	confirm, err := newLink(ctx, tx, storage.LinkRecoveryConfirm, user.ID, "", now, RecoveryLinkTTL)
	if err != nil {
		return err
	}
	cancel, err := newLink(ctx, tx, storage.LinkRecoveryCancel, user.ID, "", now, RecoveryLinkTTL)
	if err != nil {
		return err
	}
	return d.tell(ctx, tx, actor, user, Event{Type: e}, Notice{Token: confirm, CancelToken: cancel})
}

// ConfirmRecovery is the user confirming, from the mailed link token, the
// recovery a recovery code started: every second factor and recovery code
// goes, every session and refresh token ends, the locks clear, and the
// account awaits a new factor. It returns the user and an enrollment
// grant for the confirming browser (any browser: the link proves the
// mailbox), which may set up the new factor for EnrollmentGrantTTL.
func (d *Directory) ConfirmRecovery(ctx context.Context, actor Actor, token string) (user *storage.User, grant string, err error) {
	err = d.store.InTx(ctx, func(tx *storage.Store) error {
		var err error
		if user, err = d.endRecovery(ctx, tx, storage.LinkRecoveryConfirm, token, &actor); err != nil {
			return err
		}
		if err := d.resetFactors(ctx, tx, actor, user, "you"); err != nil {
			return err
		}
		grant, err = newLink(ctx, tx, storage.LinkEnrollmentGrant, user.ID, "", d.now(), EnrollmentGrantTTL)
		return err
	})
	return user, grant, err
}

// endRecovery uses the recovery's link token of this kind and ends the
// user's pending recovery, once; the user it was for is the actor.
func (d *Directory) endRecovery(ctx context.Context, tx *storage.Store, kind storage.LinkKind, token string, actor *Actor) (*storage.User, error) {
	l, err := d.useLink(ctx, tx, kind, token)
	if err != nil {
		return nil, err
	}
	user, err := linkUser(ctx, tx, l)
	if err != nil {
		return nil, err
	}
	actor.UserID = user.ID // the link proves the mailbox: the user acts
	if err := tx.Recoveries().End(ctx, user.ID, d.now()); errors.Is(err, storage.ErrNotFound) {
		return nil, ErrLinkEnded
	} else if err != nil {
		return nil, err
	}
	return user, nil
}

// CancelRecovery is the user answering "this wasn't me" from the mailed
// link token: the pending recovery ends, its confirmation link stops
// working, and the user is told.
func (d *Directory) CancelRecovery(ctx context.Context, actor Actor, token string) (*storage.User, error) {
	var user *storage.User
	err := d.store.InTx(ctx, func(tx *storage.Store) error {
		var err error
		if user, err = d.endRecovery(ctx, tx, storage.LinkRecoveryCancel, token, &actor); err != nil {
			return err
		}
		if err := tx.Links().End(ctx, user.ID, storage.LinkCancelled, d.now(), storage.LinkRecoveryConfirm); err != nil {
			return err
		}
		return d.tell(ctx, tx, actor, user, Event{Type: EventRecoveryCancelled}, Notice{})
	})
	return user, err
}

// ResetFactors is an operator's last-resort reset of a user's second
// factors (see resetFactors). It returns the user and the one-time
// enrollment link's secret, mailed to them when mail is configured.
func (d *Directory) ResetFactors(ctx context.Context, actor Actor, email string) (user *storage.User, enrollToken string, err error) {
	err = d.store.InTx(ctx, func(tx *storage.Store) (err error) {
		if user, err = userByEmail(ctx, tx, email); err != nil {
			return err
		}
		enrollToken, err = d.resetFactorsWithLink(ctx, tx, actor, user, "an operator", "")
		return err
	})
	return user, enrollToken, err
}

// resetFactors removes every second factor and recovery code of the user,
// ends their sessions and refresh tokens (NIST SP 800-63B §6.1.2.3), clears
// their second-factor locks and any pending recovery, and marks the
// account as awaiting a new factor, which the password alone cannot add.
// The notice, recorded and sent, carries a new enrollment link; by says
// who reset ("you", "an operator").
func (d *Directory) resetFactors(ctx context.Context, tx *storage.Store, actor Actor, user *storage.User, by string) error {
	_, err := d.resetFactorsWithLink(ctx, tx, actor, user, by, "")
	return err
}

// resetFactorsWithLink is resetFactors, returning the enrollment link's
// secret; orgID names the organisation whose admin reset, if one did.
func (d *Directory) resetFactorsWithLink(ctx context.Context, tx *storage.Store, actor Actor, user *storage.User, by, orgID string) (string, error) {
	token, err := d.resetFactorsQuietly(ctx, tx, user)
	if err != nil {
		return "", err
	}
	e := Event{Type: EventFactorsReset, OrgID: orgID, Details: map[string]string{"by": by}}
	return token, d.tell(ctx, tx, actor, user, e, Notice{Token: token, By: by})
}

// resetFactorsQuietly is what every reset changes, recorded and told by
// the caller; it returns the new enrollment link's secret.
func (d *Directory) resetFactorsQuietly(ctx context.Context, tx *storage.Store, user *storage.User) (string, error) {
	now := d.now()
	if err := tx.Factors().DeleteUser(ctx, user.ID); err != nil {
		return "", err
	}
	if err := endSignIns(ctx, tx, user.ID); err != nil {
		return "", err
	}
	for _, key := range []string{FactorLockKey(user.ID), RecoveryLimitKey(user.ID)} {
		if err := tx.RateLimits().Reset(ctx, key); err != nil {
			return "", err
		}
	}
	if err := tx.Recoveries().End(ctx, user.ID, now); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return "", err
	}
	if err := tx.Links().End(ctx, user.ID, storage.LinkCancelled, now, storage.LinkRecoveryConfirm, storage.LinkRecoveryCancel); err != nil {
		return "", err
	}
	if err := tx.Links().End(ctx, user.ID, storage.LinkReplaced, now, storage.LinkEnrollment, storage.LinkEnrollmentGrant); err != nil {
		return "", err
	}
	since := now
	if err := tx.Users().SetReenroll(ctx, user.ID, &since); err != nil {
		return "", err
	}
	user.ReenrollSince = &since
	return newLink(ctx, tx, storage.LinkEnrollment, user.ID, "", now, EnrollmentLinkTTL)
}

// SendEnrollmentLink mails a user awaiting a new factor a new enrollment
// link, in place of the old one, at most three a day.
func (d *Directory) SendEnrollmentLink(ctx context.Context, actor Actor, user *storage.User) error {
	return d.store.InTx(ctx, func(tx *storage.Store) error {
		u, err := tx.Users().Get(ctx, user.ID)
		if err != nil {
			return err
		}
		if u.ReenrollSince == nil {
			return ErrNotAwaiting
		}
		if err := d.limit(ctx, tx, "enrollment-link:"+u.ID, enrollmentLinksPerDay, 24*time.Hour); err != nil {
			return err
		}
		now := d.now()
		if err := tx.Links().End(ctx, u.ID, storage.LinkReplaced, now, storage.LinkEnrollment); err != nil {
			return err
		}
		token, err := newLink(ctx, tx, storage.LinkEnrollment, u.ID, "", now, EnrollmentLinkTTL)
		if err != nil {
			return err
		}
		return d.tell(ctx, tx, actor, u, Event{Type: EventEnrollmentLinkSent}, Notice{Token: token})
	})
}

// RedeemEnrollmentLink uses a mailed enrollment link, once: the browser
// that opened it gets the returned grant, with which it may set up a new
// factor for the user for EnrollmentGrantTTL.
func (d *Directory) RedeemEnrollmentLink(ctx context.Context, actor Actor, token string) (user *storage.User, grant string, err error) {
	err = d.store.InTx(ctx, func(tx *storage.Store) error {
		l, err := d.useLink(ctx, tx, storage.LinkEnrollment, token)
		if err != nil {
			return err
		}
		if user, err = linkUser(ctx, tx, l); err != nil {
			return err
		}
		actor.UserID = user.ID // the link proves the mailbox: the user acts
		if user.ReenrollSince == nil {
			return ErrLinkEnded // a factor was set up meanwhile
		}
		if grant, err = newLink(ctx, tx, storage.LinkEnrollmentGrant, user.ID, "", d.now(), EnrollmentGrantTTL); err != nil {
			return err
		}
		return Record(ctx, tx, actor, Event{Type: EventEnrollmentLinkUsed, SubjectID: user.ID})
	})
	return user, grant, err
}

// EnrollmentGranted reports whether grant (a browser's) lets it set up a
// factor for userID after a reset.
func (d *Directory) EnrollmentGranted(ctx context.Context, userID, grant string) (bool, error) {
	return enrollmentGranted(ctx, d.store, userID, grant, d.now())
}

func enrollmentGranted(ctx context.Context, st *storage.Store, userID, grant string, now time.Time) (bool, error) {
	if grant == "" || len(grant) > 128 {
		return false, nil
	}
	l, err := st.Links().Get(ctx, storage.HashSecret(grant))
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return l.Kind == storage.LinkEnrollmentGrant && l.State == storage.LinkOpen && l.UserID == userID && l.ExpiresAt.After(now), nil
}

// RequestPasswordReset mails the user with this email, if there is one who
// may sign in, a link that sets a new password; requestID is the sign-in
// it was asked from, which the browser that asked continues. For an
// unknown address it does nothing and says nothing: the caller answers
// alike either way.
func (d *Directory) RequestPasswordReset(ctx context.Context, actor Actor, email, requestID string) error {
	return d.store.InTx(ctx, func(tx *storage.Store) error {
		u, err := tx.Users().GetByEmail(ctx, email)
		if errors.Is(err, storage.ErrNotFound) || err == nil && u.Disabled {
			return nil
		}
		if err != nil {
			return err
		}
		now := d.now()
		if err := tx.Links().End(ctx, u.ID, storage.LinkReplaced, now, storage.LinkPasswordReset); err != nil {
			return err
		}
		token, err := newLink(ctx, tx, storage.LinkPasswordReset, u.ID, requestID, now, PasswordResetTTL)
		if err != nil {
			return err
		}
		return d.tell(ctx, tx, actor, u, Event{Type: EventPasswordResetRequested}, Notice{Token: token})
	})
}

// LimitPasswordResets counts a request for a reset mail against the
// address and the network it came from, before anything is looked up:
// ErrTooMany past either limit, whether or not the account exists.
func (d *Directory) LimitPasswordResets(ctx context.Context, email, network string) error {
	return d.store.InTx(ctx, func(tx *storage.Store) error {
		if err := d.limit(ctx, tx, "reset-email:"+storage.NormalizeEmail(email), 3, time.Hour); err != nil {
			return err
		}
		return d.limit(ctx, tx, "reset-net:"+network, 20, time.Hour)
	})
}

// ResetPassword sets the password of the user a mailed reset link token
// is for, to the encoded hash of an accepted one; the link works once.
// Every session and refresh token of the user ends; their second factors
// stay. It returns the user and the sign-in the reset was asked from.
func (d *Directory) ResetPassword(ctx context.Context, actor Actor, token, hash string) (user *storage.User, requestID string, err error) {
	err = d.store.InTx(ctx, func(tx *storage.Store) error {
		l, err := d.useLink(ctx, tx, storage.LinkPasswordReset, token)
		if err != nil {
			return err
		}
		if user, err = linkUser(ctx, tx, l); err != nil {
			return err
		}
		actor.UserID = user.ID // the link proves the mailbox: the user acts
		requestID = l.RequestID
		if err := tx.Users().SetPassword(ctx, user.ID, hash); err != nil {
			return err
		}
		if err := endSignIns(ctx, tx, user.ID); err != nil {
			return err
		}
		user.PasswordHash = &hash
		return d.tell(ctx, tx, actor, user, Event{Type: EventPasswordReset}, Notice{})
	})
	return user, requestID, err
}

// limit counts one request under key, at most n per window (a window
// that restarts once it passes without requests); ErrTooMany beyond.
func (d *Directory) limit(ctx context.Context, tx *storage.Store, key string, n int64, window time.Duration) error {
	now := d.now()
	_, ok, err := tx.RateLimits().Reserve(ctx, key, n, now, now.Add(window))
	if err != nil {
		return err
	}
	if !ok {
		return ErrTooMany
	}
	return nil
}

// tell records e about user and sends them n (its event, user, actor and
// time filled in), in tx.
func (d *Directory) tell(ctx context.Context, tx *storage.Store, actor Actor, user *storage.User, e Event, n Notice) error {
	e.SubjectID = user.ID
	if err := Record(ctx, tx, actor, e); err != nil {
		return err
	}
	n.Event, n.User, n.Actor, n.At = e.Type, user, actor, d.now()
	return d.notify.Notify(ctx, tx, n)
}
