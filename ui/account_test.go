package ui

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"golang.org/x/net/html"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/mfa/recovery"
	"github.com/gatehouse-id/gatehouse/mfa/totp"
	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

// enrollTestCode is the 6-digit code of secret for time step step,
// computed by the tests' own RFC 6238 routine (otp_test.go).
func enrollTestCode(secret []byte, step int64) string { return rfc6238Code(secret, step*30, 6) }

func currentStep() int64 { return time.Now().Unix() / 30 }

// --- The account pages' test environment ---

// accountEnv is newEnv with the keys the second factor needs.
func accountEnv(t *testing.T, store *storage.Store, opts ...envOption) *testEnv {
	e := newEnv(t, store, opts...)
	if len(e.ui.cfg.TOTPKey) == 0 {
		e.ui.cfg.TOTPKey = randomKey(t)
	}
	if len(e.ui.cfg.RecoveryKey) == 0 {
		e.ui.cfg.RecoveryKey = randomKey(t)
	}
	return e
}

func randomKey(t *testing.T) []byte {
	k := make([]byte, 32)
	_, err := rand.Read(k)
	must(t, err)
	return k
}

// recordingNotifier keeps the factor changes it is told about.
type recordingNotifier struct{ events []string }

func (n *recordingNotifier) Notify(_ context.Context, _ *storage.Store, note directory.Notice) error {
	n.events = append(n.events, note.User.Email+" "+string(note.Event))
	return nil
}

// signInAs gives the browser a session for user, signed in at authTime
// with the methods amr.
func (e *testEnv) signInAs(user *storage.User, authTime time.Time, amr ...string) string {
	e.t.Helper()
	if len(amr) == 0 {
		amr = []string{"pwd"}
	}
	secret, digest := storage.NewSecret()
	s := &storage.Session{IDHash: digest, UserID: user.ID, AuthTime: authTime, AMR: amr, ExpiresAt: time.Now().Add(time.Hour)}
	if slices.Contains(amr, "otp") || slices.Contains(amr, "hwk") || slices.Contains(amr, "swk") {
		s.MFATime = &authTime
	}
	must(e.t, e.store.Sessions().Create(context.Background(), s))
	e.setCookie(secret)
	return secret
}

// session reads the session behind a cookie value.
func (e *testEnv) session(value string) *storage.Session {
	e.t.Helper()
	s, err := e.store.Sessions().Touch(context.Background(), storage.HashSecret(value), time.Hour)
	must(e.t, err)
	return s
}

// addTOTP gives user an active authenticator app and the recovery codes
// given, and returns the app's secret. The app has never been used.
func (e *testEnv) addTOTP(user *storage.User, codes ...string) []byte {
	e.t.Helper()
	ctx := context.Background()
	secret := make([]byte, 20)
	_, err := rand.Read(secret)
	must(e.t, err)
	f := &storage.Factor{ID: storage.NewFactorID(), UserID: user.ID, Kind: mfa.FactorTOTP, Name: "Authenticator app"}
	f.Secret, err = totp.Encrypt(e.ui.cfg.TOTPKey, user.ID, f.ID, secret)
	must(e.t, err)
	must(e.t, e.store.Factors().CreatePending(ctx, f))
	must(e.t, e.store.Factors().Confirm(ctx, user.ID, f.ID, 0, time.Now().Add(-time.Minute)))
	var hashes [][]byte
	for _, c := range codes {
		hashes = append(hashes, recovery.Hash(e.ui.cfg.RecoveryKey, c))
	}
	must(e.t, e.store.RecoveryCodes().Replace(ctx, user.ID, hashes))
	return secret
}

// totpFactor is user's active authenticator app, or nil.
func (e *testEnv) totpFactor(user *storage.User) *storage.Factor {
	e.t.Helper()
	fs, err := e.store.Factors().Confirmed(context.Background(), user.ID)
	must(e.t, err)
	for _, f := range fs {
		if f.Kind == mfa.FactorTOTP {
			return &f
		}
	}
	return nil
}

// nextCode is a code the app would show that the server has not seen yet:
// the earliest step within the accepted skew after the last one used.
func (e *testEnv) nextCode(user *storage.User, secret []byte) string {
	e.t.Helper()
	step := currentStep() - 1
	if f := e.totpFactor(user); f != nil {
		step = max(step, f.LastUsedStep+1)
	}
	if step > currentStep()+1 {
		e.t.Fatal("no unused code left within the clock skew")
	}
	return enrollTestCode(secret, step)
}

// wrongCode is a well-formed code that is not valid near now.
func wrongCode(secret []byte) string {
	for n := 0; ; n++ {
		c := fmt.Sprintf("%06d", n)
		now := currentStep()
		if c != enrollTestCode(secret, now-1) && c != enrollTestCode(secret, now) && c != enrollTestCode(secret, now+1) &&
			c != enrollTestCode(secret, now+2) {
			return c
		}
	}
}

// recoveryCodeWorks uses a recovery code up, reporting whether it was valid.
func (e *testEnv) recoveryCodeWorks(user *storage.User, code string) bool {
	e.t.Helper()
	err := e.store.RecoveryCodes().Consume(context.Background(), user.ID, recovery.Hash(e.ui.cfg.RecoveryKey, code))
	if errors.Is(err, storage.ErrNotFound) {
		return false
	}
	must(e.t, err)
	return true
}

func (e *testEnv) remainingCodes(user *storage.User) int {
	e.t.Helper()
	n, err := e.store.RecoveryCodes().Remaining(context.Background(), user.ID)
	must(e.t, err)
	return n
}

// addOrg makes user a member of a new organisation that requires a second
// factor of every member.
func (e *testEnv) addOrg(user *storage.User, name string) *storage.Org {
	e.t.Helper()
	ctx := context.Background()
	slug := fmt.Sprintf("%s-%d", strings.ToLower(name), e.users.Add(1))
	o := &storage.Org{Slug: slug, Name: name, Policy: storage.Policy{RequireMFA: true}}
	must(e.t, e.store.Orgs().Create(ctx, o))
	must(e.t, e.store.Orgs().AddMember(ctx, o.ID, user.ID, storage.RoleMember))
	return o
}

