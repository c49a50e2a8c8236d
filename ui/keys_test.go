package ui

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"
	"golang.org/x/net/html"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

// keyListed is the text of each key the settings list.
func keyListed(t *testing.T, doc *html.Node) []string {
	t.Helper()
	var out []string
	for _, li := range find(doc, func(n *html.Node) bool { c, _ := attr(n, "class"); return c == "session key-row" }) {
		out = append(out, text(find(li, func(n *html.Node) bool { c, _ := attr(n, "class"); return c == "factor-name" })[0]))
	}
	return out
}

// refusals are the details of the refused-key events about user ("" for
// none), newest first.
func (e *testEnv) refusals(userID string) []string {
	var out []string
	for _, ev := range e.auditEvents(directory.EventKeyRefused) {
		if ev.SubjectID == userID {
			out = append(out, string(ev.Details))
		}
	}
	return out
}

func wantRefusal(t *testing.T, e *testEnv, userID, reason string) {
	t.Helper()
	got := e.refusals(userID)
	if len(got) == 0 || !strings.Contains(got[0], `"reason":"`+reason) {
		t.Errorf("refused-key events %q, want the newest with reason %q", got, reason)
	}
}

// TestSecurityKeysFromTheSettings: a user adds keys with names from the
// security settings (the first one brings the recovery codes), sees them
// listed with their kind, renames them, and removes them with a second
// factor proved in the last ten minutes, never the last one an
// organisation requires.
func TestSecurityKeysFromTheSettings(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		e := keysEnv(t, store)
		notes := &recordingNotifier{}
		e.ui.dir.SetNotifier(notes)
		e.signInAs(e.user, time.Now())
		doc := page(t, e.get(accountHome))
		element(t, doc, "keys-none")
		if href, _ := attr(element(t, doc, "add-key"), "href"); href != "/account/security/keys/add" {
			t.Errorf("add-key links %q", href)
		}

		key := newDevice(e.user, false)
		resp := e.registerKey(key, "  Blue key ")
		wantStatus(t, resp, http.StatusOK)
		if codes := shownCodes(t, page(t, resp)); len(codes) != 10 {
			t.Fatalf("the first key showed %d recovery codes, want 10", len(codes))
		}
		keys := e.keys(e.user)
		if len(keys) != 1 || keys[0].Name != "Blue key" || string(keys[0].CredentialID) != string(key.Cred.ID) {
			t.Fatalf("keys %+v", keys)
		}
		if got := e.userEvents(directory.EventKeyAdded, e.user); len(got) != 1 {
			t.Errorf("%d key-added events, want 1", len(got))
		}
		if !slices.Contains(notes.events, e.user.Email+" "+string(directory.EventKeyAdded)) {
			t.Errorf("the user was not told: %q", notes.events)
		}
		// The settings now ask for the new key once: the sign-in runs
		// again, and its key step upgrades the session.
		wantSignInRedirect(t, e.get(accountHome))
		e.signInAs(e.user, time.Now(), "pwd", "hwk", "user", "mfa")

		// A second key, a synced passkey without a name: the codes stay.
		phone := newDevice(e.user, true)
		wantRedirect(t, e.registerKey(phone, ""), accountHome+"?done=key-added")
		if n := e.remainingCodes(e.user); n != 10 {
			t.Errorf("%d recovery codes after the second key, want the first key's 10", n)
		}
		doc = page(t, e.get(accountHome+"?done=key-added"))
		if got := keyListed(t, doc); !slices.Equal(got, []string{"Blue key Security key", "Passkey Synced passkey"}) {
			t.Errorf("listed %q", got)
		}
		element(t, doc, "recovery-codes-left")

		// The same key twice: the options exclude it; a browser that
		// ignores them is refused.
		resp = e.get("/account/security/keys/add")
		f := readKeyForm(t, resp, "create")
		o, err := virtualwebauthn.ParseAttestationOptions(f.options)
		must(t, err)
		if !key.Cred.IsExcludedForAttestation(*o) || !phone.Cred.IsExcludedForAttestation(*o) {
			t.Error("the registration does not exclude the keys the user has")
		}
		wantStatus(t, e.answer(f, key.create(t, f.options), "name", "again"), http.StatusConflict)
		wantRefusal(t, e, e.user.ID, "key_registered_already")
		if n := len(e.keys(e.user)); n != 2 {
			t.Errorf("%d keys, want 2", n)
		}

		// Renaming.
		keys = e.keys(e.user)
		wantRedirect(t, e.post("/account/security/keys/rename", url.Values{"key": {keys[1].ID}, "name": {"Phone"}}), accountHome+"?done=key-renamed")
		if got := e.keys(e.user)[1].Name; got != "Phone" {
			t.Errorf("renamed to %q", got)
		}
		if got := e.userEvents(directory.EventKeyRenamed, e.user); len(got) != 1 {
			t.Errorf("%d rename events", len(got))
		}
		for _, bad := range []string{"two\nlines", strings.Repeat("k", 65), "nul\x00"} {
			wantStatus(t, e.post("/account/security/keys/rename", url.Values{"key": {keys[1].ID}, "name": {bad}}), http.StatusBadRequest)
		}
		if got := e.keys(e.user)[1].Name; got != "Phone" {
			t.Errorf("a bad name was stored: %q", got)
		}
		stranger := e.newUser()
		theirs := e.addKey(stranger, newDevice(stranger, false), "Theirs")
		wantStatus(t, e.post("/account/security/keys/rename", url.Values{"key": {theirs.ID}, "name": {"Mine"}}), http.StatusNotFound)

		// Without an app, a key used in the last ten minutes stands in for
		// the code that new recovery codes need.
		doc = page(t, e.get("/account/security/codes/regenerate"))
		if len(find(doc, byID("code"))) != 0 {
			t.Error("the regeneration asks a user without an app for a code")
		}
		resp = e.post("/account/security/codes/regenerate", url.Values{})
		wantStatus(t, resp, http.StatusOK)
		if codes := shownCodes(t, page(t, resp)); len(codes) != 10 || !e.recoveryCodeWorks(e.user, codes[0]) {
			t.Errorf("regenerated codes %q", codes)
		}

		// Removing needs a second factor in the last ten minutes: a recent
		// password is not enough.
		removeURL := "/account/security/keys/remove?key=" + keys[0].ID
		e.setCookie(e.sessionWith(e.user, time.Now(), time.Now().Add(-11*time.Minute), "pwd", "hwk", "user", "mfa"))
		q := wantSignInRedirect(t, e.get(removeURL))
		if q.Get("max_age") != "600" {
			t.Errorf("max_age %q, want 600", q.Get("max_age"))
		}
		wantSignInRedirect(t, e.post("/account/security/keys/remove", url.Values{"key": {keys[0].ID}}))
		wantSignInRedirect(t, e.post("/account/security/codes/regenerate", url.Values{}))
		e.signInAs(e.user, time.Now(), "pwd", "hwk", "user", "mfa")
		element(t, page(t, e.get(removeURL)), "remove-key")
		wantStatus(t, e.get("/account/security/keys/remove?key="+theirs.ID), http.StatusNotFound)
		wantRedirect(t, e.post("/account/security/keys/remove", url.Values{"key": {keys[0].ID}}), accountHome+"?done=key-removed")
		if left := e.keys(e.user); len(left) != 1 || left[0].ID != keys[1].ID {
			t.Errorf("left %+v", left)
		}
		if got := e.userEvents(directory.EventKeyRemoved, e.user); len(got) != 1 {
			t.Errorf("%d key-removed events", len(got))
		}
		if n := e.remainingCodes(e.user); n != 9 {
			t.Errorf("%d recovery codes after removing one of two keys, want the 9 unused", n)
		}

		// The last factor stays while an organisation requires one.
		org := e.addOrg(e.user, "Acme")
		resp = e.get("/account/security/keys/remove?key=" + keys[1].ID)
		if got := text(element(t, page(t, resp), "refusal")); got != "Your organisation Acme requires two-step verification, so this key cannot be removed." {
			t.Errorf("refusal %q", got)
		}
		wantStatus(t, e.post("/account/security/keys/remove", url.Values{"key": {keys[1].ID}}), http.StatusForbidden)
		if len(e.keys(e.user)) != 1 {
			t.Fatal("the last key was removed despite the organisation")
		}
		must(t, store.Orgs().RemoveMember(context.Background(), org.ID, e.user.ID))
		wantRedirect(t, e.post("/account/security/keys/remove", url.Values{"key": {keys[1].ID}}), accountHome+"?done=key-removed")
		if n := e.remainingCodes(e.user); n != 0 || len(e.keys(e.user)) != 0 {
			t.Errorf("after the last key: %d codes, %d keys; want none", n, len(e.keys(e.user)))
		}
	})
}

