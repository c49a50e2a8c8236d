package ui

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

// requestIDs differ per answer; everything else must not.
var requestIDPattern = regexp.MustCompile(`<code>[^<]*</code>`)

// TestForgottenPassword: the same answer whether or not the account
// exists; a single-use link by mail; the new password ends every session,
// keeps the second factor, is told; the browser that asked goes on with
// its sign-in, where the second factor is still asked.
func TestForgottenPassword(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		e := accountEnv(t, store)
		mb := withMail(t, e)
		codeStepKey(e)
		user := e.newUser()
		e.enrollApp(user)
		elsewhere := e.browser(t)
		elsewhereCookie := elsewhere.signInAs(user, time.Now())

		a := e.addAuthRequest(nil)
		doc := page(t, e.get(passwordURL(a.ID)))
		if href, _ := attr(element(t, doc, "forgot-password"), "href"); href != forgotURL(a.ID) {
			t.Fatalf("forgot link %q", href)
		}
		wantStatus(t, e.get(forgotURL(a.ID)), http.StatusOK)

		answer := func(b *testEnv, email string) (int, string) {
			resp := b.post("/login/forgot", url.Values{"id": {a.ID}, "email": {email}})
			page := body(t, resp)
			return resp.StatusCode, requestIDPattern.ReplaceAllString(strings.ReplaceAll(page, email, "EMAIL"), "")
		}
		knownStatus, known := answer(e, user.Email)
		unknownStatus, unknown := answer(e.browser(t), "nobody@example.com")
		if knownStatus != http.StatusOK || unknownStatus != http.StatusOK || known != unknown {
			t.Fatalf("the answers differ: %d %d\n%s\n%s", knownStatus, unknownStatus, known, unknown)
		}
		e.ui.Wait()
		m := mb.next()
		if m.To != user.Email || !strings.Contains(subject(m), "reset your password") {
			t.Fatalf("mail to %s: %q", m.To, subject(m))
		}
		mb.none() // nothing for the unknown address
		reset := link(t, m, directory.PathPasswordReset)
		token := strings.TrimPrefix(reset, directory.PathPasswordReset+"?token=")

		// Limited per address: the fourth request in the hour is refused.
		for range 2 {
			answer(e, user.Email)
		}
		if status, _ := answer(e, user.Email); status != http.StatusTooManyRequests {
			t.Errorf("the fourth request got %d", status)
		}
		if status, _ := answer(e, "not an email"); status != http.StatusBadRequest {
			t.Errorf("a malformed address got %d", status)
		}
		e.ui.Wait()
		mb.skip()
		// The newest mail's link replaced the first.
		latest := link(t, mb.smtp.Mails()[len(mb.smtp.Mails())-1], directory.PathPasswordReset)
		if got := heading(t, page(t, e.get(reset))); got != "A newer link was sent" {
			t.Errorf("the first link: %q", got)
		}
		reset, token = latest, strings.TrimPrefix(latest, directory.PathPasswordReset+"?token=")

		doc = page(t, e.get(reset))
		if got := heading(t, doc); got != "Choose a new password" {
			t.Fatalf("reset page: %q", got)
		}
		if ac, _ := attr(element(t, doc, "new_password"), "autocomplete"); ac != "new-password" {
			t.Errorf("autocomplete %q", ac)
		}
		resp := e.post(directory.PathPasswordReset, url.Values{"token": {token}, "new_password": {"password"}, "confirm_password": {"password"}})
		wantStatus(t, resp, http.StatusBadRequest)
		if text(element(t, page(t, resp), "new-password-error")) == "" {
			t.Error("a weak password without a word why")
		}
		next := "a fresh and long passphrase"
		resp = e.post(directory.PathPasswordReset, url.Values{"token": {token}, "new_password": {next}, "confirm_password": {next}})
		wantRedirect(t, resp, dispatcherURL(a.ID))
		// The second factor is still asked.
		wantRedirect(t, e.get(dispatcherURL(a.ID)), otpStepURL(a.ID))
		if e.totpFactor(user) == nil {
			t.Error("the reset removed the second factor")
		}
		if elsewhere.sessionLive(elsewhereCookie) {
			t.Error("another session survived the new password")
		}
		if n := mb.next(); !strings.Contains(subject(n), "your password was changed") {
			t.Errorf("notice %q", subject(n))
		}
		if len(e.auditEvents(directory.EventPasswordReset)) != 1 {
			t.Error("the reset is not in the audit log")
		}
		fresh := e.browser(t)
		signin := fresh.addAuthRequest(nil)
		wantRedirect(t, fresh.signIn(signin.ID, user.Email, next), dispatcherURL(signin.ID))
		// Used: a clear page.
		resp = e.post(directory.PathPasswordReset, url.Values{"token": {token}, "new_password": {next + "!"}, "confirm_password": {next + "!"}})
		wantStatus(t, resp, http.StatusGone)
	})
}

// TestAPasswordResetInAnotherBrowser: only the browser that started the
// sign-in goes on with it; another is told to sign in from the application.
func TestAPasswordResetInAnotherBrowser(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		e := accountEnv(t, store)
		mb := withMail(t, e)
		user := e.newUser()
		// A sign-in bound to a browser other than the one opening the link.
		_, digest := storage.NewSecret()
		a := e.addAuthRequest(func(a *storage.AuthRequest) { a.BrowserHash = digest })
		wantStatus(t, e.post("/login/forgot", url.Values{"id": {a.ID}, "email": {user.Email}}), http.StatusOK)
		e.ui.Wait()
		token := strings.TrimPrefix(link(t, mb.next(), directory.PathPasswordReset), directory.PathPasswordReset+"?token=")
		next := "a fresh and long passphrase"
		resp := e.browser(t).post(directory.PathPasswordReset, url.Values{"token": {token}, "new_password": {next}, "confirm_password": {next}})
		wantStatus(t, resp, http.StatusOK)
		if got := heading(t, page(t, resp)); got != "Password changed — sign in from your application" {
			t.Errorf("another browser: %q", got)
		}
	})
}

// TestPasswordResetsAreLimitedPerNetwork: one network asking for many
// addresses is refused past its limit, whatever the addresses.
func TestPasswordResetsAreLimitedPerNetwork(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		e := accountEnv(t, store)
		withMail(t, e)
		for i := range 20 {
			resp := e.post("/login/forgot", url.Values{"email": {fmt.Sprintf("someone%d@example.com", i)}})
			wantStatus(t, resp, http.StatusOK)
		}
		resp := e.post("/login/forgot", url.Values{"email": {"one-more@example.com"}})
		wantStatus(t, resp, http.StatusTooManyRequests)
		if resp.Header.Get("Retry-After") == "" {
			t.Error("no Retry-After")
		}
	})
}
