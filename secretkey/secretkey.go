package secretkey

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Size is the length of the secret key in bytes.
const Size = 32

// Key is the server secret. Never log it; derive what you need with Derive.
type Key [Size]byte

// Purpose names what a derived key is used for. Each purpose has its own
// label so a key for one job is useless for another.
type Purpose string

// The purposes Gatehouse derives keys for. Labels are part of the stored
// data's format: changing one makes existing ciphertexts unreadable.
const (
	PurposeTOTPSecrets   Purpose = "gatehouse totp secret encryption v1"
	PurposeSigningKeys   Purpose = "gatehouse signing key encryption v1"
	PurposeTokenCrypto   Purpose = "gatehouse token and code encryption v1"
	PurposeRecoveryCodes Purpose = "gatehouse recovery code hmac v1"
	PurposeMailOutbox    Purpose = "gatehouse mail outbox encryption v1"
	PurposeDeviceCookies Purpose = "gatehouse device cookie hmac v1"
	PurposeAccessPasses  Purpose = "gatehouse temporary access pass hmac v1"
)

// ErrMalformed is returned for a key that is not 32 bytes in standard base64.
var ErrMalformed = errors.New("the secret key must be 32 random bytes in standard base64 (make one with: openssl rand -base64 32)")

// Generate returns a new random key.
func Generate() (Key, error) {
	var k Key
	if _, err := rand.Read(k[:]); err != nil {
		return Key{}, fmt.Errorf("generate secret key: %w", err)
	}
	return k, nil
}

// Parse reads a key in standard base64, surrounding white space ignored.
func Parse(s string) (Key, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || len(raw) != Size {
		return Key{}, ErrMalformed
	}
	var k Key
	copy(k[:], raw)
	return k, nil
}

// String returns the key in standard base64, the form Parse reads.
func (k Key) String() string { return base64.StdEncoding.EncodeToString(k[:]) }

// Derive returns a 32-byte key for one purpose.
func (k Key) Derive(p Purpose) []byte {
	out, err := hkdf.Key(sha256.New, k[:], nil, string(p), 32)
	if err != nil {
		// Only possible for lengths above 255*32 bytes; 32 is fixed above.
		panic(err)
	}
	return out
}
