package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// The client the test provider knows. The redirect URI's host does not
// exist: the load generator must never fetch it.
const (
	testClientID     = "loadgen-test"
	testClientSecret = "client-s3cret"
	testRedirectURI  = "https://rp.invalid/callback"
)

// Ways the test provider can misbehave, to check what the load generator
// verifies.
const (
	tamperNone       = ""
	tamperIssuer     = "iss in the authorization response"
	tamperNoIssuer   = "no iss in the authorization response"
	tamperNonce      = "nonce in the ID token"
	tamperSigningKey = "key that signs the ID token"
)

var testKeys = sync.OnceValues(func() ([2]*rsa.PrivateKey, error) {
	var keys [2]*rsa.PrivateKey
	for i := range keys {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return keys, err
		}
		keys[i] = k
	}
	return keys, nil
})

type testUser struct {
	email, password string
	secret          string // base32 TOTP secret; empty without an authenticator app
}

// testProvider is a small OpenID provider: discovery, JWKS, a sign-in page
// bound to a browser cookie with hidden request and CSRF fields, a TOTP page
// that refuses replayed codes, single sign-on sessions, and a token endpoint
// that checks PKCE and signs ID tokens with RS256.
type testProvider struct {
	t      *testing.T
	server *httptest.Server
	issuer string
	tamper string
	users  map[string]testUser
	signer jose.Signer
	forger jose.Signer // same key id, another key
	jwks   []byte

	mu       sync.Mutex
	requests map[string]*testAuthRequest
	codes    map[string]*testAuthRequest
	sessions map[string]string // session cookie → email
	lastStep map[string]uint64 // email → last accepted TOTP step

	passwordsAccepted atomic.Int64
	codesAccepted     atomic.Int64
	refused           atomic.Int64 // wrong passwords, wrong or replayed codes
}

type testAuthRequest struct {
	id, browser, csrf       string
	redirectURI, state      string
	nonce, challenge, email string
}

func newTestProvider(t *testing.T, users []testUser, tamper string) *testProvider {
	t.Helper()
	keys, err := testKeys()
	if err != nil {
		t.Fatal(err)
	}
	newSigner := func(key *rsa.PrivateKey) jose.Signer {
		s, err := jose.NewSigner(jose.SigningKey{
			Algorithm: jose.RS256,
			Key:       jose.JSONWebKey{Key: key, KeyID: "k1", Algorithm: string(jose.RS256)},
		}, (&jose.SignerOptions{}).WithType("JWT"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	jwks, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
		Key: &keys[0].PublicKey, KeyID: "k1", Algorithm: string(jose.RS256), Use: "sig",
	}}})
	if err != nil {
		t.Fatal(err)
	}
	p := &testProvider{
		t:        t,
		tamper:   tamper,
		users:    map[string]testUser{},
		signer:   newSigner(keys[0]),
		forger:   newSigner(keys[1]),
		jwks:     jwks,
		requests: map[string]*testAuthRequest{},
		codes:    map[string]*testAuthRequest{},
		sessions: map[string]string{},
		lastStep: map[string]uint64{},
	}
	for _, u := range users {
		p.users[u.email] = u
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(p.jwks)
	})
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("GET /login", p.loginPage)
	mux.HandleFunc("POST /login/password", p.password)
	mux.HandleFunc("GET /login/otp", p.otpPage)
	mux.HandleFunc("POST /login/otp", p.otp)
	mux.HandleFunc("POST /token", p.token)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("unexpected request %s %s", r.Method, r.URL)
		http.NotFound(w, r)
	})
	p.server = httptest.NewServer(mux)
	p.issuer = p.server.URL
	t.Cleanup(p.server.Close)
	return p
}

func (p *testProvider) discovery(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                         p.issuer,
		"authorization_endpoint":                         p.issuer + "/authorize",
		"token_endpoint":                                 p.issuer + "/token",
		"jwks_uri":                                       p.issuer + "/jwks",
		"response_types_supported":                       []string{"code"},
		"subject_types_supported":                        []string{"public"},
		"id_token_signing_alg_values_supported":          []string{"RS256"},
		"token_endpoint_auth_methods_supported":          []string{"client_secret_basic"},
		"code_challenge_methods_supported":               []string{"S256"},
		"authorization_response_iss_parameter_supported": true,
	})
}

