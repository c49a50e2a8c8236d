package directory

import (
	"errors"
	"strings"
)

// What an operation refuses, for each caller to put in its own words.
var (
	ErrNoUser        = errors.New("no such user")
	ErrNoOrg         = errors.New("no such organisation")
	ErrNoClient      = errors.New("no such client")
	ErrEmailTaken    = errors.New("a user with this email already exists")
	ErrSlugTaken     = errors.New("an organisation with this slug already exists")
	ErrAlreadyMember = errors.New("already a member")
	ErrNotMember     = errors.New("not a member")
	// ErrLastOwner: the change would leave an organisation without an owner.
	ErrLastOwner = errors.New("an organisation must keep at least one owner")
	// ErrPublicClient: a public client has no secret to rotate.
	ErrPublicClient = errors.New("public clients have no secret")
	// ErrNoRedirectURI: a client needs at least one redirect URI.
	ErrNoRedirectURI = errors.New("at least one redirect URI is required")
	// ErrGraceAndDate: a policy postpones enrolment either per member (a
	// grace period) or for everyone (a date), not both.
	ErrGraceAndDate = errors.New("a grace period and a required-from date cannot be set together")
	// ErrEnrollmentGone: the enrolment to confirm is no longer pending
	// (confirmed elsewhere, replaced, or too old).
	ErrEnrollmentGone = errors.New("the enrollment is no longer pending")
	// ErrHasFactor: the user already has an active factor of this kind.
	ErrHasFactor = errors.New("the user already has a factor of this kind")
	// ErrNoFactor: the user has no such factor.
	ErrNoFactor = errors.New("no such factor")

	// ErrWrongRecoveryCode: not one of the user's unused recovery codes.
	ErrWrongRecoveryCode = errors.New("not an unused recovery code of the user")
	// ErrNoRecovery: the user has no recovery pending.
	ErrNoRecovery = errors.New("no recovery is pending")
	// ErrGrantNeeded: the user's factors were reset, and a new one needs
	// an enrollment grant (the password alone is not enough).
	ErrGrantNeeded = errors.New("adding a factor after a reset needs an enrollment grant")
	// ErrNotAwaiting: the user is not waiting to set up a factor after a
	// reset.
	ErrNotAwaiting = errors.New("the user's factors were not reset")
	// ErrUserDisabled: the user may not sign in.
	ErrUserDisabled = errors.New("the user is disabled")
	// ErrNotInvited: the invitation is for another address.
	ErrNotInvited = errors.New("the invitation is for another address")
	// ErrTooMany: the limit of such requests is reached for now.
	ErrTooMany = errors.New("too many requests; try again later")
)

// What becomes of a link that does not work, for the page that says so.
var (
	ErrLinkUnknown  = errors.New("the link is not valid")
	ErrLinkUsed     = errors.New("the link was already used")
	ErrLinkExpired  = errors.New("the link has expired")
	ErrLinkEnded    = errors.New("what the link was for was already done or cancelled")
	ErrLinkReplaced = errors.New("a newer link was sent")
)

// InvalidError is an input that breaks a rule. Field names the input in
// snake case ("slug", "redirect_uri"); Message says what is wrong, quoting
// the value where it helps, and reads after the field's name:
// `"Acme" is not a valid slug: …`.
type InvalidError struct {
	Field   string
	Message string
}

func (e *InvalidError) Error() string { return e.Field + " " + e.Message }

func invalid(field, message string) error { return &InvalidError{Field: field, Message: message} }

// FactorRequiredError refuses removing a second factor that organisations
// of the user require; Orgs names them.
type FactorRequiredError struct{ Orgs []string }

func (e *FactorRequiredError) Error() string {
	return "required by " + strings.Join(e.Orgs, ", ")
}
