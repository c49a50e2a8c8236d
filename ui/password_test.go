package ui

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/password"
	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

func TestPasswordPageForm(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		e := newEnv(t, store)
		a := e.addAuthRequest(func(a *storage.AuthRequest) { a.LoginHint = "alice@example.com" })

		resp := e.get("/login/password?id=" + a.ID)
		wantStatus(t, resp, http.StatusOK)
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("Content-Security-Policy %q, want the hosted pages' policy", csp)
		}
		doc := page(t, resp)
		if h := heading(t, doc); h != "Sign in to "+testClientName {
			t.Errorf("heading %q, want %q", h, "Sign in to "+testClientName)
		}

		inputs := []struct {
			id, label string
			attrs     map[string]string
		}{
			{"email", "Email", map[string]string{"name": "email", "type": "email", "autocomplete": "username", "value": "alice@example.com"}},
			{"password", "Password", map[string]string{"name": "password", "type": "password", "autocomplete": "current-password"}},
		}
		for _, in := range inputs {
			el := element(t, doc, in.id)
			for k, want := range in.attrs {
				if got, _ := attr(el, k); got != want {
					t.Errorf("#%s %s=%q, want %q", in.id, k, got, want)
				}
			}
			labels := find(doc, func(n *html.Node) bool { v, _ := attr(n, "for"); return n.Data == "label" && v == in.id })
			if len(labels) != 1 || text(labels[0]) != in.label {
				t.Errorf("#%s: want one label %q", in.id, in.label)
			}
		}
		// With the email filled in from login_hint, the cursor waits in the password field.
		if _, ok := attr(element(t, doc, "password"), "autofocus"); !ok {
			t.Error("the password field is not focused when login_hint filled the email")
		}
		hidden := find(doc, func(n *html.Node) bool { v, _ := attr(n, "name"); return n.Data == "input" && v == "id" })
		if len(hidden) != 1 {
			t.Fatalf("%d inputs named id, want 1", len(hidden))
		}
		if typ, _ := attr(hidden[0], "type"); typ != "hidden" {
			t.Errorf("the id input has type %q, want hidden", typ)
		}
		if v, _ := attr(hidden[0], "value"); v != a.ID {
			t.Errorf("hidden id %q, want %q", v, a.ID)
		}
		forms := find(doc, byTag("form"))
		if len(forms) != 1 {
			t.Fatalf("%d forms, want 1", len(forms))
		}
		if m, _ := attr(forms[0], "method"); m != "post" {
			t.Errorf("form method %q, want post", m)
		}
		if act, _ := attr(forms[0], "action"); act != "/login/password" {
			t.Errorf("form action %q, want /login/password", act)
		}

		t.Run("without login_hint the email is empty and focused", func(t *testing.T) {
			b := e.browser(t)
			doc := page(t, b.get("/login/password?id="+b.addAuthRequest(nil).ID))
			email := element(t, doc, "email")
			if v, _ := attr(email, "value"); v != "" {
				t.Errorf("email value %q, want empty", v)
			}
			if _, ok := attr(email, "autofocus"); !ok {
				t.Error("the email field is not focused")
			}
		})
	})
}

