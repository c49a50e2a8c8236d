package mail

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Sender delivers one message.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// sendTimeout bounds one delivery, connection and all.
const sendTimeout = 30 * time.Second

// SMTPSender sends through a mail server.
type SMTPSender struct {
	server SMTP
	from   string
	tls    *tls.Config
}

// NewSMTPSender sends through server as from. tlsConfig may be nil (the
// system's roots, the server's host name); tests give their own roots.
func NewSMTPSender(server SMTP, from string, tlsConfig *tls.Config) (*SMTPSender, error) {
	if err := CheckAddress(from); err != nil {
		return nil, fmt.Errorf("mail: sender: %w", err)
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if tlsConfig != nil {
		cfg = tlsConfig.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = server.Host
	}
	return &SMTPSender{server: server, from: from, tls: cfg}, nil
}

// Send delivers m in one SMTP session.
func (s *SMTPSender) Send(ctx context.Context, m Message) error {
	if err := m.check(); err != nil {
		return err
	}
	msg := gomail.NewMsg()
	if err := msg.From(s.from); err != nil {
		return fmt.Errorf("mail: sender: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("mail: recipient: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetMessageID()
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)

	opts := []gomail.Option{gomail.WithPort(s.server.Port), gomail.WithTimeout(sendTimeout), gomail.WithTLSConfig(s.tls)}
	switch s.server.Security {
	case ImplicitTLS:
		opts = append(opts, gomail.WithSSL())
	case StartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case StartTLSIfOffered:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if s.server.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.server.Username), gomail.WithPassword(s.server.Password))
	}
	c, err := gomail.NewClient(s.server.Host, opts...)
	if err != nil {
		return fmt.Errorf("mail: client: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("mail: send %s: %w", m.Kind, err)
	}
	return nil
}

// LogSender writes each mail to the log instead of sending it, marked as
// development mail: for a server on this machine with no mail server.
type LogSender struct{ Log *slog.Logger }

// Send logs m, links and all: it is what the developer came to read.
func (s LogSender) Send(ctx context.Context, m Message) error {
	s.Log.InfoContext(ctx, "development mail (not sent: no --smtp-url)",
		slog.String("kind", m.Kind), slog.String("to", m.To), slog.String("subject", m.Subject), slog.String("text", m.Text))
	return nil
}
