package ui

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

// TestConsoleResetPermissions: who may reset whose second factors. Only
// someone who administers every organisation of the member, never an
// admin for an owner or another admin, never oneself; a change needs a
// recent sign-in. An allowed reset is done as the operator's is.
func TestConsoleResetPermissions(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		ctx := context.Background()
		c := newConsoleEnv(t, store)
		notes := &recordingNotifier{}
		c.ui.dir.SetNotifier(notes)
		mo := c.join("mo@example.com", storage.RoleMember, time.Now(), true)
		ana := c.join("ana@example.com", storage.RoleAdmin, time.Now(), true)
		// mia also belongs to Beta, which nobody here administers.
		beta := &storage.Org{Slug: "beta", Name: "Beta"}
		must(t, store.Orgs().Create(ctx, beta))
		must(t, store.Orgs().AddMember(ctx, beta.ID, c.member.ID, storage.RoleMember))
		outsider := c.newUser()
		c.addTOTP(outsider)

		reset := func(who, whom *storage.User) *http.Response {
			return c.as(who).post("/orgs/acme/members/"+whom.ID+"/reset-mfa", url.Values{})
		}
		for _, tc := range []struct {
			name      string
			who, whom *storage.User
			want      int
		}{
			{"an admin resets an owner", c.admin, c.owner, http.StatusForbidden},
			{"an admin resets another admin", c.admin, ana, http.StatusForbidden},
			{"an owner resets themself", c.owner, c.owner, http.StatusForbidden},
			{"a member of an organisation the owner does not administer", c.owner, c.member, http.StatusForbidden},
			{"a member", mo, c.admin, http.StatusForbidden},
			{"an outsider", outsider, mo, http.StatusNotFound},
		} {
			if got := reset(tc.who, tc.whom).StatusCode; got != tc.want {
				t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
			}
		}
		if c.totpFactor(c.owner) == nil || c.totpFactor(ana) == nil {
			t.Fatal("a refused reset removed a factor")
		}
		refusal := text(element(t, page(t, c.as(c.owner).get("/orgs/acme/members/"+c.member.ID)), "help-refused"))
		if !strings.Contains(refusal, "Beta") || !strings.Contains(refusal, "operator") {
			t.Errorf("the member page says %q", refusal)
		}
		if got := c.as(c.owner).get("/orgs/acme/members/nobody").StatusCode; got != http.StatusNotFound {
			t.Errorf("an unknown member: %d", got)
		}

		// A sign-in older than ten minutes runs again first.
		stale := c.browser(t)
		stale.signInAs(c.admin, time.Now().Add(-20*time.Minute), "pwd", "otp", "mfa")
		if q := wantSignInRedirect(t, stale.post("/orgs/acme/members/"+mo.ID+"/reset-mfa", url.Values{})); q.Get("max_age") == "" {
			t.Error("the sign-in that runs again does not ask for a fresh one")
		}
		if c.totpFactor(mo) == nil {
			t.Fatal("a stale sign-in reset a member")
		}

		// Allowed: an admin for a member, an owner for an admin.
		notes.events = nil
		moSession := c.as(mo).cookie()
		wantRedirect(t, reset(c.admin, mo), "/orgs/acme/members/"+mo.ID+"?done=reset")
		wantRedirect(t, reset(c.owner, ana), "/orgs/acme/members/"+ana.ID+"?done=reset")
		if c.totpFactor(mo) != nil || c.totpFactor(ana) != nil {
			t.Error("the factors survived the reset")
		}
		if c.sessionLive(moSession) {
			t.Error("the member's session survived the reset")
		}
		u, err := store.Users().Get(ctx, mo.ID)
		must(t, err)
		if u.ReenrollSince == nil {
			t.Error("the member is not awaiting a new factor")
		}
		events := c.auditEvents(directory.EventFactorsReset)
		if len(events) != 2 || events[len(events)-1].OrgID != c.org.ID || !strings.Contains(events[len(events)-1].Details, "an administrator of Acme") {
			t.Errorf("reset events %+v", events)
		}
		if want := []string{mo.Email + " " + string(directory.EventFactorsReset), ana.Email + " " + string(directory.EventFactorsReset)}; strings.Join(notes.events, ",") != strings.Join(want, ",") {
			t.Errorf("notices %q, want %q", notes.events, want)
		}
	})
}

// TestConsoleRoles: owners change roles and remove members; admins manage
// members and admins but never make, change or remove an owner; the last
// owner stays; changes need a recent sign-in.
func TestConsoleRoles(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		ctx := context.Background()
		c := newConsoleEnv(t, store)
		mo := c.join("mo@example.com", storage.RoleMember, time.Now(), true)
		role := func(who, whom *storage.User, to string) int {
			return c.as(who).post("/orgs/acme/members/"+whom.ID+"/role", url.Values{"role": {to}}).StatusCode
		}
		remove := func(who, whom *storage.User) int {
			return c.as(who).post("/orgs/acme/members/"+whom.ID+"/remove", url.Values{}).StatusCode
		}
		roleOf := func(u *storage.User) string {
			m, err := store.Orgs().Member(ctx, c.org.ID, u.ID)
			if err != nil {
				return ""
			}
			return m.Role
		}
		if got := role(c.admin, mo, storage.RoleOwner); got != http.StatusForbidden {
			t.Errorf("an admin making an owner: %d", got)
		}
		if got := role(c.admin, c.owner, storage.RoleMember); got != http.StatusForbidden {
			t.Errorf("an admin demoting an owner: %d", got)
		}
		if got := remove(c.admin, c.owner); got != http.StatusForbidden {
			t.Errorf("an admin removing an owner: %d", got)
		}
		if got := role(c.owner, c.owner, storage.RoleAdmin); got != http.StatusConflict {
			t.Errorf("the last owner stepping down: %d", got)
		}
		if got := role(c.owner, mo, "king"); got != http.StatusBadRequest {
			t.Errorf("an unknown role: %d", got)
		}
		if roleOf(c.owner) != storage.RoleOwner || roleOf(mo) != storage.RoleMember {
			t.Fatal("a refused change changed a role")
		}
		if got := role(c.admin, mo, storage.RoleAdmin); got != http.StatusSeeOther || roleOf(mo) != storage.RoleAdmin {
			t.Errorf("an admin making a member an admin: %d, role %q", got, roleOf(mo))
		}
		if got := role(c.owner, mo, storage.RoleOwner); got != http.StatusSeeOther || roleOf(mo) != storage.RoleOwner {
			t.Errorf("an owner making an owner: %d", got)
		}
		stale := c.browser(t)
		stale.signInAs(c.owner, time.Now().Add(-20*time.Minute), "pwd", "otp", "mfa")
		wantSignInRedirect(t, stale.post("/orgs/acme/members/"+c.member.ID+"/remove", url.Values{}))
		if got := remove(c.owner, c.member); got != http.StatusSeeOther || roleOf(c.member) != "" {
			t.Errorf("an owner removing a member: %d, role %q", got, roleOf(c.member))
		}
		if got := c.as(c.owner).get("/orgs/acme/members/" + c.member.ID).StatusCode; got != http.StatusNotFound {
			t.Errorf("a removed member's page: %d", got)
		}
		if es := c.auditEvents(directory.EventMemberRemoved); len(es) != 1 || es[0].ActorID != c.owner.ID {
			t.Errorf("removal events %+v", es)
		}
	})
}