// TestPasswordRefusalsLookAlike: whatever is wrong, the answer is the same,
// so it does not tell whether an account exists or can sign in.
func TestPasswordRefusalsLookAlike(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		env := newEnv(t, store)
		disabled := env.addUser("disabled@example.com", testPassword)
		must(t, store.Users().SetDisabled(context.Background(), disabled.ID, true))
		env.addUser("nopassword@example.com", "")

		tests := []struct {
			name, email, password, reason string
		}{
			{"unknown email", "nobody@example.com", testPassword, "unknown_email"},
			{"wrong password", "alice@example.com", "not the password", "wrong_password"},
			{"user without a password", "nopassword@example.com", testPassword, "no_password"},
			{"disabled user with the right password", "disabled@example.com", testPassword, "disabled"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				e := env.browser(t)
				a := e.addAuthRequest(nil)
				resp := e.signIn(a.ID, tc.email, tc.password)
				wantStatus(t, resp, http.StatusUnauthorized)
				doc := page(t, resp)
				if got := formError(doc); got != "Incorrect email or password." {
					t.Errorf("error %q, want %q", got, "Incorrect email or password.")
				}
				for _, id := range []string{"email", "password"} {
					if d, _ := attr(element(t, doc, id), "aria-describedby"); d != "form-error" {
						t.Errorf("#%s aria-describedby=%q, want form-error", id, d)
					}
				}
				if v, _ := attr(element(t, doc, "email"), "value"); v != tc.email {
					t.Errorf("the email field lost what was typed: %q", v)
				}
				if resp.Header.Get("Set-Cookie") != "" || e.cookie() != "" {
					t.Error("a refused sign-in set a cookie")
				}
				wantFailureAudited(t, e, a, tc.reason, tc.password)
			})
		}
		if got := env.signins(outcomeFailure); got != float64(len(tests)) {
			t.Errorf("gatehouse_signins_total{outcome=failure} = %v, want %d", got, len(tests))
		}
	})
}

// wantFailureAudited checks the newest signin.password_failed event.
func wantFailureAudited(t *testing.T, e *testEnv, a *storage.AuthRequest, reason, plain string) {
	t.Helper()
	events := e.auditEvents(directory.EventPasswordFailed)
	if len(events) == 0 {
		t.Fatal("no signin.password_failed event")
	}
	ev := events[0]
	if ev.ClientID != a.ClientID || !strings.Contains(ev.Details, `"reason":"`+reason+`"`) {
		t.Errorf("event client %q details %s; want client %q, reason %s", ev.ClientID, ev.Details, a.ClientID, reason)
	}
	if strings.Contains(ev.Details, plain) || strings.Contains(ev.UserAgent, plain) {
		t.Error("the audit event holds the password")
	}
}

func TestPasswordFieldErrors(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		env := newEnv(t, store)
		tests := []struct {
			name, email, password string
			field, want           string
		}{
			{"no email", "", testPassword, "email", "Enter your email address."},
			{"not an email", "alice", testPassword, "email", "Enter an email address like name@example.com."},
			{"control character in the email", "alice\x00@example.com", testPassword, "email", "Enter an email address like name@example.com."},
			{"invalid UTF-8 in the email", "al\xffice@example.com", testPassword, "email", "Enter an email address like name@example.com."},
			{"email too long", strings.Repeat("a", 250) + "@example.com", testPassword, "email", "This email address is too long."},
			{"no password", "alice@example.com", "", "password", "Enter your password."},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				e := env.browser(t)
				resp := e.signIn(e.addAuthRequest(nil).ID, tc.email, tc.password)
				wantStatus(t, resp, http.StatusBadRequest)
				doc := page(t, resp)
				msg := element(t, doc, tc.field+"-error")
				if got := text(msg); got != tc.want {
					t.Errorf("error %q, want %q", got, tc.want)
				}
				input := element(t, doc, tc.field)
				if d, _ := attr(input, "aria-describedby"); d != tc.field+"-error" {
					t.Errorf("#%s aria-describedby=%q, want %s-error", tc.field, d, tc.field)
				}
				if inv, _ := attr(input, "aria-invalid"); inv != "true" {
					t.Errorf("#%s is not marked invalid", tc.field)
				}
			})
		}
		// Incomplete forms check no password and count nothing.
		c, err := store.RateLimits().Get(context.Background(), "pw:email:alice@example.com")
		must(t, err)
		if c.Failures != 0 {
			t.Errorf("incomplete forms counted %d failures", c.Failures)
		}
	})
}

