package ui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/storage"
)

// The second-factor lockout (NIST SP 800-63B §5.2.2): one counter per account for every
// second-factor method together, kept in the database so that every
// replica sees it. Every tenth consecutive failure locks the account,
// first for 15 minutes and twice as long each further time; the hundredth
// (NIST SP 800-63B's ceiling) locks it until an admin, an operator or the
// recovery flow resets the counter. A success resets it.
const (
	mfaLockEvery     = 10
	mfaHardLockAt    = 100
	mfaFirstLock     = 15 * time.Minute
	mfaMaxLock       = 7 * 24 * time.Hour
	mfaForgetFailure = 90 * 24 * time.Hour // longer than every timed lock
)

// mfaLockKey names an account's counter in storage.RateLimits.
func mfaLockKey(userID string) string { return directory.FactorLockKey(userID) }

// mfaLock is the lock on an account's second factor. The zero value is
// "not locked".
type mfaLock struct {
	Until time.Time // when a timed lock ends
	Hard  bool      // locked until the counter is reset
}

// Locked reports whether the lock is in force.
func (l mfaLock) Locked() bool { return l.Hard || !l.Until.IsZero() }

// Message tells the user what the lock means for them.
func (l mfaLock) Message() string {
	if l.Hard {
		return "Too many attempts. Your account is locked: use a recovery code, or contact your administrator."
	}
	return lockedMessage(l.Until)
}

// answer sets Retry-After for a timed lock; a hard lock has no time.
func (l mfaLock) answer(w http.ResponseWriter, now time.Time) {
	if !l.Hard && !l.Until.IsZero() {
		w.Header().Set("Retry-After", retryAfter(l.Until, now))
	}
}

// lockOf reads the lock in force from a counter.
func lockOf(c *storage.Counter, now time.Time) mfaLock {
	switch {
	case c.Failures >= mfaHardLockAt:
		return mfaLock{Hard: true}
	case c.LockedUntil != nil && c.LockedUntil.After(now):
		return mfaLock{Until: *c.LockedUntil}
	}
	return mfaLock{}
}

// mfaLockFor is how long the timed lock after locks earlier ones lasts.
func mfaLockFor(locks int64) time.Duration { return doubling(mfaFirstLock, mfaMaxLock, locks) }

// mfaLockState reads the lock on userID's second factor, to warn before
// the user types a code.
func (u *UI) mfaLockState(ctx context.Context, userID string) (mfaLock, error) {
	c, err := u.store.RateLimits().Get(ctx, mfaLockKey(userID))
	if err != nil {
		return mfaLock{}, err
	}
	return lockOf(c, time.Now()), nil
}

// stepLock is how a second-factor page opens: 429 with Retry-After and the
// lock's message while the account is locked, else 200 and no message.
// ok is false when it answered an error instead.
func (u *UI) stepLock(w http.ResponseWriter, r *http.Request, userID string) (status int, message string, ok bool) {
	lock, err := u.mfaLockState(r.Context(), userID)
	if err != nil {
		u.serverError(w, r, "reading the second-factor lock failed", err)
		return 0, "", false
	}
	if lock.Locked() {
		lock.answer(w, time.Now())
		return http.StatusTooManyRequests, lock.Message(), true
	}
	return http.StatusOK, "", true
}

// mfaAttempt describes one answer to a second-factor challenge.
type mfaAttempt struct {
	UserID   string
	ClientID string         // the application signing in, if any
	Method   mfa.FactorKind // for the audit log
}

// mfaResult is how a guarded attempt ended.
type mfaResult struct {
	// Refusal says why the answer was refused ("wrong_code", "replayed"),
	// or is "" when it was accepted or never checked.
	Refusal string
	// Lock is in force when the attempt was refused unchecked because the
	// account was locked, or when this refusal locked it.
	Lock mfaLock
}

// Accepted reports whether the answer was checked and accepted.
func (r mfaResult) Accepted() bool { return r.Refusal == "" && !r.Lock.Locked() }

// errAttemptRefused rolls back the transaction of a refused attempt.
var errAttemptRefused = errors.New("second-factor attempt refused while locked")

// guardSecondFactor runs check as one attempt at a second factor of the
// account, under its lockout, in one transaction:
//
//   - the attempt is counted first, so that attempts on the same account
//     wait for each other and none is checked beyond the limit;
//   - on a locked account nothing is checked and nothing is written;
//   - check returns why the answer is refused, or "" after writing what an
//     accepted answer changes (with tx, so that it all commits together);
//   - an accepted answer resets the counter; a refused one stays counted,
//     is recorded as mfa.code_failed and may lock the account (mfa.locked).
//
// An error from check or storage rolls everything back.
func (u *UI) guardSecondFactor(ctx context.Context, r *http.Request, at mfaAttempt,
	check func(tx *storage.Store) (refusal string, err error)) (mfaResult, error) {
	var res mfaResult
	err := u.store.InTx(ctx, func(tx *storage.Store) error {
		res = mfaResult{}
		now := time.Now()
		key := mfaLockKey(at.UserID)
		c, err := tx.RateLimits().Fail(ctx, key, now.Add(mfaForgetFailure))
		if err != nil {
			return err
		}
		before := *c
		before.Failures-- // the counter as it was before this attempt
		if res.Lock = lockOf(&before, now); res.Lock.Locked() {
			return errAttemptRefused
		}
		if res.Refusal, err = check(tx); err != nil {
			return err
		}
		if res.Refusal == "" {
			return tx.RateLimits().Reset(ctx, key)
		}
		details := map[string]any{"method": at.Method, "reason": res.Refusal, "failures": c.Failures}
		failed := directory.Event{Type: directory.EventFactorFailed, SubjectID: at.UserID, Details: details}
		if err := directory.Record(ctx, tx, actor(r, at.UserID, at.ClientID), failed); err != nil {
			return err
		}
		if c.Failures%mfaLockEvery != 0 && c.Failures < mfaHardLockAt {
			return nil
		}
		until := now.Add(mfaLockFor(c.Locks))
		res.Lock = mfaLock{Until: until}
		if c.Failures >= mfaHardLockAt {
			// Until someone resets it: the row outlives any cleanup.
			until, res.Lock = now.AddDate(100, 0, 0), mfaLock{Hard: true}
		}
		if err := tx.RateLimits().Lock(ctx, key, until); err != nil {
			return err
		}
		details = map[string]any{"method": at.Method, "failures": c.Failures, "hard": res.Lock.Hard}
		if !res.Lock.Hard {
			details["until"] = res.Lock.Until.UTC()
		}
		lockedUntil := res.Lock.Until
		if res.Lock.Hard {
			lockedUntil = time.Time{}
		}
		return u.dir.In(tx).FactorLocked(ctx, actor(r, "", at.ClientID), at.UserID, lockedUntil, details)
	})
	if errors.Is(err, errAttemptRefused) {
		return res, nil
	}
	if err != nil {
		return mfaResult{}, fmt.Errorf("second-factor attempt: %w", err)
	}
	return res, nil
}
