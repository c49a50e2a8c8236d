package op

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

// joinOrg makes the user a member of a new organisation with policy p,
// turned on at since; the member joined before it.
func (e *env) joinOrg(user *storage.User, slug string, p storage.Policy, since time.Time) *storage.Org {
	e.t.Helper()
	since = since.UTC().Truncate(time.Microsecond)
	p.RequiredSince = &since
	o := &storage.Org{Slug: slug, Name: slug, Policy: p}
	must(e.t, e.store.Orgs().Create(e.ctx, o))
	must(e.t, e.store.Orgs().AddMember(e.ctx, o.ID, user.ID, storage.RoleMember))
	_, err := e.store.DB().ExecContext(e.ctx, `UPDATE memberships SET created_at = $1 WHERE org_id = $2`, since.Add(-time.Hour), o.ID)
	must(e.t, err)
	return o
}

// TestGrantsFollowTheOrganisationsPolicy: a refresh token from a
// password-only sign-in keeps working during a grace period and is refused
// once the requirement is in force, without revoking it; it works again
// when the requirement is lifted. A code exchange is checked the same way.
func TestGrantsFollowTheOrganisationsPolicy(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		first := e.signIn(e.rp(e.conf, e.secret))
		token := first.token.RefreshToken
		grace := int64(72 * 3600)
		org := e.joinOrg(e.user, "acme", storage.Policy{RequireMFA: true, GraceSeconds: &grace}, time.Now().Add(-time.Hour))

		status, body := e.refresh(e.conf, e.secret, token, nil)
		if status != http.StatusOK {
			t.Fatalf("refresh during the grace period: %d %v", status, body)
		}
		token = body["refresh_token"].(string)

		// The deadline passes: the policy is in force for this member.
		past := time.Now().Add(-100 * time.Hour).UTC()
		must(t, e.store.Orgs().SetPolicy(e.ctx, org.ID, storage.Policy{RequireMFA: true, GraceSeconds: &grace, RequiredSince: &past}))
		_, err := e.store.DB().ExecContext(e.ctx, `UPDATE memberships SET created_at = $1 WHERE org_id = $2`, past, org.ID)
		must(t, err)
		status, body = e.refresh(e.conf, e.secret, token, nil)
		if status != http.StatusBadRequest || body["error"] != "invalid_grant" || !strings.Contains(body["error_description"].(string), "two-step verification") {
			t.Fatalf("refresh after the deadline: %d %v", status, body)
		}
		if !active(e.introspect(token)) {
			t.Fatal("the refused refresh token was revoked")
		}

		// A code from a password-only sign-in is refused too.
		code := e.readyCodes(1, "")
		status, body = e.exchange(code[0])
		if status != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Errorf("code exchange after the deadline: %d %v", status, body)
		}

		// Lifted: the same refresh token works again.
		must(t, e.store.Orgs().SetPolicy(e.ctx, org.ID, storage.Policy{}))
		if status, body = e.refresh(e.conf, e.secret, token, nil); status != http.StatusOK {
			t.Fatalf("refresh after the policy was lifted: %d %v", status, body)
		}
	})
}

// TestGrantsWithASecondFactorPassThePolicy: a sign-in that proved a second
// factor keeps refreshing under a policy in force.
func TestGrantsWithASecondFactorPassThePolicy(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		e.signInAMR = []string{"pwd", "otp", "mfa"}
		first := e.signIn(e.rp(e.conf, e.secret))
		e.joinOrg(e.user, "acme", storage.Policy{RequireMFA: true}, time.Now().Add(-time.Hour))
		if status, body := e.refresh(e.conf, e.secret, first.token.RefreshToken, nil); status != http.StatusOK {
			t.Fatalf("refresh with a second factor: %d %v", status, body)
		}
	})
}

// BenchmarkGrantPolicyCheck is the check each grant makes: one indexed
// query for the user and their memberships (three organisations here),
// then the pure policy.
func BenchmarkGrantPolicyCheck(b *testing.B) {
	for _, backend := range storagetest.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			e := newEnv(b, storagetest.Open(b, backend.URL(b)))
			grace := int64(3600)
			for _, slug := range []string{"acme", "beta", "gamma"} {
				e.joinOrg(e.user, slug, storage.Policy{RequireMFA: true, GraceSeconds: &grace}, time.Now().Add(-time.Minute))
			}
			c := e.p.wrapClient(e.conf)
			amr := []string{"pwd"}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if _, err := e.p.grantUser(e.ctx, e.user.ID, nil, nil, c, amr); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