func TestPasswordSuccess(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		e := newEnv(t, store)
		ctx := context.Background()
		// The browser already holds a session (of another user): signing in
		// must not keep its id.
		other := e.newUser()
		oldCookie := e.addSession(other, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
		e.setCookie(oldCookie)
		a := e.addAuthRequest(nil)

		resp := e.signIn(a.ID, "  Alice@Example.com ", testPassword)
		wantRedirect(t, resp, "/login?id="+a.ID)

		var set *http.Cookie
		for _, c := range resp.Cookies() {
			if c.Name == testCookie {
				set = c
			}
		}
		if set == nil {
			t.Fatal("no session cookie set")
		}
		if !set.HttpOnly || set.SameSite != http.SameSiteLaxMode || set.Path != "/" {
			t.Errorf("cookie HttpOnly=%v SameSite=%v Path=%q; want HttpOnly, Lax, /", set.HttpOnly, set.SameSite, set.Path)
		}
		if set.Value == oldCookie {
			t.Fatal("the session id did not change")
		}
		if e.sessionLive(oldCookie) {
			t.Error("the browser's old session still works")
		}
		s, err := store.Sessions().Touch(ctx, storage.HashSecret(set.Value), time.Hour)
		must(t, err)
		if s.UserID != e.user.ID || !slices.Equal(s.AMR, []string{"pwd"}) {
			t.Errorf("session user %q amr %q; want %q, [pwd]", s.UserID, s.AMR, e.user.ID)
		}
		if got := s.ExpiresAt.Sub(s.AuthTime); got < 11*time.Hour || got > 13*time.Hour {
			t.Errorf("session lasts %v, want the 12h maximum", got)
		}
		if ev := e.auditEvents(directory.EventPasswordOK); len(ev) != 1 || ev[0].SubjectID != e.user.ID || ev[0].ClientID != a.ClientID {
			t.Errorf("signin.password_ok events %+v", ev)
		}
		if got := e.signins(outcomeSuccess); got != 1 {
			t.Errorf("gatehouse_signins_total{outcome=success} = %v, want 1", got)
		}
		if got := e.passwordSteps(); got != 1 {
			t.Errorf("the password step latency has %d samples, want 1", got)
		}

		// The dispatcher now finishes the request with the new session.
		wantRedirect(t, e.get("/login?id="+a.ID), "/authorize/callback?id="+a.ID)
		wantCompletedBy(t, e.authRequest(a.ID), e.user, set.Value, s.AuthTime)
	})
}

func TestPasswordForAnotherAccountThanTheHint(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		e := newEnv(t, store)
		hinted := e.newUser()
		a := e.addAuthRequest(func(a *storage.AuthRequest) { a.HintSubject = hinted.ID })
		resp := e.signIn(a.ID, "alice@example.com", testPassword)
		wantStatus(t, resp, http.StatusForbidden)
		if got := formError(page(t, resp)); got != "This application asked you to sign in with a different account." {
			t.Errorf("error %q", got)
		}
		if e.cookie() != "" {
			t.Error("a session was started for the wrong account")
		}
	})
}

func TestPasswordUpgradesWeakerHashes(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		e := newEnv(t, store)
		ctx := context.Background()
		// Still within OWASP's minimum, but cheaper than today's settings.
		older := password.NewHasher(password.Params{Memory: 12288, Iterations: 3, Parallelism: 1, SaltLen: 16, KeyLen: 32}, 1)
		oldHash, err := older.Hash(ctx, testPassword)
		must(t, err)
		u := e.newUser()
		must(t, store.Users().SetPassword(ctx, u.ID, oldHash))

		a := e.addAuthRequest(nil)
		wantRedirect(t, e.signIn(a.ID, u.Email, testPassword), "/login?id="+a.ID)
		got, err := store.Users().Get(ctx, u.ID)
		must(t, err)
		if *got.PasswordHash == oldHash || e.hasher.NeedsRehash(*got.PasswordHash) {
			t.Fatal("the weaker hash was not replaced")
		}
		if ok, err := e.hasher.Verify(ctx, testPassword, *got.PasswordHash); err != nil || !ok {
			t.Fatalf("the new hash does not verify the password: %v %v", ok, err)
		}
	})
}

