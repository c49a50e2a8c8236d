package ui

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

// consoleEnv is an organisation "acme" whose policy requires two-step
// verification after a 72-hour grace period that began 100 hours ago,
// with an owner and an admin who have an app, and a member.
type consoleEnv struct {
	*testEnv
	org                  *storage.Org
	owner, admin, member *storage.User
}

func newConsoleEnv(t *testing.T, store *storage.Store, opts ...envOption) *consoleEnv {
	e := accountEnv(t, store, opts...)
	ctx := context.Background()
	grace := int64(72 * 3600)
	since := time.Now().Add(-100 * time.Hour).UTC().Truncate(time.Microsecond)
	org := &storage.Org{Slug: "acme", Name: "Acme", Policy: storage.Policy{RequireMFA: true, GraceSeconds: &grace, RequiredSince: &since}}
	must(t, store.Orgs().Create(ctx, org))
	c := &consoleEnv{testEnv: e, org: org}
	c.owner = c.join("olga@example.com", storage.RoleOwner, since.Add(-time.Hour), true)
	c.admin = c.join("adam@example.com", storage.RoleAdmin, since.Add(-time.Hour), true)
	c.member = c.join("mia@example.com", storage.RoleMember, since.Add(-time.Hour), false)
	return c
}

// join adds a user (no password: the tests sign them in directly) who
// joined at joined, with an app when enrolled.
func (c *consoleEnv) join(email, role string, joined time.Time, enrolled bool) *storage.User {
	c.t.Helper()
	ctx := context.Background()
	u := &storage.User{Email: email, Name: "Name of " + email}
	must(c.t, c.store.Users().Create(ctx, u))
	must(c.t, c.store.Orgs().AddMember(ctx, c.org.ID, u.ID, role))
	_, err := c.store.DB().ExecContext(ctx, `UPDATE memberships SET created_at = $1 WHERE user_id = $2`, joined.UTC(), u.ID)
	must(c.t, err)
	if enrolled {
		c.addTOTP(u)
	}
	return u
}

// as is a browser signed in as user, with both factors when they have an app.
func (c *consoleEnv) as(user *storage.User) *testEnv {
	b := c.browser(c.t)
	if c.totpFactor(user) != nil {
		b.signInAs(user, time.Now(), "pwd", "otp", "mfa")
	} else {
		b.signInAs(user, time.Now())
	}
	return b
}

// TestConsolePermissions: owners and admins with a second factor open the
// console; a member gets 403, anybody else 404, as for an unknown
// organisation; an admin without a factor is told to set one up; without a
// session the sign-in runs first.
func TestConsolePermissions(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		c := newConsoleEnv(t, store)
		outsider := c.newUser()
		bare := c.join("bare@example.com", storage.RoleAdmin, time.Now(), false)
		enrolled := c.join("mo@example.com", storage.RoleMember, time.Now(), true)
		for _, path := range []string{"/orgs/acme", "/orgs/acme/members", "/orgs/acme/members.csv"} {
			for who, want := range map[*storage.User]int{c.owner: 200, c.admin: 200, enrolled: 403, outsider: 404, bare: 403} {
				if got := c.as(who).get(path).StatusCode; got != want {
					t.Errorf("%s as %s: %d, want %d", path, who.Email, got, want)
				}
			}
			wantSignInRedirect(t, c.browser(t).get(path))
			// A member past their deadline without a factor signs in (and enrolls) first.
			wantSignInRedirect(t, c.as(c.member).get(path))
		}
		if got := c.as(c.owner).get("/orgs/nope").StatusCode; got != 404 {
			t.Errorf("an unknown organisation: %d", got)
		}
		if h := heading(t, page(t, c.as(bare).get("/orgs/acme"))); h != "Set up two-step verification first" {
			t.Errorf("an admin without a factor: %q", h)
		}
	})
}

// TestConsoleCompliance: the overview counts enrolled, pending (with the
// nearest deadline) and overdue members, and draws the bar.
func TestConsoleCompliance(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		c := newConsoleEnv(t, store)
		now := time.Now()
		// Two who joined lately still have time; mia (joined before the
		// policy, 100 hours ago) and one an admin requires it of are overdue.
		c.join("new1@example.com", storage.RoleMember, now.Add(-10*time.Hour), false)
		c.join("new2@example.com", storage.RoleMember, now.Add(-20*time.Hour), false)
		flagged := c.join("flagged@example.com", storage.RoleMember, now.Add(-time.Hour), false)
		must(t, store.Orgs().SetMemberRequireMFA(context.Background(), c.org.ID, flagged.ID, true))

		doc := page(t, c.as(c.owner).get("/orgs/acme"))
		for id, want := range map[string]string{"count-enrolled": "2", "count-overdue": "2"} {
			if got := text(element(t, doc, id)); got != want {
				t.Errorf("%s: %q, want %q", id, got, want)
			}
		}
		pending := text(element(t, doc, "count-pending"))
		nearest := now.Add(-20 * time.Hour).Add(72 * time.Hour).UTC().Format("2 January 2006")
		if !strings.HasPrefix(pending, "2 (nearest deadline "+nearest) {
			t.Errorf("pending: %q, want 2 with the deadline of the one who joined 20 hours ago (%s)", pending, nearest)
		}
		bar := element(t, doc, "compliance-bar")
		if max, _ := attr(bar, "max"); max != "6" {
			t.Errorf("bar max %q, want 6 members", max)
		}
		if v, _ := attr(bar, "value"); v != "2" {
			t.Errorf("bar value %q, want 2 enrolled", v)
		}

		// Under a phishing-resistant minimum an app no longer counts: the
		// owner and the admin, who have apps, are not enrolled; a key is.
		c.org.Policy.AllowedFactors = "webauthn"
		must(t, store.Orgs().SetPolicy(context.Background(), c.org.ID, c.org.Policy))
		must(t, store.Factors().CreateConfirmed(context.Background(), &storage.Factor{ID: storage.NewFactorID(), UserID: c.member.ID,
			Kind: mfa.FactorWebAuthn, CredentialID: []byte("mia's key"), Credential: []byte("{}")}))
		got, err := c.ui.dir.OrgCompliance(context.Background(), c.org, now)
		must(t, err)
		if got.Enrolled != 1 || got.Overdue != 3 {
			t.Errorf("keys alone: %+v, want mia's key enrolled and the owner, the admin and the flagged member overdue", got)
		}
	})
}

