package mfa

import (
	"slices"
	"testing"
)

func TestACRRankOrdersTheLevels(t *testing.T) {
	tests := []struct {
		acr  string
		want int
	}{
		{ACRPassword, 1},
		{ACRMFA, 2},
		{ACRPhishingResistant, 3},
		{"", 0},
		{"urn:example:loa:2", 0},
		{"urn:gatehouse:acr:PWD", 0},
	}
	for _, tc := range tests {
		if got := ACRRank(tc.acr); got != tc.want {
			t.Errorf("ACRRank(%q) = %d, want %d", tc.acr, got, tc.want)
		}
	}
}

func TestACRForIsTheHighestLevelTheMethodsMeet(t *testing.T) {
	tests := []struct {
		name string
		amr  []string
		want string
	}{
		{"nothing proved", nil, ""},
		{"unknown method only", []string{"sms"}, ""},
		{"a second factor without the password", []string{"otp"}, ""},
		{"password", []string{"pwd"}, ACRPassword},
		{"password and an unknown method", []string{"pwd", "sms"}, ACRPassword},
		{"password and TOTP", []string{"pwd", "otp", "mfa"}, ACRMFA},
		{"password and a security key", []string{"pwd", "hwk", "mfa"}, ACRPhishingResistant},
		{"password and a synced passkey", []string{"swk", "pwd", "mfa"}, ACRPhishingResistant},
		{"password, TOTP and a security key", []string{"pwd", "otp", "hwk", "mfa"}, ACRPhishingResistant},
		{"a passkey that verified its user", []string{"hwk", "user", "mfa"}, ACRPhishingResistant},
		{"a synced passkey that verified its user", []string{"swk", "user", "mfa"}, ACRPhishingResistant},
		{"a key without user verification", []string{"hwk"}, ""},
		{"user verification without a key", []string{"user"}, ""},
		{"an app and user verification", []string{"otp", "user"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ACRFor(tc.amr); got != tc.want {
				t.Errorf("ACRFor(%q) = %q, want %q", tc.amr, got, tc.want)
			}
		})
	}
}

func TestWithFactor(t *testing.T) {
	tests := []struct {
		name string
		amr  []string
		add  []AMR
		want []string
	}{
		{"TOTP after the password", []string{"pwd"}, []AMR{AMROTP}, []string{"pwd", "otp", "mfa"}},
		{"TOTP again", []string{"pwd", "otp", "mfa"}, []AMR{AMROTP}, []string{"pwd", "otp", "mfa"}},
		{"a security key after TOTP", []string{"pwd", "otp", "mfa"}, []AMR{AMRHardwareKey}, []string{"pwd", "otp", "hwk", "mfa"}},
		{"a factor without the password", nil, []AMR{AMROTP}, []string{"otp"}},
		{"the password alone", nil, []AMR{AMRPassword}, []string{"pwd"}},
		{"an unknown method is not a second factor", []string{"pwd", "sms"}, []AMR{AMRPassword}, []string{"pwd", "sms"}},
		{"a passkey that verified its user", nil, []AMR{AMRSoftwareKey, AMRUser}, []string{"swk", "user", "mfa"}},
		{"a key that did not verify its user", nil, []AMR{AMRHardwareKey}, []string{"hwk"}},
		{"a key with user verification after the password", []string{"pwd"}, []AMR{AMRHardwareKey, AMRUser}, []string{"pwd", "hwk", "user", "mfa"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := slices.Clone(tc.amr)
			got := WithFactor(tc.amr, tc.add...)
			if !slices.Equal(got, tc.want) {
				t.Errorf("WithFactor(%q, %q) = %q, want %q", tc.amr, tc.add, got, tc.want)
			}
			if !slices.Equal(tc.amr, in) {
				t.Errorf("WithFactor changed its argument to %q", tc.amr)
			}
		})
	}
}
