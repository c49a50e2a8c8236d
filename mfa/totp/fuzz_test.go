package totp

import (
	"errors"
	"testing"
	"time"
)

// FuzzCheck feeds arbitrary typed codes, times and replay guards to Check:
// it must answer with a step or one of its three refusals, never panic.
func FuzzCheck(f *testing.F) {
	for _, code := range []string{"", "123456", "123 456", " 123456\n", "12a456", "１２３４５６", "123-456", "9999999", codeAt(now)} {
		f.Add(code, now.Unix(), int64(0))
	}
	f.Add(codeAt(now), now.Unix(), Step(now))
	f.Add("000000", int64(-1), int64(-1))
	f.Fuzz(func(t *testing.T, code string, unix, lastUsed int64) {
		step, err := Check(rfcSecret, code, time.Unix(unix, 0), lastUsed)
		switch {
		case err == nil:
			current := Step(time.Unix(unix, 0))
			if step <= lastUsed || step < current-Skew || step > current+Skew {
				t.Fatalf("Check accepted step %d: current %d, last used %d", step, current, lastUsed)
			}
		case errors.Is(err, ErrMalformed), errors.Is(err, ErrInvalid), errors.Is(err, ErrReplayed):
			if step != 0 {
				t.Fatalf("Check refused with %v but returned step %d", err, step)
			}
		default:
			t.Fatalf("Check = %v, not one of its three refusals", err)
		}
	})
}
