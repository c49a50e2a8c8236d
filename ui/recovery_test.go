package ui

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/mail/mailtest"
	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

// The recovery codes the tests' users hold.
var testCodes = []string{"abcd-efgh-jkmn", "pqrs-tvwx-yz23", "4567-89ab-cdef"}

// recoveryEnv is a user with an authenticator app and recovery codes,
// in a browser at the code step of a sign-in, with mail.
type recoveryEnv struct {
	*testEnv
	mail *mailbox
	user *storage.User
	req  *storage.AuthRequest
}

func newRecoveryEnv(t *testing.T, store *storage.Store) *recoveryEnv {
	e := accountEnv(t, store)
	m := withMail(t, e)
	user := e.newUser()
	e.addTOTP(user, testCodes...)
	a, _ := e.atCodeStep(user, nil)
	return &recoveryEnv{testEnv: e, mail: m, user: user, req: a}
}

func (e *recoveryEnv) postRecoveryCode(code string) *http.Response {
	e.t.Helper()
	return e.post("/login/recovery", url.Values{"id": {e.req.ID}, "code": {code}})
}

// startRecovery enters a right code and returns the confirmation mail.
func (e *recoveryEnv) startRecovery(code string) mailtest.Received {
	e.t.Helper()
	wantRedirect(e.t, e.postRecoveryCode(code), recoverySentURL(e.req.ID))
	m := e.mail.next()
	if m.To != e.user.Email || !strings.Contains(subject(m), "confirm resetting") {
		e.t.Fatalf("mail to %s: %q", m.To, subject(m))
	}
	return m
}

func (e *recoveryEnv) factorCount() int {
	e.t.Helper()
	fs, err := e.store.Factors().Confirmed(context.Background(), e.user.ID)
	must(e.t, err)
	n, err := e.store.RecoveryCodes().Remaining(context.Background(), e.user.ID)
	must(e.t, err)
	return len(fs) + n
}

// TestRecoveryCodeStartsARecoveryByMail: the code step offers recovery
// codes; a right one (however typed) is used once and mails a link to
// confirm and one to cancel; wrong ones count toward the lockout; the mail
// can be sent again without another code, replacing the earlier links.
func TestRecoveryCodeStartsARecoveryByMail(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		e := newRecoveryEnv(t, store)
		doc := page(t, e.get(recoveryStepURL(e.req.ID)))
		if got := heading(t, doc); got != "Enter a recovery code" {
			t.Fatalf("heading %q", got)
		}
		if !strings.Contains(text(doc), "u•••@example.com") {
			t.Errorf("the page does not name the partly masked address: %q", text(doc))
		}

		// Not a code at all: said so, not counted.
		for _, bad := range []string{"", "abcd", "abcd-efgh-jkmn-pqrs", "abcd-efgh-jkm0", "ABCD-EFGH-JKMİ", strings.Repeat("a", 5000)} {
			resp := e.postRecoveryCode(bad)
			wantStatus(t, resp, http.StatusBadRequest)
			if got := text(element(t, page(t, resp), "code-error")); got != msgRecoveryCodeForm {
				t.Errorf("%q: %q", bad, got)
			}
		}
		if n := e.mfaFailures(e.user); n != 0 {
			t.Fatalf("malformed codes counted: %d", n)
		}
		// A wrong code counts toward the same lockout as the app's codes.
		resp := e.postRecoveryCode("zzzz-zzzz-zzzz")
		wantStatus(t, resp, http.StatusUnauthorized)
		if n := e.mfaFailures(e.user); n != 1 {
			t.Fatalf("%d failures after a wrong recovery code, want 1", n)
		}

		before := e.factorCount()
		m := e.startRecovery("  ABCD EFGH-jkmn ") // upper case, spaces, a missing dash
		if got := e.factorCount(); got != before-1 {
			t.Errorf("%d factors and codes after the code, want %d: the code is used, nothing else", got, before-1)
		}
		if n := e.mfaFailures(e.user); n != 0 {
			t.Errorf("a right code left %d failures", n)
		}
		confirm, cancel := link(t, m, directory.PathRecoveryConfirm), link(t, m, directory.PathRecoveryCancel)
		token := strings.TrimPrefix(confirm, directory.PathRecoveryConfirm+"?token=")
		if len(token) != 43 {
			t.Errorf("token %q: want 256 bits", token)
		}
		if _, err := store.Links().Get(context.Background(), []byte(token)); err == nil {
			t.Error("the link's secret is stored as is")
		}
		l, err := store.Links().Get(context.Background(), storage.HashSecret(token))
		must(t, err)
		if life := l.ExpiresAt.Sub(l.CreatedAt); life != 30*time.Minute {
			t.Errorf("the link lives %s, want 30m", life)
		}
		if len(e.auditEvents(directory.EventRecoveryStarted)) != 1 {
			t.Error("the recovery is not in the audit log")
		}

		// No new code needed while it is pending.
		wantRedirect(t, e.get(recoveryStepURL(e.req.ID)), recoverySentURL(e.req.ID))
		sent := page(t, e.get(recoverySentURL(e.req.ID)))
		if !strings.Contains(text(sent), "u•••@example.com") || len(find(sent, byID("send-again"))) != 1 {
			t.Fatalf("the sent page: %q", text(sent))
		}
		resp = e.post("/login/recovery/resend", url.Values{"id": {e.req.ID}})
		wantStatus(t, resp, http.StatusOK)
		again := e.mail.next()
		if link(t, again, directory.PathRecoveryConfirm) == confirm || link(t, again, directory.PathRecoveryCancel) == cancel {
			t.Error("the mail sent again carries the same links")
		}
		wantStatus(t, e.get(confirm), http.StatusGone) // replaced by the newer mail's
		if got := heading(t, page(t, e.get(confirm))); got != "A newer link was sent" {
			t.Errorf("old link: %q", got)
		}
		wantStatus(t, e.get(link(t, again, directory.PathRecoveryConfirm)), http.StatusOK)
		if got := e.factorCount(); got != before-1 {
			t.Error("opening the link changed something")
		}
	})
}

