package password

import (
	"context"
	"errors"
	"time"
)

// DefaultMaxWait is how long a caller waits for a hashing slot when the
// Hasher's MaxWait is zero.
const DefaultMaxWait = 2 * time.Second

// ErrBusy means every hashing slot stayed taken for the whole wait. The
// message is fit to show to the user.
var ErrBusy = errors.New("the server is busy, please retry in a moment")

// busyError is ErrBusy caused by the caller's context ending: it matches
// both ErrBusy and the context's error, but reads like ErrBusy.
type busyError struct{ cause error }

func (e *busyError) Error() string        { return ErrBusy.Error() }
func (e *busyError) Is(target error) bool { return target == ErrBusy }
func (e *busyError) Unwrap() error        { return e.cause }

// acquire takes a hashing slot, waiting at most MaxWait or until ctx ends,
// in the fair queue of the caller's Fairness (see WithFairness). Each hash
// holds tens of MiB and a CPU, so queueing more than a short wait's worth
// of them would only turn a burst into a memory or CPU exhaustion.
func (h *Hasher) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return &busyError{cause: err}
	}
	if h.slots.tryTake() {
		return nil
	}
	w := h.slots.enqueue(fairnessOf(ctx))
	if h.onWait != nil {
		h.onWait()
	}
	wait := h.MaxWait
	if wait <= 0 {
		wait = DefaultMaxWait
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-w.ready:
		return nil
	case <-timer.C:
		if h.slots.leave(w) {
			return nil // handed a slot as the wait ran out
		}
		return ErrBusy
	case <-ctx.Done():
		if h.slots.leave(w) {
			h.slots.release()
		}
		return &busyError{cause: ctx.Err()}
	}
}

func (h *Hasher) release() { h.slots.release() }