// TestConsoleMembers: filters, an email prefix in any case, pages of 50,
// and refusals of filters or cursors that are not valid.
func TestConsoleMembers(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		c := newConsoleEnv(t, store)
		for i := range 55 {
			c.join(fmt.Sprintf("bulk%02d@example.com", i), storage.RoleMember, time.Now().Add(-time.Hour), false)
		}
		owner := c.as(c.owner)
		emails := func(path string) ([]string, string) {
			doc := page(t, owner.get(path))
			var out []string
			for _, row := range find(doc, byTag("tbody")) {
				for _, th := range find(row, byTag("th")) {
					out = append(out, strings.Fields(text(th))[0])
				}
			}
			next := ""
			if links := find(doc, byID("next-page")); len(links) == 1 {
				next, _ = attr(links[0], "href")
			}
			return out, next
		}
		first, next := emails("/orgs/acme/members")
		if len(first) != 50 || first[0] != "adam@example.com" || next == "" {
			t.Fatalf("first page: %d rows from %v, next %q", len(first), first[:1], next)
		}
		second, last := emails(next)
		if len(second) != 8 || last != "" || second[0] <= first[49] {
			t.Errorf("second page: %v (next %q)", second, last)
		}
		if got, _ := emails("/orgs/acme/members?email=ADA"); len(got) != 1 || got[0] != "adam@example.com" {
			t.Errorf("prefix ADA: %v", got)
		}
		if got, _ := emails("/orgs/acme/members?email=%25"); len(got) != 0 {
			t.Errorf("a %% prefix matched %v", got)
		}
		if got, _ := emails("/orgs/acme/members?role=admin"); len(got) != 1 || got[0] != "adam@example.com" {
			t.Errorf("admins: %v", got)
		}
		if got, _ := emails("/orgs/acme/members?status=overdue"); len(got) != 1 || got[0] != "mia@example.com" {
			t.Errorf("overdue: %v", got)
		}
		if got, _ := emails("/orgs/acme/members?status=not-enrolled&email=bulk"); len(got) != 50 {
			t.Errorf("not enrolled bulk members on the first page: %d", len(got))
		}
		for _, bad := range []string{"status=everyone", "role=king", "after=AA", "after=" + strings.Repeat("QUFB", 100), "after=" + url.QueryEscape("not base64!"), "email=" + url.QueryEscape("a\x00b")} {
			if got := owner.get("/orgs/acme/members?" + bad).StatusCode; got != http.StatusBadRequest {
				t.Errorf("%s: %d, want 400", bad, got)
			}
		}
	})
}

// TestConsoleCSV: the filtered list, whole, with a header row, and cells a
// spreadsheet would run as formulas defused.
func TestConsoleCSV(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		c := newConsoleEnv(t, store)
		evil := c.join("eve@example.com", storage.RoleMember, time.Now(), false)
		must(t, store.Users().SetName(context.Background(), evil.ID, `=HYPERLINK("http://evil.example","x")`))
		resp := c.as(c.owner).get("/orgs/acme/members.csv?status=not-enrolled")
		wantStatus(t, resp, http.StatusOK)
		if ct := resp.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
			t.Errorf("Content-Type %q", ct)
		}
		records, err := csv.NewReader(resp.Body).ReadAll()
		must(t, err)
		if len(records) != 3 || records[0][0] != "email" || records[1][0] != "eve@example.com" || records[2][0] != "mia@example.com" {
			t.Fatalf("records %q", records)
		}
		if name := records[1][1]; !strings.HasPrefix(name, `'=HYPERLINK`) {
			t.Errorf("a formula survived: %q", name)
		}
		if records[2][5] != "overdue" {
			t.Errorf("mia's deadline %q, want overdue", records[2][5])
		}
		empty := c.as(c.owner).get("/orgs/acme/members.csv?email=nobody")
		records, err = csv.NewReader(empty.Body).ReadAll()
		if err != nil || len(records) != 1 {
			t.Errorf("an empty export: %q %v, want the header alone", records, err)
		}
	})
}
