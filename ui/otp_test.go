package ui

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"golang.org/x/net/html"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/mfa/totp"
	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

// rfc6238Code is a TOTP code (HMAC-SHA-1, 30-second steps) computed as RFC
// 6238 §4 and RFC 4226 §5.3 describe, independently of package totp.
func rfc6238Code(secret []byte, unix int64, digits int) string {
	var counter [8]byte
	binary.BigEndian.PutUint64(counter[:], uint64(unix/30))
	mac := hmac.New(sha1.New, secret)
	mac.Write(counter[:])
	sum := mac.Sum(nil)
	offset := sum[19] & 0x0f
	value := uint64(binary.BigEndian.Uint32(sum[offset:]) & 0x7fffffff)
	modulus := uint64(1)
	for range digits {
		modulus *= 10
	}
	return fmt.Sprintf("%0*d", digits, value%modulus)
}

func TestRFC6238CodeMatchesTheRFCVectors(t *testing.T) {
	// RFC 6238 Appendix B, SHA-1.
	secret := []byte("12345678901234567890")
	for _, v := range []struct {
		unix int64
		want string
	}{
		{59, "94287082"}, {1111111109, "07081804"}, {1111111111, "14050471"},
		{1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000, "65353130"},
	} {
		if got := rfc6238Code(secret, v.unix, 8); got != v.want {
			t.Errorf("T=%d: %s, want %s", v.unix, got, v.want)
		}
	}
}

// authenticatorApp is a user's authenticator app: it shares a secret with
// a confirmed TOTP factor and shows codes, never one of a time step it
// showed before (as a user waiting for the next code would).
type authenticatorApp struct {
	secret []byte
	factor *storage.Factor
	shown  int64 // the last step shown
}

// codeStepKey gives the test pages a key to open authenticator secrets and
// returns the key they use.
func codeStepKey(e *testEnv) []byte {
	if len(e.ui.cfg.TOTPKey) == 0 {
		e.ui.cfg.TOTPKey = bytes.Repeat([]byte{0x42}, 32)
	}
	return e.ui.cfg.TOTPKey
}

// enrollApp stores a confirmed TOTP factor for user, its secret encrypted
// under the pages' key.
func (e *testEnv) enrollApp(user *storage.User) *authenticatorApp {
	e.t.Helper()
	ctx := context.Background()
	secret := make([]byte, totp.SecretSize)
	rand.Read(secret)
	f := &storage.Factor{ID: storage.NewFactorID(), UserID: user.ID, Kind: mfa.FactorTOTP, Name: "Phone"}
	var err error
	f.Secret, err = totp.Encrypt(codeStepKey(e), user.ID, f.ID, secret)
	must(e.t, err)
	must(e.t, e.store.Factors().CreatePending(ctx, f))
	must(e.t, e.store.Factors().Confirm(ctx, user.ID, f.ID, 1, time.Now().Add(-time.Minute)))
	return &authenticatorApp{secret: secret, factor: f}
}

// code is the code the app shows now, or the next step's when this step's
// was shown already (the server accepts one step ahead).
func (app *authenticatorApp) code() string {
	for {
		current := time.Now().Unix() / 30
		if step := max(current, app.shown+1); step <= current+1 {
			app.shown = step
			return rfc6238Code(app.secret, step*30, 6)
		}
		time.Sleep(time.Until(time.Unix((current+1)*30, 0)))
	}
}

// wrongCode is a well-formed code that no step near now accepts.
func (app *authenticatorApp) wrongCode() string {
	current := time.Now().Unix() / 30
	for n := 0; ; n++ {
		code := fmt.Sprintf("%06d", (n*7919+123456)%1_000_000)
		collides := false
		for step := current - 3; step <= current+3; step++ {
			collides = collides || rfc6238Code(app.secret, step*30, 6) == code
		}
		if !collides {
			return code
		}
	}
}

// atCodeStep gives the browser a session for user proved by the password
// and a request that the dispatcher sends to the code step.
func (e *testEnv) atCodeStep(user *storage.User, change func(a *storage.AuthRequest)) (*storage.AuthRequest, string) {
	e.t.Helper()
	cookie := e.addSession(user, time.Now().Add(-time.Minute).UTC().Truncate(time.Microsecond), time.Now().Add(time.Hour))
	e.setCookie(cookie)
	a := e.addAuthRequest(change)
	wantRedirect(e.t, e.get("/login?id="+a.ID), "/login/otp?id="+a.ID)
	return a, cookie
}

