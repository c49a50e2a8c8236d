// Package totp holds the primitives of the authenticator-app factor
// (RFC 6238 with SHA-1, 6 digits and 30-second steps): making a secret,
// encrypting it for storage bound to its user and factor, checking a code
// and reporting the time step it matched, and the enrollment details (the
// otpauth:// URI, the key as text and its QR code); and Factor, the
// authenticator app as an mfa.Factor.
//
// Everything here is pure. The package must not store anything and must
// not speak HTTP: the caller keeps the encrypted secret and the last used
// time step (the replay guard that holds across replicas) in storage, and
// turns errors into pages. Of Gatehouse's packages it imports only mfa.
package totp
