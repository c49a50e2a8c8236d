package main

import (
	"testing"
	"time"
)

// The SHA-1 test vectors of RFC 6238 Appendix B.
func TestTOTPMatchesRFC6238Vectors(t *testing.T) {
	key := []byte("12345678901234567890")
	tests := []struct {
		unix int64
		want string
	}{
		{59, "94287082"},
		{1111111109, "07081804"},
		{1111111111, "14050471"},
		{1234567890, "89005924"},
		{2000000000, "69279037"},
		{20000000000, "65353130"},
	}
	for _, tt := range tests {
		step := totpStep(time.Unix(tt.unix, 0))
		if got := hotp(key, step, 8); got != tt.want {
			t.Errorf("8-digit code at T=%d = %s, want %s", tt.unix, got, tt.want)
		}
		if got, want := totpCode(key, step), tt.want[2:]; got != want {
			t.Errorf("6-digit code at T=%d = %s, want %s", tt.unix, got, want)
		}
	}
}

func TestTOTPStepBoundaries(t *testing.T) {
	tests := []struct {
		unix int64
		want uint64
	}{
		{0, 0},
		{29, 0},
		{30, 1},
		{59, 1},
		{60, 2},
	}
	for _, tt := range tests {
		if got := totpStep(time.Unix(tt.unix, 0)); got != tt.want {
			t.Errorf("totpStep(%d) = %d, want %d", tt.unix, got, tt.want)
		}
	}
	if got := stepStart(2); !got.Equal(time.Unix(60, 0)) {
		t.Errorf("stepStart(2) = %v, want 60 s after the epoch", got.Unix())
	}
}