// body reads a response's body.
func body(t testing.TB, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	must(t, err)
	return string(b)
}

// setupPage is what the QR code page shows.
type setupPage struct {
	enrollment string // the pending factor's id in the form
	keyText    string
	secret     []byte // the key, decoded
	issuer     string
	account    string
	qrURI      string // what the QR code says
}

// readSetupPage reads the QR code page and decodes its QR code.
func readSetupPage(t *testing.T, resp *http.Response) setupPage {
	t.Helper()
	wantStatus(t, resp, http.StatusOK)
	doc := page(t, resp)
	p := setupPage{
		keyText: text(element(t, doc, "totp-key")),
		issuer:  text(element(t, doc, "totp-issuer")),
		account: text(element(t, doc, "totp-account")),
	}
	for _, in := range find(doc, byTag("input")) {
		if name, _ := attr(in, "name"); name == "enrollment" {
			p.enrollment, _ = attr(in, "value")
		}
	}
	var err error
	p.secret, err = base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ReplaceAll(p.keyText, " ", ""))
	must(t, err)
	src, _ := attr(element(t, doc, "qr-code"), "src")
	p.qrURI = decodeQR(t, src)
	code := element(t, doc, "code")
	for k, want := range map[string]string{"autocomplete": "one-time-code", "inputmode": "numeric"} {
		if got, _ := attr(code, k); got != want {
			t.Errorf("the code field's %s is %q, want %q", k, got, want)
		}
	}
	if len(find(doc, func(n *html.Node) bool { v, _ := attr(n, "for"); return n.Data == "label" && v == "code" })) != 1 {
		t.Error("the code field has no label")
	}
	return p
}

// decodeQR reads the QR code in a data: URL of a PNG image.
func decodeQR(t *testing.T, src string) string {
	t.Helper()
	const prefix = "data:image/png;base64,"
	if !strings.HasPrefix(src, prefix) {
		t.Fatalf("the QR code is %.40q…, want an inline PNG", src)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(src, prefix))
	must(t, err)
	img, err := png.Decode(bytes.NewReader(raw))
	must(t, err)
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	must(t, err)
	// The image holds only the code and its margin: a pure barcode.
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
	must(t, err)
	return res.GetText()
}

// shownCodes are the recovery codes a page shows.
func shownCodes(t *testing.T, doc *html.Node) []string {
	t.Helper()
	var codes []string
	for _, li := range find(element(t, doc, "recovery-codes"), byTag("li")) {
		codes = append(codes, text(li))
	}
	return codes
}

// startAccountEnrollment starts adding an app from the settings and reads
// the QR code page.
func (e *testEnv) startAccountEnrollment(guide bool) setupPage {
	e.t.Helper()
	form := url.Values{}
	if guide {
		form.Set("guide", "1")
	}
	resp := e.post("/account/security/totp/start", form)
	wantStatus(e.t, resp, http.StatusSeeOther)
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, "/account/security/totp/setup?") {
		e.t.Fatalf("starting an enrollment went to %q", loc)
	}
	return readSetupPage(e.t, e.get(loc))
}

// enrollFromAccount adds an app from the settings and returns its secret
// and the recovery codes shown.
func (e *testEnv) enrollFromAccount() ([]byte, []string) {
	e.t.Helper()
	p := e.startAccountEnrollment(false)
	resp := e.post("/account/security/totp/confirm", url.Values{
		"enrollment": {p.enrollment}, "code": {enrollTestCode(p.secret, currentStep()-1)}})
	wantStatus(e.t, resp, http.StatusOK)
	return p.secret, shownCodes(e.t, page(e.t, resp))
}

// wantSignInRedirect checks that resp sends the browser to sign in as the
// account client and returns the authorization request's parameters.
func wantSignInRedirect(t *testing.T, resp *http.Response) url.Values {
	t.Helper()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("%s %s: status %d, want 303 to the sign-in", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode)
	}
	to, err := url.Parse(resp.Header.Get("Location"))
	must(t, err)
	if to.Path != "/authorize" || to.Host != "" {
		t.Fatalf("redirected to %s, want /authorize", to)
	}
	q := to.Query()
	for k, want := range map[string]string{
		"client_id":             AccountClientID,
		"response_type":         "code",
		"scope":                 "openid",
		"redirect_uri":          "http://localhost:8080/account/callback",
		"code_challenge_method": "S256",
	} {
		if got := q.Get(k); got != want {
			t.Errorf("%s=%q, want %q", k, got, want)
		}
	}
	if len(q.Get("state")) < 43 || len(q.Get("code_challenge")) != 43 {
		t.Errorf("state %q and code_challenge %q: want random values", q.Get("state"), q.Get("code_challenge"))
	}
	return q
}

// TestAccountPagesNeedACompleteSignIn: without a session, or with one that
// stopped after the password, the settings run the normal sign-in.
func TestAccountPagesNeedACompleteSignIn(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		env := accountEnv(t, store)

		t.Run("no session", func(t *testing.T) {
			e := env.browser(t)
			q := wantSignInRedirect(t, e.get("/account/security"))
			if q.Has("max_age") {
				t.Errorf("max_age=%s: viewing the settings needs no recent sign-in", q.Get("max_age"))
			}
		})
		t.Run("an ended session", func(t *testing.T) {
			e := env.browser(t)
			e.setCookie("not-a-session")
			wantSignInRedirect(t, e.get("/account/security"))
		})
		t.Run("the password but not the app", func(t *testing.T) {
			e := env.browser(t)
			user := e.newUser()
			e.addTOTP(user)
			e.signInAs(user, time.Now())
			wantSignInRedirect(t, e.get("/account/security"))
			wantSignInRedirect(t, e.post("/account/security/password", url.Values{
				"current_password": {testPassword}, "new_password": {"a brand new passphrase"}, "confirm_password": {"a brand new passphrase"}}))
		})
		t.Run("the password, and an organisation requires an app", func(t *testing.T) {
			e := env.browser(t)
			user := e.newUser()
			e.addOrg(user, "Required")
			e.signInAs(user, time.Now())
			wantSignInRedirect(t, e.get("/account/security"))
		})
		t.Run("a disabled user", func(t *testing.T) {
			e := env.browser(t)
			user := e.newUser()
			e.signInAs(user, time.Now())
			must(t, e.store.Users().SetDisabled(context.Background(), user.ID, true))
			wantSignInRedirect(t, e.get("/account/security"))
		})
		t.Run("both factors", func(t *testing.T) {
			e := env.browser(t)
			user := e.newUser()
			e.addTOTP(user)
			e.signInAs(user, time.Now(), "pwd", "otp", "mfa")
			wantStatus(t, e.get("/account/security"), http.StatusOK)
		})
		t.Run("the account root", func(t *testing.T) {
			e := env.browser(t)
			wantRedirect(t, e.get("/account"), "/account/security")
		})
		t.Run("an unknown account page", func(t *testing.T) {
			e := env.browser(t)
			wantStatus(t, e.get("/account/nothing-here"), http.StatusNotFound)
		})
	})
}

