package mfa

import "slices"

// AMR is an authentication method reference (RFC 8176): one value of the
// amr claim, saying how the user proved who they are.
type AMR string

// The methods Gatehouse records.
const (
	AMRPassword    AMR = "pwd" // the password
	AMROTP         AMR = "otp" // a code from an authenticator app (TOTP)
	AMRHardwareKey AMR = "hwk" // a security key or device-bound passkey (WebAuthn)
	AMRSoftwareKey AMR = "swk" // a synced passkey (WebAuthn)
	AMRMultiFactor AMR = "mfa" // added whenever two distinct factors were used
)

func hasAMR(amr []string, m AMR) bool {
	return slices.Contains(amr, string(m))
}

// WithFactor returns a copy of amr with the method m added and, once the
// password and another factor are both in it, AMRMultiFactor last.
func WithFactor(amr []string, m AMR) []string {
	out := slices.DeleteFunc(slices.Clone(amr), func(v string) bool { return v == string(AMRMultiFactor) })
	if !hasAMR(out, m) {
		out = append(out, string(m))
	}
	if hasAMR(out, AMRPassword) && slices.ContainsFunc(out, func(v string) bool { return v != string(AMRPassword) && isFactor(v) }) {
		out = append(out, string(AMRMultiFactor))
	}
	return out
}

// isFactor reports whether v is a method Gatehouse records for a factor.
func isFactor(v string) bool {
	switch AMR(v) {
	case AMRPassword, AMROTP, AMRHardwareKey, AMRSoftwareKey:
		return true
	}
	return false
}
