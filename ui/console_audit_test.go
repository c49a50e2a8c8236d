package ui

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

// TestConsoleAuditLog: the organisation's events only, newest first, 50
// a page, by type and by member, with names instead of ids; CSV too.
func TestConsoleAuditLog(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		ctx := context.Background()
		c := newConsoleEnv(t, store)
		other := &storage.Org{Slug: "other", Name: "Other"}
		must(t, store.Orgs().Create(ctx, other))
		record := func(typ, orgID, actor, subject string) {
			must(t, store.Audit().Record(ctx, &storage.AuditEvent{Type: typ, OrgID: orgID, ActorID: actor, SubjectID: subject, IP: "198.51.100.7"},
				map[string]string{"note": "=SUM(A1)"}))
		}
		for i := range 55 {
			record(fmt.Sprintf("test.event_%02d", i), c.org.ID, "cli", c.member.ID)
		}
		record("org.member_added", c.org.ID, c.owner.ID, c.admin.ID)
		record("secret.other_org", other.ID, "cli", c.member.ID)

		owner := c.as(c.owner)
		types := func(path string) ([]string, string) {
			doc := page(t, owner.get(path))
			var out []string
			for _, body := range find(doc, byTag("tbody")) {
				for _, th := range find(body, byTag("th")) {
					out = append(out, text(th))
				}
			}
			next := ""
			if l := find(doc, byID("next-page")); len(l) == 1 {
				next, _ = attr(l[0], "href")
			}
			return out, next
		}
		first, next := types("/orgs/acme/audit")
		if len(first) != 50 || first[0] != "org.member_added" || next == "" {
			t.Fatalf("first page: %d events from %v, next %q", len(first), first[:1], next)
		}
		second, last := types(next)
		if len(second) != 6 || last != "" || second[len(second)-1] != "test.event_00" {
			t.Errorf("second page: %v, next %q", second, last)
		}
		for _, page := range [][]string{first, second} {
			for _, typ := range page {
				if typ == "secret.other_org" {
					t.Error("another organisation's event is listed")
				}
			}
		}
		if got, _ := types("/orgs/acme/audit?type=org.member_added"); len(got) != 1 {
			t.Errorf("by type: %v", got)
		}
		if got, _ := types("/orgs/acme/audit?member=ADAM@example.com"); len(got) != 1 || got[0] != "org.member_added" {
			t.Errorf("by member: %v", got)
		}
		if got, _ := types("/orgs/acme/audit?member=nobody@example.com"); len(got) != 0 {
			t.Errorf("an unknown member: %v", got)
		}
		row := text(find(page(t, owner.get("/orgs/acme/audit?type=org.member_added")), byTag("tbody"))[0])
		if !strings.Contains(row, c.owner.Email) || !strings.Contains(row, c.admin.Email) || !strings.Contains(row, "198.51.100.7") {
			t.Errorf("the entry does not name actor, subject and address: %q", row)
		}
		for _, bad := range []string{"before=0", "before=abc", "type=DROP%20TABLE", "member=%00"} {
			if got := owner.get("/orgs/acme/audit?" + bad).StatusCode; got != http.StatusBadRequest {
				t.Errorf("%s: %d, want 400", bad, got)
			}
		}
		if got := c.as(c.member).get("/orgs/acme/audit").StatusCode; got == http.StatusOK {
			t.Error("a member read the audit log")
		}

		resp := owner.get("/orgs/acme/audit.csv?type=test.event_07")
		records, err := csv.NewReader(resp.Body).ReadAll()
		must(t, err)
		if len(records) != 2 || records[0][0] != "time" || records[1][1] != "test.event_07" || records[1][2] != "an operator (command line)" {
			t.Fatalf("CSV %q", records)
		}
	})
}