func (e *testEnv) postCode(id, code string, headers ...string) *http.Response {
	e.t.Helper()
	return e.post("/login/otp", url.Values{"id": {id}, "code": {code}}, headers...)
}

// mfaFailures is the account's second-factor failure count.
func (e *testEnv) mfaFailures(user *storage.User) int64 {
	e.t.Helper()
	c, err := e.store.RateLimits().Get(context.Background(), mfaLockKey(user.ID))
	must(e.t, err)
	return c.Failures
}

func (e *testEnv) totpSignins(outcome string) float64 {
	return testutil.ToFloat64(e.ui.metrics.signins.WithLabelValues(factorTOTP, outcome))
}

// liveSession reads the live session behind a cookie value.
func (e *testEnv) liveSession(cookie string) *storage.Session {
	e.t.Helper()
	s, err := e.store.Sessions().Touch(context.Background(), storage.HashSecret(cookie), time.Hour)
	must(e.t, err)
	return s
}

// codeError is the text of the code field's error, or "".
func codeError(doc *html.Node) string {
	found := find(doc, byID("code-error"))
	if len(found) == 0 {
		return ""
	}
	return text(found[0])
}

// userEvents counts the audit events of a type about user.
func (e *testEnv) userEvents(typ directory.EventType, user *storage.User) []storage.AuditEvent {
	var out []storage.AuditEvent
	for _, ev := range e.auditEvents(typ) {
		if ev.SubjectID == user.ID {
			out = append(out, ev)
		}
	}
	return out
}

func TestCodePageForm(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		e := newEnv(t, store)
		e.enrollApp(e.user)
		a, _ := e.atCodeStep(e.user, nil)

		resp := e.get("/login/otp?id=" + a.ID)
		wantStatus(t, resp, http.StatusOK)
		doc := page(t, resp)
		if h := heading(t, doc); h != "Two-step verification" {
			t.Errorf("heading %q", h)
		}
		if lead := text(find(doc, func(n *html.Node) bool { c, _ := attr(n, "class"); return c == "lead" })[0]); !strings.Contains(lead, "Enter the code from your authenticator app") {
			t.Errorf("lead %q does not ask for the code from the app", lead)
		}
		code := element(t, doc, "code")
		for k, want := range map[string]string{"name": "code", "type": "text", "autocomplete": "one-time-code", "inputmode": "numeric"} {
			if got, _ := attr(code, k); got != want {
				t.Errorf("#code %s=%q, want %q", k, got, want)
			}
		}
		labels := find(doc, func(n *html.Node) bool { v, _ := attr(n, "for"); return n.Data == "label" && v == "code" })
		if len(labels) != 1 || text(labels[0]) == "" {
			t.Error("the code field has no label")
		}
		wantDescribedBy(t, doc, code)
		if _, ok := attr(code, "aria-invalid"); ok {
			t.Error("the empty form marks the code invalid")
		}
		forms := find(doc, byTag("form"))
		if len(forms) != 1 {
			t.Fatalf("%d forms, want 1", len(forms))
		}
		if act, _ := attr(forms[0], "action"); act != "/login/otp" {
			t.Errorf("form action %q", act)
		}
		hidden := find(doc, func(n *html.Node) bool { v, _ := attr(n, "name"); return v == "id" })
		if v, _ := attr(hidden[0], "value"); len(hidden) != 1 || v != a.ID {
			t.Errorf("hidden id %q, want %q", v, a.ID)
		}
		// The way back for a lost phone.
		if href, _ := attr(element(t, doc, "use-recovery-code"), "href"); href != recoveryStepURL(a.ID) {
			t.Errorf("recovery code link %q, want %q", href, recoveryStepURL(a.ID))
		}
		if !strings.Contains(text(doc), e.user.Email) {
			t.Error("the page does not say who is signing in")
		}

		t.Run("a wrong code is tied to the field", func(t *testing.T) {
			doc := page(t, e.postCode(a.ID, "000000"))
			code := element(t, doc, "code")
			if v, _ := attr(code, "aria-invalid"); v != "true" {
				t.Error("the code is not marked invalid")
			}
			if ids := wantDescribedBy(t, doc, code); !slices.Contains(ids, "code-error") {
				t.Errorf("aria-describedby %q does not name the error", ids)
			}
		})
	})
}

