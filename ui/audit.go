package ui

import (
	"context"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/gatehouse-id/gatehouse/middleware"
	"github.com/gatehouse-id/gatehouse/storage"
)

// Audit event types the pages record.
const (
	auditPasswordOK     = "signin.password_ok"
	auditPasswordFailed = "signin.password_failed"
	auditLocked         = "signin.locked"
	auditSignedOut      = "signout"
)

// maxUserAgent bounds the user agent kept per event.
const maxUserAgent = 256

// audit records e with the client's address and user agent. details must
// never hold a secret.
func audit(ctx context.Context, tx *storage.Store, r *http.Request, e storage.AuditEvent, details any) error {
	if ip := middleware.ClientIPFrom(ctx); ip.IsValid() {
		e.IP = ip.String()
	}
	e.UserAgent = clip(r.UserAgent(), maxUserAgent)
	return tx.Audit().Record(ctx, &e, details)
}

// clip makes s valid UTF-8 without control characters and at most n bytes
// long, cut between characters, so any database accepts it.
func clip(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
