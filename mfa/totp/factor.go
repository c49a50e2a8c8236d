package totp

import (
	"context"
	"errors"
	"fmt"

	"github.com/gatehouse-id/gatehouse/mfa"
)

// Factor is the authenticator app as a second factor. Its counter is the
// time step of the last accepted code; a code of that step or an earlier
// one is ErrReplayed. Other errors are ErrMalformed, ErrInvalid and
// ErrSecretSize.
type Factor struct{}

var _ mfa.Factor = Factor{}

// Kind is mfa.FactorTOTP.
func (Factor) Kind() mfa.FactorKind { return mfa.FactorTOTP }

// AMR is mfa.AMROTP.
func (Factor) AMR() mfa.AMR { return mfa.AMROTP }

// Begin has nothing to make: the app shows the code by itself.
func (Factor) Begin(context.Context, mfa.Subject) (mfa.Challenge, error) { return mfa.Challenge{}, nil }

// Finish checks the code in a.Response against a.Secret at a.Now, allowing
// one step of clock skew either way, and returns the step it matched. Its
// refusals are also mfa's: ErrInvalid is mfa.ErrWrongAnswer, ErrReplayed
// mfa.ErrReplayedAnswer and ErrMalformed mfa.ErrMalformedAnswer.
func (Factor) Finish(_ context.Context, a mfa.Answer) (mfa.Proof, error) {
	step, err := Check(Secret(a.Secret), a.Response, a.Now, a.LastUsed)
	switch {
	case errors.Is(err, ErrInvalid):
		err = fmt.Errorf("%w: %w", mfa.ErrWrongAnswer, err)
	case errors.Is(err, ErrReplayed):
		err = fmt.Errorf("%w: %w", mfa.ErrReplayedAnswer, err)
	case errors.Is(err, ErrMalformed):
		err = fmt.Errorf("%w: %w", mfa.ErrMalformedAnswer, err)
	}
	if err != nil {
		return mfa.Proof{}, err
	}
	return mfa.Proof{Counter: step, Methods: []mfa.AMR{mfa.AMROTP}}, nil
}