// wantDescribedBy checks that every id in n's aria-describedby exists and
// returns them.
func wantDescribedBy(t *testing.T, doc, n *html.Node) []string {
	t.Helper()
	v, _ := attr(n, "aria-describedby")
	ids := strings.Fields(v)
	if len(ids) == 0 {
		t.Error("no aria-describedby")
	}
	for _, id := range ids {
		if len(find(doc, byID(id))) != 1 {
			t.Errorf("aria-describedby names %q, which is not on the page", id)
		}
	}
	return ids
}

func TestCodeStepSuccess(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		e := newEnv(t, store)
		ctx := context.Background()
		app := e.enrollApp(e.user)
		a, oldCookie := e.atCodeStep(e.user, nil)
		before := e.liveSession(oldCookie)
		// Two wrong codes first: the success resets the count.
		for range 2 {
			wantStatus(t, e.postCode(a.ID, app.wrongCode()), http.StatusUnauthorized)
		}
		if got := e.mfaFailures(e.user); got != 2 {
			t.Fatalf("%d failures counted, want 2", got)
		}

		code := app.code()
		start := time.Now()
		resp := e.postCode(a.ID, code[:3]+" "+code[3:]) // as apps show it
		wantRedirect(t, resp, "/login?id="+a.ID)
		cookie := e.cookie()
		if cookie == oldCookie {
			t.Fatal("the session id did not change")
		}
		if e.sessionLive(oldCookie) {
			t.Error("the old session id still works")
		}
		s := e.liveSession(cookie)
		if !slices.Equal(s.AMR, []string{"pwd", "otp", "mfa"}) {
			t.Errorf("session amr %q, want [pwd otp mfa]", s.AMR)
		}
		if s.MFATime == nil || s.MFATime.Before(start.Add(-time.Second)) || s.MFATime.After(time.Now().Add(time.Second)) {
			t.Errorf("session mfa_time %v, want about %v", s.MFATime, start)
		}
		if !s.AuthTime.Equal(before.AuthTime) {
			t.Errorf("auth_time moved from %v to %v", before.AuthTime, s.AuthTime)
		}
		if got := e.mfaFailures(e.user); got != 0 {
			t.Errorf("%d failures left after a success, want 0", got)
		}
		f, err := store.Factors().Get(ctx, e.user.ID, app.factor.ID)
		must(t, err)
		if f.LastUsedStep != app.shown {
			t.Errorf("last used step %d, want %d", f.LastUsedStep, app.shown)
		}
		if ev := e.userEvents(directory.EventSecondFactorOK, e.user); len(ev) != 1 || ev[0].ClientID != a.ClientID {
			t.Errorf("signin.otp_ok events %+v, want one", ev)
		}
		for _, ev := range e.auditEvents("") {
			if strings.Contains(ev.Details, code) {
				t.Errorf("the audit event %s holds the code", ev.Type)
			}
		}
		if got := e.totpSignins(outcomeSuccess); got != 1 {
			t.Errorf("gatehouse_signins_total{factor=totp,outcome=success} = %v, want 1", got)
		}
		if got := e.totpSignins(outcomeFailure); got != 2 {
			t.Errorf("gatehouse_signins_total{factor=totp,outcome=failure} = %v, want 2", got)
		}

		// The dispatcher finishes the request with both factors.
		wantRedirect(t, e.get("/login?id="+a.ID), "/authorize/callback?id="+a.ID)
		got := e.authRequest(a.ID)
		if !got.Done || !slices.Equal(got.AMR, []string{"pwd", "otp", "mfa"}) || got.ACR != mfa.ACRMFA {
			t.Errorf("request done %v amr %q acr %q; want done, [pwd otp mfa], %s", got.Done, got.AMR, got.ACR, mfa.ACRMFA)
		}
		if got.AuthTime == nil || !got.AuthTime.Equal(before.AuthTime) || !storage.SecretMatches(got.SessionHash, cookie) {
			t.Errorf("request auth_time %v, want the password's %v, tied to the new session", got.AuthTime, before.AuthTime)
		}
		// Another request is answered at once: the session proved both factors.
		b := e.addAuthRequest(nil)
		wantRedirect(t, e.get("/login?id="+b.ID), "/authorize/callback?id="+b.ID)
		// The code page for a request that needs no code goes back to the dispatcher.
		c := e.addAuthRequest(nil)
		wantRedirect(t, e.get("/login/otp?id="+c.ID), "/login?id="+c.ID)
	})
}

