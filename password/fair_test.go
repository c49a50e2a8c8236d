package password

import (
	"slices"
	"testing"
)

// TestSlotsAreHandedOutFairly: under contention, a freed slot goes to the
// next network in turn, and within it to the next account, so a flood of
// attempts from one address or for one account waits behind everyone else
// once each.
func TestSlotsAreHandedOutFairly(t *testing.T) {
	s := newSlots(1)
	if !s.tryTake() {
		t.Fatal("a free slot was not taken at once")
	}
	type asked struct {
		who Fairness
		w   *waiter
	}
	var queue []asked
	flood := Fairness{Network: "203.0.113.7", Account: "victim@example.com"}
	for range 5 {
		queue = append(queue, asked{flood, s.enqueue(flood)})
	}
	office := Fairness{Network: "198.51.100.0", Account: "ada@example.com"}
	sameAddress := Fairness{Network: "203.0.113.7", Account: "bob@example.com"}
	queue = append(queue, asked{office, s.enqueue(office)}, asked{sameAddress, s.enqueue(sameAddress)})

	var order []Fairness
	for range queue {
		s.release()
		for i, q := range queue {
			select {
			case <-q.w.ready:
				order = append(order, q.who)
				queue[i].w = &waiter{ready: make(chan struct{})} // seen
			default:
			}
		}
	}
	if len(order) != 7 {
		t.Fatalf("%d waiters served, want 7", len(order))
	}
	if want := []Fairness{flood, office, sameAddress, flood}; !slices.Equal(order[:4], want) {
		t.Errorf("served %v, want the other network and the other account before the flood's second attempt", order[:4])
	}
}

func TestALoneClientUsesEverySlot(t *testing.T) {
	s := newSlots(3)
	for i := range 3 {
		if !s.tryTake() {
			t.Fatalf("slot %d of 3 not free to a lone client", i+1)
		}
	}
	if s.tryTake() {
		t.Fatal("a fourth slot was taken")
	}
	s.release()
	if s.inUse() != 2 {
		t.Fatalf("%d slots in use after a release, want 2", s.inUse())
	}
}