// TestAccountCallback: the sign-in comes back to the page it left, only
// with the state this browser was given, and never to another site.
func TestAccountCallback(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		env := accountEnv(t, store)

		// startSignIn opens a settings page without a session, signs in
		// (as the sign-in would, leaving a session) and returns the state.
		startSignIn := func(e *testEnv, path string) string {
			state := wantSignInRedirect(e.t, e.get(path)).Get("state")
			e.signInAs(e.newUser(), time.Now())
			return state
		}
		stateCookie := func(e *testEnv) *http.Cookie {
			u, _ := url.Parse(e.http.URL)
			for _, c := range e.client.Jar.Cookies(u) {
				if c.Name == "gatehouse_account_signin" {
					return c
				}
			}
			return nil
		}
		setStateCookie := func(e *testEnv, value string) {
			u, _ := url.Parse(e.http.URL)
			e.client.Jar.SetCookies(u, []*http.Cookie{{Name: "gatehouse_account_signin", Value: value, Path: "/"}})
		}

		t.Run("back to the page", func(t *testing.T) {
			e := env.browser(t)
			state := startSignIn(e, "/account/security/totp/guide")
			resp := e.get("/account/callback?code=abc&state=" + url.QueryEscape(state) + "&iss=" + url.QueryEscape("http://localhost:8080"))
			wantRedirect(t, resp, "/account/security/totp/guide")
			if stateCookie(e) != nil {
				t.Error("the state cookie outlived its use")
			}
			// The state works once.
			wantStatus(t, e.get("/account/callback?code=abc&state="+url.QueryEscape(state)), http.StatusBadRequest)
		})
		refused := []struct {
			name  string
			query func(state string) string
		}{
			{"no state", func(string) string { return "code=abc" }},
			{"an empty state", func(string) string { return "code=abc&state=" }},
			{"another state", func(string) string { return "code=abc&state=" + strings.Repeat("A", 43) }},
			{"a state cut short", func(s string) string { return "code=abc&state=" + s[:20] }},
			{"another issuer", func(s string) string { return "code=abc&state=" + s + "&iss=https%3A%2F%2Fevil.example" }},
		}
		for _, tc := range refused {
			t.Run(tc.name, func(t *testing.T) {
				e := env.browser(t)
				state := startSignIn(e, "/account/security")
				resp := e.get("/account/callback?" + tc.query(state))
				wantStatus(t, resp, http.StatusBadRequest)
				if loc := resp.Header.Get("Location"); loc != "" {
					t.Errorf("redirected to %q", loc)
				}
			})
		}
		t.Run("no state cookie", func(t *testing.T) {
			e := env.browser(t)
			e.signInAs(e.newUser(), time.Now())
			wantStatus(t, e.get("/account/callback?code=abc&state="+strings.Repeat("A", 43)), http.StatusBadRequest)
		})
		t.Run("the sign-in failed", func(t *testing.T) {
			e := env.browser(t)
			state := wantSignInRedirect(t, e.get("/account/security")).Get("state")
			resp := e.get("/account/callback?error=access_denied&state=" + url.QueryEscape(state))
			wantStatus(t, resp, http.StatusForbidden)
			if resp.Header.Get("Location") != "" {
				t.Error("a failed sign-in redirected")
			}
		})
		t.Run("no session after the sign-in", func(t *testing.T) {
			e := env.browser(t)
			state := wantSignInRedirect(t, e.get("/account/security")).Get("state")
			// Not redirected, so the browser does not go round in circles.
			wantStatus(t, e.get("/account/callback?code=abc&state="+url.QueryEscape(state)), http.StatusForbidden)
		})
		for _, target := range []string{"//evil.example/account/", "https://evil.example/", "/account/../logout",
			"/account//evil.example", "/account/%2F%2Fevil.example", `/account/\evil.example`, "/login?id=x", "/account/security?x=1"} {
			t.Run("a return address of "+target, func(t *testing.T) {
				e := env.browser(t)
				state := "s" + strings.Repeat("A", 42)
				setStateCookie(e, state+"."+base64.RawURLEncoding.EncodeToString([]byte(target)))
				e.signInAs(e.newUser(), time.Now())
				wantRedirect(t, e.get("/account/callback?code=abc&state="+state), "/account/security")
			})
		}
	})
}

