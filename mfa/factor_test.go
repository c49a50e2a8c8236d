package mfa

import "testing"

func TestParseFactorKind(t *testing.T) {
	for name, want := range map[string]FactorKind{"totp": FactorTOTP, " TOTP ": FactorTOTP, "WebAuthn": FactorWebAuthn} {
		if got, ok := ParseFactorKind(name); !ok || got != want {
			t.Errorf("ParseFactorKind(%q) = %q, %v; want %q", name, got, ok, want)
		}
	}
	for _, name := range []string{"", "sms", "totp,webauthn", "recovery_code"} {
		if got, ok := ParseFactorKind(name); ok {
			t.Errorf("ParseFactorKind(%q) = %q, want no kind", name, got)
		}
	}
}
