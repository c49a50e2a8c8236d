package ui

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

// addOrgWithGrace makes user a member of a new organisation that requires
// a second factor of every member after grace, counted from since.
func (e *testEnv) addOrgWithGrace(user *storage.User, name string, grace time.Duration, since time.Time) *storage.Org {
	e.t.Helper()
	ctx := context.Background()
	secs := int64(grace / time.Second)
	since = since.UTC().Truncate(time.Microsecond)
	o := &storage.Org{Slug: strings.ToLower(name) + "-" + user.ID[:6], Name: name,
		Policy: storage.Policy{RequireMFA: true, GraceSeconds: &secs, RequiredSince: &since}}
	must(e.t, e.store.Orgs().Create(ctx, o))
	must(e.t, e.store.Orgs().AddMember(ctx, o.ID, user.ID, storage.RoleMember))
	// The member joined before the policy, so it counts from since.
	_, err := e.store.DB().ExecContext(ctx, `UPDATE memberships SET created_at = $1 WHERE org_id = $2`, since.Add(-time.Hour), o.ID)
	must(e.t, err)
	return o
}

// TestRemindMeLater: before the organisation's deadline the enrollment
// page offers "Remind me later" with the date; choosing it signs in with
// the password alone. After the deadline there is no skip.
func TestRemindMeLater(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		e := accountEnv(t, store)
		user := e.newUser()
		e.addOrgWithGrace(user, "Acme", 72*time.Hour, time.Now().Add(-24*time.Hour))
		a := e.addAuthRequest(nil)
		wantRedirect(t, e.signIn(a.ID, user.Email, testPassword), dispatcherURL(a.ID))
		wantRedirect(t, e.get(dispatcherURL(a.ID)), enrollStepURL(a.ID))
		doc := page(t, e.get(enrollStepURL(a.ID)))
		element(t, doc, "guide-me")
		element(t, doc, "skip-to-qr")
		deadline := text(element(t, doc, "deadline"))
		if !strings.Contains(deadline, "Acme requires two-step verification from ") || !strings.Contains(deadline, "(in 2 days)") {
			t.Errorf("deadline %q", deadline)
		}
		wantRedirect(t, e.post("/login/enroll/later", url.Values{"id": {a.ID}}), dispatcherURL(a.ID))
		wantRedirect(t, e.get(dispatcherURL(a.ID)), testCallbackURL(a.ID))
		if got := e.authRequest(a.ID); got.ACR != "urn:gatehouse:acr:pwd" {
			t.Errorf("acr %q after putting it off, want the password's", got.ACR)
		}
		if len(e.auditEvents(directory.EventEnrollmentDeferred)) != 1 {
			t.Error("putting it off is not in the audit log")
		}

		// Single sign-on during the grace: a session from an earlier sign-in
		// gets the offer without the password; setting up asks for it.
		sso := e.browser(t)
		sso.signInAs(user, time.Now().Add(-time.Hour))
		a3 := sso.addAuthRequest(nil)
		wantRedirect(t, sso.get(dispatcherURL(a3.ID)), enrollStepURL(a3.ID))
		element(t, page(t, sso.get(enrollStepURL(a3.ID))), "remind-me-later")
		wantRedirect(t, sso.post("/login/enroll/start", url.Values{"id": {a3.ID}}), passwordURL(a3.ID))
		wantRedirect(t, sso.post("/login/enroll/later", url.Values{"id": {a3.ID}}), dispatcherURL(a3.ID))
		wantRedirect(t, sso.get(dispatcherURL(a3.ID)), testCallbackURL(a3.ID))

		// Three days on, by the pages' clock: the deadline has passed.
		e.ui.cfg.Now = func() time.Time { return time.Now().Add(49 * time.Hour) }
		t.Cleanup(func() { e.ui.cfg.Now = time.Now })
		again := e.browser(t)
		a4 := again.addAuthRequest(nil)
		wantRedirect(t, again.signIn(a4.ID, user.Email, testPassword), dispatcherURL(a4.ID))
		if len(find(page(t, again.get(enrollStepURL(a4.ID))), byID("remind-me-later"))) != 0 {
			t.Error("a skip after the deadline")
		}
		e.ui.cfg.Now = time.Now

		// After the deadline: no skip, and asking anyway changes nothing.
		late := e.newUser()
		e.addOrgWithGrace(late, "Beta", 72*time.Hour, time.Now().Add(-73*time.Hour))
		b := e.browser(t)
		a2 := b.addAuthRequest(nil)
		wantRedirect(t, b.signIn(a2.ID, late.Email, testPassword), dispatcherURL(a2.ID))
		doc = page(t, b.get(enrollStepURL(a2.ID)))
		if len(find(doc, byID("remind-me-later"))) != 0 {
			t.Error("a skip after the deadline")
		}
		wantRedirect(t, b.post("/login/enroll/later", url.Values{"id": {a2.ID}}), dispatcherURL(a2.ID))
		wantRedirect(t, b.get(dispatcherURL(a2.ID)), enrollStepURL(a2.ID))
	})
}

// TestTheSettingsDuringAGracePeriod: a member whose organisation's
// deadline is ahead reaches the security settings with the password, to
// set up the factor there; after the deadline, not without one.
func TestTheSettingsDuringAGracePeriod(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		e := accountEnv(t, store)
		user := e.newUser()
		e.addOrgWithGrace(user, "Acme", 72*time.Hour, time.Now().Add(-time.Hour))
		e.signInAs(user, time.Now())
		wantStatus(t, e.get(accountHome), http.StatusOK)

		late := e.newUser()
		e.addOrgWithGrace(late, "Beta", 72*time.Hour, time.Now().Add(-100*time.Hour))
		b := e.browser(t)
		b.signInAs(late, time.Now())
		wantSignInRedirect(t, b.get(accountHome))
	})
}
