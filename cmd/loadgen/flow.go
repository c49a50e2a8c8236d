package main

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// maxPageBytes bounds how much of a page is read: sign-in pages are small.
const maxPageBytes = 1 << 20

// maxRedirects is how many redirects a browser-like request follows.
const maxRedirects = 10

// errAborted marks a flow cut short by the end of the run rather than by the
// provider; it is left out of the results.
var errAborted = errors.New("flow aborted")

// provider is what every worker shares: the endpoints from discovery, the
// client registration, and the connection pool.
type provider struct {
	issuer      string
	issInAnswer bool // discovery promises iss in authorization responses (RFC 9207)
	oauth       oauth2.Config
	verifier    *oidc.IDTokenVerifier
	redirectURI *url.URL
	fields      formFields
	transport   http.RoundTripper
	timeout     time.Duration
}

// formFields are the names of the inputs the flow fills in.
type formFields struct {
	username, password, otp string
}

// worker runs flows one after another like one browser. In SSO mode it keeps
// its cookies once signed in, so later flows reuse the provider's session.
type worker struct {
	p        *provider
	users    *userPool
	sso      bool
	jar      http.CookieJar
	signedIn bool
	// The other modes: a client-credentials grant per flow, or a
	// refresh-token rotation per flow after one sign-in (refreshToken).
	clientCredentials, refresh bool
	refreshToken               string
}

// flowRun is the state of one flow in progress.
type flowRun struct {
	w        *worker
	ctx      context.Context
	stop     context.Context // ends waits for a user when the run is over
	browser  *http.Client
	state    string
	nonce    string
	verifier string
	user     *pooledUser
	done     map[string]bool
	outcome  flowOutcome
}

// runFlow runs one flow of the worker's mode. HTTP requests use ctx;
// waiting for a free user ends with stop. It returns errAborted when the
// flow did not really run.
func (w *worker) runFlow(ctx, stop context.Context) (flowOutcome, error) {
	switch {
	case w.clientCredentials:
		return w.grant(ctx, stepClientCredentials, w.clientCredentialsGrant)
	case w.refresh:
		for w.refreshToken == "" {
			// The sign-in that yields the token is set-up, not measured.
			o, err := w.signIn(ctx, stop)
			if err != nil {
				return flowOutcome{}, err
			}
			if o.failed != nil {
				return o, nil
			}
		}
		return w.grant(ctx, stepRefresh, w.refreshGrant)
	}
	return w.signIn(ctx, stop)
}

// grant runs one token request as the flow's only step.
func (w *worker) grant(ctx context.Context, step string, run func(context.Context) error) (flowOutcome, error) {
	start := time.Now()
	err := run(ctx)
	if ctx.Err() != nil {
		return flowOutcome{}, errAborted
	}
	if err != nil {
		return flowOutcome{failed: &stepError{step: step, kind: "grant failed", err: withoutQuery(err)}}, nil
	}
	return flowOutcome{steps: []stepTiming{{step: step, took: time.Since(start)}}}, nil
}

// clientCredentialsGrant asks for an access token as the client itself.
func (w *worker) clientCredentialsGrant(ctx context.Context) error {
	p := w.p
	cc := clientcredentials.Config{ClientID: p.oauth.ClientID, ClientSecret: p.oauth.ClientSecret,
		TokenURL: p.oauth.Endpoint.TokenURL, Scopes: p.oauth.Scopes, AuthStyle: p.oauth.Endpoint.AuthStyle}
	tok, err := cc.Token(context.WithValue(ctx, oauth2.HTTPClient, p.apiClient()))
	if err == nil && tok.AccessToken == "" {
		err = errors.New("no access token")
	}
	return err
}

// refreshGrant rotates the worker's refresh token, checking the ID token
// that comes with it.
func (w *worker) refreshGrant(ctx context.Context) error {
	p := w.p
	ctx = context.WithValue(ctx, oauth2.HTTPClient, p.apiClient())
	tok, err := p.oauth.TokenSource(ctx, &oauth2.Token{RefreshToken: w.refreshToken}).Token()
	if err != nil {
		// A refused token will not work again: sign in for a new one.
		w.refreshToken = ""
		return err
	}
	if raw, _ := tok.Extra("id_token").(string); raw != "" {
		if _, err := p.verifier.Verify(ctx, raw); err != nil {
			return fmt.Errorf("id token invalid: %w", err)
		}
	}
	if tok.RefreshToken != "" {
		w.refreshToken = tok.RefreshToken
	}
	return nil
}

