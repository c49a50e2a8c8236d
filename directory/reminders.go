package directory

import (
	"context"
	"time"

	"github.com/gatehouse-id/gatehouse/storage"
)

// The reminders before an organisation's deadline: a week before, and a
// day before, each once.
var reminders = []struct {
	kind   string
	before time.Duration
}{
	{"1d", 24 * time.Hour},
	{"7d", 7 * 24 * time.Hour},
}

// reminderBatch is how many members one transaction looks at.
const reminderBatch = 100

// RemindMembers mails each member without a second factor whose
// organisation's deadline is a week or a day away at now, once for each
// (whichever replica claims it first), in batches. It returns how many
// reminders it queued.
func (d *Directory) RemindMembers(ctx context.Context, now time.Time) (int, error) {
	orgs, err := d.store.Orgs().Enforcing(ctx)
	if err != nil {
		return 0, err
	}
	sent := 0
	for i := range orgs {
		org := &orgs[i]
		for cursor := ""; ; {
			ms, err := d.store.Orgs().MembersToRemind(ctx, org.ID, cursor, reminderBatch)
			if err != nil || len(ms) == 0 {
				return sent, err
			}
			n, err := d.remindBatch(ctx, org, ms, now)
			sent += n
			if err != nil {
				return sent, err
			}
			if len(ms) < reminderBatch {
				break
			}
			cursor = ms[len(ms)-1].UserID
		}
	}
	return sent, nil
}

func (d *Directory) remindBatch(ctx context.Context, org *storage.Org, ms []storage.MemberToRemind, now time.Time) (sent int, err error) {
	err = d.store.InTx(ctx, func(tx *storage.Store) error {
		sent = 0
		for _, m := range ms {
			if m.HasFactor {
				continue
			}
			deadline, ok := storage.MemberPolicy(*org, m.MemberRequireMFA, m.CreatedAt).Deadline()
			left := deadline.Sub(now)
			if !ok || left <= 0 {
				continue
			}
			for _, r := range reminders {
				if left > r.before {
					continue
				}
				claimed, err := tx.Orgs().ClaimReminder(ctx, org.ID, m.UserID, r.kind)
				if err != nil {
					return err
				}
				if claimed {
					user := &storage.User{ID: m.UserID, Email: m.Email, Name: m.Name}
					n := Notice{Event: EventEnrollmentReminder, User: user, Actor: Actor{}, At: now, Org: org.Name, Until: deadline}
					if err := d.notify.Notify(ctx, tx, n); err != nil {
						return err
					}
					sent++
				}
				break // the nearest reminder only
			}
		}
		return nil
	})
	return sent, err
}
