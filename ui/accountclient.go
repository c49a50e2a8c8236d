package ui

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/storage"
)

// AccountClientID is the client the account pages sign users in as: a
// public client of Gatehouse itself.
const AccountClientID = "gatehouse-account"

const (
	// accountCallbackPath is the account client's redirect URI, under the issuer.
	accountCallbackPath = "/account/callback"
	// accountHome is where the account pages start.
	accountHome = "/account/security"
	// signInStateTTL bounds a first-party sign-in: as long as an auth request lives.
	signInStateTTL = 30 * time.Minute
	// maxReturnPath bounds the page a sign-in returns to.
	maxReturnPath = 256
)

// EnsureAccountClient registers the account pages' client if it is
// missing, or fixes its redirect URI after the issuer changed. Replicas
// starting together may all call it: whoever loses a race finds the client
// there.
func (u *UI) EnsureAccountClient(ctx context.Context) error {
	if u.cfg.Issuer == "" {
		return errors.New("ui: the account client needs the issuer URL")
	}
	want := &storage.Client{
		ID:           AccountClientID,
		Name:         u.cfg.ProductName + " account",
		RedirectURIs: storage.StringList{u.accountRedirectURI()},
		Public:       true,
	}
	got, err := u.store.Clients().Get(ctx, AccountClientID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		err = u.store.Clients().Create(ctx, want)
		if errors.Is(err, storage.ErrConflict) {
			return nil
		}
	case err != nil:
	case got.Public && slices.Equal(got.RedirectURIs, want.RedirectURIs):
		return nil
	default:
		// There is no update of a client: replace it. Its tokens go with it,
		// which costs nothing, as the account pages never redeem a code.
		err = u.store.InTx(ctx, func(tx *storage.Store) error {
			if err := tx.Clients().Delete(ctx, AccountClientID); err != nil && !errors.Is(err, storage.ErrNotFound) {
				return err
			}
			return tx.Clients().Create(ctx, want)
		})
		if errors.Is(err, storage.ErrConflict) {
			return nil
		}
	}
	if err != nil {
		return fmt.Errorf("ui: register the account client: %w", err)
	}
	return nil
}

func (u *UI) accountRedirectURI() string {
	return strings.TrimSuffix(u.cfg.Issuer, "/") + accountCallbackPath
}

// signInStateCookieName holds a first-party sign-in's state and the page
// to return to.
func (u *UI) signInStateCookieName() string {
	if u.cfg.SecureCookies {
		return "__Host-gatehouse_account_signin"
	}
	return "gatehouse_account_signin"
}

// redirectToSignIn sends the browser through the normal sign-in as the
// account client, to come back to returnTo (a page under /account). With
// recent, the sign-in must be made again unless it is under ten minutes
// old; loginHint fills in the email. The code the provider issues is never
// redeemed: the sign-in leaves its session in this browser, and that is
// what the account pages use.
func (u *UI) redirectToSignIn(w http.ResponseWriter, r *http.Request, returnTo string, recent bool, loginHint string) {
	if !safeReturnPath(returnTo) {
		returnTo = accountHome
	}
	state, _ := storage.NewSecret()
	verifier, _ := storage.NewSecret()
	challenge := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"client_id":             {AccountClientID},
		"response_type":         {"code"},
		"scope":                 {"openid"},
		"redirect_uri":          {u.accountRedirectURI()},
		"state":                 {state},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(challenge[:])},
		"code_challenge_method": {"S256"},
	}
	if recent {
		q.Set("max_age", strconv.Itoa(int(recentSignIn/time.Second)))
	}
	if loginHint != "" {
		q.Set("login_hint", loginHint)
	}
	http.SetCookie(w, &http.Cookie{
		Name:     u.signInStateCookieName(),
		Value:    state + "." + base64.RawURLEncoding.EncodeToString([]byte(returnTo)),
		Path:     "/",
		MaxAge:   int(signInStateTTL / time.Second),
		HttpOnly: true,
		Secure:   u.cfg.SecureCookies,
		SameSite: http.SameSiteLaxMode,
	})
	http.Redirect(w, r, "/authorize?"+q.Encode(), http.StatusSeeOther)
}

var (
	errSignInState = pageError{http.StatusBadRequest, "This sign-in could not be matched",
		"It was started in another browser or tab, or too long ago. Open your security settings again."}
	errSignInFailed = pageError{http.StatusForbidden, "Sign-in did not finish",
		"You are not signed in to your account settings. Open them again to sign in."}
)

// accountCallback is GET /account/callback, where the provider returns the
// browser after a first-party sign-in. It checks the state against the
// cookie set when the sign-in started and goes back to the page.
func (u *UI) accountCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	cookie, err := r.Cookie(u.signInStateCookieName())
	if err != nil {
		u.renderError(w, r, errSignInState)
		return
	}
	wantState, returnTo, _ := strings.Cut(cookie.Value, ".")
	got := q.Get("state")
	if wantState == "" || got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(wantState)) != 1 {
		u.renderError(w, r, errSignInState)
		return
	}
	if iss := q.Get("iss"); iss != "" && iss != u.cfg.Issuer {
		u.renderError(w, r, errSignInState)
		return
	}
	// The state is used up, whatever happens next.
	http.SetCookie(w, &http.Cookie{Name: u.signInStateCookieName(), Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: u.cfg.SecureCookies, SameSite: http.SameSiteLaxMode})
	if q.Get("error") != "" {
		u.renderError(w, r, errSignInFailed)
		return
	}
	// A sign-in that did not leave a usable session would only loop.
	as, err := u.loadAccountSession(r.Context(), r)
	if err != nil {
		u.serverError(w, r, "loading the account session failed", err)
		return
	}
	if as == nil || !as.signInComplete(u, time.Now()) {
		u.renderError(w, r, errSignInFailed)
		return
	}
	path, err := base64.RawURLEncoding.DecodeString(returnTo)
	if err != nil || !safeReturnPath(string(path)) {
		path = []byte(accountHome)
	}
	http.Redirect(w, r, string(path), http.StatusSeeOther)
}

// safeReturnPath accepts only a path of the account pages, so a sign-in
// can never send the browser to another site.
func safeReturnPath(p string) bool {
	if len(p) > maxReturnPath || !strings.HasPrefix(p, "/account/") && !strings.HasPrefix(p, "/orgs/") {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c <= ' ' || c >= 0x7f || c == '\\' || c == '?' || c == '#' || c == '%' {
			return false
		}
	}
	return !strings.Contains(p, "//") && !strings.Contains(p, "/.")
}
