package ui

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

// TestCrossOriginFormsAreRefused: another site cannot make a browser sign
// in (login CSRF) or out through Gatehouse's forms.
func TestCrossOriginFormsAreRefused(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		env := newEnv(t, store)
		crossSite := [][]string{
			{"Sec-Fetch-Site", "cross-site"},
			{"Sec-Fetch-Site", "same-site"},
			{"Origin", "https://evil.example"},
		}
		for _, headers := range crossSite {
			t.Run("sign in, "+headers[0]+": "+headers[1], func(t *testing.T) {
				e := env.browser(t)
				resp := e.signIn(e.addAuthRequest(nil).ID, e.user.Email, testPassword, headers...)
				wantStatus(t, resp, http.StatusForbidden)
				if h := heading(t, page(t, resp)); h != "This form came from another site" {
					t.Errorf("heading %q", h)
				}
				if e.cookie() != "" {
					t.Error("a cross-origin form started a session")
				}
			})
			t.Run("sign out, "+headers[0]+": "+headers[1], func(t *testing.T) {
				e := env.browser(t)
				cookie := e.addSession(e.user, time.Now(), time.Now().Add(time.Hour))
				e.setCookie(cookie)
				wantStatus(t, e.post("/logout", url.Values{}, headers...), http.StatusForbidden)
				if !e.sessionLive(cookie) {
					t.Error("a cross-origin form ended the session")
				}
			})
		}
		sameOrigin := [][]string{
			{"Sec-Fetch-Site", "same-origin"},
			{"Sec-Fetch-Site", "none"}, // typed into the address bar, or a bookmark
			{"Origin", env.http.URL},
			{"Origin", "http://localhost:8080"}, // the issuer, behind a proxy that rewrites Host
		}
		for _, headers := range sameOrigin {
			t.Run("accepted, "+headers[0]+": "+headers[1], func(t *testing.T) {
				e := env.browser(t)
				a := e.addAuthRequest(nil)
				wantRedirect(t, e.signIn(a.ID, e.user.Email, testPassword, headers...), "/login?id="+a.ID)
			})
		}
	})
}
