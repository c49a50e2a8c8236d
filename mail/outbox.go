package mail

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse-id/gatehouse/storage"
)

// How the outbox delivers.
const (
	// claimLease is how long a sender holds the mails it claimed: longer
	// than it takes to try them all. A sender that stops mid-way leaves
	// them to another once the lease runs out.
	claimLease = 5 * time.Minute
	// claimBatch bounds the mails one pass claims.
	claimBatch = 20
	// firstRetry is the first wait after a failure; each further one
	// doubles it, up to maxRetry.
	firstRetry = 30 * time.Second
	maxRetry   = time.Hour
	// giveUpAfter is how long a mail is tried before it is dropped.
	giveUpAfter = 24 * time.Hour
)

// Outbox keeps mail in the database until it is sent. Queue runs in the
// transaction of the change a mail is about; Run delivers in the
// background, on any replica.
type Outbox struct {
	store   *storage.Store
	aead    cipher.AEAD
	sender  Sender // nil: this process only queues
	log     *slog.Logger
	metrics *outboxMetrics
	now     func() time.Time // the clock retries and give-ups follow
}

// NewOutbox keeps mail in store, sealed under key (32 bytes, derived from
// the secret key for this purpose), and delivers it through sender (nil for
// a process that only queues, such as a command). reg may be nil.
func NewOutbox(store *storage.Store, key []byte, sender Sender, log *slog.Logger, reg prometheus.Registerer) (*Outbox, error) {
	if len(key) != 32 {
		return nil, errors.New("mail: the outbox key must be 32 bytes")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m, err := newOutboxMetrics(reg)
	if err != nil {
		return nil, err
	}
	return &Outbox{store: store, aead: aead, sender: sender, log: log, metrics: m, now: time.Now}, nil
}

// additional binds a sealed payload to the outbox and its kind.
func additional(kind string) []byte { return []byte("gatehouse mail outbox v1\x00" + kind) }

// Queue seals m and stores it in tx, due at once.
func (o *Outbox) Queue(ctx context.Context, tx *storage.Store, m Message) error {
	if err := m.check(); err != nil {
		return err
	}
	plain, err := json.Marshal(m)
	if err != nil {
		return err
	}
	nonce := make([]byte, o.aead.NonceSize())
	rand.Read(nonce)
	sealed := o.aead.Seal(nonce, nonce, plain, additional(m.Kind))
	return tx.Outbox().Add(ctx, &storage.OutboxMail{Kind: m.Kind, Payload: sealed})
}

func (o *Outbox) open(row storage.OutboxMail) (Message, error) {
	n := o.aead.NonceSize()
	if len(row.Payload) < n {
		return Message{}, errors.New("sealed mail too short")
	}
	plain, err := o.aead.Open(nil, row.Payload[:n], row.Payload[n:], additional(row.Kind))
	if err != nil {
		return Message{}, errors.New("sealed mail does not open (another secret key?)")
	}
	var m Message
	if err := json.Unmarshal(plain, &m); err != nil {
		return Message{}, err
	}
	return m, nil
}

// Run delivers due mail every interval until ctx ends, starting at once.
func (o *Outbox) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := o.DeliverDue(ctx); err != nil && ctx.Err() == nil {
			o.log.ErrorContext(ctx, "mail delivery", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// DeliverDue claims the mail that is due and tries to send each, until
// none is left or a pass sends nothing. It reports how many were sent. A
// mail that fails is tried again later, with a growing wait, and dropped
// (logged, counted) once it is older than a day.
func (o *Outbox) DeliverDue(ctx context.Context) (sent int, err error) {
	if o.sender == nil {
		return 0, errors.New("mail: this outbox has no sender")
	}
	for {
		batch, err := o.store.Outbox().Claim(ctx, o.now(), claimLease, claimBatch)
		if err != nil || len(batch) == 0 {
			return sent, err
		}
		passSent := 0
		for _, row := range batch {
			ok, err := o.deliver(ctx, row)
			if err != nil {
				return sent, err
			}
			if ok {
				sent++
				passSent++
			}
		}
		if passSent == 0 || len(batch) < claimBatch {
			return sent, nil
		}
	}
}

// deliver tries one claimed mail; ok when it was sent.
func (o *Outbox) deliver(ctx context.Context, row storage.OutboxMail) (ok bool, err error) {
	attrs := []any{slog.Int64("mail_id", row.ID), slog.String("kind", row.Kind), slog.Int("attempt", row.Attempts)}
	m, err := o.open(row)
	if err != nil {
		// It can never be sent: drop it rather than retry for a day.
		o.log.ErrorContext(ctx, "dropping a mail that cannot be read", append(attrs, slog.String("error", err.Error()))...)
		o.metrics.failed.WithLabelValues(row.Kind).Inc()
		return false, o.store.Outbox().Done(ctx, row.ID)
	}
	sendErr := o.sender.Send(ctx, m)
	if sendErr == nil {
		o.metrics.sent.WithLabelValues(row.Kind).Inc()
		return true, o.store.Outbox().Done(context.WithoutCancel(ctx), row.ID)
	}
	// The error names the server's answer, never the mail's content.
	attrs = append(attrs, slog.String("error", sendErr.Error()))
	if o.now().Sub(row.CreatedAt) > giveUpAfter {
		o.log.ErrorContext(ctx, "giving up a mail after a day of failures", attrs...)
		o.metrics.failed.WithLabelValues(row.Kind).Inc()
		return false, o.store.Outbox().Done(context.WithoutCancel(ctx), row.ID)
	}
	wait := retryWait(row.Attempts)
	o.log.WarnContext(ctx, "sending a mail failed; will try again", append(attrs, slog.Duration("retry_in", wait))...)
	o.metrics.retried.WithLabelValues(row.Kind).Inc()
	return false, o.store.Outbox().Retry(context.WithoutCancel(ctx), row.ID, o.now().Add(wait))
}

// retryWait is the wait after the given number of failed attempts.
func retryWait(attempts int) time.Duration {
	d := firstRetry
	for i := 1; i < attempts && d < maxRetry; i++ {
		d *= 2
	}
	return min(d, maxRetry)
}

type outboxMetrics struct {
	sent, retried, failed *prometheus.CounterVec
}

func newOutboxMetrics(reg prometheus.Registerer) (*outboxMetrics, error) {
	counter := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, []string{"kind"})
	}
	m := &outboxMetrics{
		sent:    counter("gatehouse_mail_sent_total", "Mails sent, by kind."),
		retried: counter("gatehouse_mail_retried_total", "Failed sending attempts that will be tried again, by kind."),
		failed:  counter("gatehouse_mail_failed_total", "Mails given up, by kind."),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []**prometheus.CounterVec{&m.sent, &m.retried, &m.failed} {
		err := reg.Register(*c)
		var already prometheus.AlreadyRegisteredError
		switch {
		case errors.As(err, &already):
			// A second outbox on the same registry shares the counters.
			if existing, ok := already.ExistingCollector.(*prometheus.CounterVec); ok {
				*c = existing
			}
		case err != nil:
			return nil, fmt.Errorf("mail: register metrics: %w", err)
		}
	}
	return m, nil
}
