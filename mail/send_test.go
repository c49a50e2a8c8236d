package mail

import (
	"context"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/mail/mailtest"
)

func testMessage(t *testing.T, to string) Message {
	t.Helper()
	r, err := NewRenderer("Gatehouse", "https://id.example.com/account/security")
	if err != nil {
		t.Fatal(err)
	}
	m, err := r.PasswordChanged(to, Context{When: time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC),
		UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", IP: "192.0.2.7"})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSMTPSenderOverSTARTTLS(t *testing.T) {
	cert, roots := mailtest.Cert(t)
	srv := mailtest.Start(t, "127.0.0.1:0", &cert, "s3cret")
	s, err := NewSMTPSender(SMTP{Host: "127.0.0.1", Port: srv.Port(), Username: "gatehouse", Password: "s3cret", Security: StartTLS},
		"Gatehouse <gatehouse@id.example.com>", &tls.Config{RootCAs: roots})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), testMessage(t, "ada@example.com")); err != nil {
		t.Fatal(err)
	}
	got := srv.Mails()
	if len(got) != 1 {
		t.Fatalf("the server got %d mails, want 1", len(got))
	}
	m := got[0]
	if !m.TLS || m.User != "gatehouse" || m.From != "gatehouse@id.example.com" || m.To != "ada@example.com" {
		t.Errorf("received %+v: want it over TLS, authenticated, from gatehouse@id.example.com to ada@example.com", m)
	}
	for _, want := range []string{"Subject: Gatehouse: your password was changed", "multipart/alternative", "text/plain", "text/html",
		"Firefox on Windows", "192.0.2.7"} {
		if !strings.Contains(m.Data, want) {
			t.Errorf("the mail lacks %q:\n%s", want, m.Data)
		}
	}
}

func TestSMTPSenderRequiresSTARTTLSUnlessLoopbackOrTold(t *testing.T) {
	plain := mailtest.Start(t, "127.0.0.1:0", nil, "")
	ctx := context.Background()
	send := func(security Security) error {
		s, err := NewSMTPSender(SMTP{Host: "127.0.0.1", Port: plain.Port(), Security: security}, "gatehouse@id.example.com", nil)
		if err != nil {
			t.Fatal(err)
		}
		return s.Send(ctx, testMessage(t, "ada@example.com"))
	}
	if err := send(StartTLS); err == nil {
		t.Fatal("sent without TLS to a server that offers no STARTTLS")
	}
	if n := len(plain.Mails()); n != 0 {
		t.Fatalf("the server got %d mails in clear", n)
	}
	for _, security := range []Security{StartTLSIfOffered, Plain} {
		if err := send(security); err != nil {
			t.Errorf("security %d to a loopback server: %v", security, err)
		}
	}
	if got := plain.Mails(); len(got) != 2 || got[0].TLS {
		t.Errorf("received %+v, want two plain mails", got)
	}
}

func TestSMTPSenderRefusesHeaderInjection(t *testing.T) {
	srv := mailtest.Start(t, "127.0.0.1:0", nil, "")
	s, err := NewSMTPSender(SMTP{Host: "127.0.0.1", Port: srv.Port(), Security: Plain}, "gatehouse@id.example.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	m := testMessage(t, "ada@example.com")
	m.To = "ada@example.com\r\nBcc: everyone@example.com"
	if err := s.Send(context.Background(), m); err == nil {
		t.Fatal("sent to an address with a line break")
	}
	if _, err := NewSMTPSender(SMTP{Host: "127.0.0.1", Port: 25}, "a@example.com\nBcc: b@example.com", nil); err == nil {
		t.Error("accepted a sender address with a line break")
	}
	if n := len(srv.Mails()); n != 0 {
		t.Errorf("the server got %d mails", n)
	}
}
