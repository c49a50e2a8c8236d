package ui

import (
	"context"
	"fmt"
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

// TestDispatcherSecondFactor checks that the dispatcher gathers who
// requires a second factor (the user's own factor, their organisations,
// the client, the request) and sends the browser where mfa.Decide says.
func TestDispatcherSecondFactor(t *testing.T) {
	const (
		toOTP    = "/login/otp?id="
		toEnroll = "/login/enroll?id="
		toDone   = "/authorize/callback?id="
	)
	pwd := []string{"pwd"}
	both := []string{"pwd", "otp", "mfa"}
	essential := func(values string) func(a *storage.AuthRequest) {
		return func(a *storage.AuthRequest) {
			a.Claims = `{"id_token":{"acr":{"essential":true,"values":[` + values + `]}}}`
		}
	}
	type setup struct {
		app          bool // the user has an authenticator app
		org          bool // an organisation requires a second factor of every member
		orgOptional  bool // an organisation that does not
		memberOfOrg  bool // an organisation requires a second factor of this member
		client       bool // the client requires a second factor
		sessionProof []string
	}
	tests := []struct {
		name    string
		setup   setup
		request func(a *storage.AuthRequest)
		want    string
		// For toDone: the error, or else the acr the request completed with.
		wantError, wantACR string
	}{
		{name: "a user with an authenticator app is asked for a code", setup: setup{app: true, sessionProof: pwd}, want: toOTP},
		{name: "a session that proved the code completes with both factors", setup: setup{app: true, sessionProof: both},
			want: toDone, wantACR: mfa.ACRMFA},
		{name: "a missing code with prompt=none is interaction_required", setup: setup{app: true, sessionProof: pwd},
			request: func(a *storage.AuthRequest) { a.Prompt = storage.StringList{"none"} }, want: toDone, wantError: mfa.InteractionRequired},
		{name: "an organisation that requires 2FA sends a member without a factor to enroll", setup: setup{org: true, sessionProof: pwd},
			want: toEnroll},
		{name: "an organisation that requires 2FA of this member", setup: setup{orgOptional: true, memberOfOrg: true, sessionProof: pwd},
			want: toEnroll},
		{name: "an organisation that does not require 2FA", setup: setup{orgOptional: true, sessionProof: pwd},
			want: toDone, wantACR: mfa.ACRPassword},
		{name: "an organisation that requires 2FA of a member with an app", setup: setup{org: true, app: true, sessionProof: pwd},
			want: toOTP},
		{name: "enrollment needed with prompt=none is interaction_required", setup: setup{org: true, sessionProof: pwd},
			request: func(a *storage.AuthRequest) { a.Prompt = storage.StringList{"none"} }, want: toDone, wantError: mfa.InteractionRequired},
		{name: "a client that requires 2FA", setup: setup{client: true, sessionProof: pwd}, want: toEnroll},
		{name: "acr_values asks for a second factor the user has", setup: setup{app: true, sessionProof: pwd},
			request: func(a *storage.AuthRequest) { a.ACRValues = storage.StringList{mfa.ACRMFA} }, want: toOTP},
		{name: "acr_values asks for a second factor the user lacks", setup: setup{sessionProof: pwd},
			request: func(a *storage.AuthRequest) { a.ACRValues = storage.StringList{mfa.ACRMFA} }, want: toEnroll},
		{name: "an essential acr that can never be met is access_denied", setup: setup{app: true, sessionProof: both},
			request: essential(`"urn:gatehouse:acr:phr"`), want: toDone, wantError: mfa.AccessDenied},
		{name: "an essential acr that can never be met, with prompt=none", setup: setup{app: true, sessionProof: both},
			request: func(a *storage.AuthRequest) {
				essential(`"urn:gatehouse:acr:phr"`)(a)
				a.Prompt = storage.StringList{"none"}
			}, want: toDone, wantError: mfa.InteractionRequired},
		{name: "an essential acr is answered with the highest requested level met", setup: setup{sessionProof: pwd},
			request: essential(`"urn:gatehouse:acr:mfa","urn:gatehouse:acr:pwd"`), want: toDone, wantACR: mfa.ACRPassword},
		{name: "an essential acr that needs the code", setup: setup{app: true, sessionProof: pwd},
			request: essential(`"urn:gatehouse:acr:mfa"`), want: toOTP},
		{name: "without a session the password comes first", setup: setup{app: true, client: true},
			want: "/login/password?id="},
	}
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		env := newEnv(t, store)
		ctx := context.Background()
		strict := &storage.Client{Name: "Strict App", RedirectURIs: storage.StringList{"https://strict.example/cb"}, RequireMFA: true}
		must(t, store.Clients().Create(ctx, strict))
		for i, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				e := env.browser(t)
				user := e.newUser()
				if tc.setup.app {
					e.enrollApp(user)
				}
				joinOrg := func(require, memberRequire bool) {
					o := &storage.Org{Slug: fmt.Sprintf("org-%d", i), Name: "Org", Policy: storage.Policy{RequireMFA: require}}
					must(t, store.Orgs().Create(ctx, o))
					must(t, store.Orgs().AddMember(ctx, o.ID, user.ID, storage.RoleMember))
					if memberRequire {
						must(t, store.Orgs().SetMemberRequireMFA(ctx, o.ID, user.ID, true))
					}
				}
				if tc.setup.org {
					joinOrg(true, false)
				}
				if tc.setup.orgOptional {
					joinOrg(false, tc.setup.memberOfOrg)
				}
				var cookie string
				if tc.setup.sessionProof != nil {
					secret, digest := storage.NewSecret()
					must(t, store.Sessions().Create(ctx, &storage.Session{IDHash: digest, UserID: user.ID,
						AuthTime: time.Now().Add(-time.Hour), AMR: tc.setup.sessionProof, ExpiresAt: time.Now().Add(time.Hour)}))
					cookie = secret
					e.setCookie(cookie)
				}
				a := e.addAuthRequest(func(a *storage.AuthRequest) {
					if tc.setup.client {
						a.ClientID, a.RedirectURI = strict.ID, strict.RedirectURIs[0]
					}
					if tc.request != nil {
						tc.request(a)
					}
				})

				wantRedirect(t, e.get("/login?id="+a.ID), tc.want+a.ID)
				got := e.authRequest(a.ID)
				switch {
				case tc.want != toDone:
					if got.Done || got.ErrorCode != "" {
						t.Errorf("request ended (done %v, error %q) before the step", got.Done, got.ErrorCode)
					}
				case tc.wantError != "":
					if got.ErrorCode != tc.wantError || got.Done {
						t.Errorf("request: done %v, error %q; want error %q", got.Done, got.ErrorCode, tc.wantError)
					}
				default:
					if !got.Done || got.ACR != tc.wantACR || !slices.Equal(got.AMR, tc.setup.sessionProof) ||
						!storage.SecretMatches(got.SessionHash, cookie) {
						t.Errorf("request: done %v, acr %q, amr %q; want done by the session with %q, %q",
							got.Done, got.ACR, got.AMR, tc.wantACR, tc.setup.sessionProof)
					}
				}
			})
		}
	})
}
