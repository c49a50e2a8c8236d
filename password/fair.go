package password

import (
	"context"
	"sync"
)

// Fairness names who asks for a hash: the client's network and the account
// it is for. Under contention, hashing slots go round-robin across
// networks, and across accounts within a network, so one address or one
// account cannot starve the others; with nobody waiting, a caller takes a
// free slot at once, so a lone client still uses every slot.
type Fairness struct{ Network, Account string }

type fairnessKey struct{}

// WithFairness returns ctx carrying who the hashes made with it are for.
func WithFairness(ctx context.Context, f Fairness) context.Context {
	return context.WithValue(ctx, fairnessKey{}, f)
}

func fairnessOf(ctx context.Context) Fairness {
	f, _ := ctx.Value(fairnessKey{}).(Fairness)
	return f
}

// slots are the hashing slots and the fair queue of those waiting for one.
type slots struct {
	mu       sync.Mutex
	size     int
	used     int
	networks []*networkQueue // in the order they are served
	waiting  int
}

type networkQueue struct {
	name     string
	accounts []*accountQueue
}

type accountQueue struct {
	name    string
	waiters []*waiter
}

type waiter struct {
	ready   chan struct{} // closed when the slot is handed over
	granted bool
}

func newSlots(size int) *slots { return &slots{size: size} }

// tryTake takes a free slot when nobody waits for one.
func (s *slots) tryTake() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.used < s.size && s.waiting == 0 {
		s.used++
		return true
	}
	return false
}

// enqueue puts a waiter for f in the queue; it may be granted at once.
func (s *slots) enqueue(f Fairness) *waiter {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := &waiter{ready: make(chan struct{})}
	if s.used < s.size && s.waiting == 0 {
		s.used++
		w.granted = true
		close(w.ready)
		return w
	}
	var n *networkQueue
	for _, q := range s.networks {
		if q.name == f.Network {
			n = q
		}
	}
	if n == nil {
		n = &networkQueue{name: f.Network}
		s.networks = append(s.networks, n)
	}
	var a *accountQueue
	for _, q := range n.accounts {
		if q.name == f.Account {
			a = q
		}
	}
	if a == nil {
		a = &accountQueue{name: f.Account}
		n.accounts = append(n.accounts, a)
	}
	a.waiters = append(a.waiters, w)
	s.waiting++
	return w
}

// leave takes w out of the queue; granted reports that it was handed a
// slot first, which it then holds.
func (s *slots) leave(w *waiter) (granted bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if w.granted {
		return true
	}
	for ni, n := range s.networks {
		for ai, a := range n.accounts {
			for wi, x := range a.waiters {
				if x != w {
					continue
				}
				a.waiters = append(a.waiters[:wi], a.waiters[wi+1:]...)
				s.waiting--
				if len(a.waiters) == 0 {
					n.accounts = append(n.accounts[:ai], n.accounts[ai+1:]...)
				}
				if len(n.accounts) == 0 {
					s.networks = append(s.networks[:ni], s.networks[ni+1:]...)
				}
				return false
			}
		}
	}
	return false
}

// release gives a slot back: to the next waiter in round-robin order, or
// to the free slots.
func (s *slots) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.waiting == 0 {
		s.used--
		return
	}
	n := s.networks[0]
	a := n.accounts[0]
	w := a.waiters[0]
	a.waiters = a.waiters[1:]
	s.waiting--
	// The account and the network go to the back of their lines.
	n.accounts = n.accounts[1:]
	if len(a.waiters) > 0 {
		n.accounts = append(n.accounts, a)
	}
	s.networks = s.networks[1:]
	if len(n.accounts) > 0 {
		s.networks = append(s.networks, n)
	}
	w.granted = true
	close(w.ready)
}

// inUse counts the slots taken.
func (s *slots) inUse() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.used
}