// TestSecurityPage shows the user, the app and the recovery codes left.
func TestSecurityPage(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		env := accountEnv(t, store)

		t.Run("without an app", func(t *testing.T) {
			e := env.browser(t)
			user := e.newUser()
			e.signInAs(user, time.Now().Add(-time.Hour)) // viewing needs no recent sign-in
			doc := page(t, e.get("/account/security"))
			if got := text(element(t, doc, "account-email")); got != user.Email {
				t.Errorf("email %q, want %q", got, user.Email)
			}
			if href, _ := attr(element(t, doc, "guide-me"), "href"); href != "/account/security/totp/guide" {
				t.Errorf("Guide me goes to %q", href)
			}
			element(t, doc, "skip-to-qr")
			for id, want := range map[string]string{"current-password": "current-password", "new-password": "new-password", "confirm-password": "new-password"} {
				if got, _ := attr(element(t, doc, id), "autocomplete"); got != want {
					t.Errorf("#%s autocomplete=%q, want %q", id, got, want)
				}
			}
		})
		t.Run("with an app", func(t *testing.T) {
			e := env.browser(t)
			user := e.newUser()
			e.addTOTP(user, "2345-6789-abcd", "efgh-jkmn-pqrs")
			e.signInAs(user, time.Now(), "pwd", "otp", "mfa")
			doc := page(t, e.get("/account/security"))
			factor := text(element(t, doc, "totp-factor"))
			if want := "Added on " + time.Now().UTC().Format("2 January 2006"); !strings.Contains(factor, want) {
				t.Errorf("the app is described as %q, want %q", factor, want)
			}
			if !strings.Contains(factor, "Last used") {
				t.Errorf("the app is described as %q, want when it was last used", factor)
			}
			if got := text(element(t, doc, "recovery-codes-left")); !strings.HasPrefix(got, "2 unused codes left") {
				t.Errorf("recovery codes: %q", got)
			}
			element(t, doc, "few-codes")
			if len(find(doc, byID("guide-me"))) != 0 {
				t.Error("the page offers to add a second app")
			}
		})
	})
}

// TestEnrollFromTheSettings is the happy path, and what a wrong code does.
func TestEnrollFromTheSettings(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		e := accountEnv(t, store)
		notes := &recordingNotifier{}
		e.ui.dir.SetNotifier(notes)
		user := e.newUser()
		cookie := e.signInAs(user, time.Now())

		// Guide me: step 1 names apps and leads to the QR code.
		doc := page(t, e.get("/account/security/totp/guide"))
		guide := text(doc)
		for _, app := range []string{"Google Authenticator", "Microsoft Authenticator", "Authy", "1Password", "Step 1 of 3"} {
			if !strings.Contains(guide, app) {
				t.Errorf("the guide does not mention %q", app)
			}
		}
		p := e.startAccountEnrollment(true)

		// The QR code holds the key shown as text, for this account and issuer.
		if len(p.secret) != 20 || len(strings.Fields(p.keyText)) != 8 {
			t.Errorf("key %q: want 160 bits in 8 groups of four", p.keyText)
		}
		uri, err := url.Parse(p.qrURI)
		must(t, err)
		if uri.Scheme != "otpauth" || uri.Host != "totp" {
			t.Fatalf("the QR code says %q, want an otpauth://totp/ URI", p.qrURI)
		}
		if got := uri.Query().Get("secret"); got != strings.ReplaceAll(p.keyText, " ", "") {
			t.Errorf("the QR code's secret %q is not the key shown, %q", got, p.keyText)
		}
		if p.issuer != "Gatehouse" || p.account != user.Email || uri.Query().Get("issuer") != "Gatehouse" {
			t.Errorf("issuer %q and account %q (QR issuer %q)", p.issuer, p.account, uri.Query().Get("issuer"))
		}

		confirm := func(code string) *http.Response {
			return e.post("/account/security/totp/confirm", url.Values{"enrollment": {p.enrollment}, "code": {code}, "guide": {"1"}})
		}
		// A wrong code leaves the app pending.
		resp := confirm(wrongCode(p.secret))
		wantStatus(t, resp, http.StatusUnauthorized)
		if msg := text(element(t, page(t, resp), "code-error")); !strings.Contains(msg, "didn't work") {
			t.Errorf("message %q for a wrong code", msg)
		}
		if e.totpFactor(user) != nil || e.remainingCodes(user) != 0 {
			t.Fatal("a wrong code activated the app")
		}

		// The right code turns it on and shows ten recovery codes once.
		code := enrollTestCode(p.secret, currentStep()-1)
		resp = confirm(code)
		wantStatus(t, resp, http.StatusOK)
		doc = page(t, resp)
		codes := shownCodes(t, doc)
		if len(codes) != 10 {
			t.Fatalf("%d recovery codes shown, want 10", len(codes))
		}
		if href, _ := attr(element(t, doc, "continue"), "href"); href != "/account/security" {
			t.Errorf("Done goes to %q", href)
		}
		f := e.totpFactor(user)
		if f == nil || f.ID != p.enrollment {
			t.Fatal("the app is not active")
		}
		if e.remainingCodes(user) != 10 {
			t.Errorf("%d recovery codes stored, want 10", e.remainingCodes(user))
		}
		if !e.recoveryCodeWorks(user, codes[3]) {
			t.Error("a recovery code shown does not work")
		}
		// The code that confirmed the app cannot sign in again.
		if err := e.store.Factors().UseStep(context.Background(), user.ID, f.ID, currentStep()-1); !errors.Is(err, storage.ErrReplayed) {
			t.Errorf("using the confirming code's step again: %v, want ErrReplayed", err)
		}

		// This browser proved the app: a new session id with both factors.
		if e.sessionLive(cookie) {
			t.Error("the session kept its id after the app was proved")
		}
		s := e.session(e.cookie())
		if !slices.Equal(s.AMR, storage.StringList{"pwd", "otp", "mfa"}) || s.MFATime == nil {
			t.Errorf("session AMR %v, MFA time %v", s.AMR, s.MFATime)
		}
		if len(e.auditEvents(directory.EventTOTPEnrolled)) != 1 {
			t.Error("the enrollment was not audited")
		}
		if n := testutil.ToFloat64(e.ui.metrics.enrollments.WithLabelValues("totp")); n != 1 {
			t.Errorf("enrollments metric %v, want 1", n)
		}
		if want := []string{user.Email + " " + string(directory.EventTOTPEnrolled)}; !slices.Equal(notes.events, want) {
			t.Errorf("notified %q, want %q", notes.events, want)
		}

		// The codes are never shown again.
		resp = confirm(code)
		wantStatus(t, resp, http.StatusConflict)
		if len(find(page(t, resp), byID("recovery-codes"))) != 0 {
			t.Error("sending the form again showed recovery codes")
		}
		doc = page(t, e.get("/account/security"))
		if len(find(doc, byID("recovery-codes"))) != 0 || strings.Contains(text(doc), codes[0]) {
			t.Error("the settings show recovery codes")
		}
		element(t, doc, "totp-factor")
		wantStatus(t, e.get("/account/security/totp/guide"), http.StatusConflict)
		wantStatus(t, e.post("/account/security/totp/start", url.Values{}), http.StatusConflict)
	})
}

