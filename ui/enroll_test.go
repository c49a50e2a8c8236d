package ui

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

// startSignInEnrollment starts adding an app during the sign-in for
// request id and reads the QR code page.
func (e *testEnv) startSignInEnrollment(id string, guide bool) setupPage {
	e.t.Helper()
	form := url.Values{"id": {id}}
	if guide {
		form.Set("guide", "1")
	}
	resp := e.post("/login/enroll/start", form)
	wantStatus(e.t, resp, http.StatusSeeOther)
	loc := resp.Header.Get("Location")
	to, err := url.Parse(loc)
	must(e.t, err)
	if to.Path != "/login/enroll/setup" || to.Query().Get("id") != id {
		e.t.Fatalf("starting an enrollment went to %q", loc)
	}
	return readSetupPage(e.t, e.get(loc))
}

// TestSignInEnrollment: a member of an organisation that requires a second
// factor adds an app during the sign-in, then goes on with both factors.
func TestSignInEnrollment(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		e := accountEnv(t, store)
		notes := &recordingNotifier{}
		e.ui.dir.SetNotifier(notes)
		user := e.newUser()
		e.addOrg(user, "Acme")
		a := e.addAuthRequest(nil)

		wantRedirect(t, e.signIn(a.ID, user.Email, testPassword), "/login?id="+a.ID)
		wantRedirect(t, e.get("/login?id="+a.ID), "/login/enroll?id="+a.ID)
		afterPassword := e.session(e.cookie())

		doc := page(t, e.get("/login/enroll?id="+a.ID))
		if h := heading(t, doc); h != "Set up two-step verification" {
			t.Errorf("heading %q", h)
		}
		if !strings.Contains(text(doc), testClientName) {
			t.Error("the page does not name the application")
		}
		guideURL, _ := attr(element(t, doc, "guide-me"), "href")
		if guideURL != "/login/enroll/guide?id="+a.ID {
			t.Errorf("Guide me goes to %q", guideURL)
		}
		element(t, doc, "skip-to-qr")
		if !strings.Contains(text(page(t, e.get(guideURL))), "Step 1 of 3") {
			t.Error("the guide's first step is missing")
		}

		p := e.startSignInEnrollment(a.ID, true)
		if got := strings.ReplaceAll(p.keyText, " ", ""); !strings.Contains(p.qrURI, "secret="+got) {
			t.Errorf("the QR code %q does not hold the key shown, %q", p.qrURI, p.keyText)
		}
		confirm := func(code string) *http.Response {
			return e.post("/login/enroll/confirm", url.Values{"id": {a.ID}, "enrollment": {p.enrollment}, "code": {code}})
		}
		wantStatus(t, confirm(wrongCode(p.secret)), http.StatusUnauthorized)
		if e.totpFactor(user) != nil {
			t.Fatal("a wrong code activated the app")
		}

		resp := confirm(enrollTestCode(p.secret, currentStep()-1))
		wantStatus(t, resp, http.StatusOK)
		doc = page(t, resp)
		if n := len(shownCodes(t, doc)); n != 10 {
			t.Errorf("%d recovery codes, want 10", n)
		}
		cont := element(t, doc, "continue")
		if href, _ := attr(cont, "href"); href != "/login?id="+a.ID || text(cont) != "Continue" {
			t.Errorf("Continue is %q to %q", text(cont), href)
		}

		// Enrolling proved the app: a new session id, with both factors now.
		s := e.session(e.cookie())
		if slices.Equal(s.IDHash, afterPassword.IDHash) {
			t.Error("the session kept its id")
		}
		if !slices.Equal(s.AMR, storage.StringList{"pwd", "otp", "mfa"}) || s.MFATime == nil || !s.AuthTime.Equal(afterPassword.AuthTime) {
			t.Errorf("session AMR %v, MFA time %v, auth time %v (was %v)", s.AMR, s.MFATime, s.AuthTime, afterPassword.AuthTime)
		}
		events := e.auditEvents(directory.EventTOTPEnrolled)
		if len(events) != 1 || events[0].ClientID != e.app.ID {
			t.Errorf("audit events %+v, want one for the application", events)
		}
		if want := []string{user.Email + " " + string(directory.EventTOTPEnrolled)}; !slices.Equal(notes.events, want) {
			t.Errorf("notified %q, want %q", notes.events, want)
		}

		// Continue: the sign-in completes with both factors.
		wantRedirect(t, e.get("/login?id="+a.ID), "/authorize/callback?id="+a.ID)
		got := e.authRequest(a.ID)
		if !got.Done || got.ACR != mfa.ACRMFA || !slices.Contains(got.AMR, "otp") {
			t.Errorf("request done %v with acr %q amr %v", got.Done, got.ACR, got.AMR)
		}
		// The enrollment pages are done with.
		wantRedirect(t, e.get("/login/enroll?id="+a.ID), "/login?id="+a.ID)
	})
}

