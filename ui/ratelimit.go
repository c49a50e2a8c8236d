package ui

import (
	"context"
	"fmt"
	"math"
	"net/netip"
	"time"

	"github.com/gatehouse-id/gatehouse/password"
	"github.com/gatehouse-id/gatehouse/storage"
)

// limit is one kind of password failure counter, kept in the database so
// that every replica sees the same count.
type limit struct {
	kind      string        // names the counter in the audit log
	prefix    string        // key prefix in the rate_limits table
	threshold int64         // failures from which each failure locks
	firstLock time.Duration // the first lock; each further lock doubles it
	maxLock   time.Duration
	forget    time.Duration // failures are forgotten this long after the last
}

var (
	// Consecutive failures for one email, known or not: the answer must not
	// tell whether an account exists. A success resets it.
	emailLimit = limit{kind: "email", prefix: "pw:email:", threshold: 5,
		firstLock: 30 * time.Second, maxLock: 15 * time.Minute, forget: 24 * time.Hour}
	// Attempts from a known browser (see device.go) for its own account,
	// counted apart from the email and the address it shares with others.
	deviceLimit = limit{kind: "device", prefix: "pw:device:", threshold: 5,
		firstLock: 30 * time.Second, maxLock: 15 * time.Minute, forget: 24 * time.Hour}
	// Failures from one client address, whatever the email. Successes are
	// neither counted nor reset it: an office NAT or a load balancer sends
	// many, and a success must not wipe an attacker's failures.
	ipLimit = limit{kind: "ip", prefix: "pw:ip:", threshold: 50,
		firstLock: time.Minute, maxLock: 15 * time.Minute, forget: time.Hour}
)

// lockFor is how long the lock after locks earlier ones lasts.
func (l limit) lockFor(locks int64) time.Duration { return doubling(l.firstLock, l.maxLock, locks) }

// doubling is the lockout ladder every limit climbs: first for the first
// lock, twice as long for each lock before it, never more than most.
func doubling(first, most time.Duration, locksBefore int64) time.Duration {
	d := first
	for i := int64(0); i < locksBefore && d < most; i++ {
		d *= 2
	}
	return min(d, most)
}

// counter is one counter a password attempt is charged to.
type counter struct {
	limit limit
	key   string
}

// passwordCounters are the counters of an attempt for email from ip: the
// email's first, then the address's when it is known. An IPv6 client is
// counted by its /64, which one subscriber usually holds whole.
func passwordCounters(email string, ip netip.Addr) []counter {
	cs := []counter{{emailLimit, emailLimit.prefix + storage.NormalizeEmail(email)}}
	if !ip.IsValid() {
		return cs
	}
	return append(cs, counter{ipLimit, ipLimit.prefix + networkOf(ip)})
}

// networkOf names the network a client is counted by: its IPv4 address,
// or the /64 of an IPv6 one.
func networkOf(ip netip.Addr) string {
	if ip.Is4() {
		return ip.String()
	}
	p, _ := ip.Prefix(64)
	return p.String()
}

// fairly marks ctx with who a password check is for, so hashing slots are
// shared fairly between networks and accounts under contention.
func fairly(ctx context.Context, email string, ip netip.Addr) context.Context {
	network := ""
	if ip.IsValid() {
		network = networkOf(ip)
	}
	return password.WithFairness(ctx, password.Fairness{Network: network, Account: storage.NormalizeEmail(email)})
}

// passwordAttempt is one password check, reserved against its limits
// before any hashing (NIST SP 800-63B §5.2.2), so that parallel guesses
// cannot outrun a limit.
type passwordAttempt struct {
	counters []counter        // the email's first, then the address's
	email    *storage.Counter // the email's counter, this attempt counted
}

