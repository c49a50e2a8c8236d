package ui

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

var lockedMessagePattern = regexp.MustCompile(`^Too many attempts\. Try again at ([0-2][0-9]:[0-5][0-9]) UTC\.$`)

// wantLocked checks a 429 answer and returns the time it names.
func wantLocked(t *testing.T, resp *http.Response) string {
	t.Helper()
	wantStatus(t, resp, http.StatusTooManyRequests)
	if resp.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	msg := formError(page(t, resp))
	m := lockedMessagePattern.FindStringSubmatch(msg)
	if m == nil {
		t.Fatalf("message %q, want %q", msg, "Too many attempts. Try again at HH:MM UTC.")
	}
	return m[1]
}

func TestEmailLock(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		env := newEnv(t, store)
		tests := []struct {
			name  string
			email string // the account; wrong attempts vary its letter case
			known bool
		}{
			{"known email", "locked@example.com", true},
			{"unknown email", "ghost@example.com", false},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				e := env.browser(t)
				subject := ""
				if tc.known {
					subject = e.addUser(tc.email, testPassword).ID
				}
				a := e.addAuthRequest(nil)
				spellings := []string{tc.email, "Locked@Example.com", "LOCKED@example.com", tc.email, tc.email}
				if !tc.known {
					spellings = []string{tc.email, "Ghost@Example.com", "GHOST@example.com", tc.email, tc.email}
				}
				for i, email := range spellings {
					if resp := e.signIn(a.ID, email, "wrong password"); resp.StatusCode != http.StatusUnauthorized {
						t.Fatalf("failure %d: status %d, want 401", i+1, resp.StatusCode)
					}
				}
				// Five failures lock the email, even for the right password.
				before := time.Now().UTC()
				at := wantLocked(t, e.signIn(a.ID, tc.email, testPassword))
				wantLockTime(t, at, before.Add(emailLimit.firstLock))
				if e.cookie() != "" {
					t.Error("a locked email signed in")
				}
				// Other emails are unaffected.
				other := e.newUser()
				wantRedirect(t, e.browser(t).signIn(a.ID, other.Email, testPassword), "/login?id="+a.ID)

				locks := 0
				for _, ev := range e.auditEvents(directory.EventPasswordLocked) {
					if ev.SubjectID == subject && strings.Contains(ev.Details, `"counter":"email"`) {
						locks++
					}
				}
				if locks != 1 {
					t.Errorf("%d signin.locked events, want 1", locks)
				}
			})
		}
		if got := env.signins(outcomeLocked); got != 2 {
			t.Errorf("gatehouse_signins_total{outcome=locked} = %v, want 2", got)
		}
	})
}

// wantLockTime checks that HH:MM is the lock's end rounded up to the minute.
func wantLockTime(t *testing.T, hhmm string, until time.Time) {
	t.Helper()
	// The lock ends a little after until was computed here; allow a minute.
	ok := false
	for _, d := range []time.Duration{0, time.Minute} {
		at := until.Add(d).Truncate(time.Minute)
		if at.Before(until) {
			at = at.Add(time.Minute)
		}
		ok = ok || at.Format("15:04") == hhmm
	}
	if !ok {
		t.Errorf("lock shown until %s, want about %s UTC", hhmm, until.Format("15:04:05"))
	}
}

func TestSuccessResetsTheEmailCounter(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		e := newEnv(t, store)
		a := e.addAuthRequest(nil)
		fail := func(n int) {
			for range n {
				wantStatus(t, e.browser(t).signIn(a.ID, e.user.Email, "wrong password"), http.StatusUnauthorized)
			}
		}
		fail(4)
		wantRedirect(t, e.signIn(a.ID, e.user.Email, testPassword), "/login?id="+a.ID)
		fail(4) // four more, not nine: still open
		wantRedirect(t, e.browser(t).signIn(a.ID, e.user.Email, testPassword), "/login?id="+a.ID)

		// The address's failures are neither reset by a success nor added to by one.
		c, err := store.RateLimits().Get(context.Background(), "pw:ip:127.0.0.1")
		must(t, err)
		if c.Failures != 8 {
			t.Errorf("the address's counter holds %d failures, want 8", c.Failures)
		}
	})
}