// TestSignInEnrollmentIsOnlyForThisSignIn: the pages serve only a browser
// whose sign-in the policy sends there, right after its password.
func TestSignInEnrollmentIsOnlyForThisSignIn(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		env := accountEnv(t, store)

		t.Run("no session", func(t *testing.T) {
			e := env.browser(t)
			a := e.addAuthRequest(nil)
			wantRedirect(t, e.get("/login/enroll?id="+a.ID), "/login?id="+a.ID)
			wantRedirect(t, e.post("/login/enroll/start", url.Values{"id": {a.ID}}), "/login?id="+a.ID)
		})
		t.Run("a password from before this sign-in", func(t *testing.T) {
			e := env.browser(t)
			user := e.newUser()
			e.addOrg(user, "Acme")
			e.signInAs(user, time.Now().Add(-time.Minute))
			a := e.addAuthRequest(nil)
			wantRedirect(t, e.get("/login/enroll?id="+a.ID), "/login/password?id="+a.ID)
			wantRedirect(t, e.post("/login/enroll/start", url.Values{"id": {a.ID}}), "/login/password?id="+a.ID)
			if pending := e.pendingFactors(user); pending != 0 {
				t.Errorf("%d enrollments started", pending)
			}
		})
		t.Run("no second factor required", func(t *testing.T) {
			e := env.browser(t)
			a := e.addAuthRequest(nil)
			e.signInAs(e.newUser(), time.Now())
			wantRedirect(t, e.get("/login/enroll?id="+a.ID), "/login?id="+a.ID)
		})
		t.Run("an app already set up", func(t *testing.T) {
			e := env.browser(t)
			user := e.newUser()
			e.addOrg(user, "Acme")
			e.addTOTP(user)
			a := e.addAuthRequest(nil)
			e.signInAs(user, time.Now())
			wantRedirect(t, e.get("/login/enroll?id="+a.ID), "/login?id="+a.ID)
			wantRedirect(t, e.post("/login/enroll/confirm", url.Values{"id": {a.ID}, "enrollment": {"x"}, "code": {"123456"}}), "/login?id="+a.ID)
		})
		t.Run("another user's enrollment", func(t *testing.T) {
			owner := env.browser(t)
			victim := owner.newUser()
			owner.addOrg(victim, "Victim")
			va := owner.addAuthRequest(nil)
			owner.signInAs(victim, time.Now())
			p := owner.startSignInEnrollment(va.ID, false)

			e := env.browser(t)
			user := e.newUser()
			e.addOrg(user, "Other")
			a := e.addAuthRequest(nil)
			e.signInAs(user, time.Now())
			wantStatus(t, e.get("/login/enroll/setup?id="+a.ID+"&enrollment="+p.enrollment), http.StatusBadRequest)
			resp := e.post("/login/enroll/confirm", url.Values{"id": {a.ID}, "enrollment": {p.enrollment}, "code": {enrollTestCode(p.secret, currentStep())}})
			wantStatus(t, resp, http.StatusBadRequest)
			if e.totpFactor(user) != nil || e.totpFactor(victim) != nil {
				t.Error("another user's enrollment was activated")
			}
		})
		t.Run("unknown and finished requests", func(t *testing.T) {
			e := env.browser(t)
			wantStatus(t, e.get("/login/enroll?id=nope"), http.StatusNotFound)
			wantStatus(t, e.get("/login/enroll"), http.StatusBadRequest)
			wantStatus(t, e.post("/login/enroll/confirm", url.Values{"id": {"%ff"}, "code": {"123456"}}), http.StatusNotFound)
			a := e.addAuthRequest(nil)
			must(t, e.store.AuthRequests().Fail(context.Background(), a.ID, "access_denied", ""))
			wantStatus(t, e.get("/login/enroll?id="+a.ID), http.StatusBadRequest)
		})
	})
}

// pendingFactors counts user's unfinished enrollments.
func (e *testEnv) pendingFactors(user *storage.User) int {
	e.t.Helper()
	var n int
	must(e.t, e.store.DB().QueryRow(`SELECT COUNT(*) FROM factors WHERE user_id = $1 AND confirmed_at IS NULL`, user.ID).Scan(&n))
	return n
}
