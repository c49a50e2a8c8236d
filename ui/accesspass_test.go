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
	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

// passEnv is a console with a member who has a password and an app.
func passEnv(t *testing.T, store *storage.Store, opts ...envOption) (*consoleEnv, *storage.User) {
	c := newConsoleEnv(t, store, opts...)
	c.ui.cfg.AccessPassKey = randomKey(t)
	lost := c.newUser()
	must(t, store.Orgs().AddMember(context.Background(), c.org.ID, lost.ID, storage.RoleMember))
	c.addTOTP(lost)
	return c, lost
}

// issuePass has the admin issue lost a pass and returns it.
func (c *consoleEnv) issuePass(lost *storage.User, ttl string) string {
	c.t.Helper()
	resp := c.as(c.admin).post("/orgs/acme/members/"+lost.ID+"/access-pass", url.Values{"ttl": {ttl}})
	wantStatus(c.t, resp, http.StatusOK)
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		c.t.Errorf("the pass page may be cached: %q", cc)
	}
	return text(element(c.t, page(c.t, resp), "access-pass"))
}

// TestTemporaryAccessPass: an admin's pass, typed after the password in
// place of the lost factor, is used once, ends the member's other
// sessions, and makes them set up a new factor in that browser, which the
// tokens then show.
func TestTemporaryAccessPass(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		c, lost := passEnv(t, store)
		notes := &recordingNotifier{}
		c.ui.dir.SetNotifier(notes)
		elsewhere := c.browser(t)
		elsewhereCookie := elsewhere.signInAs(lost, time.Now(), "pwd", "otp", "mfa")

		pass := c.issuePass(lost, "1h0m0s")
		if len(strings.ReplaceAll(pass, "-", "")) != 12 {
			t.Fatalf("pass %q", pass)
		}
		if got := c.auditEvents(directory.EventAccessPassIssued); len(got) != 1 || got[0].ActorID != c.admin.ID || got[0].OrgID != c.org.ID {
			t.Errorf("issued events %+v", got)
		}
		if !slices.Contains(notes.events, lost.Email+" "+string(directory.EventAccessPassIssued)) {
			t.Errorf("the member was not told: %q", notes.events)
		}

		b := c.browser(t)
		a := b.addAuthRequest(nil)
		wantRedirect(t, b.signIn(a.ID, lost.Email, testPassword), dispatcherURL(a.ID))
		wantRedirect(t, b.get(dispatcherURL(a.ID)), otpStepURL(a.ID))
		if href, _ := attr(element(t, page(t, b.get(otpStepURL(a.ID))), "use-access-pass"), "href"); href != accessPassURL(a.ID) {
			t.Errorf("the code page links %q", href)
		}
		postPass := func(b *testEnv, id, pass string) *http.Response {
			return b.post("/login/pass", url.Values{"id": {id}, "pass": {pass}})
		}
		wantStatus(t, postPass(b, a.ID, "zzzz-zzzz-zzzz"), http.StatusUnauthorized)
		if n := b.mfaFailures(lost); n != 1 {
			t.Errorf("a wrong pass left %d failures, want 1", n)
		}
		wantStatus(t, postPass(b, a.ID, "abc"), http.StatusBadRequest)
		wantRedirect(t, postPass(b, a.ID, strings.ToUpper(pass)), dispatcherURL(a.ID))
		if c.totpFactor(lost) != nil {
			t.Error("the lost factor survived the pass")
		}
		if elsewhere.sessionLive(elsewhereCookie) {
			t.Error("another session survived the pass")
		}
		// The new factor, in this browser, before going on.
		wantRedirect(t, b.get(dispatcherURL(a.ID)), enrollStepURL(a.ID))
		p := b.startSignInEnrollment(a.ID, false)
		wantStatus(t, b.post("/login/enroll/confirm", url.Values{"id": {a.ID}, "enrollment": {p.enrollment},
			"code": {enrollTestCode(p.secret, currentStep()-1)}}), http.StatusOK)
		wantRedirect(t, b.get(dispatcherURL(a.ID)), testCallbackURL(a.ID))
		if got := b.authRequest(a.ID); !slices.Equal(got.AMR, []string{"pwd", "otp", "mfa"}) {
			t.Errorf("amr %v, want the new factor's", got.AMR)
		}

		// Another member's pass does not work for them, and stays good.
		other := c.newUser()
		must(t, store.Orgs().AddMember(context.Background(), c.org.ID, other.ID, storage.RoleMember))
		c.addTOTP(other)
		theirs := c.issuePass(other, "1h0m0s")
		wrong := c.browser(t)
		a3 := wrong.addAuthRequest(nil)
		wantRedirect(t, wrong.signIn(a3.ID, lost.Email, testPassword), dispatcherURL(a3.ID))
		wantStatus(t, postPass(wrong, a3.ID, theirs), http.StatusUnauthorized)
		rightful := c.browser(t)
		a4 := rightful.addAuthRequest(nil)
		wantRedirect(t, rightful.signIn(a4.ID, other.Email, testPassword), dispatcherURL(a4.ID))
		wantRedirect(t, postPass(rightful, a4.ID, theirs), dispatcherURL(a4.ID))

		// Once only.
		again := c.browser(t)
		a2 := again.addAuthRequest(nil)
		wantRedirect(t, again.signIn(a2.ID, lost.Email, testPassword), dispatcherURL(a2.ID))
		wantStatus(t, postPass(again, a2.ID, pass), http.StatusUnauthorized)
	})
}

// TestTemporaryAccessPassLimits: a pass expires (by the clock), a newer one
// replaces it, its lifetime is one the form offers, and only those who may
// help can issue one.
func TestTemporaryAccessPassLimits(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		c, lost := passEnv(t, store)
		old := c.issuePass(lost, "1h0m0s")
		pass := c.issuePass(lost, "4h0m0s")
		b := c.browser(t)
		a := b.addAuthRequest(nil)
		wantRedirect(t, b.signIn(a.ID, lost.Email, testPassword), dispatcherURL(a.ID))
		wantStatus(t, b.post("/login/pass", url.Values{"id": {a.ID}, "pass": {old}}), http.StatusUnauthorized)
		c.ui.dir.SetClock(func() time.Time { return time.Now().Add(5 * time.Hour) })
		t.Cleanup(func() { c.ui.dir.SetClock(time.Now) })
		wantStatus(t, b.post("/login/pass", url.Values{"id": {a.ID}, "pass": {pass}}), http.StatusUnauthorized)
		if c.totpFactor(lost) == nil {
			t.Error("an expired pass replaced the factor")
		}
		c.ui.dir.SetClock(time.Now)

		for _, ttl := range []string{"25h0m0s", "0s", "forever"} {
			if got := c.as(c.admin).post("/orgs/acme/members/"+lost.ID+"/access-pass", url.Values{"ttl": {ttl}}).StatusCode; got != http.StatusBadRequest {
				t.Errorf("ttl %s: %d", ttl, got)
			}
		}
		if got := c.as(c.admin).post("/orgs/acme/members/"+c.owner.ID+"/access-pass", url.Values{}).StatusCode; got != http.StatusForbidden {
			t.Errorf("an admin issuing an owner a pass: %d", got)
		}
		if got := c.as(c.admin).post("/orgs/acme/members/"+c.admin.ID+"/access-pass", url.Values{}).StatusCode; got != http.StatusForbidden {
			t.Errorf("an admin issuing themself a pass: %d", got)
		}
	})
}
