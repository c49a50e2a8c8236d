package ui

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

// TestConsolePermissionMatrix: every console page and action, for an
// owner, an admin, a member and an outsider (each with a second factor):
// owners and admins get in, a member gets 403, an outsider 404. What the
// actions then allow is in the tests of each.
func TestConsolePermissionMatrix(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		c := newConsoleEnv(t, store)
		c.ui.cfg.AccessPassKey = randomKey(t)
		member := c.join("mo@example.com", storage.RoleMember, time.Now(), true)
		outsider := c.newUser()
		c.addTOTP(outsider)
		target := c.join("target@example.com", storage.RoleMember, time.Now(), true)
		m := "/orgs/acme/members/" + target.ID
		pages := []string{"/orgs/acme", "/orgs/acme/members", "/orgs/acme/members.csv", m, "/orgs/acme/audit", "/orgs/acme/audit.csv", "/orgs/acme/policy"}
		actions := map[string]url.Values{
			"/orgs/acme/policy":      {"action": {"preview"}, "require": {"on"}, "mode": {"now"}, "factors": {"totp"}},
			"/orgs/acme/invitations": {"email": {"someone@example.com"}, "role": {"member"}},
			m + "/role":              {"role": {"member"}},
			m + "/access-pass":       {"ttl": {"1h0m0s"}},
		}
		allowed := map[string]bool{"owner": true, "admin": true}
		for name, who := range map[string]*storage.User{"owner": c.owner, "admin": c.admin, "member": member, "outsider": outsider} {
			want := func(ok int) int {
				switch {
				case allowed[name]:
					return ok
				case name == "member":
					return http.StatusForbidden
				}
				return http.StatusNotFound
			}
			b := c.as(who)
			for _, path := range pages {
				if got := b.get(path).StatusCode; got != want(http.StatusOK) {
					t.Errorf("%s GET %s: %d", name, path, got)
				}
			}
			for path, form := range actions {
				got := b.post(path, form).StatusCode
				if allowed[name] && got != http.StatusOK && got != http.StatusSeeOther || !allowed[name] && got != want(0) {
					t.Errorf("%s POST %s: %d", name, path, got)
				}
			}
		}
		// The destructive ones last: they end the target's membership or factors.
		for name, who := range map[string]*storage.User{"member": member, "outsider": outsider} {
			for _, path := range []string{m + "/reset-mfa", m + "/remove"} {
				if got := c.as(who).post(path, url.Values{}).StatusCode; got != map[string]int{"member": 403, "outsider": 404}[name] {
					t.Errorf("%s POST %s: %d", name, path, got)
				}
			}
		}
		if c.totpFactor(target) == nil {
			t.Fatal("a refused reset removed the factor")
		}
		wantRedirect(t, c.as(c.admin).post(m+"/reset-mfa", url.Values{}), m+"?done=reset")
		wantRedirect(t, c.as(c.owner).post(m+"/remove", url.Values{}), "/orgs/acme/members")
	})
}
