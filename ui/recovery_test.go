package ui

import (
	"context"
	"net/http"
	"net/http/httptest"
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

// TestRecoveryLinksThatDoNotWork: an expired link (by the clock), "this
// wasn't me", a used code, malformed or foreign tokens, a disabled account:
// each gets a clear page and changes nothing.
func TestRecoveryLinksThatDoNotWork(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		e := newRecoveryEnv(t, store)
		m := e.startRecovery(testCodes[0])
		confirm, cancel := link(t, m, directory.PathRecoveryConfirm), link(t, m, directory.PathRecoveryCancel)
		token := strings.TrimPrefix(confirm, directory.PathRecoveryConfirm+"?token=")
		factors := e.factorCount()

		t.Run("expired", func(t *testing.T) {
			e.ui.dir.SetClock(func() time.Time { return time.Now().Add(31 * time.Minute) })
			t.Cleanup(func() { e.ui.dir.SetClock(time.Now) })
			for _, resp := range []*http.Response{e.get(confirm), e.post(directory.PathRecoveryConfirm, url.Values{"token": {token}})} {
				wantStatus(t, resp, http.StatusGone)
				if got := heading(t, page(t, resp)); got != "This link has expired" {
					t.Errorf("expired: %q", got)
				}
			}
			if e.factorCount() != factors {
				t.Error("an expired link reset the factors")
			}
		})

		t.Run("bad tokens", func(t *testing.T) {
			_, foreign := storage.NewSecret()
			enrollment, _ := storage.NewSecret()
			for name, tok := range map[string]string{
				"missing": "", "truncated": token[:20], "oversized": strings.Repeat(token, 40), "unknown": string(foreign),
				"not base64": "%00%ff<script>", "another kind": strings.TrimPrefix(cancel, directory.PathRecoveryCancel+"?token="),
				"random": enrollment,
			} {
				for _, path := range []string{directory.PathRecoveryConfirm, directory.PathRecoveryCancel, directory.PathEnrollmentLink, directory.PathPasswordReset} {
					if name == "another kind" && path == directory.PathRecoveryCancel {
						continue // it is that kind
					}
					for _, resp := range []*http.Response{e.get(path + "?token=" + url.QueryEscape(tok)),
						e.post(path, url.Values{"token": {tok}, "new_password": {"a long new passphrase"}, "confirm_password": {"a long new passphrase"}})} {
						if resp.StatusCode != http.StatusBadRequest {
							t.Errorf("%s at %s: status %d, want 400", name, path, resp.StatusCode)
						}
					}
				}
			}
			if e.factorCount() != factors {
				t.Error("a bad token changed something")
			}
		})

		t.Run("this wasn't me", func(t *testing.T) {
			wantStatus(t, e.get(cancel), http.StatusOK)
			resp := e.post(directory.PathRecoveryCancel, url.Values{"token": {strings.TrimPrefix(cancel, directory.PathRecoveryCancel+"?token=")}})
			wantStatus(t, resp, http.StatusOK)
			if got := heading(t, page(t, resp)); got != "The reset was cancelled" {
				t.Fatalf("cancel: %q", got)
			}
			if n := e.mail.next(); !strings.Contains(subject(n), "cancelled") {
				t.Errorf("notice %q", subject(n))
			}
			if got := heading(t, page(t, e.get(confirm))); got != "This link no longer works" {
				t.Errorf("confirm link after cancelling: %q", got)
			}
			if e.factorCount() != factors {
				t.Error("cancelling changed the factors")
			}
			if len(e.auditEvents(directory.EventRecoveryCancelled)) != 1 {
				t.Error("the cancellation is not in the audit log")
			}
			// The code that started it was used up.
			wantStatus(t, e.postRecoveryCode(testCodes[0]), http.StatusUnauthorized)
		})

		t.Run("a disabled account", func(t *testing.T) {
			m := e.startRecovery(testCodes[2])
			_, _, err := e.ui.dir.SetDisabled(context.Background(), directory.Operator(), e.user.Email, true)
			must(t, err)
			resp := e.browser(t).post(directory.PathRecoveryConfirm, url.Values{"token": {strings.TrimPrefix(link(t, m, directory.PathRecoveryConfirm), directory.PathRecoveryConfirm+"?token=")}})
			wantStatus(t, resp, http.StatusForbidden)
			if e.factorCount() != factors-1 {
				t.Error("a disabled account's factors were reset")
			}
		})
		e.mail.none()
	})
}

