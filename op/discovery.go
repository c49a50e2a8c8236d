package op

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"

	"github.com/gatehouse-id/gatehouse/mfa"
)

// ACRValuesSupported are the authentication levels Gatehouse can produce,
// lowest first, with security keys offered or not. Discovery lists them.
func ACRValuesSupported(securityKeys bool) []string {
	if securityKeys {
		return []string{mfa.ACRPassword, mfa.ACRMFA, mfa.ACRPhishingResistant}
	}
	return []string{mfa.ACRPassword, mfa.ACRMFA}
}

var (
	scopesSupported = []string{"openid", "email", "profile", "offline_access", ScopeAdmin}
	claimsSupported = []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp",
		"at_hash", "c_hash", "email", "email_verified", "name"}
)

// discoveryDocument lists exactly what Gatehouse serves. It is our own type
// rather than the library's, whose omitempty booleans cannot say "false".
type discoveryDocument struct {
	Issuer                            string   `json:"issuer"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	IntrospectionEndpoint             string   `json:"introspection_endpoint"`
	RevocationEndpoint                string   `json:"revocation_endpoint"`
	UserinfoEndpoint                  string   `json:"userinfo_endpoint"`
	EndSessionEndpoint                string   `json:"end_session_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	ScopesSupported                   []string `json:"scopes_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	ResponseModesSupported            []string `json:"response_modes_supported"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	ACRValuesSupported                []string `json:"acr_values_supported"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	IntrospectionEndpointAuthMethods  []string `json:"introspection_endpoint_auth_methods_supported"`
	RevocationEndpointAuthMethods     []string `json:"revocation_endpoint_auth_methods_supported"`
	ClaimsSupported                   []string `json:"claims_supported"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported"`
	ClaimsParameterSupported          bool     `json:"claims_parameter_supported"`
	RequestParameterSupported         bool     `json:"request_parameter_supported"`
	RequestURIParameterSupported      bool     `json:"request_uri_parameter_supported"` // defaults to true when absent
	AuthorizationResponseIssParameter bool     `json:"authorization_response_iss_parameter_supported"`
}

func (p *Provider) discoveryDocument(algs []string) discoveryDocument {
	at := func(path string) string { return p.issuer + path }
	return discoveryDocument{
		Issuer:                            p.issuer,
		AuthorizationEndpoint:             at(pathAuthorize),
		TokenEndpoint:                     at(pathToken),
		IntrospectionEndpoint:             at(pathIntrospection),
		RevocationEndpoint:                at(pathRevocation),
		UserinfoEndpoint:                  at(pathUserinfo),
		EndSessionEndpoint:                at(pathEndSession),
		JWKSURI:                           at(pathKeys),
		ScopesSupported:                   scopesSupported,
		ResponseTypesSupported:            []string{"code"},
		ResponseModesSupported:            []string{"query"},
		GrantTypesSupported:               []string{"authorization_code", "refresh_token", "client_credentials"},
		ACRValuesSupported:                ACRValuesSupported(p.cfg.SecurityKeys),
		SubjectTypesSupported:             []string{"public"},
		IDTokenSigningAlgValuesSupported:  algs,
		TokenEndpointAuthMethodsSupported: []string{"client_secret_basic", "client_secret_post", "none"},
		IntrospectionEndpointAuthMethods:  []string{"client_secret_basic", "client_secret_post"},
		RevocationEndpointAuthMethods:     []string{"client_secret_basic", "client_secret_post", "none"},
		ClaimsSupported:                   claimsSupported,
		CodeChallengeMethodsSupported:     []string{"S256"},
		ClaimsParameterSupported:          true,
		AuthorizationResponseIssParameter: true,
	}
}

// discoveryCache holds the serialised document and the signing
// algorithms it was made for: it changes only when they do.
type discoveryCache struct {
	mu   sync.Mutex
	algs []string
	body []byte
}

// discoveryJSON is the discovery document, listing the algorithms of every
// published key (a rotation to another algorithm publishes its key before
// it signs). The key manager reloads the keys within the /keys cache
// lifetime, so every replica follows a rotation as relying parties do.
func (p *Provider) discoveryJSON(ctx context.Context) ([]byte, error) {
	algs, err := p.keys.Algorithms(ctx)
	if err != nil {
		return nil, fmt.Errorf("signing algorithms: %w", err)
	}
	p.disco.mu.Lock()
	defer p.disco.mu.Unlock()
	if p.disco.body != nil && slices.Equal(p.disco.algs, algs) {
		return p.disco.body, nil
	}
	body, err := json.Marshal(p.discoveryDocument(algs))
	if err != nil {
		return nil, err
	}
	p.disco.algs, p.disco.body = algs, body
	return body, nil
}

func (p *Provider) keysCacheControl() string {
	return "public, max-age=" + strconv.Itoa(int(p.cfg.KeysCacheMaxAge.Seconds()))
}

// authorizationServerMetadata serves RFC 8414 metadata. Every member of
// the OpenID discovery document is an RFC 8414 member too, with the same
// meaning (RFC 8414 §2), so it is the same document: the two never disagree.
func (p *Provider) authorizationServerMetadata(w http.ResponseWriter, r *http.Request) {
	body, err := p.discoveryJSON(r.Context())
	if err != nil {
		p.log.ErrorContext(r.Context(), "authorization server metadata", "error", err)
		writeOAuthError(w, &requestError{http.StatusServiceUnavailable, "server_error", "the metadata is unavailable"})
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "public, max-age=3600")
	w.Write(body)
}