// TestEnrollmentIDs: a confirmation names a pending app of this user,
// started within 15 minutes; anything else gets a clear page.
func TestEnrollmentIDs(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		env := accountEnv(t, store)

		t.Run("stale", func(t *testing.T) {
			e := env.browser(t)
			user := e.newUser()
			e.signInAs(user, time.Now())
			p := e.startAccountEnrollment(false)
			_, err := e.store.DB().Exec(`UPDATE factors SET created_at = $1 WHERE id = $2`,
				time.Now().Add(-16*time.Minute).UTC(), p.enrollment)
			must(t, err)
			for _, resp := range []*http.Response{
				e.get("/account/security/totp/setup?enrollment=" + p.enrollment),
				e.post("/account/security/totp/confirm", url.Values{"enrollment": {p.enrollment}, "code": {enrollTestCode(p.secret, currentStep())}}),
			} {
				wantStatus(t, resp, http.StatusBadRequest)
				if h := heading(t, page(t, resp)); h != "This setup has expired" {
					t.Errorf("heading %q", h)
				}
			}
			if e.totpFactor(user) != nil {
				t.Error("a stale enrollment was activated")
			}
		})
		t.Run("another user's", func(t *testing.T) {
			owner := env.browser(t)
			owner.signInAs(owner.newUser(), time.Now())
			p := owner.startAccountEnrollment(false)

			e := env.browser(t)
			thief := e.newUser()
			e.signInAs(thief, time.Now())
			wantStatus(t, e.get("/account/security/totp/setup?enrollment="+p.enrollment), http.StatusBadRequest)
			resp := e.post("/account/security/totp/confirm", url.Values{"enrollment": {p.enrollment}, "code": {enrollTestCode(p.secret, currentStep())}})
			wantStatus(t, resp, http.StatusBadRequest)
			if strings.Contains(body(t, resp), p.keyText) {
				t.Error("another user's key was shown")
			}
			if e.totpFactor(thief) != nil {
				t.Error("the thief has an app")
			}
		})
		t.Run("replaced by a newer one", func(t *testing.T) {
			e := env.browser(t)
			e.signInAs(e.newUser(), time.Now())
			first := e.startAccountEnrollment(false)
			e.startAccountEnrollment(false)
			resp := e.post("/account/security/totp/confirm", url.Values{"enrollment": {first.enrollment}, "code": {enrollTestCode(first.secret, currentStep())}})
			wantStatus(t, resp, http.StatusBadRequest)
		})
	})
}

// TestRecoveryCodeDownload: the page's codes come back as a text file,
// one per line; nothing else is echoed.
func TestRecoveryCodeDownload(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		env := accountEnv(t, store)
		e := env.browser(t)
		e.signInAs(e.newUser(), time.Now())
		_, codes := e.enrollFromAccount()

		resp := e.post("/account/security/codes/download", url.Values{"code": codes})
		wantStatus(t, resp, http.StatusOK)
		if ct := resp.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
			t.Errorf("Content-Type %q", ct)
		}
		if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") {
			t.Errorf("Content-Disposition %q, want an attachment", cd)
		}
		if got, want := body(t, resp), strings.Join(codes, "\n")+"\n"; got != want {
			t.Errorf("file:\n%s\nwant:\n%s", got, want)
		}

		for name, form := range map[string]url.Values{
			"no codes":             {},
			"eleven codes":         {"code": append(slices.Clone(codes), codes[0])},
			"something else":       {"code": {"<script>alert(1)</script>"}},
			"a code and some text": {"code": {codes[0], "hello"}},
		} {
			t.Run(name, func(t *testing.T) {
				wantStatus(t, e.browser(t).post("/account/security/codes/download", form), http.StatusBadRequest)
			})
		}
	})
}

// TestRegenerateRecoveryCodes: new codes need a current code; the old
// ones stop working.
func TestRegenerateRecoveryCodes(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		e := accountEnv(t, store)
		notes := &recordingNotifier{}
		e.ui.dir.SetNotifier(notes)
		user := e.newUser()
		old := []string{"2345-6789-abcd", "efgh-jkmn-pqrs"}
		secret := e.addTOTP(user, old...)
		e.signInAs(user, time.Now(), "pwd", "otp", "mfa")

		wantStatus(t, e.get("/account/security/codes/regenerate"), http.StatusOK)
		resp := e.post("/account/security/codes/regenerate", url.Values{"code": {wrongCode(secret)}})
		wantStatus(t, resp, http.StatusUnauthorized)
		if msg := formError(page(t, resp)); !strings.Contains(msg, "didn't work") {
			t.Errorf("message %q", msg)
		}
		resp = e.post("/account/security/codes/regenerate", url.Values{"code": {"12 34"}})
		wantStatus(t, resp, http.StatusBadRequest)
		if e.remainingCodes(user) != 2 || len(e.auditEvents(directory.EventRecoveryCodesRegenerated)) != 0 {
			t.Fatal("a refused code changed the recovery codes")
		}

		code := e.nextCode(user, secret)
		resp = e.post("/account/security/codes/regenerate", url.Values{"code": {code}})
		wantStatus(t, resp, http.StatusOK)
		codes := shownCodes(t, page(t, resp))
		if len(codes) != 10 {
			t.Fatalf("%d new codes, want 10", len(codes))
		}
		if e.recoveryCodeWorks(user, old[0]) {
			t.Error("an old recovery code still works")
		}
		if !e.recoveryCodeWorks(user, codes[9]) {
			t.Error("a new recovery code does not work")
		}
		if len(e.auditEvents(directory.EventRecoveryCodesRegenerated)) != 1 {
			t.Error("not audited")
		}
		if want := []string{user.Email + " " + string(directory.EventRecoveryCodesRegenerated)}; !slices.Equal(notes.events, want) {
			t.Errorf("notified %q, want %q", notes.events, want)
		}
		// The code is used up.
		wantStatus(t, e.post("/account/security/codes/regenerate", url.Values{"code": {code}}), http.StatusUnauthorized)
	})
}

