package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/gatehouse-id/gatehouse/storage"
)

// Bulk notices go out in batches of this many members, one transaction
// each, under a lease long enough for one batch.
const (
	bulkBatch = 100
	bulkLease = 2 * time.Minute
)

// Bulk queues the notices of mail jobs (a notice to every member of an
// organisation) into the outbox in batches, in the background, after the
// change that asked for them: a change never waits for thousands of
// mails. A job is held by one replica at a time; a batch and the job's
// cursor commit together, so no member is queued twice.
type Bulk struct {
	store    *storage.Store
	outbox   *Outbox
	messages *Renderer
	log      *slog.Logger
}

// NewBulk queues through outbox the messages of messages.
func NewBulk(store *storage.Store, outbox *Outbox, messages *Renderer, log *slog.Logger) *Bulk {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Bulk{store: store, outbox: outbox, messages: messages, log: log}
}

// Run works through the jobs every interval until ctx ends.
func (b *Bulk) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := b.RunOnce(ctx); err != nil && ctx.Err() == nil {
			b.log.ErrorContext(ctx, "bulk notices", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RunOnce finishes every job it can claim and reports the mails queued.
func (b *Bulk) RunOnce(ctx context.Context) (queued int, err error) {
	for {
		job, err := b.store.MailJobs().Claim(ctx, time.Now(), bulkLease)
		if errors.Is(err, storage.ErrNotFound) {
			return queued, nil
		}
		if err != nil {
			return queued, err
		}
		for {
			n, done, err := b.batch(ctx, job)
			queued += n
			if err != nil {
				return queued, err
			}
			if done {
				break
			}
		}
	}
}

// batch queues the next members' notices of job and moves its cursor, in
// one transaction; done when no member is left (the job is then removed).
func (b *Bulk) batch(ctx context.Context, job *storage.MailJob) (queued int, done bool, err error) {
	org, err := b.store.Orgs().Get(ctx, job.OrgID)
	if errors.Is(err, storage.ErrNotFound) {
		return 0, true, b.store.MailJobs().Done(ctx, job.ID)
	}
	if err != nil {
		return 0, false, err
	}
	members, err := b.store.Orgs().MembersAfter(ctx, job.OrgID, job.Cursor, bulkBatch)
	if err != nil {
		return 0, false, err
	}
	if len(members) == 0 {
		return 0, true, b.store.MailJobs().Done(ctx, job.ID)
	}
	err = b.store.InTx(ctx, func(tx *storage.Store) error {
		for _, m := range members {
			msg, err := b.render(job.Kind, m.Email, org.Name)
			if err != nil {
				return err
			}
			if err := b.outbox.Queue(ctx, tx, msg); err != nil {
				return err
			}
		}
		return tx.MailJobs().Advance(ctx, job.ID, members[len(members)-1].UserID)
	})
	if err != nil {
		return 0, false, err
	}
	job.Cursor = members[len(members)-1].UserID
	return len(members), false, nil
}

func (b *Bulk) render(kind, to, org string) (Message, error) {
	switch kind {
	case "org_requires_mfa":
		return b.messages.OrgRequiresMFA(to, org)
	}
	return Message{}, fmt.Errorf("no message for the mail job kind %q", kind)
}
