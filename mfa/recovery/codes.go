package recovery

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
)

// Alphabet holds the symbols of a code: digits and lower-case letters
// without the look-alikes 0/o, 1/i/l and u (read as v). 30 symbols.
const Alphabet = "23456789abcdefghjkmnpqrstvwxyz"

// Length is the number of symbols in a code, shown in groups of four:
// "xxxx-xxxx-xxxx".
//
// Entropy: each symbol is drawn uniformly from 30, so a code has
// 12 × log2(30) ≈ 58.9 bits, above the 50 bits Gatehouse asks of codes people
// type; with the HMAC key kept off the database and attempts rate-limited,
// guessing one is out of reach.
const Length = 12

// groupSize is the number of symbols between dashes.
const groupSize = 4

// EnrollmentCount is how many codes a user receives at enrollment.
const EnrollmentCount = 10

// ErrMalformed reports input that cannot be a recovery code.
var ErrMalformed = errors.New("this is not a recovery code")

var (
	errWrongLength = fmt.Errorf("%w: a recovery code has %d letters and digits in groups of four", ErrMalformed, Length)
	errBadSymbol   = fmt.Errorf("%w: recovery codes use only the digits 2 to 9 and the letters a to z except i, l, o and u", ErrMalformed)
)

// maxInput bounds the input Normalize reads: a code with generous spacing
// fits easily, and nothing longer is worth looking at.
const maxInput = 64

// Generate returns n distinct new codes in their display form.
func Generate(n int) ([]string, error) {
	if n < 1 {
		return nil, fmt.Errorf("recovery codes: cannot generate %d codes", n)
	}
	codes := make([]string, 0, n)
	seen := make(map[string]bool, n)
	for len(codes) < n {
		c, err := newCode()
		if err != nil {
			return nil, err
		}
		// Two equal codes in one batch are astronomically unlikely, but
		// storage keeps one row per code, so never hand out a duplicate.
		if !seen[c] {
			seen[c] = true
			codes = append(codes, c)
		}
	}
	return codes, nil
}

// newCode draws Length symbols uniformly: random bytes at or above the
// largest multiple of len(Alphabet) are thrown away, so no symbol is more
// likely than another.
func newCode() (string, error) {
	const limit = 256 / len(Alphabet) * len(Alphabet)
	symbols := make([]byte, 0, Length)
	var buf [32]byte
	for len(symbols) < Length {
		if _, err := rand.Read(buf[:]); err != nil {
			return "", fmt.Errorf("generate recovery code: %w", err)
		}
		for _, b := range buf {
			if int(b) < limit && len(symbols) < Length {
				symbols = append(symbols, Alphabet[int(b)%len(Alphabet)])
			}
		}
	}
	return display(string(symbols)), nil
}

// Normalize reads a code as a user typed it — any case, with or without
// dashes and spaces, white space around — and returns its display form.
// Look-alikes (0, o, 1, i, l, u) are never in a code, so they are not
// guessed at: they make the input ErrMalformed like any other stray symbol.
func Normalize(input string) (string, error) {
	if len(input) > maxInput {
		return "", errWrongLength
	}
	c := compact(input)
	for i := 0; i < len(c); i++ {
		if strings.IndexByte(Alphabet, c[i]) < 0 {
			return "", errBadSymbol
		}
	}
	if len(c) != Length {
		return "", errWrongLength
	}
	return display(c), nil
}

// compact trims white space around the input, drops dashes and spaces and
// lowers the case of ASCII letters. For a valid code it gives the Length
// symbols; anything else stays visibly not a code.
func compact(input string) string {
	input = strings.Trim(input, " \t\r\n")
	var b strings.Builder
	b.Grow(len(input))
	for i := 0; i < len(input); i++ {
		c := input[i]
		switch {
		case c == '-' || c == ' ':
		case 'A' <= c && c <= 'Z':
			b.WriteByte(c + ('a' - 'A'))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// display writes Length symbols as "xxxx-xxxx-xxxx".
func display(symbols string) string {
	var b strings.Builder
	for i := 0; i < len(symbols); i += groupSize {
		if i > 0 {
			b.WriteByte('-')
		}
		b.WriteString(symbols[i:min(i+groupSize, len(symbols))])
	}
	return b.String()
}

// Hash returns the HMAC-SHA-256 of a code under key (derived by the caller
// with secretkey.PurposeRecoveryCodes), computed over the code's normalized
// symbols, so every way of typing one code gives the same hash. Store and
// look up only this value.
func Hash(key []byte, code string) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(compact(code)))
	return mac.Sum(nil)
}

// File returns the text/plain file a user downloads: one code per line,
// ending with a newline.
func File(codes []string) []byte {
	var b strings.Builder
	for _, c := range codes {
		b.WriteString(c)
		b.WriteByte('\n')
	}
	return []byte(b.String())
}