// signIn runs one sign-in flow.
func (w *worker) signIn(ctx, stop context.Context) (flowOutcome, error) {
	if !w.sso || w.jar == nil {
		jar, err := cookiejar.New(nil)
		if err != nil {
			return flowOutcome{}, err
		}
		w.jar, w.signedIn = jar, false
	}
	f := &flowRun{
		w:        w,
		ctx:      ctx,
		stop:     stop,
		browser:  w.p.browser(w.jar),
		state:    randomToken(),
		nonce:    randomToken(),
		verifier: oauth2.GenerateVerifier(),
		done:     map[string]bool{},
	}
	defer func() {
		if f.user != nil {
			w.users.put(f.user)
		}
	}()
	// A sign-in is expected: take the user before the clock starts.
	if !w.signedIn {
		if err := f.takeUser(); err != nil {
			return flowOutcome{}, errAborted
		}
	}

	err := f.run()
	if ctx.Err() != nil || errors.Is(err, errAborted) {
		return flowOutcome{}, errAborted
	}
	if f.outcome.failed != nil {
		// Start the next flow from a clean browser.
		w.jar, w.signedIn = nil, false
	} else {
		w.signedIn = true
	}
	return f.outcome, nil
}

func (f *flowRun) takeUser() error {
	u, err := f.w.users.take(f.stop)
	if err != nil {
		return err
	}
	f.user = u
	return nil
}

// run walks the flow: authorize, then whatever form the provider shows,
// until it redirects to the redirect URI.
func (f *flowRun) run() error {
	p := f.w.p
	authURL := p.oauth.AuthCodeURL(f.state,
		oauth2.S256ChallengeOption(f.verifier),
		oidc.Nonce(f.nonce))
	var pg page
	var next nextStep
	ok := f.timed(stepAuthorize, func() *stepError {
		req, err := http.NewRequestWithContext(f.ctx, http.MethodGet, authURL, nil)
		if err != nil {
			return &stepError{step: stepAuthorize, kind: "bad authorization URL", err: err}
		}
		pg, next, err = f.fetch(stepAuthorize, req)
		return asStepError(stepAuthorize, err)
	})
	for ok {
		switch next.step {
		case stepPassword:
			if f.user == nil {
				// The session was lost: sign in again.
				if err := f.takeUser(); err != nil {
					return errAborted
				}
			}
			ok = f.timed(stepPassword, func() *stepError {
				var err error
				pg, next, err = f.submitPassword(next.form)
				return asStepError(stepPassword, err)
			})
		case stepOTP:
			ok = f.timed(stepOTP, func() *stepError {
				var err error
				pg, next, err = f.submitOTP(next.form)
				return asStepError(stepOTP, err)
			})
		case stepCallback:
			var code string
			ok = f.timed(stepCallback, func() *stepError {
				var err *stepError
				code, err = f.checkCallback(pg.callback)
				return err
			})
			if ok {
				f.timed(stepToken, func() *stepError { return f.exchange(code) })
			}
			return nil
		}
	}
	return nil
}

// timed runs one step, recording its time when it succeeds and its error
// when it fails.
func (f *flowRun) timed(step string, run func() *stepError) bool {
	start := time.Now()
	if err := run(); err != nil {
		f.outcome.failed = err
		return false
	}
	f.outcome.steps = append(f.outcome.steps, stepTiming{step: step, took: time.Since(start)})
	f.done[step] = true
	return true
}

// asStepError keeps a step's own error and files anything else under step.
func asStepError(step string, err error) *stepError {
	if err == nil {
		return nil
	}
	var se *stepError
	if errors.As(err, &se) {
		return se
	}
	return &stepError{step: step, kind: "internal error", err: err}
}

func (f *flowRun) submitPassword(form htmlForm) (page, nextStep, error) {
	fields := f.w.p.fields
	if !form.has(fields.password) {
		return page{}, nextStep{}, &stepError{step: stepPassword, kind: "form has no password field",
			err: fmt.Errorf("no input named %q next to %q", fields.password, fields.username)}
	}
	req, err := form.request(f.ctx, map[string]string{
		fields.username: f.user.Email,
		fields.password: f.user.Password,
	})
	if err != nil {
		return page{}, nextStep{}, &stepError{step: stepPassword, kind: "bad form", err: err}
	}
	return f.fetch(stepPassword, req)
}

