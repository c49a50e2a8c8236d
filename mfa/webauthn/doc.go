// Package webauthn holds the security-key and passkey factor (W3C Web
// Authentication Level 3) on github.com/go-webauthn/webauthn: the relying
// party of one issuer (its host is the relying-party id, its origin the one
// accepted origin), the registration of a key, the key step after the
// password, and the sign-in with a passkey alone; and Factor, a key as an
// mfa.Factor.
//
// Everything here is pure. The package must not store anything and must
// not speak HTTP: each Begin returns the options for the browser and a
// state the caller keeps server-side, single use and for CeremonyTTL, so
// that any replica can finish a ceremony another began; the caller stores
// each key's record and signature counter. Of Gatehouse's packages it
// imports only mfa.
package webauthn
