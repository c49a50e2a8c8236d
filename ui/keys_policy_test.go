package ui

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/middleware"
	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

// enrollKeyInSignIn adds d during sign-in id from the enrollment pages and
// returns the response to the registration.
func (e *testEnv) enrollKeyInSignIn(id string, d *device) *http.Response {
	e.t.Helper()
	doc := page(e.t, e.get(enrollStepURL(id)))
	if href, _ := attr(element(e.t, doc, "add-security-key"), "href"); href != "/login/enroll/key?id="+url.QueryEscape(id) {
		e.t.Fatalf("add-security-key links %q", href)
	}
	resp := e.get("/login/enroll/key?id=" + url.QueryEscape(id))
	wantStatus(e.t, resp, http.StatusOK)
	f := readKeyForm(e.t, resp, "create")
	if f.action != "/login/enroll/key" || f.fields.Get("id") != id {
		e.t.Fatalf("registration form %+v", f)
	}
	return e.answer(f, d.create(e.t, f.options), "name", "My key")
}

// useKey answers the key step of sign-in id with d.
func (e *testEnv) useKey(id string, d *device) *http.Response {
	e.t.Helper()
	f := readKeyForm(e.t, e.get(keyStepURL(id)), "get")
	return e.answer(f, d.get(e.t, f.options))
}

// TestPhishingResistantMinimum: an organisation that allows security keys
// alone asks a member who has only an app to add a key, offering nothing
// else, once the app proved it is them; the sign-in then asks for the new
// key and reaches phr. The key may not be removed for the app.
func TestPhishingResistantMinimum(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		e := keysEnv(t, store)
		ctx := context.Background()
		org := e.addOrg(e.user, "Acme")
		org.Policy.AllowedFactors = "webauthn"
		must(t, store.Orgs().SetPolicy(ctx, org.ID, org.Policy))
		secret := e.addTOTP(e.user)

		b := e.browser(t)
		a := b.addAuthRequest(nil)
		wantRedirect(t, b.signIn(a.ID, e.user.Email, testPassword), dispatcherURL(a.ID))
		// The password alone never adds a key to an account with an app:
		// the app comes first, and no key can be added before it.
		wantRedirect(t, b.get(dispatcherURL(a.ID)), otpStepURL(a.ID))
		wantRedirect(t, b.get("/login/enroll/key?id="+a.ID), dispatcherURL(a.ID))
		wantRedirect(t, b.postCode(a.ID, enrollTestCode(secret, currentStep())), dispatcherURL(a.ID))
		wantRedirect(t, b.get(dispatcherURL(a.ID)), enrollStepURL(a.ID))
		doc := page(t, b.get(enrollStepURL(a.ID)))
		element(t, doc, "key-required")
		if len(find(doc, byID("guide-me"))) != 0 || len(find(doc, byID("skip-to-qr"))) != 0 {
			t.Error("the app is offered where only a key meets the policy")
		}
		wantRedirect(t, b.get("/login/enroll/guide?id="+a.ID), dispatcherURL(a.ID))

		key := newDevice(e.user, false)
		// The member has recovery codes from the app: no new ones.
		wantRedirect(t, b.enrollKeyInSignIn(a.ID, key), dispatcherURL(a.ID))
		wantRedirect(t, b.get(dispatcherURL(a.ID)), keyStepURL(a.ID))
		if strings.Contains(body(t, b.get(keyStepURL(a.ID))), `id="use-app"`) {
			t.Error("the key step offers the app, which does not meet the policy")
		}
		wantRedirect(t, b.useKey(a.ID, key), dispatcherURL(a.ID))
		wantRedirect(t, b.get(dispatcherURL(a.ID)), testCallbackURL(a.ID))
		if got := b.authRequest(a.ID); got.ACR != mfa.ACRPhishingResistant {
			t.Errorf("acr %q, want phr", got.ACR)
		}

		// The key is what the policy needs: it stays; the app may go.
		b.signInAs(e.user, time.Now(), "pwd", "hwk", "user", "mfa")
		k := e.keys(e.user)[0]
		wantStatus(t, b.post("/account/security/keys/remove", url.Values{"key": {k.ID}}), http.StatusForbidden)
		doc = page(t, b.get("/account/security/totp/disable"))
		if len(find(doc, byID("form-error"))) != 0 {
			t.Errorf("the app may not be removed: %q", formError(doc))
		}
		element(t, doc, "keys-left")
	})
}

