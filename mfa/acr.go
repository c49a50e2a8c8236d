package mfa

import "slices"

// Authentication context class references (the acr claim), weakest first.
const (
	ACRPassword          = "urn:gatehouse:acr:pwd" // a password
	ACRMFA               = "urn:gatehouse:acr:mfa" // a password and a second factor
	ACRPhishingResistant = "urn:gatehouse:acr:phr" // a password and a security key or passkey
)

// acrLevels is the one place that orders the levels.
var acrLevels = []string{ACRPassword, ACRMFA, ACRPhishingResistant}

// ACRRank orders acr values: 1 for ACRPassword, 2 for ACRMFA, 3 for
// ACRPhishingResistant and 0 for anything Gatehouse does not know.
func ACRRank(acr string) int {
	return slices.Index(acrLevels, acr) + 1
}

// ACRFor is the highest level that a sign-in with these methods meets, or ""
// when it meets none: neither the password nor a passkey that verified its
// user was proved.
func ACRFor(amr []string) string {
	passkey := hasKey(amr) && hasAMR(amr, AMRUser)
	if !hasAMR(amr, AMRPassword) && !passkey {
		return ""
	}
	switch {
	case hasKey(amr):
		return ACRPhishingResistant
	case hasAMR(amr, AMROTP):
		return ACRMFA
	}
	return ACRPassword
}