func (f *flowRun) submitOTP(form htmlForm) (page, nextStep, error) {
	if f.user == nil || f.user.TOTPKey == nil {
		who := "the signed-in user"
		if f.user != nil {
			who = f.user.Email
		}
		return page{}, nextStep{}, &stepError{step: stepOTP, kind: "user has no totp secret",
			err: fmt.Errorf("the provider asks %s for a one-time code", who)}
	}
	step := totpStep(time.Now())
	f.user.markCodeSent(step)
	req, err := form.request(f.ctx, map[string]string{f.w.p.fields.otp: totpCode(f.user.TOTPKey, step)})
	if err != nil {
		return page{}, nextStep{}, &stepError{step: stepOTP, kind: "bad form", err: err}
	}
	return f.fetch(stepOTP, req)
}

// checkCallback reads the authorization response (RFC 6749 §4.1.2, with
// RFC 9207's iss) and returns the code.
func (f *flowRun) checkCallback(u *url.URL) (string, *stepError) {
	fail := func(kind string, err error) (string, *stepError) {
		return "", &stepError{step: stepCallback, kind: kind, err: err}
	}
	q := u.Query()
	iss := q.Get("iss")
	if iss == "" && f.w.p.issInAnswer {
		return fail("issuer missing", errors.New("discovery promises iss in authorization responses"))
	}
	if iss != "" && iss != f.w.p.issuer {
		return fail("issuer mismatch", fmt.Errorf("iss is %q, want %q", iss, f.w.p.issuer))
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(f.state)) != 1 {
		return fail("state mismatch", nil)
	}
	if e := q.Get("error"); e != "" {
		return fail("error response", fmt.Errorf("%s: %s", e, q.Get("error_description")))
	}
	code := q.Get("code")
	if code == "" {
		return fail("missing code", nil)
	}
	return code, nil
}

// exchange redeems the code with the PKCE verifier and verifies the ID token.
func (f *flowRun) exchange(code string) *stepError {
	p := f.w.p
	fail := func(kind string, err error) *stepError {
		return &stepError{step: stepToken, kind: kind, err: err}
	}
	ctx := context.WithValue(f.ctx, oauth2.HTTPClient, p.apiClient())
	tok, err := p.oauth.Exchange(ctx, code, oauth2.VerifierOption(f.verifier))
	if err != nil {
		return fail("exchange failed", err)
	}
	if f.w.refresh {
		if tok.RefreshToken == "" {
			return fail("no refresh token", nil)
		}
		f.w.refreshToken = tok.RefreshToken
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return fail("no id_token", nil)
	}
	idToken, err := p.verifier.Verify(ctx, raw)
	if err != nil {
		return fail("id token invalid", err)
	}
	if subtle.ConstantTimeCompare([]byte(idToken.Nonce), []byte(f.nonce)) != 1 {
		return fail("nonce mismatch", nil)
	}
	if idToken.AccessTokenHash != "" {
		if err := idToken.VerifyAccessToken(tok.AccessToken); err != nil {
			return fail("at_hash mismatch", err)
		}
	}
	return nil
}

// page is what a browser-like request ended on: either the redirect to the
// relying party, or a page and its forms.
type page struct {
	url      *url.URL
	status   int
	callback *url.URL
	forms    []htmlForm
	snippet  string // the start of a body that is not HTML, for error messages
}

// nextStep is what the provider asks for next.
type nextStep struct {
	step string
	form htmlForm
}

// fetch sends a browser request for step and works out what comes next. The
// provider showing the form of a step already done means it refused that step.
func (f *flowRun) fetch(step string, req *http.Request) (page, nextStep, error) {
	p := f.w.p
	pg, err := p.load(f.browser, req)
	if err != nil {
		return pg, nextStep{}, &stepError{step: step, kind: "request failed", err: withoutQuery(err)}
	}
	if pg.status >= 500 {
		return pg, nextStep{}, &stepError{step: step, kind: fmt.Sprintf("HTTP %d", pg.status), err: pg.describe()}
	}
	next, ok := p.next(pg)
	switch {
	case !ok && pg.status >= 400:
		return pg, nextStep{}, &stepError{step: step, kind: fmt.Sprintf("HTTP %d", pg.status), err: pg.describe()}
	case !ok:
		return pg, nextStep{}, &stepError{step: step, kind: "page without a known form",
			err: fmt.Errorf("HTTP %d %w", pg.status, pg.describe())}
	case next.step == step || f.done[next.step]:
		return pg, nextStep{}, &stepError{step: step, kind: "rejected",
			err: fmt.Errorf("the %s form was shown again (HTTP %d)", next.step, pg.status)}
	}
	return pg, next, nil
}