func TestCodeStepRefusesAReplay(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		env := newEnv(t, store)

		t.Run("in another session", func(t *testing.T) {
			laptop := env.browser(t)
			user := laptop.newUser()
			app := laptop.enrollApp(user)
			a, _ := laptop.atCodeStep(user, nil)
			code := app.code()
			wantRedirect(t, laptop.postCode(a.ID, code), "/login?id="+a.ID)

			// Someone who saw the code tries it in their own session.
			other := env.browser(t)
			b, cookie := other.atCodeStep(user, nil)
			resp := other.postCode(b.ID, code)
			wantStatus(t, resp, http.StatusUnauthorized)
			if msg := codeError(page(t, resp)); msg != msgReplayedCode {
				t.Errorf("message %q, want %q", msg, msgReplayedCode)
			}
			if other.cookie() != cookie || !slices.Equal(other.liveSession(cookie).AMR, []string{"pwd"}) {
				t.Error("a replayed code changed the session")
			}
			if other.authRequest(b.ID).Done {
				t.Error("a replayed code finished the sign-in")
			}
			if got := other.mfaFailures(user); got != 1 {
				t.Errorf("%d failures counted, want 1", got)
			}
			ev := other.userEvents(directory.EventFactorFailed, user)
			if len(ev) != 1 || !strings.Contains(ev[0].Details, `"reason":"replayed"`) || !strings.Contains(ev[0].Details, `"method":"totp"`) {
				t.Errorf("mfa.code_failed events %+v, want one for a replay", ev)
			}
			// The app's next code works.
			wantRedirect(t, other.postCode(b.ID, app.code()), "/login?id="+b.ID)
		})

		t.Run("sent by many sessions at the same moment", func(t *testing.T) {
			first := env.browser(t)
			user := first.newUser()
			app := first.enrollApp(user)
			browsers := []*testEnv{first}
			for range 5 {
				browsers = append(browsers, env.browser(t))
			}
			ids := make([]string, len(browsers))
			for i, b := range browsers {
				a, _ := b.atCodeStep(user, nil)
				ids[i] = a.ID
			}
			code := app.code()
			statuses := make([]int, len(browsers))
			var wg sync.WaitGroup
			for i, b := range browsers {
				wg.Go(func() {
					form := url.Values{"id": {ids[i]}, "code": {code}}
					resp, err := b.client.PostForm(b.http.URL+"/login/otp", form)
					if err != nil {
						return
					}
					resp.Body.Close()
					statuses[i] = resp.StatusCode
				})
			}
			wg.Wait()
			slices.Sort(statuses)
			want := []int{http.StatusSeeOther, http.StatusUnauthorized, http.StatusUnauthorized,
				http.StatusUnauthorized, http.StatusUnauthorized, http.StatusUnauthorized}
			if !slices.Equal(statuses, want) {
				t.Errorf("statuses %v, want one sign-in and the rest refused: %v", statuses, want)
			}
		})
	})
}

