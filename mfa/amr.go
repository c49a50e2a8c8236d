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
