package directory_test

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/mail"
	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

// TestRequiringMFANoticesEveryMemberInBatches: turning on an
// organisation's requirement queues one job with the change; the
// background job then queues a notice for each member, in batches, once,
// and picks up where a replica that stopped mid-way left off.
func TestRequiringMFANoticesEveryMemberInBatches(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		outbox, err := mail.NewOutbox(st, make([]byte, 32), nil, nil, nil)
		must(t, err)
		messages, err := mail.NewRenderer("Gatehouse", "https://id.example.com/account/security")
		must(t, err)
		dir := directory.New(st, directory.MailNotifier{Messages: messages, Outbox: outbox})
		bulk := mail.NewBulk(st, outbox, messages, nil)
		op := directory.Operator()
		org, err := dir.CreateOrg(ctx, op, "acme", "Acme")
		must(t, err)
		const members = 250
		var ids []string
		for i := range members {
			u := &storage.User{Email: fmt.Sprintf("member%03d@example.com", i)}
			must(t, st.Users().Create(ctx, u))
			must(t, st.Orgs().AddMember(ctx, org.ID, u.ID, storage.RoleMember))
			ids = append(ids, u.ID)
		}
		sort.Strings(ids)
		waiting := func() int {
			n, err := st.Outbox().Count(ctx)
			must(t, err)
			return n
		}

		yes, no := true, false
		_, err = dir.SetPolicy(ctx, op, "acme", directory.PolicyChange{RequireMFA: &yes})
		must(t, err)
		if n := waiting(); n != 0 {
			t.Fatalf("%d mails queued by the change itself; the job queues them", n)
		}
		queued, err := bulk.RunOnce(ctx)
		must(t, err)
		if queued != members || waiting() != members {
			t.Fatalf("queued %d (%d waiting), want one per member (%d)", queued, waiting(), members)
		}
		if _, err := st.MailJobs().Claim(ctx, time.Now(), time.Minute); err == nil {
			t.Fatal("the finished job is still there")
		}
		// No change, no notice.
		_, err = dir.SetPolicy(ctx, op, "acme", directory.PolicyChange{RequireMFA: &yes})
		must(t, err)
		if queued, _ := bulk.RunOnce(ctx); queued != 0 {
			t.Errorf("an unchanged policy queued %d notices", queued)
		}

		// A replica stopped after its first batch of 100: the next one
		// takes over once the lease ran out, from the cursor.
		_, err = dir.SetPolicy(ctx, op, "acme", directory.PolicyChange{RequireMFA: &no})
		must(t, err)
		_, err = dir.SetPolicy(ctx, op, "acme", directory.PolicyChange{RequireMFA: &yes})
		must(t, err)
		job, err := st.MailJobs().Claim(ctx, time.Now().Add(-time.Hour), time.Minute) // a lease long past
		must(t, err)
		must(t, st.MailJobs().Advance(ctx, job.ID, ids[99]))
		before := waiting()
		queued, err = bulk.RunOnce(ctx)
		must(t, err)
		if queued != members-100 || waiting()-before != members-100 {
			t.Errorf("after a stop mid-way: queued %d, want the %d members not yet done", queued, members-100)
		}
	})
}
