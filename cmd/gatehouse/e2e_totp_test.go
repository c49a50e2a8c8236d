package main

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/getkin/kin-openapi/routers"
	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/mfa/totp"
	"github.com/gatehouse-id/gatehouse/secretkey"
	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

// keyedGatehouse is a Gatehouse server whose secret key the test knows, so
// that it can store authenticator secrets the way the server reads them.
type keyedGatehouse struct {
	*gatehouse
	key secretkey.Key
	// router finds admin API operations in its OpenAPI document.
	router routers.Router
	// url is where this server listens, which is its issuer unless the
	// test configured another (a proxy in front of replicas).
	url string
}

// startKeyedGatehouse starts a whole server, as serve wires it, with key
// as its secret key. Servers started with the same database URL and key are
// replicas of one deployment.
func startKeyedGatehouse(t testing.TB, dbURL string, key secretkey.Key) *keyedGatehouse {
	t.Helper()
	return startConfiguredGatehouse(t, dbURL, key, nil)
}

// startConfiguredGatehouse is startKeyedGatehouse with configure changing
// the configuration first; with a mail server set, the background work
// that sends mail runs too.
func startConfiguredGatehouse(t testing.TB, dbURL string, key secretkey.Key, configure func(*Config)) *keyedGatehouse {
	t.Helper()
	st := storagetest.Open(t, dbURL)
	ts := httptest.NewUnstartedServer(nil)
	issuer := "http://" + ts.Listener.Addr().String()
	cfg := &Config{Addr: ts.Listener.Addr().String(), Issuer: issuer, Database: dbURL, SigningAlg: "RS256",
		AccessTokenTTL: 15 * time.Minute, IDTokenTTL: time.Hour, RefreshTokenTTL: 720 * time.Hour,
		SessionIdle: 30 * time.Minute, SessionMax: 12 * time.Hour, LogFormat: "text", MailFrom: "gatehouse@example.com"}
	if configure != nil {
		configure(cfg)
	}
	srv, err := newServer(context.Background(), cfg, key, st, discardLogger())
	if err != nil {
		t.Fatalf("newServer: %v", err)
	}
	ts.Config.Handler = srv.handler
	ts.Start()
	t.Cleanup(ts.Close)
	if cfg.SMTPURL != "" {
		srv.startBackground(context.Background())
	}
	t.Cleanup(srv.stopBackground)
	return &keyedGatehouse{gatehouse: &gatehouse{t: t, issuer: cfg.Issuer, store: st}, key: key, url: ts.URL}
}

func newSecretKey(t testing.TB) secretkey.Key {
	key, err := secretkey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func eachKeyedGatehouse(t *testing.T, fn func(t *testing.T, g *keyedGatehouse)) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) { fn(t, startKeyedGatehouse(t, b.URL(t), newSecretKey(t))) })
	}
}

// totpCode is a 6-digit RFC 6238 code (HMAC-SHA-1, 30-second steps),
// computed independently of package totp.
func totpCode(secret []byte, step int64) string {
	var counter [8]byte
	binary.BigEndian.PutUint64(counter[:], uint64(step))
	mac := hmac.New(sha1.New, secret)
	mac.Write(counter[:])
	sum := mac.Sum(nil)
	offset := sum[len(sum)-1] & 0x0f
	return fmt.Sprintf("%06d", (binary.BigEndian.Uint32(sum[offset:])&0x7fffffff)%1_000_000)
}

func TestTOTPCodeMatchesRFC6238(t *testing.T) {
	// RFC 6238 Appendix B, SHA-1, the last six of the eight digits.
	secret := []byte("12345678901234567890")
	for unix, want := range map[int64]string{59: "287082", 1111111109: "081804", 1234567890: "005924", 20000000000: "353130"} {
		if got := totpCode(secret, unix/30); got != want {
			t.Errorf("T=%d: %s, want %s", unix, got, want)
		}
	}
}

// phoneApp is a user's authenticator app. It never shows the code of a
// time step twice: a user who already used this step's code waits for the
// next one (the server accepts one step ahead, so no test waits unless
// it signs in three times within 30 seconds).
type phoneApp struct {
	secret []byte
	shown  int64
}

func (app *phoneApp) code() string {
	for {
		current := time.Now().Unix() / 30
		if step := max(current, app.shown+1); step <= current+1 {
			app.shown = step
			return totpCode(app.secret, step)
		}
		time.Sleep(time.Until(time.Unix((current+1)*30, 0)))
	}
}