// TestDisableTOTP: removing the app takes a current code, and is refused
// while an organisation requires a second factor.
func TestDisableTOTP(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		env := accountEnv(t, store)

		t.Run("with a current code", func(t *testing.T) {
			e := env.browser(t)
			notes := &recordingNotifier{}
			e.ui.dir.SetNotifier(notes)
			t.Cleanup(func() { e.ui.dir.SetNotifier(nil) })
			user := e.newUser()
			secret := e.addTOTP(user, "2345-6789-abcd")
			e.signInAs(user, time.Now(), "pwd", "otp", "mfa")

			wantStatus(t, e.get("/account/security/totp/disable"), http.StatusOK)
			for code, status := range map[string]int{wrongCode(secret): http.StatusUnauthorized, "": http.StatusBadRequest, "abcdef": http.StatusBadRequest} {
				wantStatus(t, e.post("/account/security/totp/disable", url.Values{"code": {code}}), status)
			}
			if e.totpFactor(user) == nil {
				t.Fatal("a refused code removed the app")
			}
			wantRedirect(t, e.post("/account/security/totp/disable", url.Values{"code": {e.nextCode(user, secret)}}), "/account/security?done=disabled")
			if e.totpFactor(user) != nil || e.remainingCodes(user) != 0 {
				t.Error("the app or its recovery codes are still there")
			}
			if len(e.auditEvents(directory.EventTOTPDisabled)) != 1 {
				t.Error("not audited")
			}
			if want := []string{user.Email + " " + string(directory.EventTOTPDisabled)}; !slices.Equal(notes.events, want) {
				t.Errorf("notified %q, want %q", notes.events, want)
			}
			doc := page(t, e.get("/account/security?done=disabled"))
			if !strings.Contains(text(element(t, doc, "notice")), "removed") {
				t.Error("no notice that the app was removed")
			}
			element(t, doc, "guide-me")
		})
		t.Run("an organisation requires it", func(t *testing.T) {
			e := env.browser(t)
			user := e.newUser()
			secret := e.addTOTP(user)
			e.addOrg(user, "Acme")
			e.signInAs(user, time.Now(), "pwd", "otp", "mfa")
			want := "Your organisation Acme requires two-step verification, so the authenticator app cannot be removed."
			if got := formError(page(t, e.get("/account/security/totp/disable"))); got != want {
				t.Errorf("page says %q, want %q", got, want)
			}
			resp := e.post("/account/security/totp/disable", url.Values{"code": {e.nextCode(user, secret)}})
			wantStatus(t, resp, http.StatusForbidden)
			if got := formError(page(t, resp)); got != want {
				t.Errorf("refusal %q, want %q", got, want)
			}
			if e.totpFactor(user) == nil {
				t.Error("the app was removed")
			}
		})
		t.Run("an organisation requires it of this member", func(t *testing.T) {
			e := env.browser(t)
			user := e.newUser()
			secret := e.addTOTP(user)
			ctx := context.Background()
			o := &storage.Org{Slug: fmt.Sprintf("beta-%d", e.users.Add(1)), Name: "Beta"}
			must(t, e.store.Orgs().Create(ctx, o))
			must(t, e.store.Orgs().AddMember(ctx, o.ID, user.ID, storage.RoleAdmin))
			must(t, e.store.Orgs().SetMemberRequireMFA(ctx, o.ID, user.ID, true))
			e.signInAs(user, time.Now(), "pwd", "otp", "mfa")
			wantStatus(t, e.post("/account/security/totp/disable", url.Values{"code": {e.nextCode(user, secret)}}), http.StatusForbidden)
			if e.totpFactor(user) == nil {
				t.Error("the app was removed")
			}
		})
		t.Run("no app", func(t *testing.T) {
			e := env.browser(t)
			e.signInAs(e.newUser(), time.Now())
			wantStatus(t, e.get("/account/security/totp/disable"), http.StatusNotFound)
			wantStatus(t, e.post("/account/security/totp/disable", url.Values{"code": {"123456"}}), http.StatusNotFound)
			wantStatus(t, e.post("/account/security/codes/regenerate", url.Values{"code": {"123456"}}), http.StatusNotFound)
		})
		t.Run("wrong codes lock the account", func(t *testing.T) {
			e := env.browser(t)
			user := e.newUser()
			secret := e.addTOTP(user)
			e.signInAs(user, time.Now(), "pwd", "otp", "mfa")
			wrong := wrongCode(secret)
			for range 9 {
				wantStatus(t, e.post("/account/security/totp/disable", url.Values{"code": {wrong}}), http.StatusUnauthorized)
			}
			resp := e.post("/account/security/totp/disable", url.Values{"code": {wrong}})
			wantStatus(t, resp, http.StatusTooManyRequests)
			// Locked: even the right code is not checked.
			resp = e.post("/account/security/totp/disable", url.Values{"code": {e.nextCode(user, secret)}})
			wantStatus(t, resp, http.StatusTooManyRequests)
			if msg := formError(page(t, resp)); !strings.HasPrefix(msg, "Too many attempts. Try again at ") {
				t.Errorf("message %q", msg)
			}
			if resp.Header.Get("Retry-After") == "" {
				t.Error("no Retry-After")
			}
			if e.totpFactor(user) == nil {
				t.Error("the app was removed while locked")
			}
		})
	})
}