// TestKeyRegistrationBadInput: answers that are not a registration of a
// new key for this user, in this browser, are refused with a message and
// an audit event, and store nothing.
func TestKeyRegistrationBadInput(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		e := keysEnv(t, store)
		e.signInAs(e.user, time.Now())
		key := newDevice(e.user, false)
		fresh := func() keyForm { return readKeyForm(t, e.get("/account/security/keys/add"), "create") }
		evil := virtualwebauthn.RelyingParty{ID: "localhost", Origin: "https://evil.example"}
		cases := []struct {
			name   string
			post   func() *http.Response
			reason string
		}{
			{"wrong origin", func() *http.Response {
				f := fresh()
				o, _ := virtualwebauthn.ParseAttestationOptions(f.options)
				return e.answer(f, virtualwebauthn.CreateAttestationResponse(evil, key.Auth, key.Cred, *o))
			}, "registration_refused"},
			{"wrong rp id", func() *http.Response {
				f := fresh()
				o, _ := virtualwebauthn.ParseAttestationOptions(f.options)
				return e.answer(f, virtualwebauthn.CreateAttestationResponse(virtualwebauthn.RelyingParty{ID: "evil.example", Origin: theBrowser.Origin}, key.Auth, key.Cred, *o))
			}, "registration_refused"},
			{"malformed", func() *http.Response { return e.answer(fresh(), `{"id":"AA","type":"public-key","response":{}}`) }, "registration_refused"},
			{"empty", func() *http.Response { return e.answer(fresh(), "") }, "malformed"},
			{"oversized", func() *http.Response { return e.answer(fresh(), strings.Repeat("a", maxKeyResponse+1)) }, "malformed"},
			{"unknown challenge", func() *http.Response {
				f := fresh()
				f.fields.Set("ceremony", "nope")
				return e.answer(f, key.create(t, f.options))
			}, "challenge_unknown"},
			{"replayed challenge", func() *http.Response {
				f := fresh()
				e.answer(f, "{}")
				return e.answer(f, key.create(t, f.options))
			}, "challenge_unknown"},
			{"another user's ceremony", func() *http.Response {
				other := e.browser(t)
				bob := e.newUser()
				other.signInAs(bob, time.Now())
				f := readKeyForm(t, other.get("/account/security/keys/add"), "create")
				return e.answer(f, key.create(t, f.options))
			}, "ceremony_mismatch"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				resp := tc.post()
				wantStatus(t, resp, http.StatusBadRequest)
				element(t, page(t, resp), "form-error")
				wantRefusal(t, e, e.user.ID, tc.reason)
				if n := len(e.keys(e.user)); n != 0 {
					t.Fatalf("%d keys stored", n)
				}
			})
		}
	})
}

