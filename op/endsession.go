package op

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/gatehouse-id/gatehouse/storage"
)

// EndSession is RP-initiated logout. With a valid id_token_hint of the
// user signed in on this browser, and a post_logout_redirect_uri
// registered exactly for the hint's client (or none), it ends this
// browser's session, clears the cookie and redirects. Anything it cannot
// vouch for — no hint, an unregistered URI, a hint for another user —
// goes to the logout page of package ui, which asks for confirmation or
// shows an error; it never redirects to an unregistered URI.
func (s *server) EndSession(ctx context.Context, r *zop.Request[oidc.EndSessionRequest]) (*zop.Redirect, error) {
	d := r.Data
	confirm := zop.NewRedirect(s.p.logoutPageURL(d))
	if d.IdTokenHint == "" {
		return confirm, nil
	}
	if jwtType(d.IdTokenHint) == typAccessToken {
		return nil, oidc.ErrInvalidRequest().WithDescription("id_token_hint must be an ID token, not an access token")
	}
	claims, err := zop.VerifyIDTokenHint[*oidc.IDTokenClaims](ctx, d.IdTokenHint, s.p.lib.IDTokenHintVerifier(ctx))
	var expired zop.IDTokenHintExpiredError
	if err != nil && !errors.As(err, &expired) {
		return nil, oidc.ErrInvalidRequest().WithDescription("id_token_hint is invalid")
	}
	clientID := claims.AuthorizedParty
	if clientID == "" && len(claims.Audience) == 1 {
		clientID = claims.Audience[0]
	}
	if d.ClientID != "" && d.ClientID != clientID {
		return nil, oidc.ErrInvalidRequest().WithDescription("client_id does not match the id_token_hint")
	}
	c, err := s.p.store.Clients().Get(ctx, clientID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, oidc.ErrInvalidRequest().WithDescription("the id_token_hint's client is unknown")
	}
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	if d.PostLogoutRedirectURI != "" && !registeredPostLogout(c, d.PostLogoutRedirectURI) {
		return confirm, nil
	}

	sessionHash := s.p.sessionHash(r.Header)
	if sessionHash == nil {
		// No browser session came with the request (a call from a server,
		// or a browser already signed out): nothing here can be ended, so
		// the user is asked on the sign-out page rather than told it is done.
		return confirm, nil
	}
	sess, err := s.p.store.Sessions().Touch(ctx, sessionHash, s.p.cfg.SessionIdle)
	switch {
	case errors.Is(err, storage.ErrNotFound):
	case err != nil:
		return nil, oidc.ErrServerError().WithParent(err)
	case sess.UserID != claims.Subject:
		// A hint for someone else must not sign this browser's user out unasked.
		return confirm, nil
	default:
		if err := s.p.store.Sessions().Delete(ctx, sessionHash); err != nil {
			return nil, oidc.ErrServerError().WithParent(err)
		}
	}

	target := s.p.cfg.SignOutURL(url.Values{"done": {"1"}})
	if d.PostLogoutRedirectURI != "" {
		target = withParams(d.PostLogoutRedirectURI, url.Values{"state": nonEmpty(d.State)})
	}
	redirect := zop.NewRedirect(target)
	redirect.Header.Add("Set-Cookie", s.p.clearSessionCookie().String())
	redirect.Header.Set("Cache-Control", "no-store")
	return redirect, nil
}

// logoutPageURL hands the original parameters to the ui's logout page.
func (p *Provider) logoutPageURL(d *oidc.EndSessionRequest) string {
	q := url.Values{}
	for name, v := range map[string]string{"client_id": d.ClientID, "post_logout_redirect_uri": d.PostLogoutRedirectURI, "state": d.State} {
		if v != "" {
			q.Set(name, v)
		}
	}
	return p.cfg.SignOutURL(q)
}

// sessionHash is the digest of the browser's session cookie, or nil.
func (p *Provider) sessionHash(h http.Header) []byte {
	c, err := (&http.Request{Header: h}).Cookie(p.cfg.SessionCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	return storage.HashSecret(c.Value)
}

func (p *Provider) clearSessionCookie() *http.Cookie {
	return &http.Cookie{Name: p.cfg.SessionCookie, Value: "", Path: "/", MaxAge: -1, Expires: time.Unix(0, 0),
		HttpOnly: true, Secure: p.secure, SameSite: http.SameSiteLaxMode}
}

func nonEmpty(v string) []string {
	if v == "" {
		return nil
	}
	return []string{v}
}

// withParams appends parameters to a URI's query, keeping what it has.
func withParams(uri string, params url.Values) string {
	enc := params.Encode()
	if enc == "" {
		return uri
	}
	u, err := url.Parse(uri)
	if err != nil {
		return uri
	}
	if u.RawQuery != "" {
		u.RawQuery += "&" + enc
	} else {
		u.RawQuery = enc
	}
	return u.String()
}