// TestChangePassword: the current password is required, and a weak new
// one is refused with the reason.
func TestChangePassword(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		env := accountEnv(t, store)
		const next = "a brand new passphrase"

		change := func(e *testEnv, current, newPassword, confirm string) *http.Response {
			return e.post("/account/security/password", url.Values{
				"current_password": {current}, "new_password": {newPassword}, "confirm_password": {confirm}})
		}
		refused := []struct {
			name                 string
			current, next, again string
			status               int
			field, message       string
		}{
			{"wrong current password", "not my password", next, next, http.StatusUnauthorized,
				"current-password-error", "This is not your current password."},
			{"no current password", "", next, next, http.StatusBadRequest, "current-password-error", "Enter your current password."},
			{"too short", testPassword, "short", "short", http.StatusBadRequest,
				"new-password-error", "The password is too short: use at least 8 characters."},
			{"common", testPassword, "password123", "password123", http.StatusBadRequest,
				"new-password-error", "The password is one of the most commonly used passwords: choose one that is harder to guess."},
			{"the same", testPassword, testPassword, testPassword, http.StatusBadRequest,
				"new-password-error", "The new password is your current one: choose a different one."},
			{"typed differently", testPassword, next, next + "!", http.StatusBadRequest,
				"confirm-password-error", "The two new passwords are different: type the same one twice."},
		}
		for _, tc := range refused {
			t.Run(tc.name, func(t *testing.T) {
				e := env.browser(t)
				user := e.newUser()
				e.signInAs(user, time.Now())
				resp := change(e, tc.current, tc.next, tc.again)
				wantStatus(t, resp, tc.status)
				if got := text(element(t, page(t, resp), tc.field)); got != tc.message {
					t.Errorf("message %q, want %q", got, tc.message)
				}
				got, err := e.store.Users().Get(context.Background(), user.ID)
				must(t, err)
				if ok, _ := e.hasher.Verify(context.Background(), testPassword, *got.PasswordHash); !ok {
					t.Error("the password changed")
				}
			})
		}

		t.Run("changed", func(t *testing.T) {
			e := env.browser(t)
			user := e.newUser()
			elsewhere := e.addSession(user, time.Now(), time.Now().Add(time.Hour))
			cookie := e.signInAs(user, time.Now())
			wantRedirect(t, change(e, testPassword, next, next), "/account/security?done=password")
			got, err := e.store.Users().Get(context.Background(), user.ID)
			must(t, err)
			if ok, _ := e.hasher.Verify(context.Background(), next, *got.PasswordHash); !ok {
				t.Error("the new password does not work")
			}
			if e.sessionLive(elsewhere) {
				t.Error("another browser stayed signed in")
			}
			if e.sessionLive(cookie) || !e.sessionLive(e.cookie()) {
				t.Error("this browser did not move to a new session")
			}
			if len(e.auditEvents("account.password_changed")) == 0 {
				t.Error("not audited")
			}
			if !strings.Contains(text(element(t, page(t, e.get("/account/security?done=password")), "notice")), "password was changed") {
				t.Error("no notice that the password changed")
			}
		})
	})
}

// TestChangesNeedARecentSignIn: ten minutes after the sign-in, a change
// runs the sign-in again with max_age=600; looking does not.
func TestChangesNeedARecentSignIn(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		env := accountEnv(t, store)
		e := env.browser(t)
		user := e.newUser()
		secret := e.addTOTP(user, "2345-6789-abcd")
		e.signInAs(user, time.Now().Add(-11*time.Minute), "pwd", "otp", "mfa")

		wantStatus(t, e.get("/account/security"), http.StatusOK)
		wantStatus(t, e.get("/account/security/totp/disable"), http.StatusOK)
		changes := map[string]url.Values{
			"/account/security/password":         {"current_password": {testPassword}, "new_password": {"a brand new passphrase"}, "confirm_password": {"a brand new passphrase"}},
			"/account/security/totp/disable":     {"code": {e.nextCode(user, secret)}},
			"/account/security/codes/regenerate": {"code": {e.nextCode(user, secret)}},
			"/account/security/totp/start":       {},
			"/account/security/totp/confirm":     {"enrollment": {"x"}, "code": {"123456"}},
		}
		for path, form := range changes {
			q := wantSignInRedirect(t, e.post(path, form))
			if q.Get("max_age") != "600" || q.Get("login_hint") != user.Email {
				t.Errorf("%s: max_age=%q login_hint=%q, want 600 and the user's email", path, q.Get("max_age"), q.Get("login_hint"))
			}
		}
		if e.totpFactor(user) == nil || e.remainingCodes(user) != 1 {
			t.Error("a change was made without a recent sign-in")
		}
	})
}

// TestAccountFormsRefuseCrossOrigin: another site cannot submit them.
func TestAccountFormsRefuseCrossOrigin(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		env := accountEnv(t, store)
		e := env.browser(t)
		user := e.newUser()
		secret := e.addTOTP(user, "2345-6789-abcd")
		e.signInAs(user, time.Now(), "pwd", "otp", "mfa")
		forms := map[string]url.Values{
			"/account/security/password":         {"current_password": {testPassword}, "new_password": {"a brand new passphrase"}, "confirm_password": {"a brand new passphrase"}},
			"/account/security/totp/disable":     {"code": {e.nextCode(user, secret)}},
			"/account/security/codes/regenerate": {"code": {e.nextCode(user, secret)}},
			"/account/security/totp/start":       {},
			"/account/security/codes/download":   {"code": {"2345-6789-abcd"}},
			"/login/enroll/start":                {"id": {"x"}},
		}
		for path, form := range forms {
			resp := e.post(path, form, "Sec-Fetch-Site", "cross-site")
			wantStatus(t, resp, http.StatusForbidden)
			if h := heading(t, page(t, resp)); h != "This form came from another site" {
				t.Errorf("%s: heading %q", path, h)
			}
		}
		if e.totpFactor(user) == nil || e.remainingCodes(user) != 1 {
			t.Error("a cross-origin form changed the account")
		}
		got, err := e.store.Users().Get(context.Background(), user.ID)
		must(t, err)
		if ok, _ := e.hasher.Verify(context.Background(), testPassword, *got.PasswordHash); !ok {
			t.Error("a cross-origin form changed the password")
		}
	})
}

