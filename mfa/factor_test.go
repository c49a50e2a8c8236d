package mfa

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/mfa/totp"
)

// rfc6238 computes a 6-digit TOTP code (SHA-1, 30-second steps) the way
// RFC 6238 §4 and RFC 4226 §5.3 describe it, independently of package totp.
func rfc6238(secret []byte, at time.Time) string {
	var counter [8]byte
	binary.BigEndian.PutUint64(counter[:], uint64(at.Unix()/30))
	mac := hmac.New(sha1.New, secret)
	mac.Write(counter[:])
	sum := mac.Sum(nil)
	offset := sum[len(sum)-1] & 0xf
	value := binary.BigEndian.Uint32(sum[offset:offset+4]) & 0x7fffffff
	return fmt.Sprintf("%06d", value%1_000_000)
}

func TestRFC6238ReferenceMatchesTheRFCVectors(t *testing.T) {
	// RFC 6238 Appendix B, SHA-1: the last six of the eight digits.
	secret := []byte("12345678901234567890")
	for unix, want := range map[int64]string{59: "287082", 1111111109: "081804", 1111111111: "050471",
		1234567890: "005924", 2000000000: "279037", 20000000000: "353130"} {
		if got := rfc6238(secret, time.Unix(unix, 0)); got != want {
			t.Errorf("T=%d: %s, want %s", unix, got, want)
		}
	}
}

func TestTOTPFactor(t *testing.T) {
	var f Factor = TOTP{}
	if f.Kind() != "totp" || f.AMR() != AMROTP || Level(f) != ACRMFA {
		t.Fatalf("TOTP: kind %q, amr %q, level %q", f.Kind(), f.AMR(), Level(f))
	}
	secret := []byte("12345678901234567890")
	now := time.Unix(1234567890, 0)
	step := now.Unix() / 30
	ctx := context.Background()

	got, err := f.Check(ctx, Challenge{Secret: secret, Answer: rfc6238(secret, now), Now: now})
	if err != nil || got != step {
		t.Fatalf("the current code: Check = %d, %v; want step %d", got, err, step)
	}
	code := rfc6238(secret, now)
	tests := []struct {
		name string
		c    Challenge
		want error
	}{
		{"the same code again", Challenge{Secret: secret, LastUsed: step, Answer: code, Now: now}, totp.ErrReplayed},
		{"a wrong code", Challenge{Secret: secret, Answer: rfc6238(secret, now.Add(-time.Hour)), Now: now}, totp.ErrInvalid},
		{"another secret's code", Challenge{Secret: []byte("abcdefghijklmnopqrst"), Answer: code, Now: now}, totp.ErrInvalid},
		{"letters", Challenge{Secret: secret, Answer: "12a456", Now: now}, totp.ErrMalformed},
		{"a short secret", Challenge{Secret: secret[:10], Answer: code, Now: now}, totp.ErrSecretSize},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := f.Check(ctx, tc.c); !errors.Is(err, tc.want) {
				t.Errorf("Check = %v, want %v", err, tc.want)
			}
		})
	}
	next := now.Add(30 * time.Second)
	if got, err := f.Check(ctx, Challenge{Secret: secret, LastUsed: step, Answer: rfc6238(secret, next), Now: now}); err != nil || got != step+1 {
		t.Errorf("the next step's code within the skew: Check = %d, %v; want %d", got, err, step+1)
	}
}