func TestIPLockBehindATrustedProxy(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		e := newEnv(t, store, trustProxies("127.0.0.0/8"))
		a := e.addAuthRequest(nil)
		const attacker, neighbour = "203.0.113.7", "203.0.113.8"
		// Fifty failures, each for a different email so no email locks.
		for i := range ipLimit.threshold {
			resp := e.signIn(a.ID, fmt.Sprintf("guess%d@example.com", i), "wrong password", "X-Forwarded-For", attacker)
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("failure %d: status %d, want 401", i+1, resp.StatusCode)
			}
		}
		// The address is locked, even for a correct password.
		before := time.Now().UTC()
		at := wantLocked(t, e.signIn(a.ID, e.user.Email, testPassword, "X-Forwarded-For", attacker))
		wantLockTime(t, at, before.Add(ipLimit.firstLock))
		// Another client behind the same proxy signs in.
		wantRedirect(t, e.signIn(a.ID, e.user.Email, testPassword, "X-Forwarded-For", neighbour), "/login?id="+a.ID)
		if ev := e.auditEvents(directory.EventPasswordLocked); len(ev) != 1 || ev[0].IP != attacker {
			t.Errorf("signin.locked events %+v, want one for %s", ev, attacker)
		}
	})
}

func TestForwardedForFromAnUntrustedPeerIsIgnored(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		e := newEnv(t, store)
		wantStatus(t, e.signIn(e.addAuthRequest(nil).ID, "spoofer@example.com", "wrong", "X-Forwarded-For", "198.51.100.9"),
			http.StatusUnauthorized)
		spoofed, err := store.RateLimits().Get(context.Background(), "pw:ip:198.51.100.9")
		must(t, err)
		if spoofed.Failures != 0 {
			t.Error("the failure was charged to the address the client claimed")
		}
		events := e.auditEvents(directory.EventPasswordFailed)
		if len(events) != 1 || events[0].IP != "127.0.0.1" {
			t.Errorf("failure events %+v, want one from the peer 127.0.0.1", events)
		}
	})
}

func TestLockDurationsGrow(t *testing.T) {
	tests := []struct {
		limit limit
		locks int64
		want  time.Duration
	}{
		{emailLimit, 0, 30 * time.Second},
		{emailLimit, 1, time.Minute},
		{emailLimit, 4, 8 * time.Minute},
		{emailLimit, 5, 15 * time.Minute},
		{emailLimit, 500, 15 * time.Minute},
		{ipLimit, 0, time.Minute},
		{ipLimit, 3, 8 * time.Minute},
		{ipLimit, 4, 15 * time.Minute},
	}
	for _, tc := range tests {
		if got := tc.limit.lockFor(tc.locks); got != tc.want {
			t.Errorf("%s lock after %d locks: %v, want %v", tc.limit.kind, tc.locks, got, tc.want)
		}
	}
}

func TestLockedMessageRoundsUp(t *testing.T) {
	tests := []struct {
		until time.Time
		want  string
	}{
		{time.Date(2025, 1, 2, 9, 41, 0, 0, time.UTC), "Too many attempts. Try again at 09:41 UTC."},
		{time.Date(2025, 1, 2, 9, 41, 1, 0, time.UTC), "Too many attempts. Try again at 09:42 UTC."},
		{time.Date(2025, 1, 2, 23, 59, 30, 0, time.UTC), "Too many attempts. Try again at 00:00 UTC."},
		{time.Date(2025, 1, 2, 11, 41, 30, 0, time.FixedZone("CEST", 2*3600)), "Too many attempts. Try again at 09:42 UTC."},
	}
	for _, tc := range tests {
		if got := lockedMessage(tc.until); got != tc.want {
			t.Errorf("lockedMessage(%v) = %q, want %q", tc.until, got, tc.want)
		}
	}
}
