package storagetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/storage"
)

func factorTests() []namedTest {
	return []namedTest{
		{"Factors/EnrollConfirmList", testFactorsEnroll},
		{"Factors/StaleOrForeignEnrollment", testFactorsStale},
		{"Factors/StepUsedOnceAcrossCallers", testFactorsReplay},
		{"Factors/ResetRemovesEverything", testFactorsReset},
		{"RecoveryCodes/ReplaceConsume", testRecoveryCodes},
	}
}

func pendingTOTP(t *testing.T, s *storage.Store, userID string) *storage.Factor {
	t.Helper()
	f := &storage.Factor{ID: storage.NewFactorID(), UserID: userID, Kind: mfa.FactorTOTP, Name: "Phone", Secret: []byte("sealed")}
	must(t, s.Factors().CreatePending(context.Background(), f))
	return f
}

func testFactorsEnroll(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	u := newUser(t, s, "totp@example.com")
	f := pendingTOTP(t, s, u.ID)
	list, err := s.Factors().Confirmed(ctx, u.ID)
	must(t, err)
	if len(list) != 0 {
		t.Fatalf("a pending enrollment counts as a factor: %+v", list)
	}
	must(t, s.Factors().Confirm(ctx, u.ID, f.ID, 1000, time.Now().Add(-time.Minute)))
	list, _ = s.Factors().Confirmed(ctx, u.ID)
	if len(list) != 1 || list[0].ID != f.ID || list[0].LastUsedStep != 1000 || string(list[0].Secret) != "sealed" {
		t.Fatalf("Confirmed = %+v", list)
	}
	wantErr(t, s.Factors().Confirm(ctx, u.ID, f.ID, 1001, time.Now().Add(-time.Minute)), storage.ErrNotFound)
	// A second authenticator app cannot become active beside the first.
	second := pendingTOTP(t, s, u.ID)
	wantErr(t, s.Factors().Confirm(ctx, u.ID, second.ID, 1002, time.Now().Add(-time.Minute)), storage.ErrConflict)
	must(t, s.Factors().DeletePending(ctx, u.ID, mfa.FactorTOTP))
	_, err = s.Factors().Get(ctx, u.ID, second.ID)
	wantErr(t, err, storage.ErrNotFound)
	if _, err := s.Factors().Get(ctx, u.ID, f.ID); err != nil {
		t.Fatalf("DeletePending removed the active factor: %v", err)
	}
	must(t, s.Factors().Delete(ctx, u.ID, f.ID))
	wantErr(t, s.Factors().Delete(ctx, u.ID, f.ID), storage.ErrNotFound)
}

func testFactorsStale(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	u := newUser(t, s, "stale@example.com")
	other := newUser(t, s, "other@example.com")
	f := pendingTOTP(t, s, u.ID)
	wantErr(t, s.Factors().Confirm(ctx, other.ID, f.ID, 1, time.Now().Add(-time.Minute)), storage.ErrNotFound)
	_, err := s.Factors().Get(ctx, other.ID, f.ID)
	wantErr(t, err, storage.ErrNotFound)
	wantErr(t, s.Factors().Confirm(ctx, u.ID, f.ID, 1, time.Now().Add(time.Minute)), storage.ErrNotFound)
	wantErr(t, s.Factors().Delete(ctx, other.ID, f.ID), storage.ErrNotFound)
}

func testFactorsReplay(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	u := newUser(t, s, "replay@example.com")
	f := pendingTOTP(t, s, u.ID)
	must(t, s.Factors().Confirm(ctx, u.ID, f.ID, 100, time.Now().Add(-time.Minute)))
	wantErr(t, s.Factors().UseStep(ctx, u.ID, f.ID, 100), storage.ErrReplayed)
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = s.Factors().UseStep(ctx, u.ID, f.ID, 101) })
	}
	wg.Wait()
	wins := 0
	for _, err := range errs {
		if err == nil {
			wins++
		} else if !errors.Is(err, storage.ErrReplayed) {
			t.Fatalf("unexpected error: %v", err)
		}
	}
	if wins != 1 {
		t.Fatalf("one code step was accepted %d times, want once", wins)
	}
	wantErr(t, s.Factors().UseStep(ctx, u.ID, f.ID, 100), storage.ErrReplayed)
	must(t, s.Factors().UseStep(ctx, u.ID, f.ID, 102))
}

func testFactorsReset(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	u := newUser(t, s, "reset@example.com")
	f := pendingTOTP(t, s, u.ID)
	must(t, s.Factors().Confirm(ctx, u.ID, f.ID, 1, time.Now().Add(-time.Minute)))
	must(t, s.RecoveryCodes().Replace(ctx, u.ID, [][]byte{storage.HashSecret("a"), storage.HashSecret("b")}))
	must(t, s.Factors().DeleteUser(ctx, u.ID))
	list, _ := s.Factors().Confirmed(ctx, u.ID)
	n, _ := s.RecoveryCodes().Remaining(ctx, u.ID)
	if len(list) != 0 || n != 0 {
		t.Fatalf("after reset: %d factors, %d codes", len(list), n)
	}
}

func testRecoveryCodes(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	u := newUser(t, s, "codes@example.com")
	other := newUser(t, s, "codes2@example.com")
	old := [][]byte{storage.HashSecret("old1"), storage.HashSecret("old2")}
	must(t, s.RecoveryCodes().Replace(ctx, u.ID, old))
	fresh := [][]byte{storage.HashSecret("new1"), storage.HashSecret("new2"), storage.HashSecret("new3")}
	must(t, s.RecoveryCodes().Replace(ctx, u.ID, fresh))
	wantErr(t, s.RecoveryCodes().Consume(ctx, u.ID, old[0]), storage.ErrNotFound)
	wantErr(t, s.RecoveryCodes().Consume(ctx, other.ID, fresh[0]), storage.ErrNotFound)
	var wg sync.WaitGroup
	wins := make(chan struct{}, 8)
	for range 8 {
		wg.Go(func() {
			if s.RecoveryCodes().Consume(ctx, u.ID, fresh[0]) == nil {
				wins <- struct{}{}
			}
		})
	}
	wg.Wait()
	if len(wins) != 1 {
		t.Fatalf("a recovery code was used %d times, want once", len(wins))
	}
	n, err := s.RecoveryCodes().Remaining(ctx, u.ID)
	must(t, err)
	if n != 2 {
		t.Fatalf("Remaining = %d, want 2", n)
	}
}
