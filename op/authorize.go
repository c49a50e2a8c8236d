package op

import (
	"context"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/gatehouse-id/gatehouse/storage"
)

// authRequestTTL is how long a user has to finish signing in.
const authRequestTTL = 30 * time.Minute

// authorize is the authorization endpoint (GET and POST). Until the client
// and its redirect URI are known to be registered, every failure is a page
// shown here; after that, every failure goes back to the client as RFC
// 6749 §4.1.2.1 asks, with iss (RFC 9207). A valid request is handed to
// the sign-in dispatcher of package ui, in this response when that can be
// done as the browser would (asBrowserSends), else stored and handed on by
// a redirect.
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		p.errorPage(w, r, http.StatusMethodNotAllowed, "This address only accepts sign-in requests from applications.")
		return
	}
	form, msg := readAuthorizeForm(w, r)
	if msg != "" {
		p.errorPage(w, r, http.StatusBadRequest, msg)
		return
	}
	clientID, redirectURI := form["client_id"], form["redirect_uri"]
	if len(clientID) != 1 || clientID[0] == "" || !validText(clientID[0]) {
		p.errorPage(w, r, http.StatusBadRequest, "The application did not say who it is (client_id).")
		return
	}
	c, err := p.clients.Get(r.Context(), clientID[0])
	if errors.Is(err, storage.ErrNotFound) {
		p.errorPage(w, r, http.StatusBadRequest, "The application is not registered with this sign-in service.")
		return
	}
	if err != nil {
		p.log.ErrorContext(r.Context(), "authorize: load client", "error", err)
		p.errorPage(w, r, http.StatusInternalServerError, "Something went wrong on our side. Please try again.")
		return
	}
	if len(redirectURI) != 1 || !registeredRedirect(c, redirectURI[0]) {
		p.errorPage(w, r, http.StatusBadRequest, "The application asked to return to an address that is not registered for it (redirect_uri).")
		return
	}

	back := authResponse{redirectURI: redirectURI[0], iss: p.issuer}
	if state := form["state"]; len(state) == 1 {
		back.state = state[0]
	}
	params, oerr := parseAuthorizeParams(form)
	if oerr != nil {
		back.fail(w, r, oerr)
		return
	}
	if !c.AdminAPI {
		// Only a client created for it may ask to administer organisations.
		params.Scopes = slices.DeleteFunc(params.Scopes, func(s string) bool { return s == ScopeAdmin })
	}
	if c.Public && params.CodeChallenge == "" {
		back.fail(w, r, oidc.ErrInvalidRequest().WithDescription("public clients must use PKCE (code_challenge with S256)"))
		return
	}
	hintSubject, oerr := p.hintSubject(r.Context(), params.IDTokenHint)
	if oerr != nil {
		back.fail(w, r, oerr)
		return
	}
	flow, freshFlow := p.flowCookie(w, r)
	// The dispatcher may decide against CreatedAt (prompt=login asks for a
	// sign-in after it) before the request is stored.
	now := time.Now()
	ar := &storage.AuthRequest{
		ClientID: c.ID, RedirectURI: params.RedirectURI, Scopes: params.Scopes, State: params.State, Nonce: params.Nonce,
		ResponseMode: "query", CodeChallenge: params.CodeChallenge, CodeChallengeMethod: params.CodeChallengeMethod,
		Prompt: params.Prompt, MaxAge: params.MaxAge, LoginHint: params.LoginHint, HintSubject: hintSubject,
		ACRValues: params.ACRValues, Claims: params.Claims, CreatedAt: now, ExpiresAt: now.Add(authRequestTTL),
		BrowserHash: storage.HashSecret(flow), ClientNetwork: clientNetwork(r),
	}
	if signIn, ok := p.asBrowserSends(r, flow, freshFlow); ok && p.cfg.SignIn != nil {
		// One hop fewer: a signed-in browser is usually answered right here,
		// and its request stored once, completed.
		p.cfg.SignIn(w, signIn, ar, func(w http.ResponseWriter) bool { return p.storeAuthRequest(w, r, ar) })
		return
	}
	if p.storeAuthRequest(w, r, ar) {
		http.Redirect(w, r, p.cfg.SignInURL(ar.ID), http.StatusFound)
	}
}

