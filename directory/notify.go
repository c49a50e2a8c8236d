package directory

import (
	"context"
	"fmt"

	"github.com/gatehouse-id/gatehouse/mail"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/storage"
)

// factorNames are what a notice calls each kind of factor.
var factorNames = map[mfa.FactorKind]string{
	mfa.FactorTOTP:     "an authenticator app",
	mfa.FactorWebAuthn: "a security key or passkey",
}

// MailNotifier tells users by mail: each notice is rendered and queued in
// the outbox, in the transaction of the change it is about, so it is sent
// exactly when the change happened, whatever the mail server does meanwhile.
type MailNotifier struct {
	Messages *mail.Renderer
	Outbox   *mail.Outbox
	// Links builds the addresses of the links notices carry.
	Links Links
}

// Notify renders n's message and queues it in tx.
func (m MailNotifier) Notify(ctx context.Context, tx *storage.Store, n Notice) error {
	c := mail.Context{When: n.At, UserAgent: n.Actor.UserAgent, IP: n.Actor.IP, ByOperator: n.Actor.Channel == ChannelCLI}
	to := n.User.Email
	var msg mail.Message
	var err error
	switch n.Event {
	case EventTOTPEnrolled:
		msg, err = m.Messages.FactorAdded(to, factorNames[mfa.FactorTOTP], c)
	case EventTOTPDisabled:
		msg, err = m.Messages.FactorRemoved(to, factorNames[mfa.FactorTOTP], c)
	case EventKeyAdded:
		msg, err = m.Messages.FactorAdded(to, factorNames[mfa.FactorWebAuthn], c)
	case EventKeyRemoved:
		msg, err = m.Messages.FactorRemoved(to, factorNames[mfa.FactorWebAuthn], c)
	case EventRecoveryCodesRegenerated:
		msg, err = m.Messages.RecoveryCodesRegenerated(to, c)
	case EventFactorLocked:
		msg, err = m.Messages.AccountLocked(to, n.Until, c)
	case EventPasswordChanged, EventPasswordSet, EventPasswordReset:
		msg, err = m.Messages.PasswordChanged(to, c)
	case EventRecoveryStarted, EventRecoveryResent:
		msg, err = m.Messages.RecoveryRequested(to, m.Links.RecoveryConfirm(n.Token), m.Links.RecoveryCancel(n.CancelToken), c)
	case EventRecoveryCancelled:
		msg, err = m.Messages.RecoveryCancelled(to, c)
	case EventFactorsReset:
		msg, err = m.Messages.FactorsReset(to, n.By, m.Links.Enrollment(n.Token), c)
	case EventEnrollmentLinkSent:
		msg, err = m.Messages.EnrollmentLink(to, m.Links.Enrollment(n.Token), c)
	case EventEnrollmentReminder:
		msg, err = m.Messages.EnrollmentDeadline(to, n.Org, n.Until)
	case EventMemberAdded:
		msg, err = m.Messages.OrgRequiresMFA(to, n.Org)
	case EventAccessPassIssued:
		msg, err = m.Messages.AccessPassIssued(to, n.Org, n.Until, c)
	case EventAccessPassUsed:
		msg, err = m.Messages.FactorsReset(to, "you, with a temporary access pass", m.Links.Enrollment(n.Token), c)
	case EventMemberInvited:
		msg, err = m.Messages.Invitation(to, n.Org, n.By, m.Links.Invitation(n.Token))
	case EventPolicyChanged:
		msg, err = m.Messages.PolicyChanged(to, n.Org, n.Change, c)
	case EventPasswordResetRequested:
		msg, err = m.Messages.PasswordReset(to, m.Links.PasswordReset(n.Token), c)
	default:
		return fmt.Errorf("no mail for the notice %s", n.Event)
	}
	if err != nil {
		return err
	}
	return m.Outbox.Queue(ctx, tx, msg)
}

// NotifyMembers asks for a notice to every member of an organisation,
// queued in batches by mail.Bulk after the change commits.
func (m MailNotifier) NotifyMembers(ctx context.Context, tx *storage.Store, kind, orgID string) error {
	return tx.MailJobs().Add(ctx, &storage.MailJob{Kind: kind, OrgID: orgID})
}