// TestRecoveryCodesWhileLocked: a lock on the second factor (timed or
// hard) leaves recovery codes working, at most 5 tries an hour; the
// confirmed recovery clears the locks.
func TestRecoveryCodesWhileLocked(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		ctx := context.Background()
		e := newRecoveryEnv(t, store)
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		for range mfaHardLockAt {
			_, err := e.ui.guardSecondFactor(ctx, r, mfaAttempt{UserID: e.user.ID, Method: "totp"},
				func(*storage.Store) (string, error) { return "wrong_code", nil })
			must(t, err)
			// Skip the timed locks: straight on to the hard one.
			if c, _ := store.RateLimits().Get(ctx, mfaLockKey(e.user.ID)); c.Failures < mfaHardLockAt {
				must(t, store.RateLimits().Lock(ctx, mfaLockKey(e.user.ID), time.Now().Add(-time.Second)))
			}
		}
		e.mail.skip() // the lock notices
		resp := e.postCode(e.req.ID, "123456")
		wantStatus(t, resp, http.StatusTooManyRequests)
		if !strings.Contains(formError(page(t, resp)), "use a recovery code") {
			t.Error("the locked code page does not point to recovery codes")
		}
		if len(find(page(t, e.get(recoveryStepURL(e.req.ID))), byID("locked-notice"))) != 1 {
			t.Error("the recovery page does not say recovery codes still work")
		}
		for range recoveryWhileLocked - 1 {
			wantStatus(t, e.postRecoveryCode("zzzz-zzzz-zzzz"), http.StatusUnauthorized)
		}
		if n := e.mfaFailures(e.user); n != mfaHardLockAt {
			t.Errorf("codes tried while locked moved the lockout's count to %d", n)
		}
		m := e.startRecovery(testCodes[0]) // the fifth try this hour
		wantStatus(t, e.post(directory.PathRecoveryConfirm, url.Values{"token": {strings.TrimPrefix(link(t, m, directory.PathRecoveryConfirm), directory.PathRecoveryConfirm+"?token=")}}), http.StatusOK)
		if n := e.mfaFailures(e.user); n != 0 {
			t.Errorf("%d failures after the recovery, want the lock cleared", n)
		}
		if c, err := store.RateLimits().Get(ctx, directory.RecoveryLimitKey(e.user.ID)); err != nil || c.Failures != 0 {
			t.Errorf("the recovery limit after the recovery: %+v %v", c, err)
		}
	})
}

// TestTheRecoveryLimitWhileLocked: beyond 5 codes an hour on a locked
// account, even a right one is not checked.
func TestTheRecoveryLimitWhileLocked(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		ctx := context.Background()
		e := newRecoveryEnv(t, store)
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		for range mfaLockEvery {
			_, err := e.ui.guardSecondFactor(ctx, r, mfaAttempt{UserID: e.user.ID, Method: "totp"},
				func(*storage.Store) (string, error) { return "wrong_code", nil })
			must(t, err)
		}
		e.mail.skip()
		for range recoveryWhileLocked {
			wantStatus(t, e.postRecoveryCode("zzzz-zzzz-zzzz"), http.StatusUnauthorized)
		}
		resp := e.postRecoveryCode(testCodes[0])
		wantStatus(t, resp, http.StatusTooManyRequests)
		if got := formError(page(t, resp)); !strings.HasPrefix(got, "Too many recovery codes were tried. Try again at ") {
			t.Errorf("limited: %q", got)
		}
		if resp.Header.Get("Retry-After") == "" {
			t.Error("no Retry-After")
		}
		if n, _ := store.RecoveryCodes().Remaining(ctx, e.user.ID); n != len(testCodes) {
			t.Errorf("%d codes left: a code beyond the limit was used", n)
		}
		if got := len(e.auditEvents(directory.EventFactorFailed)); got != mfaLockEvery+recoveryWhileLocked {
			t.Errorf("%d failures recorded, want %d", got, mfaLockEvery+recoveryWhileLocked)
		}
		e.mail.none()
	})
}