func TestCodeStepLockout(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		env := newEnv(t, store)
		ctx := context.Background()

		t.Run("ten failures lock for 15 minutes", func(t *testing.T) {
			e := env.browser(t)
			user := e.newUser()
			app := e.enrollApp(user)
			a, cookie := e.atCodeStep(user, nil)
			for i := range 9 {
				resp := e.postCode(a.ID, app.wrongCode())
				wantStatus(t, resp, http.StatusUnauthorized)
				if msg := codeError(page(t, resp)); msg != msgWrongCode {
					t.Fatalf("failure %d: message %q, want %q", i+1, msg, msgWrongCode)
				}
			}
			before := time.Now().UTC()
			at := wantLocked(t, e.postCode(a.ID, app.wrongCode()))
			wantLockTime(t, at, before.Add(15*time.Minute))

			// Locked: even the right code is not checked, and nothing is written.
			at = wantLocked(t, e.postCode(a.ID, app.code()))
			wantLockTime(t, at, before.Add(15*time.Minute))
			if got := e.mfaFailures(user); got != 10 {
				t.Errorf("%d failures counted, want 10", got)
			}
			if !slices.Equal(e.liveSession(cookie).AMR, []string{"pwd"}) || e.authRequest(a.ID).Done {
				t.Error("a locked account proved its second factor")
			}
			f, err := store.Factors().Get(ctx, user.ID, app.factor.ID)
			must(t, err)
			if f.LastUsedStep != 1 {
				t.Errorf("a refused code used step %d", f.LastUsedStep)
			}
			// The page says so before the user types.
			wantLocked(t, e.get("/login/otp?id="+a.ID))

			if n := len(e.userEvents(directory.EventFactorFailed, user)); n != 10 {
				t.Errorf("%d mfa.code_failed events, want 10", n)
			}
			locks := e.userEvents(directory.EventFactorLocked, user)
			if len(locks) != 1 || !strings.Contains(locks[0].Details, `"failures":10`) {
				t.Errorf("mfa.locked events %+v, want one after 10 failures", locks)
			}
		})

		t.Run("each further lock lasts twice as long", func(t *testing.T) {
			e := env.browser(t)
			user := e.newUser()
			app := e.enrollApp(user)
			a, _ := e.atCodeStep(user, nil)
			// Nineteen failures and one lock, which has ended.
			key := mfaLockKey(user.ID)
			for range 19 {
				_, err := store.RateLimits().Fail(ctx, key, time.Now().Add(time.Hour))
				must(t, err)
			}
			must(t, store.RateLimits().Lock(ctx, key, time.Now().Add(-time.Second)))

			before := time.Now().UTC()
			at := wantLocked(t, e.postCode(a.ID, app.wrongCode()))
			wantLockTime(t, at, before.Add(30*time.Minute))
		})

		t.Run("a hundred failures lock until reset", func(t *testing.T) {
			e := env.browser(t)
			user := e.newUser()
			app := e.enrollApp(user)
			a, _ := e.atCodeStep(user, nil)
			key := mfaLockKey(user.ID)
			for range 99 {
				_, err := store.RateLimits().Fail(ctx, key, time.Now().Add(time.Hour))
				must(t, err)
			}
			hardLocked := func(resp *http.Response) {
				t.Helper()
				wantStatus(t, resp, http.StatusTooManyRequests)
				if msg := formError(page(t, resp)); msg != "Too many attempts. Your account is locked: use a recovery code, or contact your administrator." {
					t.Errorf("message %q", msg)
				}
			}
			hardLocked(e.postCode(a.ID, app.wrongCode()))
			hardLocked(e.postCode(a.ID, app.code()))
			locks := e.userEvents(directory.EventFactorLocked, user)
			if len(locks) != 1 || !strings.Contains(locks[0].Details, `"hard":true`) {
				t.Errorf("mfa.locked events %+v, want one hard lock", locks)
			}
			// Still locked long after any timed lock would have ended.
			c, err := store.RateLimits().Get(ctx, key)
			must(t, err)
			if c.LockedUntil == nil || c.LockedUntil.Before(time.Now().AddDate(10, 0, 0)) || c.ExpiresAt.Before(time.Now().AddDate(10, 0, 0)) {
				t.Errorf("hard lock until %v, counter kept until %v; want years ahead", c.LockedUntil, c.ExpiresAt)
			}
			// An operator's reset clears it.
			must(t, store.RateLimits().Reset(ctx, key))
			wantRedirect(t, e.postCode(a.ID, app.code()), "/login?id="+a.ID)
		})
	})
}

