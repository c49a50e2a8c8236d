package directory_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

// noticeLog keeps the notices it is told, safe for several replicas.
type noticeLog struct {
	mu    sync.Mutex
	heard []string
}

func (n *noticeLog) Notify(_ context.Context, _ *storage.Store, note directory.Notice) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.heard = append(n.heard, note.User.Email+" "+string(note.Event))
	return nil
}

func (n *noticeLog) take() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := n.heard
	n.heard = nil
	slices.Sort(out)
	return out
}

// TestMembersAreRemindedBeforeTheirDeadline: a week and a day before an
// organisation's deadline, each member without a factor is mailed, once,
// whichever replica looks; a member who joined later has their own
// deadline; one with a factor hears nothing. A member who joins while the
// policy is on is told at once.
func TestMembersAreRemindedBeforeTheirDeadline(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		notes := &noticeLog{}
		dir := directory.New(st, notes)
		op := directory.Operator()
		_, err := dir.CreateOrg(ctx, op, "acme", "Acme")
		must(t, err)
		for _, email := range []string{"early@example.com", "enrolled@example.com"} {
			_, err := dir.CreateUser(ctx, op, directory.NewUser{Email: email, OrgSlug: "acme", Role: "member"})
			must(t, err)
		}
		enrolled, err := st.Users().GetByEmail(ctx, "enrolled@example.com")
		must(t, err)
		f := &storage.Factor{ID: storage.NewFactorID(), UserID: enrolled.ID, Kind: mfa.FactorTOTP, Secret: []byte("sealed")}
		must(t, st.Factors().CreatePending(ctx, f))
		must(t, st.Factors().Confirm(ctx, enrolled.ID, f.ID, 1, time.Now().Add(-time.Minute)))

		yes, grace := true, 10*24*time.Hour
		start := time.Now()
		_, err = dir.SetPolicy(ctx, op, "acme", directory.PolicyChange{RequireMFA: &yes, GracePeriod: &grace})
		must(t, err)
		notes.take() // the change's own notices

		// Joining later: told at once, with a deadline of their own.
		_, err = dir.CreateUser(ctx, op, directory.NewUser{Email: "late@example.com", OrgSlug: "acme", Role: "member"})
		must(t, err)
		if got := notes.take(); !slices.Equal(got, []string{"late@example.com " + string(directory.EventMemberAdded)}) {
			t.Errorf("joining an organisation that requires 2FA: %q", got)
		}
		late := start.Add(2 * 24 * time.Hour)
		_, err = st.DB().ExecContext(ctx, `UPDATE memberships SET created_at = $1 WHERE user_id = (SELECT id FROM users WHERE email = 'late@example.com')`, late.UTC())
		must(t, err)

		remind := func(d *directory.Directory, at time.Duration) int {
			n, err := d.RemindMembers(ctx, start.Add(at))
			must(t, err)
			return n
		}
		if n := remind(dir, 2*24*time.Hour); n != 0 {
			t.Errorf("%d reminders 8 days before the deadline", n)
		}
		// A week before, from two replicas at once: one reminder.
		other := directory.New(st, notes)
		var wg sync.WaitGroup
		for _, d := range []*directory.Directory{dir, other} {
			wg.Go(func() { remind(d, 3*24*time.Hour+time.Hour) })
		}
		wg.Wait()
		want := []string{"early@example.com " + string(directory.EventEnrollmentReminder)}
		if got := notes.take(); !slices.Equal(got, want) {
			t.Errorf("a week before: %q, want %q", got, want)
		}
		if n := remind(dir, 3*24*time.Hour+2*time.Hour); n != 0 {
			t.Errorf("the week's reminder went again: %d", n)
		}
		// The late member's week, and the early one's last day.
		remind(dir, 5*24*time.Hour+time.Hour)
		remind(dir, 9*24*time.Hour+time.Hour)
		want = []string{"early@example.com " + string(directory.EventEnrollmentReminder), "late@example.com " + string(directory.EventEnrollmentReminder)}
		if got := notes.take(); !slices.Equal(got, want) {
			t.Errorf("later: %q, want %q", got, want)
		}
		// The late member's last day; then, after every deadline, no more.
		if n := remind(dir, 11*24*time.Hour+time.Hour); n != 1 {
			t.Errorf("%d reminders on the late member's last day, want 1", n)
		}
		if n := remind(dir, 13*24*time.Hour); n != 0 {
			t.Errorf("%d reminders after the deadlines", n)
		}
	})
}
