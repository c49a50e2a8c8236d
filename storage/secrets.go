package storage

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
)

// NewSecret returns a random 256-bit secret for a machine to carry (client
// secrets, session cookies, codes, tokens, links) and its SHA-256 digest,
// the only form stored.
func NewSecret() (secret string, digest []byte) {
	var b [32]byte
	rand.Read(b[:])
	secret = base64.RawURLEncoding.EncodeToString(b[:])
	return secret, HashSecret(secret)
}

// HashSecret is the stored form of a high-entropy secret. A fast digest is
// enough because the secret has 256 random bits; a slow password hash
// would only cap the token endpoint.
func HashSecret(secret string) []byte {
	d := sha256.Sum256([]byte(secret))
	return d[:]
}

// SecretMatches compares a presented secret with a stored digest in
// constant time.
func SecretMatches(digest []byte, presented string) bool {
	if len(digest) != sha256.Size {
		return false
	}
	d := sha256.Sum256([]byte(presented))
	return subtle.ConstantTimeCompare(digest, d[:]) == 1
}
