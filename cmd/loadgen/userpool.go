package main

import (
	"context"
	"sync"
	"time"
)

// userPool hands users to workers so that no user signs in twice within one
// TOTP time step: providers refuse a code whose step was already used, so a
// user whose code was sent in step s waits until step s+1. Users are handed
// out in the order they came back, and one user is held by one flow at a time.
type userPool struct {
	mu      sync.Mutex
	idle    []*pooledUser
	changed chan struct{} // closed and replaced whenever a user comes back
	now     func() time.Time
}

type pooledUser struct {
	user
	codeSent bool   // a TOTP code was sent for this user
	lastStep uint64 // the time step of the last code sent
}

func newUserPool(users []user) *userPool {
	p := &userPool{changed: make(chan struct{}), now: time.Now}
	for _, u := range users {
		p.idle = append(p.idle, &pooledUser{user: u})
	}
	return p
}

// readyAt is when the user may sign in again.
func (u *pooledUser) readyAt() time.Time {
	if !u.codeSent {
		return time.Time{}
	}
	return stepStart(u.lastStep + 1)
}

// markCodeSent records that a code for step is about to be sent.
func (u *pooledUser) markCodeSent(step uint64) {
	u.codeSent = true
	u.lastStep = step
}

// tryTake takes the first idle user that may sign in at now. When none may,
// it says when the earliest idle one will (zero when every user is in use).
func (p *userPool) tryTake(now time.Time) (u *pooledUser, retryAt time.Time, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, candidate := range p.idle {
		ready := candidate.readyAt()
		if !now.Before(ready) {
			p.idle = append(p.idle[:i], p.idle[i+1:]...)
			return candidate, time.Time{}, true
		}
		if retryAt.IsZero() || ready.Before(retryAt) {
			retryAt = ready
		}
	}
	return nil, retryAt, false
}

// take waits until a user may sign in, or ctx ends.
func (p *userPool) take(ctx context.Context) (*pooledUser, error) {
	for {
		p.mu.Lock()
		changed := p.changed
		p.mu.Unlock()

		u, retryAt, ok := p.tryTake(p.now())
		if ok {
			return u, nil
		}
		var wake <-chan time.Time
		var timer *time.Timer
		if !retryAt.IsZero() {
			timer = time.NewTimer(retryAt.Sub(p.now()))
			wake = timer.C
		}
		select {
		case <-ctx.Done():
		case <-changed:
		case <-wake:
		}
		if timer != nil {
			timer.Stop()
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
}

// put gives a user back after its flow.
func (p *userPool) put(u *pooledUser) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.idle = append(p.idle, u)
	close(p.changed)
	p.changed = make(chan struct{})
}