// next is the step a page asks for.
func (p *provider) next(pg page) (nextStep, bool) {
	if pg.callback != nil {
		return nextStep{step: stepCallback}, true
	}
	if form, ok := findForm(pg.forms, p.fields.username); ok {
		return nextStep{step: stepPassword, form: form}, true
	}
	if form, ok := findForm(pg.forms, p.fields.otp); ok {
		return nextStep{step: stepOTP, form: form}, true
	}
	return nextStep{}, false
}

// describe says where a page came from, without its query: that may carry
// request ids, and would make every message distinct.
func (pg page) describe() error {
	where := "an unknown page"
	if pg.url != nil {
		u := *pg.url
		u.RawQuery, u.Fragment = "", ""
		where = u.String()
	}
	if pg.snippet != "" {
		return fmt.Errorf("from %s: %s", where, pg.snippet)
	}
	return fmt.Errorf("from %s", where)
}

// load sends req and reads the answer: the redirect to the redirect URI, or
// the page with its forms.
func (p *provider) load(client *http.Client, req *http.Request) (page, error) {
	resp, err := client.Do(req)
	if err != nil {
		return page{}, err
	}
	defer resp.Body.Close()
	body := io.LimitReader(resp.Body, maxPageBytes)
	// Read to the end so that the connection can be reused.
	defer io.Copy(io.Discard, body)

	pg := page{url: resp.Request.URL, status: resp.StatusCode}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		if loc, err := resp.Location(); err == nil && p.isRedirectURI(loc) {
			pg.callback = loc
			return pg, nil
		}
	}
	mediaType, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mediaType == "" || strings.Contains(mediaType, "html") {
		forms, err := parseForms(body, pg.url)
		if err != nil {
			return pg, fmt.Errorf("reading page: %w", err)
		}
		pg.forms = forms
		return pg, nil
	}
	start := make([]byte, 200)
	n, _ := io.ReadFull(body, start)
	pg.snippet = strings.Join(strings.Fields(string(start[:n])), " ")
	return pg, nil
}

// browser is an HTTP client that behaves like the user's browser: it keeps
// cookies and follows redirects, but stops at the redirect URI since the
// relying party is not part of the test.
func (p *provider) browser(jar http.CookieJar) *http.Client {
	return &http.Client{
		Transport: p.transport,
		Jar:       jar,
		Timeout:   p.timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if p.isRedirectURI(req.URL) {
				return http.ErrUseLastResponse
			}
			if len(via) >= maxRedirects {
				return fmt.Errorf("stopped after %d redirects", maxRedirects)
			}
			return nil
		},
	}
}

// apiClient is the relying party's own client for back-channel requests.
func (p *provider) apiClient() *http.Client {
	return &http.Client{Transport: p.transport, Timeout: p.timeout}
}

// isRedirectURI reports whether u points at the redirect URI, whatever its
// query string.
func (p *provider) isRedirectURI(u *url.URL) bool {
	r := p.redirectURI
	return strings.EqualFold(u.Scheme, r.Scheme) &&
		strings.EqualFold(u.Host, r.Host) &&
		pathOrRoot(u.Path) == pathOrRoot(r.Path)
}

func pathOrRoot(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

// withoutQuery drops the query from the URL an HTTP error names: a form sent
// with GET would otherwise put the password in the message.
func withoutQuery(err error) error {
	var urlErr *url.Error
	if !errors.As(err, &urlErr) {
		return err
	}
	if u, parseErr := url.Parse(urlErr.URL); parseErr == nil {
		u.RawQuery, u.Fragment = "", ""
		urlErr.URL = u.String()
	} else {
		urlErr.URL = "(unreadable URL)"
	}
	return err
}

// randomToken is an unguessable value for state and nonce.
func randomToken() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