// reservePassword checks the address's lock and reserves the attempt on
// the email's counter, in one conditional write every replica agrees on.
// A refused attempt gets until, when to come back: nothing about the
// password was looked at, so the answer is the same whatever it is.
//
// From a known browser (device, see knownDevice) the attempt is counted on
// that browser's own counter instead: a lock others set on the email or the
// address does not hold it.
func reservePassword(ctx context.Context, rl storage.RateLimits, email string, ip netip.Addr, device string, now time.Time) (*passwordAttempt, time.Time, error) {
	cs := passwordCounters(email, ip)
	if device != "" {
		cs = []counter{{deviceLimit, deviceLimit.prefix + device}}
	}
	var until time.Time
	for _, c := range cs[1:] {
		got, err := rl.Get(ctx, c.key)
		if err != nil {
			return nil, time.Time{}, err
		}
		if got.LockedUntil != nil && got.LockedUntil.After(now) && got.LockedUntil.After(until) {
			until = *got.LockedUntil
		}
	}
	if !until.IsZero() {
		return nil, until, nil
	}
	l := cs[0].limit
	got, ok, err := rl.Reserve(ctx, cs[0].key, l.threshold, now, now.Add(l.forget))
	switch {
	case err != nil:
		return nil, time.Time{}, err
	case !ok && got.LockedUntil != nil && got.LockedUntil.After(now):
		return nil, *got.LockedUntil, nil
	case !ok:
		// The allowance is taken by attempts still being checked: the lock
		// their failure would set.
		return nil, now.Add(l.lockFor(got.Locks)), nil
	}
	return &passwordAttempt{counters: cs, email: got}, time.Time{}, nil
}

// failed records that the attempt's password was wrong: the email's
// counter, which already holds it, locks once it reaches its allowance;
// the address is charged now, failures only, and locks at its threshold.
// It returns the locks set.
func (a *passwordAttempt) failed(ctx context.Context, rl storage.RateLimits, now time.Time) ([]newLock, error) {
	var locks []newLock
	email, l := a.email, a.counters[0].limit
	if email.Failures >= l.threshold+email.Locks {
		until := now.Add(l.lockFor(email.Locks))
		if err := rl.Lock(ctx, a.counters[0].key, until); err != nil {
			return nil, err
		}
		locks = append(locks, newLock{Counter: l.kind, Failures: email.Failures, Until: until.UTC()})
	}
	more, err := countFailure(ctx, rl, a.counters[1:], now)
	return append(locks, more...), err
}

// refund gives the attempt back when its password was never checked.
func (a *passwordAttempt) refund(ctx context.Context, rl storage.RateLimits) error {
	return rl.Refund(ctx, a.counters[0].key)
}

// emailKey names the email's counter, which a success resets.
func (a *passwordAttempt) emailKey() string { return a.counters[0].key }

// newLock is a lock countFailure set, for the audit log.
type newLock struct {
	Counter  string    `json:"counter"`
	Failures int64     `json:"failures"`
	Until    time.Time `json:"until"`
}

// countFailure charges a failure to each of cs and locks every counter that
// reached its threshold and is not locked already. It returns the locks set.
func countFailure(ctx context.Context, rl storage.RateLimits, cs []counter, now time.Time) ([]newLock, error) {
	var locks []newLock
	for _, c := range cs {
		got, err := rl.Fail(ctx, c.key, now.Add(c.limit.forget))
		if err != nil {
			return nil, err
		}
		lockedNow := got.LockedUntil != nil && got.LockedUntil.After(now)
		if got.Failures < c.limit.threshold || lockedNow {
			continue
		}
		until := now.Add(c.limit.lockFor(got.Locks))
		if err := rl.Lock(ctx, c.key, until); err != nil {
			return nil, err
		}
		locks = append(locks, newLock{Counter: c.limit.kind, Failures: got.Failures, Until: until.UTC()})
	}
	return locks, nil
}

// lockedMessage tells the user when to come back. The time is rounded up
// to the minute, so trying at the minute shown works.
func lockedMessage(until time.Time) string { return "Too many attempts. " + tryAgainAt(until) }

// tryAgainAt says when to come back: "Try again at 15:04 UTC."
func tryAgainAt(until time.Time) string {
	at := until.UTC().Truncate(time.Minute)
	if at.Before(until) {
		at = at.Add(time.Minute)
	}
	return fmt.Sprintf("Try again at %s UTC.", at.Format("15:04"))
}

// retryAfter is the Retry-After header for a lock: whole seconds, rounded up.
func retryAfter(until, now time.Time) string {
	return fmt.Sprint(int64(math.Ceil(until.Sub(now).Seconds())))
}
