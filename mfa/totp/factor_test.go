package totp

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/mfa"
)

func TestFactor(t *testing.T) {
	var f mfa.Factor = Factor{}
	if f.Kind() != mfa.FactorTOTP || f.AMR() != mfa.AMROTP || mfa.Level(f) != mfa.ACRMFA {
		t.Fatalf("Factor: kind %q, amr %q, level %q", f.Kind(), f.AMR(), mfa.Level(f))
	}
	ctx := context.Background()
	if c, err := f.Begin(ctx, mfa.Subject{UserID: "u1"}); err != nil || c.Options != nil || c.State != nil {
		t.Fatalf("Begin = %+v, %v; want nothing for the browser or the server", c, err)
	}
	step := now.Unix() / 30
	code := codeAt(now)
	got, err := f.Finish(ctx, mfa.Answer{Secret: rfcSecret, Response: code, Now: now})
	if err != nil || got.Counter != step || len(got.Methods) != 1 || got.Methods[0] != mfa.AMROTP {
		t.Fatalf("the current code: Finish = %+v, %v; want step %d and otp", got, err, step)
	}
	tests := []struct {
		name string
		a    mfa.Answer
		want error
		also error // the factor-independent refusal
	}{
		{"the same code again", mfa.Answer{Secret: rfcSecret, LastUsed: step, Response: code, Now: now}, ErrReplayed, mfa.ErrReplayedAnswer},
		{"a wrong code", mfa.Answer{Secret: rfcSecret, Response: codeAt(now.Add(-time.Hour)), Now: now}, ErrInvalid, mfa.ErrWrongAnswer},
		{"another secret's code", mfa.Answer{Secret: []byte("abcdefghijklmnopqrst"), Response: code, Now: now}, ErrInvalid, mfa.ErrWrongAnswer},
		{"letters", mfa.Answer{Secret: rfcSecret, Response: "12a456", Now: now}, ErrMalformed, mfa.ErrMalformedAnswer},
		{"a short secret", mfa.Answer{Secret: rfcSecret[:10], Response: code, Now: now}, ErrSecretSize, ErrSecretSize},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := f.Finish(ctx, tc.a); !errors.Is(err, tc.want) || !errors.Is(err, tc.also) {
				t.Errorf("Finish = %v, want %v and %v", err, tc.want, tc.also)
			}
		})
	}
	next := now.Add(30 * time.Second)
	if got, err := f.Finish(ctx, mfa.Answer{Secret: rfcSecret, LastUsed: step, Response: codeAt(next), Now: now}); err != nil || got.Counter != step+1 {
		t.Errorf("the next step's code within the skew: Finish = %d, %v; want %d", got.Counter, err, step+1)
	}
}
