package mfa

import (
	"context"
	"time"
)

// Factor kinds, as storage names them.
const (
	KindTOTP = "totp"
)

// Factor is one kind of second factor (DESIGN §3). Adding a factor means
// one implementation here, its page in the hosted pages, and listing it
// among the factors the server offers.
type Factor interface {
	// Kind names the factor in storage and in decisions ("totp").
	Kind() string
	// AMR is the method a sign-in with this factor records.
	AMR() AMR
	// Check verifies the user's answer to a challenge and returns the
	// factor's new counter. The caller stores it with a conditional update
	// that only lets the counter grow, so that an answer is accepted at most
	// once, on any replica.
	Check(ctx context.Context, c Challenge) (int64, error)
}

// Challenge is one check of a factor: what the server holds and what the
// user answered.
type Challenge struct {
	// Secret is the factor's stored secret, decrypted by the caller.
	Secret []byte
	// LastUsed is the counter the last accepted answer left.
	LastUsed int64
	// Answer is what the user entered.
	Answer string
	Now    time.Time
}

// Level is the acr a sign-in reaches with the password and f.
func Level(f Factor) string {
	return ACRFor([]string{string(AMRPassword), string(f.AMR())})
}