func TestCodeStepBadInput(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		env := newEnv(t, store)
		user := env.newUser()
		env.enrollApp(user)

		fields := []struct {
			name, code, want string
		}{
			{"nothing typed", "", msgEnterCode},
			{"only spaces", "   ", msgEnterCode},
			{"too short", "12345", msgCodeLength},
			{"too long", "1234567", msgCodeLength},
			{"an 8-digit code", "12345678", msgCodeLength},
			{"far too long", strings.Repeat("1", 500), msgCodeLength},
			{"a letter", "12a456", msgCodeDigits},
			{"a dash", "123-456", msgCodeDigits},
			{"full-width digits", "１２３４５６", msgCodeDigits},
			{"a NUL byte", "123456\x00", msgCodeDigits},
			{"not UTF-8", "\xff23456", msgCodeDigits},
		}
		for _, tc := range fields {
			t.Run(tc.name, func(t *testing.T) {
				e := env.browser(t)
				a, _ := e.atCodeStep(user, nil)
				resp := e.postCode(a.ID, tc.code)
				wantStatus(t, resp, http.StatusBadRequest)
				if msg := codeError(page(t, resp)); msg != tc.want {
					t.Errorf("message %q, want %q", msg, tc.want)
				}
				if got := e.mfaFailures(user); got != 0 {
					t.Errorf("a malformed code counted as %d failures", got)
				}
			})
		}

		requests := []struct {
			name        string
			contentType string
			body        func(id string) string
			want        int
		}{
			{"no id", "application/x-www-form-urlencoded", func(string) string { return "code=123456" }, http.StatusBadRequest},
			{"unknown id", "application/x-www-form-urlencoded", func(string) string { return "id=nosuch&code=123456" }, http.StatusNotFound},
			{"id that is not UTF-8", "application/x-www-form-urlencoded", func(string) string { return "id=%ff&code=123456" }, http.StatusNotFound},
			{"JSON body", "application/json", func(id string) string { return `{"id":"` + id + `"}` }, http.StatusUnsupportedMediaType},
			{"malformed encoding", "application/x-www-form-urlencoded", func(id string) string { return "id=" + id + "&code=%zz" }, http.StatusBadRequest},
			{"oversized body", "application/x-www-form-urlencoded",
				func(id string) string { return "id=" + id + "&code=" + strings.Repeat("1", 70<<10) }, http.StatusRequestEntityTooLarge},
		}
		for _, tc := range requests {
			t.Run(tc.name, func(t *testing.T) {
				e := env.browser(t)
				a, _ := e.atCodeStep(user, nil)
				req, err := http.NewRequest(http.MethodPost, e.http.URL+"/login/otp", strings.NewReader(tc.body(a.ID)))
				must(t, err)
				req.Header.Set("Content-Type", tc.contentType)
				resp, err := e.client.Do(req)
				must(t, err)
				defer resp.Body.Close()
				wantStatus(t, resp, tc.want)
				if len(find(page(t, resp), byTag("h1"))) != 1 {
					t.Error("the error page has no heading")
				}
				if got := e.mfaFailures(user); got != 0 {
					t.Errorf("a bad request counted as %d failures", got)
				}
			})
		}

		t.Run("a form from another site", func(t *testing.T) {
			e := env.browser(t)
			a, _ := e.atCodeStep(user, nil)
			wantStatus(t, e.postCode(a.ID, "123456", "Sec-Fetch-Site", "cross-site"), http.StatusForbidden)
		})
	})
}

func TestCodeStepNeedsThePasswordFirst(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		env := newEnv(t, store)

		t.Run("without a session", func(t *testing.T) {
			e := env.browser(t)
			user := e.newUser()
			app := e.enrollApp(user)
			a := e.addAuthRequest(nil)
			wantRedirect(t, e.get("/login/otp?id="+a.ID), "/login?id="+a.ID)
			resp := e.postCode(a.ID, app.code())
			wantStatus(t, resp, http.StatusForbidden)
			if h := heading(t, page(t, resp)); h != errNoCodeStep.heading {
				t.Errorf("heading %q", h)
			}
			if e.cookie() != "" || e.authRequest(a.ID).Done || e.mfaFailures(user) != 0 {
				t.Error("a code without a password did something")
			}
		})
		t.Run("with a session older than prompt=login allows", func(t *testing.T) {
			e := env.browser(t)
			user := e.newUser()
			app := e.enrollApp(user)
			cookie := e.addSession(user, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
			e.setCookie(cookie)
			a := e.addAuthRequest(func(a *storage.AuthRequest) { a.Prompt = storage.StringList{"login"} })
			wantStatus(t, e.postCode(a.ID, app.code()), http.StatusForbidden)
			if !slices.Equal(e.liveSession(cookie).AMR, []string{"pwd"}) {
				t.Error("the session proved a second factor without a fresh password")
			}
		})
		t.Run("for a user who needs no code", func(t *testing.T) {
			e := env.browser(t)
			cookie := e.addSession(e.newUser(), time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
			e.setCookie(cookie)
			a := e.addAuthRequest(nil)
			wantRedirect(t, e.postCode(a.ID, "123456"), "/login?id="+a.ID)
			if e.cookie() != cookie {
				t.Error("the session changed")
			}
		})
		t.Run("a finished request", func(t *testing.T) {
			e := env.browser(t)
			user := e.newUser()
			app := e.enrollApp(user)
			a, _ := e.atCodeStep(user, nil)
			must(t, store.AuthRequests().Fail(context.Background(), a.ID, mfa.AccessDenied, "ended"))
			wantStatus(t, e.postCode(a.ID, app.code()), http.StatusBadRequest)
		})
	})
}