func TestPasswordBusy(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		e := newEnv(t, store)
		e.ui.hasher = busyHasher{e.hasher}
		for _, email := range []string{"alice@example.com", "nobody@example.com"} {
			resp := e.signIn(e.addAuthRequest(nil).ID, email, testPassword)
			wantStatus(t, resp, http.StatusServiceUnavailable)
			if resp.Header.Get("Retry-After") == "" {
				t.Error("no Retry-After")
			}
			if got := formError(page(t, resp)); got != "Gatehouse is busy, please try again in a moment." {
				t.Errorf("error %q", got)
			}
		}
		if got := e.signins(outcomeBusy); got != 2 {
			t.Errorf("gatehouse_signins_total{outcome=busy} = %v, want 2", got)
		}
		if c, _ := store.RateLimits().Get(context.Background(), "pw:email:nobody@example.com"); c.Failures != 0 {
			t.Error("a busy answer counted as a failure")
		}
	})
}

// busyHasher is a hasher whose slots are all taken.
type busyHasher struct{ *password.Hasher }

func (busyHasher) Verify(context.Context, string, string) (bool, error) {
	return false, password.ErrBusy
}
func (busyHasher) VerifyDummy(context.Context, string) error { return password.ErrBusy }

func TestPasswordBadInput(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		env := newEnv(t, store)
		tests := []struct {
			name        string
			contentType string
			body        string
			want        int
		}{
			{"no id", "application/x-www-form-urlencoded", "email=a%40b.c&password=x", http.StatusBadRequest},
			{"unknown id", "application/x-www-form-urlencoded", "id=nosuch&email=a%40b.c&password=x", http.StatusNotFound},
			{"id with a NUL byte", "application/x-www-form-urlencoded", "id=a%00b&email=a%40b.c&password=x", http.StatusNotFound},
			{"id that is not UTF-8", "application/x-www-form-urlencoded", "id=%ff%fe&email=a%40b.c&password=x", http.StatusNotFound},
			{"JSON body", "application/json", `{"email":"a@b.c"}`, http.StatusUnsupportedMediaType},
			{"no content type", "", "id=x", http.StatusUnsupportedMediaType},
			{"multipart body", "multipart/form-data; boundary=x", "--x--", http.StatusUnsupportedMediaType},
			{"malformed encoding", "application/x-www-form-urlencoded", "id=%zz", http.StatusBadRequest},
			{"oversized body", "application/x-www-form-urlencoded", "id=x&password=" + strings.Repeat("a", 70<<10), http.StatusRequestEntityTooLarge},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				e := env.browser(t)
				req, err := http.NewRequest(http.MethodPost, e.http.URL+"/login/password", strings.NewReader(tc.body))
				must(t, err)
				if tc.contentType != "" {
					req.Header.Set("Content-Type", tc.contentType)
				}
				resp, err := e.client.Do(req)
				must(t, err)
				defer resp.Body.Close()
				wantStatus(t, resp, tc.want)
				doc := page(t, resp)
				if len(find(doc, byTag("h1"))) != 1 {
					t.Error("the error page has no heading")
				}
			})
		}
		t.Run("page without id", func(t *testing.T) {
			wantStatus(t, env.browser(t).get("/login/password"), http.StatusBadRequest)
		})
		t.Run("page for an unknown id", func(t *testing.T) {
			wantStatus(t, env.browser(t).get("/login/password?id=nosuch"), http.StatusNotFound)
		})
		t.Run("unknown page under /login", func(t *testing.T) {
			wantStatus(t, env.browser(t).get("/login/nosuch"), http.StatusNotFound)
		})
	})
}
