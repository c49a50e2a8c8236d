package ui

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

// sessionSpec describes the browser's session in a dispatcher test.
type sessionSpec struct {
	// authTime is when the user signed in, relative to the request.
	authTime func(a *storage.AuthRequest) time.Time
	expired  bool // past its absolute end
	disabled bool // the user was disabled since
}

func signedInBefore(a *storage.AuthRequest) time.Time { return a.CreatedAt.Add(-time.Hour) }
func signedInAfter(a *storage.AuthRequest) time.Time  { return a.CreatedAt.Add(time.Millisecond) }

func TestDispatcher(t *testing.T) {
	seconds := func(n int64) *int64 { return &n }
	const (
		toPassword = "password"
		toCallback = "callback"
	)
	tests := []struct {
		name    string
		request func(a *storage.AuthRequest, user *storage.User)
		session *sessionSpec
		want    string // toPassword or toCallback
		// For toCallback: the request completed, or failed with this error.
		wantError string
	}{
		{name: "no session", want: toPassword},
		{name: "no session, prompt=none", request: prompt("none"), want: toCallback, wantError: mfa.LoginRequired},
		{name: "live session", session: &sessionSpec{authTime: signedInBefore}, want: toCallback},
		{name: "live session, prompt=none", request: prompt("none"), session: &sessionSpec{authTime: signedInBefore}, want: toCallback},
		{name: "session past its end", session: &sessionSpec{authTime: signedInBefore, expired: true}, want: toPassword},
		{name: "session past its end, prompt=none", request: prompt("none"),
			session: &sessionSpec{authTime: signedInBefore, expired: true}, want: toCallback, wantError: mfa.LoginRequired},
		{name: "disabled user", session: &sessionSpec{authTime: signedInBefore, disabled: true}, want: toPassword},
		{name: "disabled user, prompt=none", request: prompt("none"),
			session: &sessionSpec{authTime: signedInBefore, disabled: true}, want: toCallback, wantError: mfa.LoginRequired},
		{name: "id_token_hint names the user", request: func(a *storage.AuthRequest, u *storage.User) { a.HintSubject = u.ID },
			session: &sessionSpec{authTime: signedInBefore}, want: toCallback},
		{name: "id_token_hint names someone else", request: func(a *storage.AuthRequest, u *storage.User) { a.HintSubject = "someone-else" },
			session: &sessionSpec{authTime: signedInBefore}, want: toPassword},
		{name: "prompt=login, signed in before the request", request: prompt("login"),
			session: &sessionSpec{authTime: signedInBefore}, want: toPassword},
		{name: "prompt=login, signed in since", request: prompt("login"),
			session: &sessionSpec{authTime: signedInAfter}, want: toCallback},
		{name: "max_age met", request: func(a *storage.AuthRequest, _ *storage.User) { a.MaxAge = seconds(7200) },
			session: &sessionSpec{authTime: signedInBefore}, want: toCallback},
		{name: "max_age exceeded", request: func(a *storage.AuthRequest, _ *storage.User) { a.MaxAge = seconds(60) },
			session: &sessionSpec{authTime: signedInBefore}, want: toPassword},
		{name: "max_age exceeded, prompt=none", request: func(a *storage.AuthRequest, _ *storage.User) {
			a.MaxAge = seconds(60)
			a.Prompt = storage.StringList{"none"}
		}, session: &sessionSpec{authTime: signedInBefore}, want: toCallback, wantError: mfa.LoginRequired},
		{name: "max_age=0, signed in before the request", request: func(a *storage.AuthRequest, _ *storage.User) { a.MaxAge = seconds(0) },
			session: &sessionSpec{authTime: signedInBefore}, want: toPassword},
		{name: "max_age=0, signed in since", request: func(a *storage.AuthRequest, _ *storage.User) { a.MaxAge = seconds(0) },
			session: &sessionSpec{authTime: signedInAfter}, want: toCallback},
	}
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		env := newEnv(t, store)
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				e := env.browser(t)
				user := e.newUser()
				a := e.addAuthRequest(func(a *storage.AuthRequest) {
					if tc.request != nil {
						tc.request(a, user)
					}
				})
				var cookie string
				var authTime time.Time
				if tc.session != nil {
					authTime = tc.session.authTime(a).UTC().Truncate(time.Microsecond)
					end := time.Now().Add(time.Hour)
					if tc.session.expired {
						end = time.Now().Add(-time.Second)
					}
					cookie = e.addSession(user, authTime, end)
					e.setCookie(cookie)
					if tc.session.disabled {
						must(t, store.Users().SetDisabled(context.Background(), user.ID, true))
					}
				}

				resp := e.get("/login?id=" + a.ID)
				got := e.authRequest(a.ID)
				switch tc.want {
				case toPassword:
					wantRedirect(t, resp, "/login/password?id="+a.ID)
					if got.Done || got.ErrorCode != "" {
						t.Fatalf("request ended (done %v, error %q) before the password step", got.Done, got.ErrorCode)
					}
				case toCallback:
					wantRedirect(t, resp, "/authorize/callback?id="+a.ID)
					if tc.wantError != "" {
						if got.ErrorCode != tc.wantError || got.Done {
							t.Fatalf("request: done %v, error %q; want error %q", got.Done, got.ErrorCode, tc.wantError)
						}
						return
					}
					wantCompletedBy(t, got, user, cookie, authTime)
				}
			})
		}
	})
}

