package mfa

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestEssentialACR(t *testing.T) {
	tests := []struct {
		name   string
		claims string
		want   []string
	}{
		{"no claims parameter", "", nil},
		{"essential values", `{"id_token":{"acr":{"essential":true,"values":["urn:gatehouse:acr:mfa","urn:gatehouse:acr:phr"]}}}`,
			[]string{ACRMFA, ACRPhishingResistant}},
		{"essential single value", `{"id_token":{"acr":{"essential":true,"value":"urn:gatehouse:acr:mfa"}}}`, []string{ACRMFA}},
		{"value and values", `{"id_token":{"acr":{"essential":true,"value":"a","values":["b"]}}}`, []string{"a", "b"}},
		{"unknown values are kept", `{"id_token":{"acr":{"essential":true,"values":["urn:example:loa:3"]}}}`, []string{"urn:example:loa:3"}},
		{"values that are not strings are skipped", `{"id_token":{"acr":{"essential":true,"values":[2,null,"urn:gatehouse:acr:pwd",{}]}}}`,
			[]string{ACRPassword}},
		{"voluntary acr", `{"id_token":{"acr":{"values":["urn:gatehouse:acr:mfa"]}}}`, nil},
		{"essential false", `{"id_token":{"acr":{"essential":false,"values":["urn:gatehouse:acr:mfa"]}}}`, nil},
		{"essential without values", `{"id_token":{"acr":{"essential":true}}}`, nil},
		{"essential with an empty list", `{"id_token":{"acr":{"essential":true,"values":[]}}}`, nil},
		{"acr requested with null", `{"id_token":{"acr":null}}`, nil},
		{"acr for userinfo only", `{"userinfo":{"acr":{"essential":true,"values":["urn:gatehouse:acr:mfa"]}}}`, nil},
		{"other claims only", `{"id_token":{"email":{"essential":true}}}`, nil},
		{"member names are case-sensitive", `{"id_token":{"ACR":{"essential":true,"values":["urn:gatehouse:acr:mfa"]}}}`, nil},
		{"essential as a string", `{"id_token":{"acr":{"essential":"true","values":["urn:gatehouse:acr:mfa"]}}}`, nil},
		{"values not a list", `{"id_token":{"acr":{"essential":true,"values":"urn:gatehouse:acr:mfa"}}}`, nil},
		{"id_token not an object", `{"id_token":["acr"]}`, nil},
		{"not JSON", `{"id_token":`, nil},
		{"a JSON array", `[]`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := EssentialACR(tc.claims); !slices.Equal(got, tc.want) {
				t.Errorf("EssentialACR(%s) = %q, want %q", tc.claims, got, tc.want)
			}
		})
	}
}

func FuzzEssentialACR(f *testing.F) {
	for _, seed := range []string{
		"",
		`{"id_token":{"acr":{"essential":true,"values":["urn:gatehouse:acr:mfa"]}}}`,
		`{"id_token":{"acr":{"essential":true,"value":"urn:gatehouse:acr:phr"}},"userinfo":{"email":null}}`,
		`{"id_token":{"acr":{"essential":true,"values":[1,"x",null]}}}`,
		`{"id_token":null}`,
		`null`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, claims string) {
		got := EssentialACR(claims)
		if got != nil && len(got) == 0 {
			t.Fatal("an empty, non-nil result: callers treat nil as no demand")
		}
		if got != nil && !strings.Contains(claims, "essential") {
			t.Fatalf("EssentialACR(%q) = %q without an essential member", claims, got)
		}
		if got != nil && !json.Valid([]byte(claims)) {
			t.Fatalf("EssentialACR(%q) = %q for a parameter that is not JSON", claims, got)
		}
	})
}
