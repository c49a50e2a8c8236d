package password

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Length limits for new passwords, counted in characters (runes). The upper
// limit only stops absurd input; passphrases fit comfortably.
const (
	MinLength = 8
	MaxLength = 256
)

// Reason says why a password was refused.
type Reason int

// The reasons Check refuses a password.
const (
	TooShort Reason = iota + 1
	TooLong
	Common
	Repetitive
	NotText
)

// WeakPasswordError is what Check returns for an unacceptable password. Its
// message is fit to show to the user and never contains the password.
type WeakPasswordError struct {
	Reason Reason
}

func (e *WeakPasswordError) Error() string {
	switch e.Reason {
	case TooShort:
		return fmt.Sprintf("the password is too short: use at least %d characters", MinLength)
	case TooLong:
		return fmt.Sprintf("the password is too long: use at most %d characters", MaxLength)
	case Common:
		return "the password is one of the most commonly used passwords: choose one that is harder to guess"
	case Repetitive:
		return "the password repeats a single character: choose one that is harder to guess"
	case NotText:
		return "the password contains bytes that are not valid UTF-8 text"
	}
	return "the password is not acceptable"
}

// Check reports whether plain is acceptable as a new password, returning a
// *WeakPasswordError saying why not.
func Check(plain string) error {
	if !utf8.ValidString(plain) {
		return &WeakPasswordError{Reason: NotText}
	}
	switch n := utf8.RuneCountInString(plain); {
	case n < MinLength:
		return &WeakPasswordError{Reason: TooShort}
	case n > MaxLength:
		return &WeakPasswordError{Reason: TooLong}
	}
	if isOneRepeatedRune(plain) {
		return &WeakPasswordError{Reason: Repetitive}
	}
	if commonPasswords()[strings.ToLower(plain)] {
		return &WeakPasswordError{Reason: Common}
	}
	return nil
}

func isOneRepeatedRune(s string) bool {
	first, _ := utf8.DecodeRuneInString(s)
	for _, r := range s {
		if r != first {
			return false
		}
	}
	return true
}