// atKeyStep gives a new browser a password session for user and a request
// the dispatcher sends to the key step.
func (e *testEnv) atKeyStep(t *testing.T, user *storage.User, change func(a *storage.AuthRequest)) (*testEnv, *storage.AuthRequest) {
	t.Helper()
	b := e.browser(t)
	b.setCookie(b.addSession(user, time.Now().Add(-time.Minute).UTC().Truncate(time.Microsecond), time.Now().Add(time.Hour)))
	a := b.addAuthRequest(change)
	wantRedirect(t, b.get(dispatcherURL(a.ID)), keyStepURL(a.ID))
	return b, a
}

// TestSecurityKeyAtTheSecondFactorStep: after the password, a user with a
// key is asked for it first and may switch to the app or a recovery code.
// The assertion goes through the same checks as a code: the lockout, the
// session upgrade, the audit log; its signature counter only grows.
func TestSecurityKeyAtTheSecondFactorStep(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		e := keysEnv(t, store)
		key := newDevice(e.user, false)
		f := e.addKey(e.user, key, "YubiKey")
		e.addTOTP(e.user)
		b, a := e.atKeyStep(t, e.user, nil)
		oldCookie := b.cookie()

		resp := b.get(keyStepURL(a.ID))
		wantStatus(t, resp, http.StatusOK)
		body := body(t, resp)
		for _, want := range []string{`id="use-app" href="/login/otp?id=` + a.ID, `id="use-recovery-code"`, `id="use-access-pass"`, `src="/static/webauthn.js?v=`} {
			if !strings.Contains(body, want) {
				t.Errorf("the key step lacks %s", want)
			}
		}
		// The app's page offers the key back.
		if href, _ := attr(element(t, page(t, b.get(otpStepURL(a.ID))), "use-key"), "href"); href != keyStepURL(a.ID) {
			t.Errorf("the code page links %q", href)
		}

		form := readKeyForm(t, b.get(keyStepURL(a.ID)), "get")
		o, err := virtualwebauthn.ParseAssertionOptions(form.options)
		must(t, err)
		if !slices.Equal(o.AllowCredentials, []string{base64.RawURLEncoding.EncodeToString(key.Cred.ID)}) || o.RelyingPartyID != "localhost" {
			t.Errorf("options %+v: want the user's key and the issuer's host", o)
		}
		// Another key claiming this key's id: a wrong answer, counted.
		clone := newDevice(e.user, false)
		clone.Cred.ID = key.Cred.ID
		resp = b.answer(form, clone.get(t, form.options))
		wantStatus(t, resp, http.StatusUnauthorized)
		if got := formError(page(t, resp)); got != msgKeyRefused {
			t.Errorf("error %q", got)
		}
		if n := b.mfaFailures(e.user); n != 1 {
			t.Errorf("%d failures, want 1", n)
		}
		// The same challenge again: used up, refused unchecked.
		wantStatus(t, b.answer(form, key.get(t, form.options)), http.StatusBadRequest)
		wantRefusal(t, e, e.user.ID, "challenge_unknown")
		if n := b.mfaFailures(e.user); n != 1 {
			t.Errorf("%d failures after a used challenge, want still 1", n)
		}

		form = readKeyForm(t, b.get(keyStepURL(a.ID)), "get")
		start := time.Now()
		wantRedirect(t, b.answer(form, key.get(t, form.options)), dispatcherURL(a.ID))
		if b.cookie() == oldCookie || b.sessionLive(oldCookie) {
			t.Error("the session did not move to a new id")
		}
		s := b.liveSession(b.cookie())
		if !slices.Equal(s.AMR, []string{"pwd", "hwk", "user", "mfa"}) || s.MFATime == nil || s.MFATime.Before(start.Add(-time.Second)) {
			t.Errorf("session amr %q, mfa time %v", s.AMR, s.MFATime)
		}
		if n := b.mfaFailures(e.user); n != 0 {
			t.Errorf("%d failures after a success", n)
		}
		stored := e.keys(e.user)[0]
		if stored.LastUsedStep != int64(key.Cred.Counter) || stored.LastUsedAt == nil {
			t.Errorf("stored counter %d (last used %v), want %d", stored.LastUsedStep, stored.LastUsedAt, key.Cred.Counter)
		}
		if got := e.userEvents(directory.EventSecondFactorOK, e.user); len(got) != 1 || !strings.Contains(string(got[0].Details), f.ID) {
			t.Errorf("second-factor events %+v", got)
		}
		wantRedirect(t, b.get(dispatcherURL(a.ID)), testCallbackURL(a.ID))
		if got := b.authRequest(a.ID); got.ACR != mfa.ACRPhishingResistant || !slices.Equal(got.AMR, []string{"pwd", "hwk", "user", "mfa"}) {
			t.Errorf("completed with acr %q, amr %q", got.ACR, got.AMR)
		}

		// A counter that goes back: a cloned key, refused and recorded.
		b2, a2 := e.atKeyStep(t, e.user, nil)
		form = readKeyForm(t, b2.get(keyStepURL(a2.ID)), "get")
		key.Cred.Counter = 0
		resp = b2.answer(form, key.get(t, form.options))
		wantStatus(t, resp, http.StatusUnauthorized)
		if got := formError(page(t, resp)); got != msgKeyCounter {
			t.Errorf("error %q", got)
		}
		failed := e.userEvents(directory.EventFactorFailed, e.user)
		if len(failed) == 0 || !strings.Contains(failed[0].Details, `"reason":"counter_went_back"`) {
			t.Errorf("failure events %+v", failed)
		}
	})
}