// wrongCode is a well-formed code that no step near now accepts.
func (app *phoneApp) wrongCode() string {
	current := time.Now().Unix() / 30
	for n := 0; ; n++ {
		code := fmt.Sprintf("%06d", (n*7919+123456)%1_000_000)
		collides := false
		for step := current - 3; step <= current+3; step++ {
			collides = collides || totpCode(app.secret, step) == code
		}
		if !collides {
			return code
		}
	}
}

// enrollApp gives user a confirmed TOTP factor, stored as the enrollment
// pages would: encrypted under the key derived from the server's secret key.
func (g *keyedGatehouse) enrollApp(user *storage.User) *phoneApp {
	g.t.Helper()
	ctx := context.Background()
	secret := make([]byte, totp.SecretSize)
	rand.Read(secret)
	f := &storage.Factor{ID: storage.NewFactorID(), UserID: user.ID, Kind: mfa.FactorTOTP, Name: "Phone"}
	sealed, err := totp.Encrypt(g.key.Derive(secretkey.PurposeTOTPSecrets), user.ID, f.ID, secret)
	if err != nil {
		g.t.Fatal(err)
	}
	f.Secret = sealed
	if err := g.store.Factors().CreatePending(ctx, f); err != nil {
		g.t.Fatal(err)
	}
	if err := g.store.Factors().Confirm(ctx, user.ID, f.ID, 1, time.Now().Add(-time.Minute)); err != nil {
		g.t.Fatal(err)
	}
	return &phoneApp{secret: secret}
}

// strictRelyingParty is an application registered to require a second
// factor of every user.
func (g *keyedGatehouse) strictRelyingParty(name string) *relyingParty {
	g.t.Helper()
	secret, digest := storage.NewSecret()
	c := &storage.Client{Name: name, SecretHash: digest, RedirectURIs: storage.StringList{"https://rp.example.com/" + name + "/cb"},
		RequireMFA: true}
	if err := g.store.Clients().Create(context.Background(), c); err != nil {
		g.t.Fatal(err)
	}
	provider, err := oidc.NewProvider(context.Background(), g.issuer)
	if err != nil {
		g.t.Fatalf("discovery: %v", err)
	}
	return &relyingParty{t: g.t, g: g.gatehouse,
		oauth: oauth2.Config{ClientID: c.ID, ClientSecret: secret, Endpoint: provider.Endpoint(),
			RedirectURL: c.RedirectURIs[0], Scopes: []string{oidc.ScopeOpenID, "email", "offline_access"}},
		verifier: provider.Verifier(&oidc.Config{ClientID: c.ID})}
}

func isCodePage(p page) bool {
	return p.url.Path == "/login/otp" && strings.Contains(p.body, `autocomplete="one-time-code"`) &&
		strings.Contains(p.body, "Enter the code from your authenticator app")
}

// enterCode submits the code page.
func enterCode(t *testing.T, b *browser, p page, code string) page {
	t.Helper()
	if !isCodePage(p) {
		t.Fatalf("expected the code page, got %d at %s:\n%.1500s", p.status, p.url, p.body)
	}
	return b.submit(p, map[string]string{"code": code})
}

// signInWithApp runs the password page and then the code page.
func signInWithApp(t *testing.T, b *browser, p page, email, pass string, app *phoneApp) page {
	t.Helper()
	return enterCode(t, b, signIn(t, b, p, email, pass), app.code())
}

var bothFactors = []string{"pwd", "otp", "mfa"}

const acrMFA = "urn:gatehouse:acr:mfa"

func wantMFA(t *testing.T, got *tokens) {
	t.Helper()
	if !slices.Equal(got.claims.AMR, bothFactors) || got.claims.ACR != acrMFA {
		t.Fatalf("amr %v acr %q, want %v and %s", got.claims.AMR, got.claims.ACR, bothFactors, acrMFA)
	}
}