// storeAuthRequest stores the open request ar, or answers why it could not
// and returns false.
func (p *Provider) storeAuthRequest(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest) bool {
	err := p.store.AuthRequests().Create(r.Context(), ar, p.cfg.MaxPendingPerNetwork)
	if errors.Is(err, storage.ErrTooManyPending) {
		p.log.WarnContext(r.Context(), "authorize: too many unfinished sign-ins", "network", ar.ClientNetwork)
		p.errorPage(w, r, http.StatusTooManyRequests, "Too many sign-ins were started from your network and not finished. Finish or close the ones that are open, or try again later.")
		return false
	}
	if err != nil {
		// A page, not a redirect: the user can retry here, and during a
		// database outage the server answers it 503 with Retry-After.
		p.log.ErrorContext(r.Context(), "authorize: store request", "error", err)
		p.errorPage(w, r, http.StatusInternalServerError, "Something went wrong on our side. Please try again.")
		return false
	}
	return true
}

// asBrowserSends is r as the browser will send it after this response: with
// the flow cookie just set, when it sent none. That is known only for a GET:
// a cross-site POST comes without the browser's SameSite=Lax cookies, which
// the redirect to the dispatcher then carries. A malformed flow cookie in r
// is replaced only by that redirect too.
func (p *Provider) asBrowserSends(r *http.Request, flow string, fresh bool) (*http.Request, bool) {
	if !fresh {
		return r, true
	}
	if _, err := r.Cookie(p.cfg.FlowCookie); err == nil || r.Method != http.MethodGet {
		return nil, false
	}
	r = r.Clone(r.Context())
	r.AddCookie(&http.Cookie{Name: p.cfg.FlowCookie, Value: flow})
	return r, true
}

// readAuthorizeForm reads the query and, for POST, the form body. The
// message is for the error page when the request cannot even be read.
func readAuthorizeForm(w http.ResponseWriter, r *http.Request) (url.Values, string) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	if r.Method == http.MethodPost {
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "application/x-www-form-urlencoded" {
			return nil, "The sign-in request was sent in a form this service does not read."
		}
	}
	if err := r.ParseForm(); err != nil {
		return nil, "The sign-in request is malformed or too large."
	}
	return r.Form, ""
}

// hintSubject verifies an id_token_hint with the provider's verifier. An
// expired hint is still a correctly signed statement of who the user was
// (OIDC Core §3.1.2.1), so it counts.
func (p *Provider) hintSubject(ctx context.Context, hint string) (string, *oidc.Error) {
	if hint == "" {
		return "", nil
	}
	if jwtType(hint) == typAccessToken {
		// An access token is not a statement of who signed in to whom.
		return "", oidc.ErrInvalidRequest().WithDescription("id_token_hint must be an ID token, not an access token")
	}
	ctx = p.withIssuer(ctx)
	claims, err := zop.VerifyIDTokenHint[*oidc.TokenClaims](ctx, hint, p.lib.IDTokenHintVerifier(ctx))
	var expired zop.IDTokenHintExpiredError
	if err != nil && !errors.As(err, &expired) {
		return "", oidc.ErrInvalidRequest().WithDescription("id_token_hint is invalid")
	}
	if claims.Subject == "" {
		return "", oidc.ErrInvalidRequest().WithDescription("id_token_hint has no subject")
	}
	return claims.Subject, nil
}

// authResponse is where an authorization response goes: the client's
// registered redirect URI, with the state it sent and our issuer.
type authResponse struct {
	redirectURI, state, iss string
}

func (a authResponse) fail(w http.ResponseWriter, r *http.Request, e *oidc.Error) {
	http.Redirect(w, r, a.errorURL(string(e.ErrorType), e.Description), http.StatusFound)
}

func (a authResponse) errorURL(code, description string) string {
	q := url.Values{"error": {code}, "iss": {a.iss}}
	if description != "" {
		q.Set("error_description", description)
	}
	if a.state != "" {
		q.Set("state", a.state)
	}
	return withParams(a.redirectURI, q)
}

func (a authResponse) codeURL(code string) string {
	q := url.Values{"code": {code}, "iss": {a.iss}}
	if a.state != "" {
		q.Set("state", a.state)
	}
	return withParams(a.redirectURI, q)
}
