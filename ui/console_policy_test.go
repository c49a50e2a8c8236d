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

// TestConsolePolicy: the policy form previews how many members a policy
// affects and from when, changing nothing, and saves it with a recent
// sign-in; a policy that cannot work is refused with the reason.
func TestConsolePolicy(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		ctx := context.Background()
		c := newConsoleEnv(t, store)
		admin := c.as(c.admin)
		doc := page(t, admin.get("/orgs/acme/policy"))
		if got := text(element(t, doc, "current-policy")); !strings.Contains(got, "3 days") && !strings.Contains(got, "72h") {
			t.Errorf("current policy %q", got)
		}
		form := url.Values{"require": {"on"}, "mode": {"grace"}, "grace_days": {"14"}, "factors": {"totp", "webauthn"}}
		preview := url.Values{"action": {"preview"}}
		for k, v := range form {
			preview[k] = v
		}
		resp := admin.post("/orgs/acme/policy", preview)
		wantStatus(t, resp, http.StatusOK)
		got := text(element(t, page(t, resp), "preview"))
		if !strings.Contains(got, "Of 3 members, 2 have a second factor; 1 would need to set one up, the first by") {
			t.Errorf("preview %q", got)
		}
		if p := c.org.Policy; p.GraceSeconds == nil || *p.GraceSeconds != 72*3600 {
			t.Fatal("the test's policy is not the one stored")
		}
		if o, _ := store.Orgs().GetBySlug(ctx, "acme"); *o.GraceSeconds != 72*3600 {
			t.Fatal("the preview changed the policy")
		}

		save := url.Values{"action": {"save"}}
		for k, v := range form {
			save[k] = v
		}
		stale := c.browser(t)
		stale.signInAs(c.admin, time.Now().Add(-20*time.Minute), "pwd", "otp", "mfa")
		wantSignInRedirect(t, stale.post("/orgs/acme/policy", save))
		wantRedirect(t, admin.post("/orgs/acme/policy", save), "/orgs/acme/policy?done=1")
		o, err := store.Orgs().GetBySlug(ctx, "acme")
		must(t, err)
		if !o.RequireMFA || o.GraceSeconds == nil || *o.GraceSeconds != 14*86400 || o.AllowedFactors != "totp,webauthn" {
			t.Errorf("stored policy %+v", o.Policy)
		}
		if es := c.auditEvents(directory.EventPolicyChanged); len(es) != 1 || es[0].ActorID != c.admin.ID {
			t.Errorf("policy events %+v", es)
		}

		for name, bad := range map[string]url.Values{
			"no grace days":     {"require": {"on"}, "mode": {"grace"}, "grace_days": {"0"}, "factors": {"totp"}},
			"no date":           {"require": {"on"}, "mode": {"date"}, "date": {"31/01/2027"}, "factors": {"totp"}},
			"no factor":         {"require": {"on"}, "mode": {"now"}},
			"an unknown factor": {"require": {"on"}, "mode": {"now"}, "factors": {"sms"}},
			"keys alone":        {"require": {"on"}, "mode": {"now"}, "factors": {"webauthn"}},
			"an unknown mode":   {"require": {"on"}, "mode": {"soon"}, "factors": {"totp"}},
		} {
			bad.Set("action", "save")
			resp := admin.post("/orgs/acme/policy", bad)
			if resp.StatusCode != http.StatusBadRequest || formError(page(t, resp)) == "" {
				t.Errorf("%s: %d %s", name, resp.StatusCode, body(t, resp))
			}
		}
		if es := c.auditEvents(directory.EventPolicyChanged); len(es) != 1 {
			t.Errorf("a refused policy was recorded: %d events", len(es))
		}
	})
}
