package storagetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/storage"
)

func linkTests() []namedTest {
	return []namedTest{
		{"Links/UsedOnceAcrossCallers", testLinksUsedOnce},
		{"Links/ExpiredOrEndedAreRefused", testLinksRefused},
		{"Recoveries/StartPendingEnd", testRecoveries},
		{"Users/Reenroll", testUsersReenroll},
	}
}

func newLink(t *testing.T, s *storage.Store, userID string, kind storage.LinkKind, expires time.Time) []byte {
	t.Helper()
	_, digest := storage.NewSecret()
	must(t, s.Links().Create(context.Background(), &storage.Link{TokenHash: digest, Kind: kind, UserID: userID, RequestID: "req", ExpiresAt: expires}))
	return digest
}

func testLinksUsedOnce(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	u := newUser(t, s, "link@example.com")
	digest := newLink(t, s, u.ID, storage.LinkPasswordReset, time.Now().Add(30*time.Minute))
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for range 8 {
		wg.Go(func() {
			l, err := s.Links().Use(ctx, digest, storage.LinkPasswordReset, time.Now())
			if err == nil {
				mu.Lock()
				won++
				mu.Unlock()
				if l.UserID != u.ID || l.RequestID != "req" || l.State != storage.LinkUsed {
					t.Errorf("used link %+v", l)
				}
			} else if !errors.Is(err, storage.ErrNotFound) {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if won != 1 {
		t.Fatalf("%d callers used the link, want exactly 1", won)
	}
	got, err := s.Links().Get(ctx, digest)
	must(t, err)
	if got.State != storage.LinkUsed || got.EndedAt == nil {
		t.Errorf("after use: %+v", got)
	}
}

func testLinksRefused(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	u := newUser(t, s, "refused@example.com")
	now := time.Now()
	expired := newLink(t, s, u.ID, storage.LinkEnrollment, now.Add(-time.Second))
	if _, err := s.Links().Use(ctx, expired, storage.LinkEnrollment, now); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("an expired link was used: %v", err)
	}
	open := newLink(t, s, u.ID, storage.LinkEnrollment, now.Add(time.Hour))
	if _, err := s.Links().Use(ctx, open, storage.LinkPasswordReset, now); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("a link was used as another kind: %v", err)
	}
	other := newLink(t, s, u.ID, storage.LinkPasswordReset, now.Add(time.Hour))
	must(t, s.Links().End(ctx, u.ID, storage.LinkReplaced, now, storage.LinkEnrollment))
	if _, err := s.Links().Use(ctx, open, storage.LinkEnrollment, now); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("a replaced link was used: %v", err)
	}
	if l, err := s.Links().Get(ctx, open); err != nil || l.State != storage.LinkReplaced {
		t.Errorf("replaced link: %+v, %v", l, err)
	}
	if _, err := s.Links().Use(ctx, other, storage.LinkPasswordReset, now); err != nil {
		t.Errorf("ending one kind ended another: %v", err)
	}
	if _, err := s.Links().Get(ctx, []byte("unknown")); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("unknown link: %v", err)
	}
	// Kept a week after expiry, then cleaned up.
	if n, err := s.Links().DeleteExpired(ctx, now, 100); err != nil || n != 0 {
		t.Errorf("deleted %d links just after expiry (%v)", n, err)
	}
	if n, err := s.Links().DeleteExpired(ctx, now.Add(8*24*time.Hour), 100); err != nil || n != 3 {
		t.Errorf("deleted %d links a week after expiry (%v), want 3", n, err)
	}
}

func testRecoveries(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	u := newUser(t, s, "recovering@example.com")
	now := time.Now()
	if ok, err := s.Recoveries().Pending(ctx, u.ID, now); err != nil || ok {
		t.Fatalf("pending before start: %v %v", ok, err)
	}
	must(t, s.Recoveries().Start(ctx, u.ID, now.Add(time.Hour)))
	must(t, s.Recoveries().Start(ctx, u.ID, now.Add(2*time.Hour))) // again: in place of the first
	if ok, err := s.Recoveries().Pending(ctx, u.ID, now.Add(90*time.Minute)); err != nil || !ok {
		t.Fatalf("not pending after a second start: %v %v", ok, err)
	}
	if err := s.Recoveries().End(ctx, u.ID, now.Add(3*time.Hour)); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("an expired recovery ended: %v", err)
	}
	must(t, s.Recoveries().End(ctx, u.ID, now))
	if err := s.Recoveries().End(ctx, u.ID, now); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("a recovery ended twice: %v", err)
	}
}

func testUsersReenroll(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	u := newUser(t, s, "reset@example.com")
	since := time.Now().UTC().Truncate(time.Second)
	must(t, s.Users().SetReenroll(ctx, u.ID, &since))
	got, err := s.Users().GetByEmail(ctx, u.Email)
	must(t, err)
	if got.ReenrollSince == nil || !got.ReenrollSince.Equal(since) {
		t.Fatalf("reenroll since %v, want %v", got.ReenrollSince, since)
	}
	must(t, s.Users().SetReenroll(ctx, u.ID, nil))
	if got, err = s.Users().Get(ctx, u.ID); err != nil || got.ReenrollSince != nil {
		t.Fatalf("after clearing: %v %v", got.ReenrollSince, err)
	}
}
