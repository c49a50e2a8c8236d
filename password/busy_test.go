package password

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"
)

// holdSlot takes h's only hashing slot, as a long-running hash would.
func holdSlot(t *testing.T, h *Hasher) {
	t.Helper()
	if h.slots.size != 1 {
		t.Fatalf("hasher has %d slots, want 1", h.slots.size)
	}
	if !h.slots.tryTake() {
		t.Fatal("the slot was taken already")
	}
}

func TestBusyWhenEverySlotStaysTaken(t *testing.T) {
	h := newTestHasher(1)
	h.MaxWait = time.Millisecond
	holdSlot(t, h)
	ctx := context.Background()

	if _, err := h.Hash(ctx, "password"); !errors.Is(err, ErrBusy) {
		t.Fatalf("Hash() error = %v, want ErrBusy", err)
	}
	encoded := encodePHC(h.dummy)
	if ok, err := h.Verify(ctx, "password", encoded); ok || !errors.Is(err, ErrBusy) {
		t.Fatalf("Verify() = %v, %v; want false, ErrBusy", ok, err)
	}
	if err := h.VerifyDummy(ctx, "password"); !errors.Is(err, ErrBusy) {
		t.Fatalf("VerifyDummy() error = %v, want ErrBusy", err)
	}
}

func TestWaiterGetsTheSlotWhenItIsFreed(t *testing.T) {
	h := newTestHasher(1)
	h.MaxWait = time.Hour
	holdSlot(t, h)
	h.onWait = func() { h.release() }

	if _, err := h.Hash(context.Background(), "password"); err != nil {
		t.Fatalf("Hash() error = %v, want success once the slot is freed", err)
	}
	if h.slots.inUse() != 0 {
		t.Fatal("the slot was not given back after hashing")
	}
}

func TestBusyWhenTheCallerGivesUp(t *testing.T) {
	h := newTestHasher(1)
	h.MaxWait = time.Hour
	holdSlot(t, h)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h.onWait = cancel

	_, err := h.Hash(ctx, "password")
	if !errors.Is(err, ErrBusy) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Hash() error = %v, want ErrBusy caused by context.Canceled", err)
	}
	if err.Error() != ErrBusy.Error() {
		t.Fatalf("error reads %q, want the busy message", err)
	}
}

func TestEndedContextDoesNotHash(t *testing.T) {
	h := newTestHasher(1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Hash(ctx, "password"); !errors.Is(err, ErrBusy) {
		t.Fatalf("Hash() error = %v, want ErrBusy", err)
	}
	if h.slots.inUse() != 0 {
		t.Fatal("a slot stayed taken")
	}
}

func TestConcurrencyDefaultsToCPUs(t *testing.T) {
	if got, want := newTestHasher(0).slots.size, runtime.NumCPU(); got != want {
		t.Fatalf("hasher with default concurrency has %d slots, want one per CPU (%d)", got, want)
	}
	if got := newTestHasher(3).slots.size; got != 3 {
		t.Fatalf("hasher has %d slots, want 3", got)
	}
}
