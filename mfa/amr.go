package mfa

import "slices"

// AMR is an authentication method reference (RFC 8176): one value of the
// amr claim, saying how the user proved who they are.
type AMR string

// The methods Gatehouse records.
const (
	AMRPassword    AMR = "pwd"  // the password
	AMROTP         AMR = "otp"  // a code from an authenticator app (TOTP)
	AMRHardwareKey AMR = "hwk"  // a security key or device-bound passkey (WebAuthn)
	AMRSoftwareKey AMR = "swk"  // a synced passkey (WebAuthn)
	AMRUser        AMR = "user" // the key verified its user (a PIN or biometrics: WebAuthn user verification)
	AMRMultiFactor AMR = "mfa"  // added whenever two distinct factors were used
)

func hasAMR(amr []string, m AMR) bool {
	return slices.Contains(amr, string(m))
}

// WithFactor returns a copy of amr with the methods ms added and, once two
// distinct factors are in it, AMRMultiFactor last: something the user
// knows or is (the password, or a key's user verification) and something
// they have (an app, a key).
func WithFactor(amr []string, ms ...AMR) []string {
	out := slices.DeleteFunc(slices.Clone(amr), func(v string) bool { return v == string(AMRMultiFactor) })
	for _, m := range ms {
		if !hasAMR(out, m) {
			out = append(out, string(m))
		}
	}
	if knows(out) && slices.ContainsFunc(out, isPossession) {
		out = append(out, string(AMRMultiFactor))
	}
	return out
}

// knows: amr holds a factor the user knows or is.
func knows(amr []string) bool { return hasAMR(amr, AMRPassword) || hasAMR(amr, AMRUser) }

// isPossession reports whether v is a method for something the user has.
func isPossession(v string) bool {
	switch AMR(v) {
	case AMROTP, AMRHardwareKey, AMRSoftwareKey:
		return true
	}
	return false
}

// hasKey: amr holds a security key or passkey.
func hasKey(amr []string) bool { return hasAMR(amr, AMRHardwareKey) || hasAMR(amr, AMRSoftwareKey) }