func TestSignInWithTOTPThroughTheHostedPages(t *testing.T) {
	eachKeyedGatehouse(t, func(t *testing.T, g *keyedGatehouse) {
		u := g.user("ada@example.com", "correct horse battery")
		app := g.enrollApp(u)
		rp := g.relyingParty("app")
		b := newBrowser(t)

		f, p := rp.start(b)
		before := time.Now().Unix()
		codePage := signIn(t, b, p, "ada@example.com", "correct horse battery")
		wrong := enterCode(t, b, codePage, app.wrongCode())
		if wrong.status != http.StatusUnauthorized || !strings.Contains(wrong.body, "That code didn&#39;t work. Check your app and try again.") {
			t.Fatalf("wrong code: %d\n%.1500s", wrong.status, wrong.body)
		}
		got := f.finish(enterCode(t, b, wrong, app.code()))
		wantMFA(t, got)
		if got.id.Subject != u.ID || got.claims.AuthTime < before-1 || got.claims.AuthTime > time.Now().Unix()+1 {
			t.Fatalf("sub %q auth_time %d, want %q and the password's time", got.id.Subject, got.claims.AuthTime, u.ID)
		}

		// Introspection and a refreshed ID token say the same.
		m := rp.introspect(got.oauth.AccessToken)
		if m["active"] != true || m["acr"] != acrMFA || fmt.Sprint(m["amr"]) != fmt.Sprint(bothFactors) ||
			m["auth_time"] != float64(got.claims.AuthTime) {
			t.Fatalf("introspection = %v", m)
		}
		_, rc := rp.refresh(got.oauth.RefreshToken)
		if !slices.Equal(rc.AMR, bothFactors) || rc.ACR != acrMFA || rc.AuthTime != got.claims.AuthTime {
			t.Fatalf("refreshed ID token %+v, want the original's", rc)
		}

		// Single sign-on: another application gets both factors without a page.
		f, p = g.relyingParty("other").start(b)
		wantMFA(t, f.finish(p))

		// prompt=login asks for both factors again.
		f, p = rp.start(b, oauth2.SetAuthURLParam("prompt", "login"))
		wantMFA(t, f.finish(signInWithApp(t, b, p, "ada@example.com", "correct horse battery", app)))
	})
}

func TestMaxAgeAsksForBothFactorsAgain(t *testing.T) {
	eachKeyedGatehouse(t, func(t *testing.T, g *keyedGatehouse) {
		u := g.user("grace@example.com", "correct horse battery")
		app := g.enrollApp(u)
		rp := g.relyingParty("app")
		b := newBrowser(t)
		f, p := rp.start(b)
		first := f.finish(signInWithApp(t, b, p, u.Email, "correct horse battery", app))
		wantMFA(t, first)

		time.Sleep(1100 * time.Millisecond) // auth_time has one-second resolution
		f, p = rp.start(b, oauth2.SetAuthURLParam("max_age", "0"))
		again := f.finish(signInWithApp(t, b, p, u.Email, "correct horse battery", app))
		wantMFA(t, again)
		if again.claims.AuthTime <= first.claims.AuthTime {
			t.Fatalf("max_age=0: auth_time %d did not move past %d", again.claims.AuthTime, first.claims.AuthTime)
		}
	})
}

func TestStepUpToTOTP(t *testing.T) {
	eachKeyedGatehouse(t, func(t *testing.T, g *keyedGatehouse) {
		u := g.user("step@example.com", "correct horse battery")
		rp := g.relyingParty("app")
		b := newBrowser(t)
		f, p := rp.start(b)
		signedIn := f.finish(signIn(t, b, p, u.Email, "correct horse battery"))
		if signedIn.claims.ACR != "urn:gatehouse:acr:pwd" {
			t.Fatalf("acr %q before the app, want the password's", signedIn.claims.ACR)
		}
		// The user sets up an app; the browser's session proved the password only.
		app := g.enrollApp(u)

		f, p = rp.start(b, oauth2.SetAuthURLParam("prompt", "none"), oauth2.SetAuthURLParam("acr_values", acrMFA))
		if e := f.errorOf(p); e != "interaction_required" {
			t.Fatalf("prompt=none with the code missing: %q, want interaction_required", e)
		}
		// Step-up: the code alone, no password page.
		f, p = rp.start(b, oauth2.SetAuthURLParam("acr_values", acrMFA))
		stepped := f.finish(enterCode(t, b, p, app.code()))
		wantMFA(t, stepped)
		if stepped.claims.AuthTime != signedIn.claims.AuthTime {
			t.Fatalf("auth_time %d after step-up, want the password's %d", stepped.claims.AuthTime, signedIn.claims.AuthTime)
		}
	})
}

