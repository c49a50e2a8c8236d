package op

import (
	"encoding/json"
	"net/url"
	"slices"
	"testing"
)

func FuzzParseClaims(f *testing.F) {
	for _, seed := range []string{
		`{"id_token":{"acr":{"essential":true,"values":["urn:gatehouse:acr:mfa"]}}}`,
		`{"userinfo":{"email":null,"name":{"essential":false}}}`,
		`{}`, `[]`, `null`, `{"id_token":"x"}`, `{"id_token":{"acr":[1]}}`, `{"id_token":{"acr":{"essential":"yes"}}}`, `{`, `"x"`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		out, err := parseClaims(raw)
		if err != nil {
			return
		}
		if out != raw {
			t.Fatalf("accepted %q but returned %q", raw, out)
		}
		var top map[string]any
		if json.Unmarshal([]byte(out), &top) != nil || top == nil {
			t.Fatalf("accepted %q, which is not a JSON object", raw)
		}
		for _, member := range []string{"userinfo", "id_token"} {
			if v, ok := top[member]; ok {
				if _, isObject := v.(map[string]any); !isObject {
					t.Fatalf("accepted %q whose %s is not an object", raw, member)
				}
			}
		}
	})
}

func FuzzAuthorizeParams(f *testing.F) {
	valid := "response_type=code&client_id=c&redirect_uri=https%3A%2F%2Fa.example%2Fcb&scope=openid+email&state=s&nonce=n" +
		"&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"
	for _, seed := range []string{
		valid, valid + "&max_age=0", valid + "&prompt=none", valid + "&prompt=login+consent", valid + "&claims=%7B%7D",
		valid + "&scope=openid", "response_type=token", "scope=email&response_type=code", valid + "&max_age=-1",
		valid + "&code_challenge_method=plain", valid + "&request=x", "", "%zz", valid + "&acr_values=a+b&login_hint=x",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, query string) {
		form, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		p, oerr := parseAuthorizeParams(form)
		if oerr != nil {
			if oerr.ErrorType == "" || oerr.Description == "" {
				t.Fatalf("error without code or description: %+v", oerr)
			}
			return
		}
		if form.Get("response_type") != "code" {
			t.Fatalf("accepted response_type %q", form.Get("response_type"))
		}
		if !slices.Contains(p.Scopes, "openid") {
			t.Fatalf("accepted scopes %v without openid", p.Scopes)
		}
		if p.MaxAge != nil && *p.MaxAge < 0 {
			t.Fatalf("accepted max_age %d", *p.MaxAge)
		}
		if p.CodeChallenge != "" && (p.CodeChallengeMethod != "S256" || len(p.CodeChallenge) != 43) {
			t.Fatalf("accepted PKCE %q / %q", p.CodeChallenge, p.CodeChallengeMethod)
		}
		if slices.Contains(p.Prompt, "none") && len(p.Prompt) > 1 {
			t.Fatalf("accepted prompt %v", p.Prompt)
		}
		for name, v := range map[string]string{"state": p.State, "nonce": p.Nonce, "login_hint": p.LoginHint, "claims": p.Claims, "id_token_hint": p.IDTokenHint} {
			if !validText(v) || len(v) > paramLimits[name] {
				t.Fatalf("accepted a %s that cannot be stored: %q", name, v)
			}
		}
		for name, vs := range form {
			if len(vs) > 1 {
				t.Fatalf("accepted repeated %s", name)
			}
		}
	})
}
