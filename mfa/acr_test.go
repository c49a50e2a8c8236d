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
		add  AMR
		want []string
	}{
		{"TOTP after the password", []string{"pwd"}, AMROTP, []string{"pwd", "otp", "mfa"}},
		{"TOTP again", []string{"pwd", "otp", "mfa"}, AMROTP, []string{"pwd", "otp", "mfa"}},
		{"a security key after TOTP", []string{"pwd", "otp", "mfa"}, AMRHardwareKey, []string{"pwd", "otp", "hwk", "mfa"}},
		{"a factor without the password", nil, AMROTP, []string{"otp"}},
		{"the password alone", nil, AMRPassword, []string{"pwd"}},
		{"an unknown method is not a second factor", []string{"pwd", "sms"}, AMRPassword, []string{"pwd", "sms"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := slices.Clone(tc.amr)
			got := WithFactor(tc.amr, tc.add)
			if !slices.Equal(got, tc.want) {
				t.Errorf("WithFactor(%q, %q) = %q, want %q", tc.amr, tc.add, got, tc.want)
			}
			if !slices.Equal(tc.amr, in) {
				t.Errorf("WithFactor changed its argument to %q", tc.amr)
			}
		})
	}
}