func prompt(values ...string) func(*storage.AuthRequest, *storage.User) {
	return func(a *storage.AuthRequest, _ *storage.User) { a.Prompt = values }
}

// wantCompletedBy checks that a request was completed by the session
// behind cookie, with the password's amr and acr.
func wantCompletedBy(t *testing.T, a *storage.AuthRequest, user *storage.User, cookie string, authTime time.Time) {
	t.Helper()
	if !a.Done || a.ErrorCode != "" {
		t.Fatalf("request: done %v, error %q; want completed", a.Done, a.ErrorCode)
	}
	if a.Subject != user.ID {
		t.Errorf("subject %q, want %q", a.Subject, user.ID)
	}
	if !storage.SecretMatches(a.SessionHash, cookie) {
		t.Error("the request is not tied to the browser's session")
	}
	if a.AuthTime == nil || !a.AuthTime.Equal(authTime) {
		t.Errorf("auth_time %v, want %v", a.AuthTime, authTime)
	}
	if !slices.Equal(a.AMR, []string{"pwd"}) || a.ACR != mfa.ACRPassword {
		t.Errorf("amr %q, acr %q; want [pwd], %q", a.AMR, a.ACR, mfa.ACRPassword)
	}
}

func TestDispatcherRequestStates(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		env := newEnv(t, store)
		ctx := context.Background()

		t.Run("missing id", func(t *testing.T) {
			e := env.browser(t)
			resp := e.get("/login")
			wantStatus(t, resp, http.StatusBadRequest)
			if h := heading(t, page(t, resp)); h != "This sign-in link is incomplete" {
				t.Errorf("heading %q", h)
			}
		})
		t.Run("unknown id", func(t *testing.T) {
			e := env.browser(t)
			resp := e.get("/login?id=nosuchrequest")
			wantStatus(t, resp, http.StatusNotFound)
			if h := heading(t, page(t, resp)); h != "This sign-in has expired" {
				t.Errorf("heading %q", h)
			}
		})
		t.Run("expired request", func(t *testing.T) {
			e := env.browser(t)
			a := e.addAuthRequest(func(a *storage.AuthRequest) { a.ExpiresAt = time.Now().Add(-time.Second) })
			wantStatus(t, e.get("/login?id="+a.ID), http.StatusNotFound)
		})
		t.Run("failed request goes to the callback to tell the client", func(t *testing.T) {
			e := env.browser(t)
			a := e.addAuthRequest(nil)
			must(t, store.AuthRequests().Fail(ctx, a.ID, mfa.LoginRequired, "The user is not signed in."))
			wantRedirect(t, e.get("/login?id="+a.ID), "/authorize/callback?id="+a.ID)
		})
		t.Run("request whose code was issued", func(t *testing.T) {
			e := env.browser(t)
			a := e.addAuthRequest(nil)
			cookie := e.addSession(e.user, time.Now(), time.Now().Add(time.Hour))
			must(t, store.AuthRequests().Complete(ctx, a.ID, storage.Completion{Subject: e.user.ID,
				SessionHash: storage.HashSecret(cookie), AuthTime: time.Now(), AMR: []string{"pwd"}, ACR: mfa.ACRPassword}))
			_, codeHash := storage.NewSecret()
			must(t, store.AuthRequests().SetCode(ctx, a.ID, codeHash, time.Now().Add(time.Minute)))
			e.setCookie(cookie)
			resp := e.get("/login?id=" + a.ID)
			wantStatus(t, resp, http.StatusBadRequest)
			if h := heading(t, page(t, resp)); h != "This sign-in has already finished" {
				t.Errorf("heading %q", h)
			}
		})
	})
}