// TestKeyStepBadInput: answers that are not this user's key answering
// this browser's challenge are refused with a message and an audit event,
// without counting as guesses or changing the session.
func TestKeyStepBadInput(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		e := keysEnv(t, store)
		key := newDevice(e.user, false)
		e.addKey(e.user, key, "YubiKey")
		bob := e.newUser()
		bobKey := newDevice(bob, false)
		e.addKey(bob, bobKey, "Bob's")
		b, a := e.atKeyStep(t, e.user, nil)
		cookie := b.cookie()
		fresh := func() keyForm { return readKeyForm(t, b.get(keyStepURL(a.ID)), "get") }
		cases := []struct {
			name, reason string
			post         func() *http.Response
		}{
			{"malformed", "malformed", func() *http.Response { return b.answer(fresh(), "{}") }},
			{"not json", "malformed", func() *http.Response { return b.answer(fresh(), "\x01") }},
			{"another user's key", "unknown_key", func() *http.Response {
				f := fresh()
				o, _ := virtualwebauthn.ParseAssertionOptions(f.options)
				o.AllowCredentials = nil
				return b.answer(f, virtualwebauthn.CreateAssertionResponse(theBrowser, bobKey.Auth, bobKey.Cred, *o))
			}},
			{"unknown key", "unknown_key", func() *http.Response {
				f := fresh()
				o, _ := virtualwebauthn.ParseAssertionOptions(f.options)
				stranger := newDevice(e.user, false)
				return b.answer(f, virtualwebauthn.CreateAssertionResponse(theBrowser, stranger.Auth, stranger.Cred, *o))
			}},
			{"no challenge", "challenge_unknown", func() *http.Response {
				f := fresh()
				f.fields.Del("ceremony")
				return b.answer(f, key.get(t, f.options))
			}},
			{"another browser's challenge", "ceremony_mismatch", func() *http.Response {
				other, a2 := e.atKeyStep(t, bob, nil)
				theirs := readKeyForm(t, other.get(keyStepURL(a2.ID)), "get")
				f := fresh()
				f.fields.Set("ceremony", theirs.ceremony)
				return b.answer(f, key.get(t, f.options))
			}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				resp := tc.post()
				wantStatus(t, resp, http.StatusBadRequest)
				if formError(page(t, resp)) == "" {
					t.Error("no message")
				}
				wantRefusal(t, e, e.user.ID, tc.reason)
				if n := b.mfaFailures(e.user); n != 0 {
					t.Errorf("%d failures counted", n)
				}
				if b.cookie() != cookie || !slices.Equal(b.liveSession(cookie).AMR, []string{"pwd"}) {
					t.Error("the session changed")
				}
			})
		}
		// An expired challenge.
		f := fresh()
		_, err := store.Ceremonies().DeleteExpired(context.Background(), time.Now().Add(time.Hour), 1000)
		must(t, err)
		wantStatus(t, b.answer(f, key.get(t, f.options)), http.StatusBadRequest)
	})
}

