package storage

import (
	"crypto/rand"
	"encoding/base32"
)

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newID returns a random 128-bit identifier, lower-case base32 (26
// characters): unguessable, URL-safe and stable as an OIDC subject.
func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return toLower(idEncoding.EncodeToString(b[:]))
}

func toLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
