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

// TestInvitations: an admin invites by email; a new person chooses a
// password from the mailed link and joins; an existing one signs in and
// accepts; the link works once, for its address, for a week.
func TestInvitations(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		ctx := context.Background()
		c := newConsoleEnv(t, store)
		mb := withMail(t, c.testEnv)
		invite := func(who *storage.User, email, role string) *http.Response {
			return c.as(who).post("/orgs/acme/invitations", url.Values{"email": {email}, "role": {role}})
		}
		tokenOf := func() string {
			m := mb.next()
			return strings.TrimPrefix(link(t, m, directory.PathInvitation), directory.PathInvitation+"?token=")
		}

		// Someone new.
		wantRedirect(t, invite(c.admin, "New.Person@example.com", "member"), "/orgs/acme/members?invited=1")
		token := tokenOf()
		b := c.browser(t)
		doc := page(t, b.get(directory.PathInvitation+"?token="+token))
		if !strings.Contains(text(doc), "new.person@example.com") || len(find(doc, byID("new_password"))) != 1 {
			t.Fatalf("the invitation page: %q", text(doc))
		}
		wantStatus(t, b.post(directory.PathInvitation, url.Values{"token": {token}, "new_password": {"password"}, "confirm_password": {"password"}}), http.StatusBadRequest)
		next := "a long and new passphrase"
		resp := b.post(directory.PathInvitation, url.Values{"token": {token}, "new_password": {next}, "confirm_password": {next}})
		wantStatus(t, resp, http.StatusOK)
		u, err := store.Users().GetByEmail(ctx, "new.person@example.com")
		must(t, err)
		if m, err := store.Orgs().Member(ctx, c.org.ID, u.ID); err != nil || m.Role != storage.RoleMember || u.PasswordHash == nil {
			t.Fatalf("after accepting: %+v %v", m, err)
		}
		wantStatus(t, b.get(directory.PathInvitation+"?token="+token), http.StatusGone)
		if m := mb.next(); !strings.Contains(subject(m), "Acme requires two-step verification") {
			t.Errorf("joining an organisation that requires it: %q", subject(m))
		}

		// Someone with an account: sign in, then accept.
		existing := c.newUser()
		c.addTOTP(existing)
		wantRedirect(t, invite(c.owner, existing.Email, "admin"), "/orgs/acme/members?invited=1")
		token = tokenOf()
		e := c.browser(t)
		wantRedirect(t, e.get(directory.PathInvitation+"?token="+token), accountInvitationPath)
		wantSignInRedirect(t, e.get(accountInvitationPath))
		e.signInAs(existing, time.Now(), "pwd", "otp", "mfa")
		element(t, page(t, e.get(accountInvitationPath)), "accept")
		// Another signed-in user cannot take it.
		other := c.browser(t)
		wantRedirect(t, other.get(directory.PathInvitation+"?token="+token), accountInvitationPath)
		other.signInAs(c.owner, time.Now(), "pwd", "otp", "mfa")
		wantStatus(t, other.post(directory.PathInvitation, url.Values{"token": {token}}), http.StatusForbidden)
		wantRedirect(t, e.post(directory.PathInvitation, url.Values{"token": {token}}), "/orgs/acme/welcome")
		if m, err := store.Orgs().Member(ctx, c.org.ID, existing.ID); err != nil || m.Role != storage.RoleAdmin {
			t.Fatalf("after accepting: %+v %v", m, err)
		}
		wantRedirect(t, e.get("/orgs/acme/welcome"), "/orgs/acme")
		mb.skip()

		// Refusals.
		if got := invite(c.admin, "boss@example.com", "owner").StatusCode; got != http.StatusForbidden {
			t.Errorf("an admin inviting an owner: %d", got)
		}
		if got := invite(c.admin, "not an address", "member").StatusCode; got != http.StatusBadRequest {
			t.Errorf("a malformed address: %d", got)
		}
		if got := invite(c.admin, c.member.Email, "member").StatusCode; got != http.StatusConflict {
			t.Errorf("inviting a member: %d", got)
		}
		if got := invite(c.admin, "x@example.com", "king").StatusCode; got != http.StatusBadRequest {
			t.Errorf("an unknown role: %d", got)
		}
		wantRedirect(t, invite(c.admin, "late@example.com", "member"), "/orgs/acme/members?invited=1")
		token = tokenOf()
		c.ui.dir.SetClock(func() time.Time { return time.Now().Add(8 * 24 * time.Hour) })
		t.Cleanup(func() { c.ui.dir.SetClock(time.Now) })
		wantStatus(t, b.get(directory.PathInvitation+"?token="+token), http.StatusGone)
		wantStatus(t, b.get(directory.PathInvitation+"?token=forged"), http.StatusBadRequest)
		if es := c.auditEvents(directory.EventMemberInvited); len(es) != 3 {
			t.Errorf("%d invitations recorded, want 3", len(es))
		}
	})
}
