package ui

import (
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

func TestLogoutConfirmationPage(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		env := newEnv(t, store)
		tests := []struct {
			name       string
			query      url.Values
			wantStatus int
			wantFields map[string]string // hidden inputs carried to the POST
			wantApp    bool              // names the application
		}{
			{name: "no parameters", query: url.Values{}, wantStatus: http.StatusOK, wantFields: map[string]string{}},
			{name: "registered address", wantStatus: http.StatusOK, wantApp: true,
				query:      url.Values{"client_id": {env.app.ID}, "post_logout_redirect_uri": {testLogoutURI}, "state": {"s1"}},
				wantFields: map[string]string{"client_id": env.app.ID, "post_logout_redirect_uri": testLogoutURI, "state": "s1"}},
			{name: "client without an address", wantStatus: http.StatusOK, wantApp: true,
				query:      url.Values{"client_id": {env.app.ID}},
				wantFields: map[string]string{"client_id": env.app.ID}},
			{name: "unregistered address", wantStatus: http.StatusBadRequest,
				query: url.Values{"client_id": {env.app.ID}, "post_logout_redirect_uri": {"https://evil.example/"}}},
			{name: "registered address with a different ending", wantStatus: http.StatusBadRequest,
				query: url.Values{"client_id": {env.app.ID}, "post_logout_redirect_uri": {testLogoutURI + "/"}}},
			{name: "address without a client", wantStatus: http.StatusBadRequest,
				query: url.Values{"post_logout_redirect_uri": {testLogoutURI}}},
			{name: "address for an unknown client", wantStatus: http.StatusBadRequest,
				query: url.Values{"client_id": {"nosuchclient"}, "post_logout_redirect_uri": {testLogoutURI}}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				e := env.browser(t)
				resp := e.get("/logout?" + tc.query.Encode())
				wantStatus(t, resp, tc.wantStatus)
				if loc := resp.Header.Get("Location"); loc != "" {
					t.Fatalf("redirected to %q", loc)
				}
				doc := page(t, resp)
				if tc.wantStatus != http.StatusOK {
					if h := heading(t, doc); h != "This sign-out link is not valid" {
						t.Errorf("heading %q", h)
					}
					return
				}
				forms := find(doc, byTag("form"))
				if len(forms) != 1 {
					t.Fatalf("%d forms, want 1", len(forms))
				}
				if m, _ := attr(forms[0], "method"); m != "post" {
					t.Errorf("form method %q, want post", m)
				}
				got := map[string]string{}
				for _, in := range find(forms[0], func(n *html.Node) bool { typ, _ := attr(n, "type"); return typ == "hidden" }) {
					name, _ := attr(in, "name")
					got[name], _ = attr(in, "value")
				}
				if !maps.Equal(got, tc.wantFields) {
					t.Errorf("hidden fields %v, want %v", got, tc.wantFields)
				}
				if named := strings.Contains(text(doc), testClientName+" asked to sign you out."); named != tc.wantApp {
					t.Errorf("names the application: %v, want %v", named, tc.wantApp)
				}
			})
		}
		t.Run("shows who is signed in", func(t *testing.T) {
			e := env.browser(t)
			e.setCookie(e.addSession(e.user, time.Now(), time.Now().Add(time.Hour)))
			if body := text(page(t, e.get("/logout"))); !strings.Contains(body, "You are signed in as "+e.user.Email) {
				t.Errorf("page %q does not say who is signed in", body)
			}
		})
		t.Run("signed out page", func(t *testing.T) {
			resp := env.browser(t).get("/logout?done=1")
			wantStatus(t, resp, http.StatusOK)
			if h := heading(t, page(t, resp)); h != "You are signed out" {
				t.Errorf("heading %q", h)
			}
		})
	})
}

func TestLogout(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		env := newEnv(t, store)
		tests := []struct {
			name string
			form url.Values
			want string // where the browser goes
		}{
			{"no client", url.Values{}, "/logout?done=1"},
			{"registered address with state", url.Values{"client_id": {env.app.ID}, "post_logout_redirect_uri": {testLogoutURI}, "state": {"a b&c"}},
				testLogoutURI + "?state=a+b%26c"},
			{"registered address without state", url.Values{"client_id": {env.app.ID}, "post_logout_redirect_uri": {testLogoutURI}},
				testLogoutURI},
			{"unregistered address", url.Values{"client_id": {env.app.ID}, "post_logout_redirect_uri": {"https://evil.example/"}, "state": {"x"}},
				"/logout?done=1"},
			{"address without a client", url.Values{"post_logout_redirect_uri": {testLogoutURI}}, "/logout?done=1"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				e := env.browser(t)
				mine := e.addSession(e.user, time.Now(), time.Now().Add(time.Hour))
				elsewhere := e.addSession(e.user, time.Now(), time.Now().Add(time.Hour)) // the same user on another device
				e.setCookie(mine)

				resp := e.post("/logout", tc.form)
				wantRedirect(t, resp, tc.want)
				if e.sessionLive(mine) {
					t.Error("this browser's session still works")
				}
				if !e.sessionLive(elsewhere) {
					t.Error("the user's session on another device ended too")
				}
				cleared := false
				for _, c := range resp.Cookies() {
					cleared = cleared || (c.Name == testCookie && c.MaxAge < 0 && c.Value == "")
				}
				if !cleared || e.cookie() != "" {
					t.Error("the session cookie was not cleared")
				}
			})
		}
		if got := len(env.auditEvents(directory.EventSignedOut)); got != len(tests) {
			t.Errorf("%d signout events, want %d", got, len(tests))
		}
		t.Run("without a session", func(t *testing.T) {
			wantRedirect(t, env.browser(t).post("/logout", url.Values{}), "/logout?done=1")
		})
	})
}

// "You are signed out" is said only when this browser's session is gone.
func TestSignedOutPageTellsTheTruth(t *testing.T) {
	store := storagetest.Open(t, storagetest.SQLiteURL(t))
	env := newEnv(t, store)
	e := env.browser(t)
	e.signInAs(e.newUser(), time.Now())
	if h := heading(t, page(t, e.get("/logout?done=1"))); h == "You are signed out" {
		t.Fatal("a signed-in browser was told it is signed out")
	}
	if h := heading(t, page(t, env.browser(t).get("/logout?done=1"))); h != "You are signed out" {
		t.Errorf("a browser without a session: heading %q", h)
	}
}
