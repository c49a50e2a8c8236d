package ui

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

// TestReenrollmentIsProtectedAfterAReset: after an operator's reset, the
// password alone adds no factor, on any page; "Send a new link" replaces
// the mailed one, three a day; the browser that opens the link may add one,
// which ends the wait.
func TestReenrollmentIsProtectedAfterAReset(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		ctx := context.Background()
		e := accountEnv(t, store)
		mb := withMail(t, e)
		user := e.newUser()
		e.addTOTP(user, testCodes...)
		e.addOrg(user, "Acme")
		_, _, err := e.ui.dir.ResetFactors(ctx, directory.Operator(), user.Email)
		must(t, err)
		reset := mb.next()
		mailed := link(t, reset, directory.PathEnrollmentLink)

		// The sign-in: the password, then the ways back, never the enrollment.
		a := e.addAuthRequest(nil)
		wantRedirect(t, e.signIn(a.ID, user.Email, testPassword), dispatcherURL(a.ID))
		wantRedirect(t, e.get(dispatcherURL(a.ID)), reenrollURL(a.ID))
		doc := page(t, e.get(reenrollURL(a.ID)))
		if !strings.Contains(text(doc), "u•••@example.com") || len(find(doc, byID("send-link"))) != 1 {
			t.Fatalf("the ways back: %q", text(doc))
		}
		for _, path := range []string{"/login/enroll", "/login/enroll/guide", "/login/enroll/setup"} {
			wantRedirect(t, e.get(path+"?id="+a.ID), dispatcherURL(a.ID))
		}
		wantRedirect(t, e.post("/login/enroll/start", url.Values{"id": {a.ID}}), dispatcherURL(a.ID))

		// The account pages: the same, with a session that passed the password.
		other := e.browser(t)
		other.signInAs(user, time.Now())
		for _, try := range []func() *http.Response{
			func() *http.Response { return other.get("/account/security/totp/guide") },
			func() *http.Response { return other.post("/account/security/totp/start", url.Values{}) },
			func() *http.Response { return other.get("/account/security/totp/setup?enrollment=x") },
			func() *http.Response {
				return other.post("/account/security/totp/confirm", url.Values{"enrollment": {"x"}, "code": {"123456"}})
			},
		} {
			resp := try()
			if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusSeeOther {
				t.Errorf("%s %s: status %d", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode)
			}
		}
		// Even straight to the operation: no grant, no factor.
		f := &storage.Factor{ID: storage.NewFactorID(), UserID: user.ID, Kind: mfa.FactorTOTP, Secret: []byte("sealed")}
		must(t, e.ui.dir.BeginFactor(ctx, f))
		if err := e.ui.dir.ConfirmFactor(ctx, directory.Operator(), user, mfa.FactorTOTP, f.ID, 1, time.Now().Add(-time.Minute), nil, ""); err != directory.ErrGrantNeeded {
			t.Fatalf("ConfirmFactor without a grant: %v", err)
		}
		if e.totpFactor(user) != nil {
			t.Fatal("a factor was added on the password alone")
		}

		// A new link, in place of the mailed one; three a day.
		for i := range 3 {
			resp := e.post("/login/reenroll", url.Values{"id": {a.ID}})
			wantStatus(t, resp, http.StatusOK)
			if i == 0 && len(find(page(t, resp), byID("notice"))) != 1 {
				t.Error("no word that the link was sent")
			}
			mb.next()
		}
		wantStatus(t, e.post("/login/reenroll", url.Values{"id": {a.ID}}), http.StatusTooManyRequests)
		mb.none()
		if got := heading(t, page(t, e.get(mailed))); got != "A newer link was sent" {
			t.Errorf("the first link after a new one: %q", got)
		}
		fresh := link(t, mb.smtp.Mails()[3], directory.PathEnrollmentLink)

		// The link: a GET shows a button; the POST gives this browser the grant.
		doc = page(t, e.get(fresh))
		element(t, doc, "use-link")
		if e.grant() != "" {
			t.Fatal("opening the link granted something")
		}
		token := strings.TrimPrefix(fresh, directory.PathEnrollmentLink+"?token=")
		wantRedirect(t, e.post(directory.PathEnrollmentLink, url.Values{"token": {token}}), accountHome)
		if e.grant() == "" {
			t.Fatal("no grant after using the link")
		}
		wantStatus(t, e.browser(t).post(directory.PathEnrollmentLink, url.Values{"token": {token}}), http.StatusGone)

		wantRedirect(t, e.get(dispatcherURL(a.ID)), enrollStepURL(a.ID))
		p := e.startSignInEnrollment(a.ID, false)
		resp := e.post("/login/enroll/confirm", url.Values{"id": {a.ID}, "enrollment": {p.enrollment}, "code": {enrollTestCode(p.secret, currentStep()-1)}})
		wantStatus(t, resp, http.StatusOK)
		u, err := store.Users().Get(ctx, user.ID)
		must(t, err)
		if u.ReenrollSince != nil || e.totpFactor(user) == nil {
			t.Fatalf("after enrolling: awaiting since %v, factor %v", u.ReenrollSince, e.totpFactor(user))
		}
		if ok, _ := e.ui.dir.EnrollmentGranted(ctx, user.ID, e.grant()); ok {
			t.Error("the grant outlived the new factor")
		}
		if got := heading(t, page(t, other.get(fresh))); got != "This link was already used" {
			t.Errorf("the link after enrolling: %q", got)
		}
	})
}