// TestAccountBadInput: whatever arrives gets a clear 4xx page, never a 500.
func TestAccountBadInput(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		env := accountEnv(t, store)
		e := env.browser(t)
		user := e.newUser()
		e.signInAs(user, time.Now())
		p := e.startAccountEnrollment(false)
		huge := strings.Repeat("1", maxFormBody+1)

		raw := func(path, contentType, body string) *http.Response {
			req, err := http.NewRequest(http.MethodPost, e.http.URL+path, strings.NewReader(body))
			must(t, err)
			req.Header.Set("Content-Type", contentType)
			resp, err := e.client.Do(req)
			must(t, err)
			t.Cleanup(func() { resp.Body.Close() })
			return resp
		}
		const form = "application/x-www-form-urlencoded"
		cases := []struct {
			name   string
			resp   func() *http.Response
			status int
		}{
			{"an oversized form", func() *http.Response {
				return raw("/account/security/totp/confirm", form, "enrollment="+p.enrollment+"&code="+huge)
			}, http.StatusRequestEntityTooLarge},
			{"JSON", func() *http.Response {
				return raw("/account/security/password", "application/json", `{"new_password":"x"}`)
			}, http.StatusUnsupportedMediaType},
			{"a malformed form", func() *http.Response {
				return raw("/account/security/totp/confirm", form, "enrollment=%zz")
			}, http.StatusBadRequest},
			{"letters for a code", func() *http.Response {
				return e.post("/account/security/totp/confirm", url.Values{"enrollment": {p.enrollment}, "code": {"abcdef"}})
			}, http.StatusBadRequest},
			{"seven digits", func() *http.Response {
				return e.post("/account/security/totp/confirm", url.Values{"enrollment": {p.enrollment}, "code": {"1234567"}})
			}, http.StatusBadRequest},
			{"a code with a NUL", func() *http.Response {
				return e.post("/account/security/totp/confirm", url.Values{"enrollment": {p.enrollment}, "code": {"123\x00456"}})
			}, http.StatusBadRequest},
			{"no enrollment", func() *http.Response {
				return e.post("/account/security/totp/confirm", url.Values{"code": {"123456"}})
			}, http.StatusBadRequest},
			{"an unknown enrollment", func() *http.Response {
				return e.get("/account/security/totp/setup?enrollment=nope")
			}, http.StatusBadRequest},
			{"an enrollment id of invalid UTF-8", func() *http.Response {
				return e.get("/account/security/totp/setup?enrollment=%ff%fe")
			}, http.StatusBadRequest},
			{"a very long enrollment id", func() *http.Response {
				return e.get("/account/security/totp/setup?enrollment=" + strings.Repeat("a", 5000))
			}, http.StatusBadRequest},
			{"a password of invalid UTF-8", func() *http.Response {
				return raw("/account/security/password", form, "current_password=x&new_password=%ff%fe%fd%fc%fb%fa%f9%f8&confirm_password=%ff%fe%fd%fc%fb%fa%f9%f8")
			}, http.StatusBadRequest},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				resp := tc.resp()
				wantStatus(t, resp, tc.status)
				page(t, resp) // a page, not a bare error
			})
		}
		if e.totpFactor(user) != nil {
			t.Error("bad input activated an app")
		}
		// A form's address opened as a page leads to the settings.
		wantRedirect(t, e.get("/account/security/password"), "/account/security")
	})
}

// TestEnsureAccountClient registers the client once, however often and by
// however many replicas it is called, and follows an issuer change.
func TestEnsureAccountClient(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		e := accountEnv(t, store)
		ctx := context.Background()
		errs := make(chan error, 4)
		for range 4 {
			go func() { errs <- e.ui.EnsureAccountClient(ctx) }()
		}
		for range 4 {
			must(t, <-errs)
		}
		c, err := e.store.Clients().Get(ctx, AccountClientID)
		must(t, err)
		if !c.Public || !slices.Equal(c.RedirectURIs, storage.StringList{"http://localhost:8080/account/callback"}) {
			t.Errorf("client public=%v redirect URIs %v", c.Public, c.RedirectURIs)
		}

		moved, err := New(Config{Issuer: "https://id.example", SecureCookies: true, CallbackURL: testCallbackURL}, e.store, e.hasher)
		must(t, err)
		must(t, moved.EnsureAccountClient(ctx))
		c, err = e.store.Clients().Get(ctx, AccountClientID)
		must(t, err)
		if !slices.Equal(c.RedirectURIs, storage.StringList{"https://id.example/account/callback"}) {
			t.Errorf("after the issuer moved, redirect URIs %v", c.RedirectURIs)
		}
	})
}

// accountPageRenders renders every page of the account settings and the
// enrollment with sample data, for the checks all pages share.
func accountPageRenders(u *UI) map[string]func(w http.ResponseWriter, r *http.Request) {
	qr := enrollQRPage{Flow: enrollFlow{RequestID: "req1"}, EnrollmentID: "f1", Guide: true,
		QR: "data:image/png;base64,iVBORw0KGgo=", KeyText: "ABCD EFGH", Issuer: "Gatehouse", Account: "a@b.c", CodeError: "That code is not right."}
	return map[string]func(w http.ResponseWriter, r *http.Request){
		accountSecurityTemplate: func(w http.ResponseWriter, r *http.Request) {
			u.renderSecurity(w, r, http.StatusOK, securityPage{Email: "a@b.c", Notice: notices["password"],
				TOTP: &factorSummary{AddedOn: "1 March 2026", AddedOnISO: "2026-03-01T10:00:00Z"}, RecoveryCodesLeft: 2,
				NewPasswordError: "The password is too short: use at least 8 characters."})
		},
		accountRegenerateTemplate: func(w http.ResponseWriter, r *http.Request) {
			u.renderRegenerate(w, r, http.StatusUnauthorized, regeneratePage{Error: "That code is not right."})
		},
		accountDisableTemplate: func(w http.ResponseWriter, r *http.Request) {
			u.renderDisable(w, r, http.StatusForbidden, disablePage{Refusal: removalRefusal([]string{"Acme", "Beta", "Gamma"}, appName)})
		},
		enrollStartTemplate: func(w http.ResponseWriter, r *http.Request) {
			u.renderEnrollStart(w, r, enrollStartPage{Flow: enrollFlow{RequestID: "req1"}, ClientName: "Example"})
		},
		enrollGuideTemplate: func(w http.ResponseWriter, r *http.Request) {
			u.renderEnrollGuide(w, r, enrollGuidePage{})
		},
		enrollQRTemplate: func(w http.ResponseWriter, r *http.Request) { u.renderEnrollQR(w, r, http.StatusUnauthorized, qr) },
		enrollCodesTemplate: func(w http.ResponseWriter, r *http.Request) {
			u.renderRecoveryCodes(w, r, recoveryCodesPage{Codes: []string{"2345-6789-abcd"}, InSignIn: true, ContinueURL: "/login?id=req1"})
		},
	}
}
