package ui

import (
	"context"
	"log/slog"
	"mime"
	netmail "net/mail"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/mail"
	"github.com/gatehouse-id/gatehouse/mail/mailtest"
)

// mailbox is the test pages' mail: notices rendered and queued in the
// outbox as the server does, delivered to a real SMTP server in the test.
type mailbox struct {
	t      *testing.T
	smtp   *mailtest.Server
	outbox *mail.Outbox
	mu     sync.Mutex
	read   int // mails the test has looked at
}

// withMail makes e's pages send their notices through a real SMTP server.
func withMail(t *testing.T, e *testEnv) *mailbox {
	t.Helper()
	smtp := mailtest.Start(t, "127.0.0.1:0", nil, "")
	sender, err := mail.NewSMTPSender(mail.SMTP{Host: "127.0.0.1", Port: smtp.Port(), Security: mail.Plain}, "gatehouse@example.com", nil)
	must(t, err)
	outbox, err := mail.NewOutbox(e.store, randomKey(t), sender, slog.New(slog.DiscardHandler), nil)
	must(t, err)
	messages, err := mail.NewRenderer("Gatehouse", e.ui.cfg.Issuer+accountHome)
	must(t, err)
	e.ui.dir.SetNotifier(directory.MailNotifier{Messages: messages, Outbox: outbox, Links: directory.Links{Base: e.ui.cfg.Issuer}})
	t.Cleanup(func() { e.ui.dir.SetNotifier(nil) })
	e.ui.cfg.MailConfigured = true
	return &mailbox{t: t, smtp: smtp, outbox: outbox}
}

// next delivers what is queued and returns the next mail the server got.
func (m *mailbox) next() mailtest.Received {
	m.t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := m.outbox.DeliverDue(context.Background()); err != nil {
		m.t.Fatalf("delivering mail: %v", err)
	}
	got := m.smtp.Wait(m.read + 1)
	m.read++
	return got[m.read-1]
}

// none checks that nothing more is queued or received.
func (m *mailbox) none() {
	m.t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := m.outbox.DeliverDue(context.Background()); err != nil {
		m.t.Fatalf("delivering mail: %v", err)
	}
	// Delivery returns once the server accepted each mail.
	if got := m.smtp.Mails(); len(got) != m.read {
		m.t.Fatalf("%d mails, want %d: %q", len(got), m.read, got[len(got)-1].Data)
	}
}

// link is the path and query of the mail's link to path, as a browser
// opening it would request it.
func link(t *testing.T, m mailtest.Received, path string) string {
	t.Helper()
	links, err := m.Links()
	must(t, err)
	for _, l := range links {
		if rest, ok := strings.CutPrefix(l, "http://localhost:8080"); ok && strings.HasPrefix(rest, path+"?") {
			return rest
		}
	}
	t.Fatalf("no link to %s in the mail: %q", path, links)
	return ""
}

// subject is the mail's subject line, unfolded and decoded.
func subject(m mailtest.Received) string {
	msg, err := netmail.ReadMessage(strings.NewReader(m.Data))
	if err != nil {
		return ""
	}
	s, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		return ""
	}
	return s
}

// skip delivers what is queued and takes it as read.
func (m *mailbox) skip() {
	m.t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := m.outbox.DeliverDue(context.Background()); err != nil {
		m.t.Fatalf("delivering mail: %v", err)
	}
	m.read = len(m.smtp.Mails())
}
