// Package recovery makes and checks the single-use recovery codes a user
// keeps for when the authenticator app is lost: generating them, reading
// what the user typed, hashing them for storage and the text file the user
// downloads.
//
// Everything here is pure. The package must not store anything and must
// not speak HTTP: the caller keeps only the hashes (HMAC under a key
// derived with secretkey.PurposeRecoveryCodes), consumes them once, and
// rate-limits attempts. Of Gatehouse's packages it may import only mfa.
package recovery