// TestPasskeySignIn: the password page offers passkeys; one that verified
// its user signs in alone, as two factors. One that did not is refused as
// a sign-in; the account's second-factor lock holds; a disabled user and
// an unknown passkey are refused.
func TestPasskeySignIn(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		e := keysEnv(t, store)
		phone := newDevice(e.user, true)
		e.addKey(e.user, phone, "Phone")
		passkeyForm := func(b *testEnv, id string) keyForm {
			resp := b.get(passwordURL(id))
			wantStatus(t, resp, http.StatusOK)
			return readKeyForm(t, resp, "passkey")
		}

		b := e.browser(t)
		a := b.addAuthRequest(nil)
		resp := b.get(passwordURL(a.ID))
		doc := page(t, resp)
		if ac, _ := attr(element(t, doc, "email"), "autocomplete"); ac != "username webauthn" {
			t.Errorf("email autocomplete %q, want passkeys in the autofill", ac)
		}
		element(t, doc, "sign-in-with-passkey")
		form := passkeyForm(b, a.ID)
		o, err := virtualwebauthn.ParseAssertionOptions(form.options)
		must(t, err)
		if len(o.AllowCredentials) != 0 || !strings.Contains(form.options, `"userVerification":"required"`) {
			t.Errorf("passkey options %s: want any passkey, verifying its user", form.options)
		}
		wantRedirect(t, b.answer(form, phone.get(t, form.options)), dispatcherURL(a.ID))
		s := b.liveSession(b.cookie())
		if s.UserID != e.user.ID || !slices.Equal(s.AMR, []string{"swk", "user", "mfa"}) || s.MFATime == nil {
			t.Errorf("session %+v", s)
		}
		wantRedirect(t, b.get(dispatcherURL(a.ID)), testCallbackURL(a.ID))
		if got := b.authRequest(a.ID); got.ACR != mfa.ACRPhishingResistant || !slices.Equal(got.AMR, []string{"swk", "user", "mfa"}) || got.Subject != e.user.ID {
			t.Errorf("completed as %q with acr %q, amr %q", got.Subject, got.ACR, got.AMR)
		}
		if got := e.userEvents(directory.EventPasskeyOK, e.user); len(got) != 1 {
			t.Errorf("%d passkey sign-in events", len(got))
		}

		// Without user verification: no sign-in, and no guess counted.
		phone.Auth.Options.UserNotVerified = true
		b = e.browser(t)
		a = b.addAuthRequest(nil)
		form = passkeyForm(b, a.ID)
		resp = b.answer(form, phone.get(t, form.options))
		wantStatus(t, resp, http.StatusUnauthorized)
		if got := formError(page(t, resp)); got != msgPasskeyNoUV {
			t.Errorf("error %q", got)
		}
		if b.cookie() != "" || b.mfaFailures(e.user) != 0 {
			t.Errorf("cookie %q, %d failures: want neither", b.cookie(), b.mfaFailures(e.user))
		}
		wantRefusal(t, e, e.user.ID, "no_user_verification")
		phone.Auth.Options.UserNotVerified = false

		// A wrong signature for a known passkey counts; ten lock it, and a
		// locked account is refused even the right passkey.
		clone := newDevice(e.user, true)
		clone.Cred.ID = phone.Cred.ID
		for i := range 10 {
			form = passkeyForm(b, a.ID)
			resp = b.answer(form, clone.get(t, form.options))
			want := http.StatusUnauthorized
			if i == 9 {
				want = http.StatusTooManyRequests
			}
			wantStatus(t, resp, want)
		}
		form = passkeyForm(b, a.ID)
		resp = b.answer(form, phone.get(t, form.options))
		wantStatus(t, resp, http.StatusTooManyRequests)
		if resp.Header.Get("Retry-After") == "" || b.cookie() != "" {
			t.Errorf("locked: Retry-After %q, cookie %q", resp.Header.Get("Retry-After"), b.cookie())
		}
		must(t, store.RateLimits().Reset(context.Background(), mfaLockKey(e.user.ID)))

		// A disabled user.
		must(t, store.Users().SetDisabled(context.Background(), e.user.ID, true))
		form = passkeyForm(b, a.ID)
		wantStatus(t, b.answer(form, phone.get(t, form.options)), http.StatusForbidden)
		wantRefusal(t, e, e.user.ID, "user_disabled")
		must(t, store.Users().SetDisabled(context.Background(), e.user.ID, false))

		// An unknown passkey, and a challenge of another sign-in.
		stranger := newDevice(e.user, true)
		form = passkeyForm(b, a.ID)
		wantStatus(t, b.answer(form, stranger.get(t, form.options)), http.StatusBadRequest)
		wantRefusal(t, e, "", "unknown_key")
		other := b.addAuthRequest(nil)
		form = passkeyForm(b, a.ID)
		form.fields.Set("id", other.ID)
		wantStatus(t, b.answer(form, phone.get(t, form.options)), http.StatusBadRequest)
		wantRefusal(t, e, "", "ceremony_mismatch")
		if b.cookie() != "" {
			t.Error("a refused passkey signed the browser in")
		}
	})
}

// TestAppAfterAKey: the first factor brought the recovery codes; an app
// added after a key keeps them, and the app's page offers the key back.
func TestAppAfterAKey(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		e := keysEnv(t, store)
		e.addKey(e.user, newDevice(e.user, false), "YubiKey")
		must(t, store.RecoveryCodes().Replace(context.Background(), e.user.ID, [][]byte{[]byte("one"), []byte("two")}))
		e.signInAs(e.user, time.Now(), "pwd", "hwk", "user", "mfa")
		p := e.startAccountEnrollment(false)
		resp := e.post("/account/security/totp/confirm", url.Values{
			"enrollment": {p.enrollment}, "code": {enrollTestCode(p.secret, currentStep()-1)}})
		wantRedirect(t, resp, accountHome+"?done=app-added")
		if e.totpFactor(e.user) == nil {
			t.Fatal("the app was not added")
		}
		if n := e.remainingCodes(e.user); n != 2 {
			t.Errorf("%d recovery codes, want the two the key came with", n)
		}
		// The session proved the app too.
		if s := e.session(e.cookie()); !slices.Equal(s.AMR, []string{"pwd", "hwk", "user", "otp", "mfa"}) {
			t.Errorf("amr %q", s.AMR)
		}
	})
}
