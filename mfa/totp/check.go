package totp

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"strings"
	"time"
)

// The parameters every authenticator app assumes when the URI says nothing
// else; Gatehouse always uses them.
const (
	Digits = 6
	Period = 30 // seconds per time step
	// Skew is how many steps either side of the current one are accepted,
	// for clocks that drift and codes typed as they change.
	Skew = 1

	codeModulus = 1_000_000 // 10^Digits
)

// The three ways Check refuses a code.
var (
	ErrMalformed = errors.New("malformed code")
	ErrInvalid   = errors.New("the code is not valid")
	ErrReplayed  = errors.New("the code was already used; wait for the next one")
)

// Errors made once, so refusing a malformed code allocates nothing.
var (
	errWrongLength = fmt.Errorf("%w: a code from the authenticator app has exactly %d digits", ErrMalformed, Digits)
	errNotDigits   = fmt.Errorf("%w: a code from the authenticator app has only the digits 0 to 9 (spaces are fine)", ErrMalformed)
)

// Step returns the RFC 6238 time step of t (Unix time divided by the
// period, rounded down).
func Step(t time.Time) int64 {
	u := t.Unix()
	s := u / Period
	if u%Period < 0 {
		s--
	}
	return s
}

// Check verifies a code typed by the user at time now and returns the time
// step it matched, which the caller records as the new last used step.
//
// The code may have spaces inside ("123 456", as apps show it) and white
// space around it; anything else is ErrMalformed. The current step and one
// step either side are accepted. A code whose step is at or before
// lastUsedStep is ErrReplayed, so a code works once and an older code
// never works after a newer one. Any other code is ErrInvalid. A secret
// that is not SecretSize bytes is ErrSecretSize: a fault of the caller or
// the stored data, not of the user.
func Check(s Secret, code string, now time.Time, lastUsedStep int64) (int64, error) {
	if len(s) != SecretSize {
		return 0, ErrSecretSize
	}
	want, err := parseCode(code)
	if err != nil {
		return 0, err
	}

	mac := hmac.New(sha1.New, s)
	var scratch codeScratch
	current := Step(now)

	// Every candidate step is computed and compared, whatever matched
	// before, so the time taken says nothing about the code. When two steps
	// share a code, the earliest unused one is taken: it moves the replay
	// guard the least.
	var fresh, replayed int // 1 once a candidate matched
	var step int64
	for candidate := current - Skew; candidate <= current+Skew; candidate++ {
		hit := subtle.ConstantTimeEq(int32(scratch.code(mac, candidate)), int32(want))
		unused := 0 // steps are not secret: a plain comparison is fine
		if candidate > lastUsedStep {
			unused = 1
		}
		step = selectInt64(hit&unused&^fresh, candidate, step)
		fresh |= hit & unused
		replayed |= hit &^ unused
	}
	switch {
	case fresh == 1:
		return step, nil
	case replayed == 1:
		return 0, ErrReplayed
	default:
		return 0, ErrInvalid
	}
}

// parseCode reads the 6 digits of a code, allowing spaces inside and white
// space around. It never echoes the input in its errors.
func parseCode(code string) (uint32, error) {
	code = strings.Trim(code, " \t\r\n")
	var value uint32
	digits := 0
	for i := 0; i < len(code); i++ {
		c := code[i]
		switch {
		case c == ' ':
		case '0' <= c && c <= '9':
			digits++
			if digits <= Digits {
				value = value*10 + uint32(c-'0')
			}
		default:
			return 0, errNotDigits
		}
	}
	if digits != Digits {
		return 0, errWrongLength
	}
	return value, nil
}

// codeScratch holds the buffers of one Check, reused for each step.
type codeScratch struct {
	counter [8]byte
	sum     [sha1.Size]byte
}

// code computes the RFC 4226 value for one time step: HMAC-SHA-1 of the
// step, dynamically truncated to 31 bits, reduced to Digits digits.
func (b *codeScratch) code(mac hash.Hash, step int64) uint32 {
	binary.BigEndian.PutUint64(b.counter[:], uint64(step))
	mac.Reset()
	mac.Write(b.counter[:])
	sum := mac.Sum(b.sum[:0])
	offset := sum[len(sum)-1] & 0x0f
	return (binary.BigEndian.Uint32(sum[offset:]) & 0x7fffffff) % codeModulus
}

// selectInt64 returns a if take is 1 and b if take is 0, without branching.
func selectInt64(take int, a, b int64) int64 {
	mask := -int64(take)
	return a&mask | b&^mask
}
