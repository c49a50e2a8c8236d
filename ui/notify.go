package ui

import (
	"context"
	"log/slog"

	"github.com/gatehouse-id/gatehouse/storage"
)

// Factor changes a Notifier hears about. They are also the audit event
// types recorded for them.
const (
	EventTOTPEnrolled             = "mfa.totp_enrolled"
	EventTOTPDisabled             = "mfa.totp_disabled"
	EventRecoveryCodesRegenerated = "mfa.recovery_codes_regenerated"
)

// Notifier tells a user that the second factors of their account changed,
// so that a change they did not make does not go unnoticed (usually by
// mail). It is called after the change is stored; an error is logged and
// does not undo the change.
type Notifier interface {
	FactorChanged(ctx context.Context, user *storage.User, event string) error
}

// NopNotifier tells nobody. It is the default.
type NopNotifier struct{}

// FactorChanged does nothing.
func (NopNotifier) FactorChanged(context.Context, *storage.User, string) error { return nil }

// notifyFactorChanged passes a stored change to the configured Notifier.
func (u *UI) notifyFactorChanged(ctx context.Context, user *storage.User, event string) {
	n := u.cfg.Notifier
	if n == nil {
		return
	}
	if err := n.FactorChanged(ctx, user, event); err != nil {
		u.log.WarnContext(ctx, "telling the user about a factor change failed",
			slog.String("user_id", user.ID), slog.String("event", event), slog.String("error", err.Error()))
	}
}