// TestConfirmingARecoveryResetsEverything: the link works in another
// browser; a GET changes nothing; confirming removes every factor and
// code, ends every session and refresh token, clears the locks, marks the
// account as awaiting a new factor, records and mails the reset with an
// enrollment link. Used links change nothing.
func TestConfirmingARecoveryResetsEverything(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		ctx := context.Background()
		e := newRecoveryEnv(t, store)
		asking := e.cookie()
		m := e.startRecovery(testCodes[1])
		confirm := link(t, m, directory.PathRecoveryConfirm)

		phone := e.browser(t) // the mail is read elsewhere
		for range 3 {
			doc := page(t, phone.get(confirm))
			if got := heading(t, doc); got != "Reset two-step verification?" {
				t.Fatalf("confirm page: %q", got)
			}
		}
		if e.factorCount() == 0 || !e.sessionLive(asking) {
			t.Fatal("opening the link changed something")
		}
		form := url.Values{"token": {strings.TrimPrefix(confirm, directory.PathRecoveryConfirm+"?token=")}}
		// A form from another site is refused.
		wantStatus(t, phone.post(directory.PathRecoveryConfirm, form, "Sec-Fetch-Site", "cross-site"), http.StatusForbidden)
		if e.factorCount() == 0 {
			t.Fatal("a cross-site form reset the factors")
		}
		resp := phone.post(directory.PathRecoveryConfirm, form)
		wantStatus(t, resp, http.StatusOK)
		if got := heading(t, page(t, resp)); got != "Two-step verification was reset" {
			t.Fatalf("after confirming: %q", got)
		}
		if n := e.factorCount(); n != 0 {
			t.Errorf("%d factors and codes left", n)
		}
		if e.sessionLive(asking) {
			t.Error("the user's session survived the reset")
		}
		u, err := store.Users().Get(ctx, e.user.ID)
		must(t, err)
		if u.ReenrollSince == nil {
			t.Error("the account is not awaiting a new factor")
		}
		if got := e.auditEvents(directory.EventFactorsReset); len(got) != 1 || got[0].ActorID != e.user.ID {
			t.Errorf("reset events %+v", got)
		}
		notice := e.mail.next()
		if !strings.Contains(subject(notice), "was reset") {
			t.Errorf("notice %q", subject(notice))
		}
		link(t, notice, directory.PathEnrollmentLink)
		if phone.grant() == "" {
			t.Error("the confirming browser holds no enrollment grant")
		}
		if e.browser(t).grant() != "" {
			t.Error("a grant in a browser that confirmed nothing")
		}

		// Used: a clear page, nothing changed.
		resp = phone.post(directory.PathRecoveryConfirm, form)
		wantStatus(t, resp, http.StatusGone)
		if got := heading(t, page(t, resp)); got != "This link was already used" {
			t.Errorf("reused: %q", got)
		}
		wantStatus(t, phone.get(confirm), http.StatusGone)
		wantStatus(t, phone.get(link(t, m, directory.PathRecoveryCancel)), http.StatusGone)
		if len(e.auditEvents(directory.EventFactorsReset)) != 1 {
			t.Error("a used link reset again")
		}
	})
}

// grant is the enrollment grant cookie the browser holds, or "".
func (e *testEnv) grant() string {
	u, _ := url.Parse(e.http.URL)
	for _, c := range e.client.Jar.Cookies(u) {
		if c.Name == "gatehouse_enroll" {
			return c.Value
		}
	}
	return ""
}
