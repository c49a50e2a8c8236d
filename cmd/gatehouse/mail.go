package main

import (
	"fmt"
	"log/slog"
	"net/url"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/mail"
	"github.com/gatehouse-id/gatehouse/secretkey"
	"github.com/gatehouse-id/gatehouse/storage"
)

// mailing is how this process handles mail.
type mailing struct {
	// notifier queues users' notices; nil when mail is not configured.
	notifier directory.Notifier
	// outbox delivers queued mail; nil when mail is not configured.
	outbox *mail.Outbox
	// bulk queues notices to many users in batches.
	bulk *mail.Bulk
	// configured: mail reaches users (an SMTP server, or the log of a
	// development server).
	configured bool
	// smtp: mail goes through a mail server, not only to a log.
	smtp bool
	// links builds the addresses of mailed links.
	links directory.Links
}

// setUpMail reads --smtp-url and --mail-from. A serving process (deliver)
// sends through the mail server, or with no --smtp-url and a loopback
// issuer writes each mail to the log as development mail; a command only
// queues, for the server to send. With no --smtp-url and any other issuer,
// mail is not configured: nothing is queued, and the server says so.
func setUpMail(cfg *Config, key secretkey.Key, st *storage.Store, log *slog.Logger, reg prometheus.Registerer, deliver bool) (*mailing, error) {
	var sender mail.Sender
	links := directory.Links{Base: cfg.Issuer}
	switch {
	case cfg.SMTPURL != "":
		server, err := mail.ParseSMTPURL(cfg.SMTPURL)
		if err != nil {
			return nil, fmt.Errorf("--smtp-url %w", err)
		}
		if deliver && server.Security == mail.Plain {
			log.Warn("mail is sent without encryption: --smtp-url ends in ?tls=none", "smtp_host", server.Host)
		}
		if sender, err = mail.NewSMTPSender(server, cfg.MailFrom, nil); err != nil {
			return nil, fmt.Errorf("--mail-from: %w", err)
		}
	case developmentIssuer(cfg.Issuer):
		if deliver {
			log.Info("no --smtp-url: mail is written to this log as development mail")
		}
		sender = mail.LogSender{Log: log}
	default:
		if deliver {
			log.Warn("mail is not configured (--smtp-url): users get no security notices by mail")
		}
		return &mailing{links: links}, nil
	}
	if !deliver {
		sender = nil
	}
	outbox, err := mail.NewOutbox(st, key.Derive(secretkey.PurposeMailOutbox), sender, log, reg)
	if err != nil {
		return nil, err
	}
	messages, err := mail.NewRenderer("Gatehouse", cfg.Issuer+"/account/security")
	if err != nil {
		return nil, err
	}
	return &mailing{notifier: directory.MailNotifier{Messages: messages, Outbox: outbox, Links: links}, outbox: outbox,
		bulk: mail.NewBulk(st, outbox, messages, log), configured: true, smtp: cfg.SMTPURL != "", links: links}, nil
}

// developmentIssuer: the issuer is this machine, so mail may go to the log.
func developmentIssuer(issuer string) bool {
	u, err := url.Parse(issuer)
	return err == nil && isLoopbackHost(u.Hostname())
}
