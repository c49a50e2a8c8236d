package mfa

import (
	"context"

	"github.com/gatehouse-id/gatehouse/mfa/totp"
)

// TOTP is the authenticator-app factor (RFC 6238). Its counter is the
// time step of the last accepted code; a code of that step or an earlier
// one is totp.ErrReplayed. Other errors are totp's: ErrMalformed,
// ErrInvalid and ErrSecretSize.
type TOTP struct{}

var _ Factor = TOTP{}

// Kind is KindTOTP.
func (TOTP) Kind() string { return KindTOTP }

// AMR is AMROTP.
func (TOTP) AMR() AMR { return AMROTP }

// Check checks the code in c.Answer against c.Secret at c.Now, allowing one
// step of clock skew either way, and returns the step it matched.
func (TOTP) Check(_ context.Context, c Challenge) (int64, error) {
	return totp.Check(totp.Secret(c.Secret), c.Answer, c.Now, c.LastUsed)
}