func TestACRRequestsWithTOTP(t *testing.T) {
	essential := func(values ...string) oauth2.AuthCodeOption {
		b, _ := json.Marshal(map[string]any{"id_token": map[string]any{"acr": map[string]any{"essential": true, "values": values}}})
		return oauth2.SetAuthURLParam("claims", string(b))
	}
	eachKeyedGatehouse(t, func(t *testing.T, g *keyedGatehouse) {
		withApp := g.user("app@example.com", "correct horse battery")
		app := g.enrollApp(withApp)
		g.user("plain@example.com", "correct horse battery")
		rp := g.relyingParty("app")

		t.Run("an essential level that cannot be met is access_denied", func(t *testing.T) {
			b := newBrowser(t)
			f, p := rp.start(b, essential("urn:gatehouse:acr:phr"))
			if e := f.errorOf(p); e != "access_denied" {
				t.Fatalf("essential phr: %q, want access_denied", e)
			}
		})
		t.Run("essential pwd or mfa gets one of them", func(t *testing.T) {
			b := newBrowser(t)
			f, p := rp.start(b, essential("urn:gatehouse:acr:pwd", acrMFA))
			got := f.finish(signInWithApp(t, b, p, withApp.Email, "correct horse battery", app))
			wantMFA(t, got)

			b = newBrowser(t)
			f, p = rp.start(b, essential("urn:gatehouse:acr:pwd", acrMFA))
			got = f.finish(signIn(t, b, p, "plain@example.com", "correct horse battery"))
			if got.claims.ACR != "urn:gatehouse:acr:pwd" {
				t.Fatalf("a user without an app: acr %q, want urn:gatehouse:acr:pwd", got.claims.ACR)
			}
			// The same browser, essential phr with prompt=none: interaction_required.
			f, p = rp.start(b, essential("urn:gatehouse:acr:phr"), oauth2.SetAuthURLParam("prompt", "none"))
			if e := f.errorOf(p); e != "interaction_required" {
				t.Fatalf("essential phr with prompt=none: %q, want interaction_required", e)
			}
		})
		t.Run("acr_values mfa for a user without an app leads to enrollment", func(t *testing.T) {
			b := newBrowser(t)
			_, p := rp.start(b, oauth2.SetAuthURLParam("acr_values", acrMFA))
			p = signIn(t, b, p, "plain@example.com", "correct horse battery")
			if p.url.Path != "/login/enroll" {
				t.Fatalf("ended at %s, want the enrollment step", p.url)
			}
		})
	})
}

func TestClientRequiringMFA(t *testing.T) {
	eachKeyedGatehouse(t, func(t *testing.T, g *keyedGatehouse) {
		u := g.user("strict@example.com", "correct horse battery")
		app := g.enrollApp(u)
		g.user("plain@example.com", "correct horse battery")
		rp := g.strictRelyingParty("strict")

		b := newBrowser(t)
		f, p := rp.start(b)
		wantMFA(t, f.finish(signInWithApp(t, b, p, u.Email, "correct horse battery", app)))

		b = newBrowser(t)
		_, p = rp.start(b)
		if p = signIn(t, b, p, "plain@example.com", "correct horse battery"); p.url.Path != "/login/enroll" {
			t.Fatalf("a user without an app ended at %s, want the enrollment step", p.url)
		}
	})
}

func TestTOTPReplayAcrossReplicas(t *testing.T) {
	if os.Getenv(storagetest.EnvPostgres) == "" {
		t.Skip(storagetest.EnvPostgres + " is not set")
	}
	dbURL := storagetest.PostgresURL(t)
	key := newSecretKey(t)
	one, two := startKeyedGatehouse(t, dbURL, key), startKeyedGatehouse(t, dbURL, key)
	u := one.user("replica@example.com", "correct horse battery")
	app := one.enrollApp(u)

	laptop := newBrowser(t)
	f, p := one.relyingParty("one").start(laptop)
	code := app.code()
	wantMFA(t, f.finish(enterCode(t, laptop, signIn(t, laptop, p, u.Email, "correct horse battery"), code)))

	// Someone who saw the code tries it on the other replica.
	other := newBrowser(t)
	rp := two.relyingParty("two")
	f, p = rp.start(other)
	codePage := signIn(t, other, p, u.Email, "correct horse battery")
	replayed := enterCode(t, other, codePage, code)
	if replayed.status != http.StatusUnauthorized || !strings.Contains(replayed.body, "already used") {
		t.Fatalf("a replayed code on another replica: %d\n%.1500s", replayed.status, replayed.body)
	}
	// The app's next code works there.
	wantMFA(t, f.finish(enterCode(t, other, replayed, app.code())))
}
