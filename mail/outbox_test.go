package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/gatehouse-id/gatehouse/mail/mailtest"
	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

func outboxKey(t *testing.T) []byte {
	k := make([]byte, 32)
	rand.Read(k)
	return k
}

// freePort is a loopback port where nothing listens.
func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

func plainSender(t *testing.T, port int) *SMTPSender {
	s, err := NewSMTPSender(SMTP{Host: "127.0.0.1", Port: port, Security: Plain}, "gatehouse@id.example.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// queue puts mails to the numbered recipients in the outbox, in one
// transaction as a change would.
func queue(t *testing.T, o *Outbox, st *storage.Store, n int) {
	t.Helper()
	ctx := context.Background()
	err := st.InTx(ctx, func(tx *storage.Store) error {
		for i := range n {
			m := testMessage(t, fmt.Sprintf("user%d@example.com", i))
			if err := o.Queue(ctx, tx, m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func waiting(t *testing.T, st *storage.Store) int {
	n, err := st.Outbox().Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestOutboxSurvivesAnSMTPOutage: mail queued while the mail server is down
// waits, is tried again later, and is sent once when the server is back.
func TestOutboxSurvivesAnSMTPOutage(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		port := freePort(t)
		reg := prometheus.NewRegistry()
		var logs bytes.Buffer
		o, err := NewOutbox(st, outboxKey(t), plainSender(t, port), slog.New(slog.NewTextHandler(&logs, nil)), reg)
		if err != nil {
			t.Fatal(err)
		}
		queue(t, o, st, 3)
		clock := time.Now()
		o.now = func() time.Time { return clock }

		if sent, err := o.DeliverDue(ctx); err != nil || sent != 0 {
			t.Fatalf("with the server down: sent %d, %v", sent, err)
		}
		if n := waiting(t, st); n != 3 {
			t.Fatalf("%d mails wait after the failure, want all 3", n)
		}
		if n := testutil.ToFloat64(o.metrics.retried.WithLabelValues("password_changed")); n != 3 {
			t.Errorf("retried metric %v, want 3", n)
		}
		if !strings.Contains(logs.String(), "will try again") {
			t.Errorf("the failure was not logged:\n%s", logs.String())
		}
		for _, secret := range []string{"user0@example.com", "account/security", "192.0.2.7", "Firefox"} {
			if strings.Contains(logs.String(), secret) {
				t.Errorf("the log of a failure shows %q from the mail:\n%s", secret, logs.String())
			}
		}
		// Not due again yet: nothing is tried.
		if sent, _ := o.DeliverDue(ctx); sent != 0 {
			t.Fatalf("sent %d before the retry was due", sent)
		}

		srv := mailtest.Start(t, "127.0.0.1:"+strconv.Itoa(port), nil, "")
		clock = clock.Add(time.Minute)
		if sent, err := o.DeliverDue(ctx); err != nil || sent != 3 {
			t.Fatalf("with the server back: sent %d, %v", sent, err)
		}
		if n := waiting(t, st); n != 0 {
			t.Errorf("%d mails still wait after they were sent", n)
		}
		if got := srv.Mails(); len(got) != 3 {
			t.Errorf("the server got %d mails, want 3", len(got))
		}
		if n := testutil.ToFloat64(o.metrics.sent.WithLabelValues("password_changed")); n != 3 {
			t.Errorf("sent metric %v, want 3", n)
		}
		// Delivered mail is gone: a later pass sends nothing twice.
		clock = clock.Add(time.Hour)
		if sent, _ := o.DeliverDue(ctx); sent != 0 || len(srv.Mails()) != 3 {
			t.Errorf("a later pass sent %d more", sent)
		}
	})
}

// TestOutboxGivesUpAfterADay: a mail that keeps failing is retried with a
// growing wait and dropped, counted and logged, once it is a day old.
func TestOutboxGivesUpAfterADay(t *testing.T) {
	st := storagetest.Open(t, storagetest.SQLiteURL(t))
	ctx := context.Background()
	o, err := NewOutbox(st, outboxKey(t), plainSender(t, freePort(t)), nil, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	queue(t, o, st, 1)
	clock := time.Now()
	o.now = func() time.Time { return clock }
	var waits []time.Duration
	for range 8 {
		o.DeliverDue(ctx)
		var next time.Time
		if err := st.DB().QueryRowContext(ctx, `SELECT next_attempt_at FROM mail_outbox`).Scan(&next); err != nil {
			t.Fatal(err)
		}
		waits = append(waits, next.Sub(clock).Round(time.Second))
		clock = next
	}
	for i := 1; i < len(waits); i++ {
		if waits[i] < waits[i-1] || waits[i] > maxRetry {
			t.Fatalf("waits between attempts %v: want them to grow up to %v", waits, maxRetry)
		}
	}
	clock = clock.Add(giveUpAfter)
	o.DeliverDue(ctx)
	if n := waiting(t, st); n != 0 {
		t.Fatalf("%d mails wait after a day of failures", n)
	}
	if n := testutil.ToFloat64(o.metrics.failed.WithLabelValues("password_changed")); n != 1 {
		t.Errorf("failed metric %v, want 1", n)
	}
}

// TestOutboxBodiesAreSealed: what the database holds is unreadable without
// the key, and another key cannot open it.
func TestOutboxBodiesAreSealed(t *testing.T) {
	st := storagetest.Open(t, storagetest.SQLiteURL(t))
	ctx := context.Background()
	o, err := NewOutbox(st, outboxKey(t), nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	queue(t, o, st, 1)
	var payload []byte
	if err := st.DB().QueryRowContext(ctx, `SELECT payload FROM mail_outbox`).Scan(&payload); err != nil {
		t.Fatal(err)
	}
	for _, clear := range []string{"user0@example.com", "password", "Firefox", "192.0.2.7", "Gatehouse"} {
		if bytes.Contains(bytes.ToLower(payload), bytes.ToLower([]byte(clear))) {
			t.Errorf("the stored mail shows %q in clear", clear)
		}
	}
	other, err := NewOutbox(st, outboxKey(t), plainSender(t, freePort(t)), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := st.Outbox().Claim(ctx, time.Now(), time.Minute, 10)
	if err != nil || len(rows) != 1 {
		t.Fatalf("claim: %d rows, %v", len(rows), err)
	}
	if _, err := other.open(rows[0]); err == nil {
		t.Error("another key opened the mail")
	}
	if m, err := o.open(rows[0]); err != nil || m.To != "user0@example.com" {
		t.Errorf("the right key: %+v, %v", m, err)
	}
}

// TestTwoReplicasDeliverEachMailOnce: two servers on one database, sending
// at the same time, send every mail exactly once.
func TestTwoReplicasDeliverEachMailOnce(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			url := b.URL(t)
			a := storagetest.Open(t, url)
			other, err := storage.Open(context.Background(), url)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { other.Close() })
			srv := mailtest.Start(t, "127.0.0.1:0", nil, "")
			key := outboxKey(t)
			var outboxes []*Outbox
			for _, st := range []*storage.Store{a, other} {
				o, err := NewOutbox(st, key, plainSender(t, srv.Port()), nil, nil)
				if err != nil {
					t.Fatal(err)
				}
				outboxes = append(outboxes, o)
			}
			const n = 60
			queue(t, outboxes[0], a, n)
			var wg sync.WaitGroup
			for _, o := range outboxes {
				wg.Go(func() {
					if _, err := o.DeliverDue(context.Background()); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			seen := map[string]int{}
			for _, m := range srv.Mails() {
				seen[m.To]++
			}
			for i := range n {
				if to := fmt.Sprintf("user%d@example.com", i); seen[to] != 1 {
					t.Errorf("%s got %d mails, want 1", to, seen[to])
				}
			}
			if got := len(srv.Mails()); got != n {
				t.Errorf("%d mails sent in all, want %d", got, n)
			}
		})
	}
}

func TestMessagesHaveBothPartsAndSayWhatToDo(t *testing.T) {
	r, err := NewRenderer("Gatehouse", "https://id.example.com/account/security")
	if err != nil {
		t.Fatal(err)
	}
	c := Context{When: time.Now(), UserAgent: `<script>alert(1)</script> (iPhone; CPU iPhone OS 18_0 like Mac OS X) Safari/604.1`, IP: "198.51.100.4"}
	to := "ada@example.com"
	const (
		enrollURL  = "https://id.example.com/login/enroll-link?token=enrol-abc"
		confirmURL = "https://id.example.com/login/recovery/confirm?token=confirm-abc"
		cancelURL  = "https://id.example.com/login/recovery/cancel?token=cancel-abc"
		resetURL   = "https://id.example.com/login/reset?token=reset-abc"
	)
	// The link each message must carry, in both parts; the others carry the
	// security settings.
	links := map[string][]string{
		"factors_reset":      {enrollURL},
		"enrollment_link":    {enrollURL},
		"recovery_requested": {confirmURL, cancelURL},
		"password_reset":     {resetURL},
	}
	messages := map[string]func() (Message, error){
		"factor_added":               func() (Message, error) { return r.FactorAdded(to, "an authenticator app", c) },
		"factor_removed":             func() (Message, error) { return r.FactorRemoved(to, "an authenticator app", c) },
		"recovery_codes_regenerated": func() (Message, error) { return r.RecoveryCodesRegenerated(to, c) },
		"factors_reset":              func() (Message, error) { return r.FactorsReset(to, "an administrator of Acme", enrollURL, c) },
		"enrollment_link":            func() (Message, error) { return r.EnrollmentLink(to, enrollURL, c) },
		"recovery_requested":         func() (Message, error) { return r.RecoveryRequested(to, confirmURL, cancelURL, c) },
		"recovery_cancelled":         func() (Message, error) { return r.RecoveryCancelled(to, c) },
		"password_reset":             func() (Message, error) { return r.PasswordReset(to, resetURL, c) },
		"access_pass_issued":         func() (Message, error) { return r.AccessPassIssued(to, "Acme", time.Now().Add(time.Hour), c) },
		"policy_changed": func() (Message, error) {
			return r.PolicyChanged(to, "Acme", "two-step verification not required → two-step verification required at once", c)
		},
		"account_locked":   func() (Message, error) { return r.AccountLocked(to, time.Now().Add(15*time.Minute), c) },
		"password_changed": func() (Message, error) { return r.PasswordChanged(to, c) },
	}
	for kind, make := range messages {
		m, err := make()
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		if m.Kind != kind || m.To != to || !strings.HasPrefix(m.Subject, "Gatehouse: ") {
			t.Errorf("%s: kind %q, to %q, subject %q", kind, m.Kind, m.To, m.Subject)
		}
		for part, body := range map[string]string{"text": m.Text, "html": m.HTML} {
			want := []string{"Gatehouse", "If this wasn", "Safari on iPhone", "198.51.100.4"}
			if ls, ok := links[kind]; ok {
				want = append(want, ls...)
			} else {
				want = append(want, "https://id.example.com/account/security")
			}
			for _, want := range want {
				if !strings.Contains(body, want) {
					t.Errorf("%s %s part lacks %q", kind, part, want)
				}
			}
		}
		if strings.Contains(m.HTML, "<script>") {
			t.Errorf("%s: the HTML part carries the user agent unescaped", kind)
		}
	}
	deadline := time.Date(2027, 1, 31, 9, 0, 0, 0, time.UTC)
	if m, err := r.EnrollmentDeadline(to, "Acme", deadline); err != nil || !strings.Contains(m.Text, "Sunday 31 January 2027, 09:00 UTC") ||
		!strings.Contains(m.Subject, "Acme requires two-step verification from 31 January") {
		t.Errorf("the reminder does not name the deadline: %q %q (%v)", m.Subject, m.Text, err)
	}
	if m, _ := r.FactorsReset(to, "an administrator of Acme", enrollURL, c); !strings.Contains(m.Text, "an administrator of Acme") {
		t.Error("the reset notice does not say who reset")
	}
}