// TestEssentialPhishingResistantACR: an essential acr asking for phr is met
// only by a key: a user with only an app is asked for it, then to add one. (Where keys
// are not offered, the request is answered access_denied: cmd/gatehouse's
// TestACRRequestsWithTOTP, whose issuer is an IP address.)
func TestEssentialPhishingResistantACR(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		e := keysEnv(t, store)
		secret := e.addTOTP(e.user)
		b := e.browser(t)
		a := b.addAuthRequest(func(a *storage.AuthRequest) {
			a.Claims = `{"id_token":{"acr":{"essential":true,"values":["` + mfa.ACRPhishingResistant + `"]}}}`
		})
		wantRedirect(t, b.signIn(a.ID, e.user.Email, testPassword), dispatcherURL(a.ID))
		wantRedirect(t, b.get(dispatcherURL(a.ID)), otpStepURL(a.ID))
		wantRedirect(t, b.postCode(a.ID, enrollTestCode(secret, currentStep())), dispatcherURL(a.ID))
		wantRedirect(t, b.get(dispatcherURL(a.ID)), enrollStepURL(a.ID))
		key := newDevice(e.user, true)
		wantRedirect(t, b.enrollKeyInSignIn(a.ID, key), dispatcherURL(a.ID))
		wantRedirect(t, b.useKey(a.ID, key), dispatcherURL(a.ID))
		wantRedirect(t, b.get(dispatcherURL(a.ID)), testCallbackURL(a.ID))
		if got := b.authRequest(a.ID); got.ACR != mfa.ACRPhishingResistant || !slices.Equal(got.AMR, []string{"pwd", "otp", "swk", "user", "mfa"}) {
			t.Errorf("acr %q, amr %q", got.ACR, got.AMR)
		}

	})
}

// TestFirstKeyInSignInEnrollment: a user without any factor whose
// organisation requires one may add a key instead of the app; it brings
// the recovery codes, and an administrator's temporary access pass leads
// to the same choice.
func TestFirstKeyInSignInEnrollment(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		c, lost := passEnv(t, store, withSecurityKeys())
		pass := c.issuePass(lost, "1h0m0s")
		b := c.browser(t)
		a := b.addAuthRequest(nil)
		wantRedirect(t, b.signIn(a.ID, lost.Email, testPassword), dispatcherURL(a.ID))
		// The member has an app and a key offered: the app's step first,
		// which links the pass.
		wantRedirect(t, b.get(dispatcherURL(a.ID)), otpStepURL(a.ID))
		wantRedirect(t, b.post("/login/pass", url.Values{"id": {a.ID}, "pass": {pass}}), dispatcherURL(a.ID))
		wantRedirect(t, b.get(dispatcherURL(a.ID)), enrollStepURL(a.ID))
		doc := page(t, b.get(enrollStepURL(a.ID)))
		element(t, doc, "guide-me")
		key := newDevice(lost, false)
		resp := b.enrollKeyInSignIn(a.ID, key)
		wantStatus(t, resp, http.StatusOK)
		if codes := shownCodes(t, page(t, resp)); len(codes) != 10 {
			t.Fatalf("%d recovery codes with the first factor, want 10", len(codes))
		}
		wantRedirect(t, b.useKey(a.ID, key), dispatcherURL(a.ID))
		wantRedirect(t, b.get(dispatcherURL(a.ID)), testCallbackURL(a.ID))
		if got := b.authRequest(a.ID); !slices.Equal(got.AMR, []string{"pwd", "hwk", "user", "mfa"}) {
			t.Errorf("amr %q", got.AMR)
		}
		if u, err := store.Users().Get(context.Background(), lost.ID); err != nil || u.ReenrollSince != nil {
			t.Errorf("after the key the account still awaits enrolment: %+v, %v", u, err)
		}
	})
}

// TestKeyCeremonyOnAnotherReplica: a ceremony begun on one server finishes
// on another that shares the database, for every purpose.
func TestKeyCeremonyOnAnotherReplica(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		e := keysEnv(t, store)
		other, err := New(e.ui.cfg, store, e.hasher)
		must(t, err)
		r := chi.NewRouter()
		r.Use(middleware.RequestID)
		other.Routes(r)
		replica := httptest.NewServer(r)
		t.Cleanup(replica.Close)
		// The same browser (its cookies go to both: same host) talks to B.
		onB := func(b *testEnv, f keyForm, response string, extra ...string) *http.Response {
			form := url.Values{}
			for k, v := range f.fields {
				form[k] = v
			}
			form.Set("response", response)
			for i := 0; i+1 < len(extra); i += 2 {
				form.Set(extra[i], extra[i+1])
			}
			resp, err := b.client.Post(replica.URL+f.action, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
			must(t, err)
			t.Cleanup(func() { resp.Body.Close() })
			return resp
		}

		// Registration: begun on A, finished on B.
		e.signInAs(e.user, time.Now())
		key := newDevice(e.user, false)
		f := readKeyForm(t, e.get("/account/security/keys/add"), "create")
		wantStatus(t, onB(e, f, key.create(t, f.options), "name", "Desk"), http.StatusOK)
		if n := len(e.keys(e.user)); n != 1 {
			t.Fatalf("%d keys after finishing on the other server", n)
		}

		// The key step.
		b, a := e.atKeyStep(t, e.user, nil)
		f = readKeyForm(t, b.get(keyStepURL(a.ID)), "get")
		wantRedirect(t, onB(b, f, key.get(t, f.options)), dispatcherURL(a.ID))
		if s := b.liveSession(b.cookie()); !slices.Contains(s.AMR, "hwk") {
			t.Errorf("amr %q after the key step on the other server", s.AMR)
		}
		// And a passkey sign-in.
		p := e.browser(t)
		pa := p.addAuthRequest(nil)
		f = readKeyForm(t, p.get(passwordURL(pa.ID)), "passkey")
		wantRedirect(t, onB(p, f, key.get(t, f.options)), dispatcherURL(pa.ID))
		// Once finished on B, the same challenge is gone on A too.
		wantStatus(t, p.answer(f, key.get(t, f.options)), http.StatusBadRequest)
	})
}
