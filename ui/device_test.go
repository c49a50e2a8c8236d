package ui

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

// jarCookie is the named cookie the test browser holds, or "".
func (e *testEnv) jarCookie(name string) string {
	u, _ := url.Parse(e.http.URL)
	for _, c := range e.client.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

func (e *testEnv) setJarCookie(name, value string) {
	u, _ := url.Parse(e.http.URL)
	e.client.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

// TestAKnownBrowserGetsPastALockOthersSet: five wrong passwords from
// anywhere lock an email, but not its owner's browser from a past sign-in,
// which still needs the right password and has a limit of its own. A
// tampered or foreign device cookie is ignored.
func TestAKnownBrowserGetsPastALockOthersSet(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		env := newEnv(t, store)
		env.ui.cfg.DeviceKey = []byte("a 32-byte key for device cookies")
		t.Cleanup(func() { env.ui.cfg.DeviceKey = nil })
		a := env.addAuthRequest(nil)
		owner := env.addUser("owner@example.com", testPassword)
		name := env.ui.deviceCookieName()

		home := env.browser(t)
		wantRedirect(t, home.signIn(a.ID, owner.Email, testPassword), "/login?id="+a.ID)
		device := home.jarCookie(name)
		if device == "" {
			t.Fatal("a successful sign-in left no device cookie")
		}
		other := env.addUser("other@example.com", testPassword)
		elsewhere := env.browser(t)
		wantRedirect(t, elsewhere.signIn(a.ID, other.Email, testPassword), "/login?id="+a.ID)
		othersDevice := elsewhere.jarCookie(name)

		attacker := env.browser(t)
		for range emailLimit.threshold {
			wantStatus(t, attacker.signIn(a.ID, owner.Email, "a wrong guess"), http.StatusUnauthorized)
		}
		wantLocked(t, attacker.signIn(a.ID, owner.Email, testPassword))

		wantRedirect(t, home.signIn(a.ID, owner.Email, testPassword), "/login?id="+a.ID)

		for what, value := range map[string]string{
			"a tampered device cookie":      device[:len(device)-2] + "AA",
			"another user's device cookie":  othersDevice,
			"a device cookie that is noise": "x.y.z",
		} {
			b := env.browser(t)
			b.setJarCookie(name, value)
			if resp := b.signIn(a.ID, owner.Email, testPassword); resp.StatusCode != http.StatusTooManyRequests {
				t.Errorf("%s: %d, want the lock to hold", what, resp.StatusCode)
			}
		}

		// The known browser has its own limit.
		for range deviceLimit.threshold {
			wantStatus(t, home.signIn(a.ID, owner.Email, "a wrong guess"), http.StatusUnauthorized)
		}
		wantLocked(t, home.signIn(a.ID, owner.Email, testPassword))
	})
}