func (p *testProvider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != testClientID || q.Get("redirect_uri") != testRedirectURI ||
		q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" ||
		q.Get("code_challenge") == "" || q.Get("state") == "" || q.Get("nonce") == "" ||
		!slices.Contains(strings.Fields(q.Get("scope")), "openid") {
		p.t.Errorf("bad authorization request %v", q)
		http.Error(w, "bad authorization request", http.StatusBadRequest)
		return
	}
	ar := &testAuthRequest{
		id:          randomToken(),
		csrf:        randomToken(),
		redirectURI: q.Get("redirect_uri"),
		state:       q.Get("state"),
		nonce:       q.Get("nonce"),
		challenge:   q.Get("code_challenge"),
	}
	if c, err := r.Cookie("session"); err == nil {
		p.mu.Lock()
		email, ok := p.sessions[c.Value]
		p.mu.Unlock()
		if ok {
			ar.email = email
			p.finish(w, r, ar)
			return
		}
	}
	ar.browser = randomToken()
	p.mu.Lock()
	p.requests[ar.id] = ar
	p.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: "browser", Value: ar.browser, Path: "/", HttpOnly: true})
	http.Redirect(w, r, "/login?id="+ar.id, http.StatusFound)
}

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<title>Sign in</title>
<form action="/login/forgot" method="get"><label>Email <input name="email"></label><button>Forgot your password?</button></form>
<form action="login/password" method="post">
<input type="hidden" name="request" value="{{.id}}">
<input type="hidden" name="csrf" value="{{.csrf}}">
<label>Email <input name="username" autocomplete="username"></label>
<label>Password <input type="password" name="password" autocomplete="current-password"></label>
<button type="submit">Sign in</button>
</form>`))

var otpPage = template.Must(template.New("otp").Parse(`<!doctype html>
<title>Two-step verification</title>
<form action="otp" method="post">
<input type="hidden" name="request" value="{{.id}}">
<input type="hidden" name="csrf" value="{{.csrf}}">
<label>Code <input name="code" autocomplete="one-time-code" inputmode="numeric"></label>
<button type="submit">Verify</button>
</form>`))

func (p *testProvider) render(w http.ResponseWriter, status int, page *template.Template, ar *testAuthRequest) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	page.Execute(w, map[string]string{"id": ar.id, "csrf": ar.csrf})
}

// request finds the auth request of a page or form, bound to the browser
// that started it.
func (p *testProvider) request(r *http.Request, id string) *testAuthRequest {
	p.mu.Lock()
	ar := p.requests[id]
	p.mu.Unlock()
	c, err := r.Cookie("browser")
	if ar == nil || err != nil || c.Value != ar.browser {
		return nil
	}
	if r.Method == http.MethodPost && r.PostForm.Get("csrf") != ar.csrf {
		return nil
	}
	return ar
}

func (p *testProvider) loginPage(w http.ResponseWriter, r *http.Request) {
	ar := p.request(r, r.URL.Query().Get("id"))
	if ar == nil {
		p.t.Errorf("login page without its auth request or browser cookie")
		http.Error(w, "unknown request", http.StatusBadRequest)
		return
	}
	p.render(w, http.StatusOK, loginPage, ar)
}

func (p *testProvider) password(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	ar := p.request(r, r.PostForm.Get("request"))
	if ar == nil {
		p.t.Errorf("password form without its hidden fields or browser cookie: %v", r.PostForm)
		http.Error(w, "unknown request", http.StatusBadRequest)
		return
	}
	u, ok := p.users[r.PostForm.Get("username")]
	if !ok || r.PostForm.Get("password") != u.password {
		p.refused.Add(1)
		p.render(w, http.StatusUnauthorized, loginPage, ar)
		return
	}
	p.passwordsAccepted.Add(1)
	p.mu.Lock()
	ar.email = u.email
	p.mu.Unlock()
	if u.secret != "" {
		http.Redirect(w, r, "/login/otp?id="+ar.id, http.StatusSeeOther)
		return
	}
	p.finish(w, r, ar)
}

func (p *testProvider) otpPage(w http.ResponseWriter, r *http.Request) {
	ar := p.request(r, r.URL.Query().Get("id"))
	if ar == nil {
		p.t.Errorf("otp page without its auth request or browser cookie")
		http.Error(w, "unknown request", http.StatusBadRequest)
		return
	}
	p.render(w, http.StatusOK, otpPage, ar)
}

func (p *testProvider) otp(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	ar := p.request(r, r.PostForm.Get("request"))
	if ar == nil || ar.email == "" {
		p.t.Errorf("otp form without its hidden fields, browser cookie or password step: %v", r.PostForm)
		http.Error(w, "unknown request", http.StatusBadRequest)
		return
	}
	if !p.acceptCode(ar.email, r.PostForm.Get("code")) {
		p.refused.Add(1)
		p.render(w, http.StatusUnauthorized, otpPage, ar)
		return
	}
	p.codesAccepted.Add(1)
	p.finish(w, r, ar)
}

// acceptCode checks the code with an independent TOTP implementation,
// allowing one step of clock skew, and refuses a step already used.
func (p *testProvider) acceptCode(email, code string) bool {
	secret := p.users[email].secret
	now := time.Now().Unix() / 30
	p.mu.Lock()
	defer p.mu.Unlock()
	for step := now - 1; step <= now+1; step++ {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*30, 0), totp.ValidateOpts{
			Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
		})
		if err != nil || want != code {
			continue
		}
		if last, used := p.lastStep[email]; used && uint64(step) <= last {
			p.t.Errorf("replayed code for %s in step %d", email, step)
			return false
		}
		p.lastStep[email] = uint64(step)
		return true
	}
	return false
}

// finish completes the request: a session for single sign-on, a code, and
// the redirect to the client.
func (p *testProvider) finish(w http.ResponseWriter, r *http.Request, ar *testAuthRequest) {
	code := randomToken()
	p.mu.Lock()
	p.codes[code] = ar
	delete(p.requests, ar.id)
	if c, err := r.Cookie("session"); err != nil || p.sessions[c.Value] == "" {
		session := randomToken()
		p.sessions[session] = ar.email
		http.SetCookie(w, &http.Cookie{Name: "session", Value: session, Path: "/", HttpOnly: true})
	}
	p.mu.Unlock()
	iss := p.issuer
	if p.tamper == tamperIssuer {
		iss = "https://impostor.example"
	}
	answer := url.Values{"code": {code}, "state": {ar.state}, "iss": {iss}}
	if p.tamper == tamperNoIssuer {
		answer.Del("iss")
	}
	target := ar.redirectURI + "?" + answer.Encode()
	http.Redirect(w, r, target, http.StatusFound)
}

func (p *testProvider) token(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if !ok || id != testClientID || secret != testClientSecret {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	r.ParseForm()
	p.mu.Lock()
	ar := p.codes[r.PostForm.Get("code")]
	delete(p.codes, r.PostForm.Get("code"))
	p.mu.Unlock()
	verifierHash := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if r.PostForm.Get("grant_type") != "authorization_code" || ar == nil ||
		r.PostForm.Get("redirect_uri") != ar.redirectURI ||
		base64.RawURLEncoding.EncodeToString(verifierHash[:]) != ar.challenge {
		p.t.Errorf("bad token request %v", r.PostForm)
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
		return
	}
	nonce, signer := ar.nonce, p.signer
	if p.tamper == tamperNonce {
		nonce = "another-" + nonce
	}
	if p.tamper == tamperSigningKey {
		signer = p.forger
	}
	now := time.Now()
	claims, _ := json.Marshal(map[string]any{
		"iss": p.issuer, "sub": ar.email, "aud": testClientID, "email": ar.email,
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "nonce": nonce,
	})
	signed, err := signer.Sign(claims)
	if err != nil {
		p.t.Error(err)
		return
	}
	idToken, _ := signed.CompactSerialize()
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": randomToken(), "token_type": "Bearer", "expires_in": 300, "id_token": idToken,
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// newTestUsers makes n users, each with a TOTP secret when withTOTP.
func newTestUsers(n int, withTOTP bool) []testUser {
	users := make([]testUser, n)
	for i := range users {
		users[i] = testUser{email: "user" + string(rune('a'+i)) + "@example.com", password: "pw-" + randomToken()}
		if withTOTP {
			key := make([]byte, 20)
			rand.Read(key)
			users[i].secret = base32.StdEncoding.EncodeToString(key)
		}
	}
	return users
}
