package ui

import (
	"context"
	"errors"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

func TestMFALockDurationsDouble(t *testing.T) {
	for _, c := range []struct {
		locks int64
		want  time.Duration
	}{
		{0, 15 * time.Minute},
		{1, 30 * time.Minute},
		{2, time.Hour},
		{8, 64 * time.Hour},
		{9, 128 * time.Hour},
		{10, 7 * 24 * time.Hour}, // the longest
		{1000, 7 * 24 * time.Hour},
	} {
		if got := mfaLockFor(c.locks); got != c.want {
			t.Errorf("after %d locks: %v, want %v", c.locks, got, c.want)
		}
	}
}

func TestMFALockOfACounter(t *testing.T) {
	now := time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC)
	later, earlier := now.Add(time.Minute), now.Add(-time.Minute)
	for _, c := range []struct {
		name string
		c    storage.Counter
		want mfaLock
	}{
		{"no failures", storage.Counter{}, mfaLock{}},
		{"failures without a lock", storage.Counter{Failures: 9}, mfaLock{}},
		{"a lock in force", storage.Counter{Failures: 10, LockedUntil: &later}, mfaLock{Until: later}},
		{"a lock that ended", storage.Counter{Failures: 10, LockedUntil: &earlier}, mfaLock{}},
		{"a hundred failures", storage.Counter{Failures: 100, LockedUntil: &earlier}, mfaLock{Hard: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := lockOf(&c.c, now); got != c.want {
				t.Errorf("lockOf = %+v, want %+v", got, c.want)
			}
		})
	}
	if msg := (mfaLock{Until: time.Date(2025, 3, 14, 12, 14, 1, 0, time.UTC)}).Message(); msg != "Too many attempts. Try again at 12:15 UTC." {
		t.Errorf("timed lock message %q", msg)
	}
	if msg := (mfaLock{Hard: true}).Message(); msg != "Too many attempts. Your account is locked: use a recovery code, or contact your administrator." {
		t.Errorf("hard lock message %q", msg)
	}
}

func TestGuardSecondFactor(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		env := newEnv(t, store)
		ctx := context.Background()
		r := httptest.NewRequest("POST", "/", nil)
		wrong := func(*storage.Store) (string, error) { return "wrong_code", nil }

		t.Run("attempts sent together are never checked beyond the limit", func(t *testing.T) {
			user := env.newUser()
			var checked atomic.Int64
			var wg sync.WaitGroup
			for range 3 * mfaLockEvery {
				wg.Go(func() {
					_, err := env.ui.guardSecondFactor(ctx, r, mfaAttempt{UserID: user.ID, Method: "totp"},
						func(*storage.Store) (string, error) { checked.Add(1); return "wrong_code", nil })
					if err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			if got := checked.Load(); got != mfaLockEvery {
				t.Errorf("%d answers checked, want %d before the lock", got, mfaLockEvery)
			}
			c, err := store.RateLimits().Get(ctx, mfaLockKey(user.ID))
			must(t, err)
			if c.Failures != mfaLockEvery || c.Locks != 1 {
				t.Errorf("counter: %d failures, %d locks; want %d and 1", c.Failures, c.Locks, mfaLockEvery)
			}
		})

		t.Run("an accepted answer commits with the reset", func(t *testing.T) {
			user := env.newUser()
			_, err := env.ui.guardSecondFactor(ctx, r, mfaAttempt{UserID: user.ID, Method: "totp"}, wrong)
			must(t, err)
			res, err := env.ui.guardSecondFactor(ctx, r, mfaAttempt{UserID: user.ID, Method: "totp"}, func(tx *storage.Store) (string, error) {
				return "", tx.Users().SetName(ctx, user.ID, "Proved")
			})
			must(t, err)
			if !res.Accepted() {
				t.Fatalf("result %+v, want accepted", res)
			}
			got, err := store.Users().Get(ctx, user.ID)
			must(t, err)
			c, err := store.RateLimits().Get(ctx, mfaLockKey(user.ID))
			must(t, err)
			if got.Name != "Proved" || c.Failures != 0 {
				t.Errorf("name %q, %d failures; want the change stored and the counter reset", got.Name, c.Failures)
			}
		})

		t.Run("an error rolls back the attempt", func(t *testing.T) {
			user := env.newUser()
			broken := errors.New("the database went away")
			_, err := env.ui.guardSecondFactor(ctx, r, mfaAttempt{UserID: user.ID, Method: "totp"}, func(tx *storage.Store) (string, error) {
				if err := tx.Users().SetName(ctx, user.ID, "Half"); err != nil {
					return "", err
				}
				return "", broken
			})
			if !errors.Is(err, broken) {
				t.Fatalf("err = %v, want the check's error", err)
			}
			got, err := store.Users().Get(ctx, user.ID)
			must(t, err)
			c, err := store.RateLimits().Get(ctx, mfaLockKey(user.ID))
			must(t, err)
			if got.Name == "Half" || c.Failures != 0 {
				t.Errorf("name %q, %d failures: a failed attempt left writes behind", got.Name, c.Failures)
			}
		})
	})
}
