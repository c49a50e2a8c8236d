package directory

// EventType names an audit event. This is the one list of them.
type EventType string

// Users, organisations and clients, changed through the operations here.
const (
	EventUserCreated     EventType = "user.created"
	EventPasswordSet     EventType = "user.password_set" // by an operator
	EventUserDisabled    EventType = "user.disabled"
	EventUserEnabled     EventType = "user.enabled"
	EventPasswordChanged EventType = "account.password_changed" // by the user

	EventOrgCreated          EventType = "org.created"
	EventMemberAdded         EventType = "org.member_added"
	EventMemberInvited       EventType = "org.member_invited"
	EventMemberRemoved       EventType = "org.member_removed"
	EventRoleChanged         EventType = "org.role_changed"
	EventMemberPolicyChanged EventType = "org.member_policy_changed"
	EventPolicyChanged       EventType = "org.policy_changed"

	EventClientCreated       EventType = "client.created"
	EventClientDeleted       EventType = "client.deleted"
	EventClientSecretRotated EventType = "client.secret_rotated"

	EventKeyRotated EventType = "key.rotated"
)

// Second factors: changes a user is told about.
const (
	EventTOTPEnrolled             EventType = "mfa.totp_enrolled"
	EventTOTPDisabled             EventType = "mfa.totp_disabled"
	EventKeyAdded                 EventType = "mfa.webauthn_added"   // a security key or passkey
	EventKeyRemoved               EventType = "mfa.webauthn_removed" // a security key or passkey
	EventRecoveryCodesRegenerated EventType = "mfa.recovery_codes_regenerated"
	EventFactorsReset             EventType = "mfa.reset" // every factor removed: by the user's recovery, an operator or an admin
)

// Recovery: getting back in without the second factor, or the password.
const (
	EventRecoveryStarted        EventType = "recovery.started"   // a recovery code was used; the mail asks to confirm
	EventRecoveryResent         EventType = "recovery.resent"    // the confirmation mail, again
	EventRecoveryCancelled      EventType = "recovery.cancelled" // "this wasn't me"
	EventEnrollmentLinkSent     EventType = "mfa.enrollment_link_sent"
	EventEnrollmentLinkUsed     EventType = "mfa.enrollment_link_used"
	EventEnrollmentDeferred     EventType = "mfa.enrollment_deferred" // "Remind me later", before an organisation's deadline
	EventEnrollmentReminder     EventType = "mfa.enrollment_reminder" // a notice only: an organisation's deadline is near
	EventAccessPassIssued       EventType = "mfa.access_pass_issued"  // by an organisation's admin
	EventAccessPassUsed         EventType = "mfa.access_pass_used"
	EventPasswordResetRequested EventType = "user.password_reset_requested"
	EventPasswordReset          EventType = "user.password_reset" // from the mailed link
)

// Sign-in steps and their limits.
const (
	EventPasswordOK     EventType = "signin.password_ok"
	EventPasswordFailed EventType = "signin.password_failed"
	EventPasswordLocked EventType = "signin.locked"
	EventSecondFactorOK EventType = "signin.otp_ok"
	EventPasskeyOK      EventType = "signin.passkey_ok" // a passkey alone: both factors
	EventFactorFailed   EventType = "mfa.code_failed"
	EventFactorLocked   EventType = "mfa.locked"
	// EventKeyRefused: an answer from a security key or passkey that is
	// not even a try at the account (malformed, an expired or used
	// challenge, another browser's ceremony, an unknown key), recorded
	// apart from the lockout's mfa.code_failed.
	EventKeyRefused EventType = "mfa.webauthn_refused"
	EventSignedOut  EventType = "signout"
)

// Browser sessions ended from the account page or the command line.
const (
	EventSessionEnded        EventType = "session.ended"        // one browser, by the user
	EventOtherSessionsEnded  EventType = "session.others_ended" // every other browser, by the user
	EventSignedOutEverywhere EventType = "user.signed_out"      // every browser and refresh token, by an operator
	EventFactorUnlocked      EventType = "mfa.unlocked"         // second-factor lock lifted, by an operator
	EventKeyRenamed          EventType = "mfa.webauthn_renamed" // by the user
)
