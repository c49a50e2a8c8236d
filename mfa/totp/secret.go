package totp

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
)

// SecretSize is the length of a secret in bytes: 160 bits, the size
// RFC 4226 recommends for HMAC-SHA-1.
const SecretSize = 20

// Secret is the shared key between Gatehouse and the user's app. Never log
// it; store it only encrypted (Encrypt).
type Secret []byte

// ErrSecretSize reports a secret that is not SecretSize bytes long.
var ErrSecretSize = fmt.Errorf("an authenticator secret must be %d bytes", SecretSize)

// ErrDecrypt reports a stored secret that cannot be opened: a different
// server key, a damaged value, or a value copied from another user or factor.
var ErrDecrypt = errors.New("the stored authenticator secret cannot be decrypted with this key for this user and factor")

// NewSecret returns a random secret from crypto/rand.
func NewSecret() (Secret, error) {
	s := make(Secret, SecretSize)
	if _, err := rand.Read(s); err != nil {
		return nil, fmt.Errorf("generate authenticator secret: %w", err)
	}
	return s, nil
}

// formatV1 is the first byte of every ciphertext, so a later format can be
// told apart from this one.
const formatV1 byte = 1

// Encrypt seals a secret with AES-256-GCM under key (32 bytes, derived with
// secretkey.PurposeTOTPSecrets). The user and factor ids are bound as
// additional data: the result only decrypts for the same pair.
// The output is the format byte, a random 12-byte nonce and the sealed secret.
func Encrypt(key []byte, userID, factorID string, s Secret) ([]byte, error) {
	if len(s) != SecretSize {
		return nil, ErrSecretSize
	}
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(s)+aead.Overhead())
	out[0] = formatV1
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("generate nonce: %w", err)
	}
	return aead.Seal(out, out[1:], s, additionalData(userID, factorID)), nil
}

// Decrypt opens what Encrypt sealed for the same key, user and factor.
func Decrypt(key []byte, userID, factorID string, sealed []byte) (Secret, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	header := 1 + aead.NonceSize()
	if len(sealed) < header+aead.Overhead() || sealed[0] != formatV1 {
		return nil, ErrDecrypt
	}
	plain, err := aead.Open(nil, sealed[1:header], sealed[header:], additionalData(userID, factorID))
	if err != nil {
		return nil, ErrDecrypt
	}
	if len(plain) != SecretSize {
		return nil, ErrSecretSize
	}
	return Secret(plain), nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, errors.New("the authenticator secret encryption key must be 32 bytes")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("authenticator secret encryption: %w", err)
	}
	return cipher.NewGCM(block)
}

// additionalData binds a ciphertext to its format, user and factor. Each id
// carries its length first so that ("ab", "c") and ("a", "bc") differ.
func additionalData(userID, factorID string) []byte {
	ad := make([]byte, 0, 1+8+len(userID)+len(factorID))
	ad = append(ad, formatV1)
	ad = binary.BigEndian.AppendUint32(ad, uint32(len(userID)))
	ad = append(ad, userID...)
	ad = binary.BigEndian.AppendUint32(ad, uint32(len(factorID)))
	ad = append(ad, factorID...)
	return ad
}
