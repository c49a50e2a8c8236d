package mfa

import (
	"context"
	"errors"
	"strings"
	"time"
)

// FactorKind names a kind of second factor: in storage, in the policy, in
// metrics and on the command line.
type FactorKind string

// The kinds of second factor.
const (
	FactorTOTP     FactorKind = "totp"     // an authenticator app (RFC 6238)
	FactorWebAuthn FactorKind = "webauthn" // a security key or passkey
)

// FactorKinds are every kind, in the order they are stored and shown.
var FactorKinds = []FactorKind{FactorTOTP, FactorWebAuthn}

// ParseFactorKind reads the name of a kind ("totp"), in any letter case and
// with surrounding spaces.
func ParseFactorKind(name string) (FactorKind, bool) {
	for _, k := range FactorKinds {
		if strings.EqualFold(strings.TrimSpace(name), string(k)) {
			return k, true
		}
	}
	return "", false
}

// Factor is one kind of second factor. Adding a factor means one
// implementation beside this file, its page in the hosted pages, and
// listing it among the factors the server offers. A check has two halves,
// so that a factor whose browser needs options (a WebAuthn challenge) fits
// beside one that needs none (TOTP): Begin makes what the browser is sent
// and what the server keeps until the answer comes, and Finish verifies the
// answer against what was kept.
type Factor interface {
	// Kind names the factor.
	Kind() FactorKind
	// AMR is the method a sign-in with this factor records.
	AMR() AMR
	// Begin starts a challenge for the user. The caller sends Options to
	// the browser and stores State server-side, single use, for Finish.
	Begin(ctx context.Context, s Subject) (Challenge, error)
	// Finish verifies the user's answer and returns what it proved. The
	// caller stores the Proof's counter with a conditional update that
	// only lets it grow, so that an answer is accepted at most once, on
	// any replica.
	Finish(ctx context.Context, a Answer) (Proof, error)
}

// Proof is what an accepted answer proved.
type Proof struct {
	// Counter is the factor's new counter (a time step, a signature count).
	Counter int64
	// Methods are the amr values the answer adds to the session: the
	// factor's own and, for a key that verified its user, AMRUser.
	Methods []AMR
}

// Subject is the user a challenge is for.
type Subject struct {
	UserID string
	Name   string // what the browser may show, such as the email
	// Credentials are the stored records of the user's factors of this
	// kind, for a factor whose challenge names them (WebAuthn's allowed
	// credentials); nil for one that does not.
	Credentials [][]byte
}

// Challenge is what Begin made: Options for the browser, State for the
// server. Both are empty for a factor that needs neither.
type Challenge struct {
	Options []byte
	State   []byte
}

// Answer is one answer to a challenge: what the server holds and what the
// user answered.
type Answer struct {
	// Secret is the factor's stored secret, decrypted by the caller.
	Secret []byte
	// LastUsed is the counter the last accepted answer left.
	LastUsed int64
	// State is the Challenge's State, for factors that have one.
	State []byte
	// Response is what the user (or their browser) answered.
	Response string
	Now      time.Time
}

// Level is the acr a sign-in reaches with the password and f.
func Level(f Factor) string {
	return ACRFor([]string{string(AMRPassword), string(f.AMR())})
}

// What Finish refuses, whatever the factor; a factor wraps its own error
// in one of these.
var (
	// ErrWrongAnswer: the answer does not match the challenge.
	ErrWrongAnswer = errors.New("wrong answer")
	// ErrReplayedAnswer: the answer was accepted before and works once.
	ErrReplayedAnswer = errors.New("answer already used")
	// ErrMalformedAnswer: the answer is not even of the factor's form.
	ErrMalformedAnswer = errors.New("malformed answer")
	// ErrCounterWentBack: the authenticator's signature counter did not
	// grow, the sign of a cloned security key (WebAuthn §6.1.1). It is
	// also an ErrWrongAnswer.
	ErrCounterWentBack = errors.New("signature counter went back")
)
