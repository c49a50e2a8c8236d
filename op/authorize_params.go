package op

import (
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// authorizeParams is a validated authorization request.
type authorizeParams struct {
	ClientID            string
	RedirectURI         string
	State               string
	Scopes              []string
	Nonce               string
	CodeChallenge       string
	CodeChallengeMethod string
	Prompt              []string
	MaxAge              *int64
	ACRValues           []string
	LoginHint           string
	IDTokenHint         string
	Claims              string // raw JSON, validated
}

// paramLimits bound, in bytes, each parameter a request may carry: far
// above what real clients send, small enough that a stored request stays
// around 10 KB at most. Parameters not listed are bounded by maxParamLength
// and never stored.
var paramLimits = map[string]int{
	"state":          1024,
	"nonce":          1024,
	"login_hint":     256,
	"claims":         4096,
	"scope":          1024,
	"acr_values":     1024,
	"redirect_uri":   2048, // and it must match a registered one exactly
	"code_challenge": 128,  // S256 is 43 characters
	"prompt":         64,
	"max_age":        20,
	"id_token_hint":  16 << 10, // only the subject it names is stored
}

const maxParamLength = 4096

var promptValues = []string{oidc.PromptNone, oidc.PromptLogin, oidc.PromptConsent, oidc.PromptSelectAccount}

// parseAuthorizeParams validates an authorization request's parameters.
// Unknown parameters are ignored; a repeated one is invalid. The error is
// the one to send to the client's redirect URI.
func parseAuthorizeParams(form url.Values) (*authorizeParams, *oidc.Error) {
	for name, values := range form {
		if len(values) > 1 {
			return nil, oidc.ErrInvalidRequest().WithDescription("parameter %s is repeated", safeName(name))
		}
		limit, ok := paramLimits[name]
		if !ok {
			limit = maxParamLength
		}
		if len(values[0]) > limit {
			return nil, oidc.ErrInvalidRequest().WithDescription("parameter %s is too long (at most %d bytes)", safeName(name), limit)
		}
		if !validText(values[0]) {
			return nil, oidc.ErrInvalidRequest().WithDescription("parameter %s is not valid text", safeName(name))
		}
	}
	get := form.Get
	if get("request") != "" {
		return nil, oidc.ErrRequestNotSupported().WithDescription("request objects are not supported")
	}
	if get("request_uri") != "" {
		return nil, &oidc.Error{ErrorType: "request_uri_not_supported", Description: "request_uri is not supported"}
	}
	switch get("response_type") {
	case "code":
	case "":
		return nil, oidc.ErrInvalidRequest().WithDescription("response_type is missing")
	default:
		return nil, &oidc.Error{ErrorType: "unsupported_response_type", Description: "only response_type=code is supported"}
	}
	if rm := get("response_mode"); rm != "" && rm != "query" {
		return nil, oidc.ErrInvalidRequest().WithDescription("only response_mode=query is supported")
	}
	p := &authorizeParams{
		ClientID:    get("client_id"),
		RedirectURI: get("redirect_uri"),
		State:       get("state"),
		Nonce:       get("nonce"),
		LoginHint:   get("login_hint"),
		IDTokenHint: get("id_token_hint"),
		ACRValues:   strings.Fields(get("acr_values")),
	}
	var err *oidc.Error
	if p.Scopes, err = parseScopes(get("scope")); err != nil {
		return nil, err
	}
	if p.Prompt, err = parsePrompt(get("prompt")); err != nil {
		return nil, err
	}
	if form.Has("max_age") {
		if p.MaxAge, err = parseMaxAge(get("max_age")); err != nil {
			return nil, err
		}
	}
	if p.CodeChallenge, p.CodeChallengeMethod, err = parsePKCE(get("code_challenge"), get("code_challenge_method")); err != nil {
		return nil, err
	}
	if form.Has("claims") {
		claims, cerr := parseClaims(get("claims"))
		if cerr != nil {
			return nil, oidc.ErrInvalidRequest().WithDescription("the claims parameter is malformed: %s", cerr.Error())
		}
		p.Claims = claims
	}
	return p, nil
}

// validText refuses what a database column cannot hold as text.
func validText(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// ScopeAdmin lets an access token call the admin API, for a client
// created with --admin-api only.
const ScopeAdmin = "gatehouse:admin"

// parseScopes requires openid and keeps the scopes Gatehouse knows, once
// each; others are ignored (RFC 6749 §3.3 lets the server narrow scope).
func parseScopes(raw string) ([]string, *oidc.Error) {
	var scopes []string
	for _, s := range strings.Fields(raw) {
		if slices.Contains(scopesSupported, s) && !slices.Contains(scopes, s) {
			scopes = append(scopes, s)
		}
	}
	if !slices.Contains(scopes, oidc.ScopeOpenID) {
		return nil, oidc.ErrInvalidScope().WithDescription("the scope must include openid")
	}
	return scopes, nil
}

func parsePrompt(raw string) ([]string, *oidc.Error) {
	prompt := strings.Fields(raw)
	for _, v := range prompt {
		if !slices.Contains(promptValues, v) {
			return nil, oidc.ErrInvalidRequest().WithDescription("prompt has an unknown value")
		}
		if v == oidc.PromptNone && len(prompt) > 1 {
			return nil, oidc.ErrInvalidRequest().WithDescription("prompt=none cannot be combined with other values")
		}
	}
	return prompt, nil
}

// parseMaxAge accepts a decimal number of seconds (OIDC Core §3.1.2.1).
func parseMaxAge(raw string) (*int64, *oidc.Error) {
	bad := oidc.ErrInvalidRequest().WithDescription("max_age must be a non-negative number of seconds")
	if raw == "" || len(raw) > 10 {
		return nil, bad
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] < '0' || raw[i] > '9' {
			return nil, bad
		}
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return nil, bad
	}
	return &n, nil
}

// parsePKCE accepts S256 only: plain would let a stolen code be redeemed
// with the challenge itself.
func parsePKCE(challenge, method string) (string, string, *oidc.Error) {
	if challenge == "" {
		if method != "" {
			return "", "", oidc.ErrInvalidRequest().WithDescription("code_challenge_method without code_challenge")
		}
		return "", "", nil
	}
	if method != string(oidc.CodeChallengeMethodS256) {
		return "", "", oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256")
	}
	// An S256 challenge is the base64url SHA-256 of the verifier: 43 characters.
	if len(challenge) != 43 || !validPKCEValue(challenge) {
		return "", "", oidc.ErrInvalidRequest().WithDescription("code_challenge is malformed")
	}
	return challenge, method, nil
}

// parseClaims checks the claims request parameter (OIDC Core §5.5): a JSON
// object whose "userinfo" and "id_token" members, when present, map claim
// names to null or to an object with optional essential, value and values.
// It returns the parameter unchanged; the sign-in policy reads it later.
func parseClaims(raw string) (string, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &top); err != nil || top == nil {
		return "", errors.New("not a JSON object")
	}
	for _, member := range []string{"userinfo", "id_token"} {
		body, ok := top[member]
		if !ok {
			continue
		}
		var claims map[string]json.RawMessage
		if err := json.Unmarshal(body, &claims); err != nil || claims == nil {
			return "", errors.New(member + " is not an object")
		}
		for _, request := range claims {
			if string(request) == "null" {
				continue
			}
			var r struct {
				Essential *bool            `json:"essential"`
				Value     *json.RawMessage `json:"value"`
				Values    []any            `json:"values"`
			}
			var asObject map[string]json.RawMessage
			if json.Unmarshal(request, &asObject) != nil || asObject == nil || json.Unmarshal(request, &r) != nil {
				return "", errors.New("a claim request in " + member + " is not null or an object")
			}
		}
	}
	return raw, nil
}
