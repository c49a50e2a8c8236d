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

func keyTests() []namedTest {
	return []namedTest{
		{"Factors/SecurityKeys", testSecurityKeys},
		{"Factors/KeyCounterUsedOnceAcrossCallers", testKeyCounter},
		{"Ceremonies/TakenOnceAcrossCallers", testCeremoniesTakenOnce},
		{"Ceremonies/ExpiredAreRefused", testCeremoniesExpired},
		{"Ceremonies/ANewOneReplacesThePagesOld", testCeremoniesReplaced},
	}
}

func newKey(t *testing.T, s *storage.Store, userID string, credID string, counter int64) *storage.Factor {
	t.Helper()
	f := &storage.Factor{ID: storage.NewFactorID(), UserID: userID, Kind: mfa.FactorWebAuthn, Name: "YubiKey",
		CredentialID: []byte(credID), Credential: []byte(`{"record":1}`), LastUsedStep: counter}
	must(t, s.Factors().CreateConfirmed(context.Background(), f))
	return f
}

func testSecurityKeys(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	u := newUser(t, s, "keys@example.com")
	other := newUser(t, s, "other-keys@example.com")
	a := newKey(t, s, u.ID, "cred-a", 0)
	newKey(t, s, u.ID, "cred-b", 7)
	list, err := s.Factors().Confirmed(ctx, u.ID)
	must(t, err)
	if len(list) != 2 || string(list[0].CredentialID) != "cred-a" || string(list[0].Credential) != `{"record":1}` || list[1].LastUsedStep != 7 {
		t.Fatalf("a user's keys: %+v", list)
	}
	// One credential id belongs to one key, whoever tries to add it again.
	dup := &storage.Factor{ID: storage.NewFactorID(), UserID: other.ID, Kind: mfa.FactorWebAuthn, CredentialID: []byte("cred-a"), Credential: []byte("{}")}
	wantErr(t, s.Factors().CreateConfirmed(ctx, dup), storage.ErrConflict)
	got, err := s.Factors().ByCredential(ctx, []byte("cred-a"))
	must(t, err)
	if got.ID != a.ID || got.UserID != u.ID {
		t.Errorf("ByCredential = %+v, want the first key", got)
	}
	_, err = s.Factors().ByCredential(ctx, []byte("cred-unknown"))
	wantErr(t, err, storage.ErrNotFound)
	must(t, s.Factors().Rename(ctx, u.ID, a.ID, "Desk key"))
	wantErr(t, s.Factors().Rename(ctx, other.ID, a.ID, "Mine now"), storage.ErrNotFound)
	if got, _ := s.Factors().Get(ctx, u.ID, a.ID); got.Name != "Desk key" {
		t.Errorf("after Rename: %q", got.Name)
	}
}

func testKeyCounter(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	u := newUser(t, s, "counter@example.com")
	zero := newKey(t, s, u.ID, "cred-zero", 0)
	// A key that keeps its counter at zero may use it again.
	must(t, s.Factors().UseCounter(ctx, u.ID, zero.ID, 0))
	must(t, s.Factors().UseCounter(ctx, u.ID, zero.ID, 0))
	counting := newKey(t, s, u.ID, "cred-counting", 5)
	wantErr(t, s.Factors().UseCounter(ctx, u.ID, counting.ID, 5), storage.ErrReplayed)
	wantErr(t, s.Factors().UseCounter(ctx, u.ID, counting.ID, 0), storage.ErrReplayed)
	errs := make([]error, 8)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() { errs[i] = s.Factors().UseCounter(ctx, u.ID, counting.ID, 6) })
	}
	wg.Wait()
	wins := 0
	for _, err := range errs {
		if err == nil {
			wins++
		} else if !errors.Is(err, storage.ErrReplayed) {
			t.Fatal(err)
		}
	}
	if wins != 1 {
		t.Fatalf("one counter was accepted %d times, want once", wins)
	}
}

// newCeremony begins a registration for userID in the sign-in "req", or
// in the one named.
func newCeremony(t *testing.T, s *storage.Store, userID *string, expires time.Time, request ...string) []byte {
	t.Helper()
	_, digest := storage.NewSecret()
	req := "req"
	if len(request) > 0 {
		req = request[0]
	}
	must(t, s.Ceremonies().Create(context.Background(), &storage.Ceremony{IDHash: digest, Purpose: "register", UserID: userID,
		RequestID: req, State: []byte(`{"challenge":"c"}`), ExpiresAt: expires}))
	return digest
}

func testCeremoniesTakenOnce(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	u := newUser(t, s, "ceremony@example.com")
	digest := newCeremony(t, s, &u.ID, time.Now().Add(5*time.Minute))
	var mu sync.Mutex
	won := 0
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			c, err := s.Ceremonies().Take(ctx, digest, time.Now())
			switch {
			case err == nil:
				mu.Lock()
				won++
				mu.Unlock()
				if c.UserID == nil || *c.UserID != u.ID || c.RequestID != "req" || c.Purpose != "register" || string(c.State) != `{"challenge":"c"}` {
					t.Errorf("taken ceremony %+v", c)
				}
			case !errors.Is(err, storage.ErrNotFound):
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if won != 1 {
		t.Fatalf("%d callers took the ceremony, want exactly 1", won)
	}
	// A passkey sign-in's ceremony has no user.
	anon := newCeremony(t, s, nil, time.Now().Add(time.Minute))
	c, err := s.Ceremonies().Take(ctx, anon, time.Now())
	must(t, err)
	if c.UserID != nil {
		t.Errorf("user %v, want none", *c.UserID)
	}
}

func testCeremoniesExpired(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	now := time.Now()
	expired := newCeremony(t, s, nil, now.Add(-time.Second), "r1")
	_, err := s.Ceremonies().Take(ctx, expired, now)
	wantErr(t, err, storage.ErrNotFound)
	newCeremony(t, s, nil, now.Add(-time.Hour), "r2")
	live := newCeremony(t, s, nil, now.Add(time.Hour), "r3")
	n, err := s.Ceremonies().DeleteExpired(ctx, now, 100)
	must(t, err)
	if n != 1 {
		t.Errorf("DeleteExpired removed %d, want the expired one", n)
	}
	if _, err := s.Ceremonies().Take(ctx, live, now); err != nil {
		t.Errorf("a live ceremony was deleted: %v", err)
	}
}

func testCeremoniesReplaced(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	u := newUser(t, s, "reload@example.com")
	other := newUser(t, s, "other-reload@example.com")
	later := time.Now().Add(time.Hour)
	first := newCeremony(t, s, &u.ID, later)
	theirs := newCeremony(t, s, &other.ID, later)
	anon := newCeremony(t, s, nil, later)
	second := newCeremony(t, s, &u.ID, later)
	_, err := s.Ceremonies().Take(ctx, first, time.Now())
	wantErr(t, err, storage.ErrNotFound)
	for name, digest := range map[string][]byte{"the new one": second, "another user's": theirs, "a passkey sign-in's": anon} {
		if _, err := s.Ceremonies().Take(ctx, digest, time.Now()); err != nil {
			t.Errorf("%s was replaced: %v", name, err)
		}
	}
	// Passkey sign-ins of one request replace each other too.
	a := newCeremony(t, s, nil, later)
	newCeremony(t, s, nil, later)
	_, err = s.Ceremonies().Take(ctx, a, time.Now())
	wantErr(t, err, storage.ErrNotFound)
}