func TestNewPasswordStepAsksForTheCodeAgain(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		e := newEnv(t, store)
		app := e.enrollApp(e.user)
		a, _ := e.atCodeStep(e.user, nil)
		wantRedirect(t, e.postCode(a.ID, app.code()), "/login?id="+a.ID)

		// prompt=login: the password, then the code again.
		b := e.addAuthRequest(func(a *storage.AuthRequest) { a.Prompt = storage.StringList{"login"} })
		wantRedirect(t, e.get("/login?id="+b.ID), "/login/password?id="+b.ID)
		wantRedirect(t, e.signIn(b.ID, e.user.Email, testPassword), "/login?id="+b.ID)
		s := e.liveSession(e.cookie())
		if !slices.Equal(s.AMR, []string{"pwd"}) || s.MFATime != nil {
			t.Errorf("after the password: amr %q, mfa_time %v; want [pwd] and none", s.AMR, s.MFATime)
		}
		wantRedirect(t, e.get("/login?id="+b.ID), "/login/otp?id="+b.ID)
		wantRedirect(t, e.postCode(b.ID, app.code()), "/login?id="+b.ID)
		wantRedirect(t, e.get("/login?id="+b.ID), "/authorize/callback?id="+b.ID)
		if got := e.authRequest(b.ID); !slices.Equal(got.AMR, []string{"pwd", "otp", "mfa"}) {
			t.Errorf("amr %q, want [pwd otp mfa]", got.AMR)
		}
	})
}

// BenchmarkTOTPCheck is the code check of a sign-in on SQLite: opening the
// stored secret, the RFC 6238 check and the replay guard (one conditional
// UPDATE of the factor's last used step).
func BenchmarkTOTPCheck(b *testing.B) {
	ctx := context.Background()
	store := storagetest.Open(b, storagetest.SQLiteURL(b))
	user := &storage.User{Email: "bench@example.com"}
	must(b, store.Users().Create(ctx, user))
	key := bytes.Repeat([]byte{0x42}, 32)
	secret := make([]byte, totp.SecretSize)
	rand.Read(secret)
	f := &storage.Factor{ID: storage.NewFactorID(), UserID: user.ID, Kind: mfa.FactorTOTP, Name: "Phone"}
	sealed, err := totp.Encrypt(key, user.ID, f.ID, secret)
	must(b, err)
	f.Secret = sealed
	must(b, store.Factors().CreatePending(ctx, f))
	must(b, store.Factors().Confirm(ctx, user.ID, f.ID, 0, time.Now().Add(-time.Minute)))

	// Each check is a step later than the one before, as a user's would be.
	start := time.Now()
	codes := make([]string, b.N)
	for i := range codes {
		codes[i] = rfc6238Code(secret, start.Unix()+int64(i)*30, 6)
	}
	last := int64(0)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		plain, err := totp.Decrypt(key, user.ID, f.ID, f.Secret)
		if err != nil {
			b.Fatal(err)
		}
		proof, err := totp.Factor{}.Finish(ctx, mfa.Answer{Secret: plain, LastUsed: last, Response: codes[i],
			Now: start.Add(time.Duration(i) * 30 * time.Second)})
		step := proof.Counter
		if err != nil {
			b.Fatal(err)
		}
		if err := store.Factors().UseStep(ctx, user.ID, f.ID, step); err != nil {
			b.Fatal(err)
		}
		last = step
	}
}
