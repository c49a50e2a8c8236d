package mfa

import "encoding/json"

// EssentialACR returns the acr values an authorization request's claims
// parameter (OIDC Core §5.5.1.1) demands as essential for the ID token:
//
//	{"id_token":{"acr":{"essential":true,"values":["urn:gatehouse:acr:mfa"]}}}
//
// A single "value" counts like a list of one. It returns nil when the
// parameter is empty or malformed (the provider refuses a malformed one
// before it is stored), or asks for acr voluntarily or without values: then
// the claims parameter demands no level. Values that are not strings are
// skipped; unknown strings are kept, so that a demand for levels Gatehouse
// cannot meet is refused rather than ignored. Member names match exactly,
// as JSON's do.
func EssentialACR(claims string) []string {
	var top map[string]json.RawMessage
	if json.Unmarshal([]byte(claims), &top) != nil {
		return nil
	}
	var idToken map[string]json.RawMessage
	if json.Unmarshal(top["id_token"], &idToken) != nil {
		return nil
	}
	var acr map[string]json.RawMessage
	if json.Unmarshal(idToken["acr"], &acr) != nil {
		return nil
	}
	var essential bool
	if json.Unmarshal(acr["essential"], &essential) != nil || !essential {
		return nil
	}
	var values []json.RawMessage
	if raw, ok := acr["values"]; ok && json.Unmarshal(raw, &values) != nil {
		return nil
	}
	if raw, ok := acr["value"]; ok {
		values = append([]json.RawMessage{raw}, values...)
	}
	var out []string
	for _, raw := range values {
		var s *string // a pointer tells null apart from a string
		if json.Unmarshal(raw, &s) == nil && s != nil {
			out = append(out, *s)
		}
	}
	return out
}
