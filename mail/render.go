package mail

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
	"time"
)

//go:embed templates
var templateFiles embed.FS

// Renderer makes Gatehouse's messages: one function per message, each
// rendered into a plain-text and an HTML part from the embedded templates.
type Renderer struct {
	product    string
	accountURL string // where users see and change their security settings
	text       *texttemplate.Template
	html       *htmltemplate.Template
}

// NewRenderer parses the templates. Messages name product and link to
// accountURL, the security settings page.
func NewRenderer(product, accountURL string) (*Renderer, error) {
	text, err := texttemplate.ParseFS(templateFiles, "templates/*.txt")
	if err != nil {
		return nil, fmt.Errorf("mail: text templates: %w", err)
	}
	html, err := htmltemplate.ParseFS(templateFiles, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("mail: HTML templates: %w", err)
	}
	return &Renderer{product: product, accountURL: accountURL, text: text, html: html}, nil
}

// Context says when and from where a change was made, as a notice names it.
type Context struct {
	When time.Time
	// UserAgent is the browser's, or "" for the command line.
	UserAgent string
	IP        string
	// ByOperator: the change was made by an operator or an administrator,
	// not by the user.
	ByOperator bool
}

// detail is one line of a notice's facts.
type detail struct{ Label, Value string }

// notice is what the notice templates show.
type notice struct {
	Product, Subject, Heading, Intro string
	Details                          []detail
	ActionURL, ActionLabel           string
	// ActionNote follows the action: how long its link works.
	ActionNote string
	// CancelURL, when set, is the "this wasn't me" link.
	CancelURL, CancelLabel string
	IfNotYou               string
}

func (r *Renderer) details(c Context) []detail {
	device := "the command line on the server"
	if !c.ByOperator || c.UserAgent != "" {
		device = DeviceOf(c.UserAgent)
	}
	ds := []detail{{"When", c.When.UTC().Format("Monday 2 January 2006, 15:04 UTC")}, {"Device", device}}
	if c.IP != "" {
		ds = append(ds, detail{"IP address", c.IP + " (approximate: a network, not a person)"})
	}
	return ds
}

// ifNotYou is what a notice tells a user who did not make the change.
func (r *Renderer) ifNotYou() string {
	return "If this wasn't you, sign in now, change your password and check your two-step verification " +
		"settings; if you cannot sign in, contact your administrator at once."
}

func (r *Renderer) render(kind, to string, n notice) (Message, error) {
	n.Product = r.product
	n.Subject = r.product + ": " + n.Subject
	if n.IfNotYou == "" {
		n.IfNotYou = r.ifNotYou()
	}
	if n.ActionURL == "" && r.accountURL != "" {
		n.ActionURL, n.ActionLabel = r.accountURL, "Review your security settings"
	}
	var text, html bytes.Buffer
	if err := r.text.ExecuteTemplate(&text, "notice.txt", n); err != nil {
		return Message{}, fmt.Errorf("mail: render %s: %w", kind, err)
	}
	if err := r.html.ExecuteTemplate(&html, "notice.html", n); err != nil {
		return Message{}, fmt.Errorf("mail: render %s: %w", kind, err)
	}
	m := Message{Kind: kind, To: to, Subject: n.Subject, Text: text.String(), HTML: html.String()}
	if err := m.check(); err != nil {
		return Message{}, err
	}
	return m, nil
}

// FactorAdded tells a user that a second factor (named like "an
// authenticator app") was added to their account.
func (r *Renderer) FactorAdded(to, factor string, c Context) (Message, error) {
	return r.render("factor_added", to, notice{
		Subject: "a second factor was added to your account",
		Heading: "A second factor was added",
		Intro:   capitalise(factor) + " was added to your account for two-step verification.",
		Details: r.details(c),
	})
}

// FactorRemoved tells a user that a second factor was removed.
func (r *Renderer) FactorRemoved(to, factor string, c Context) (Message, error) {
	return r.render("factor_removed", to, notice{
		Subject: "a second factor was removed from your account",
		Heading: "A second factor was removed",
		Intro:   capitalise(factor) + " was removed from your account. Signing in no longer asks for it.",
		Details: r.details(c),
	})
}

// RecoveryCodesRegenerated tells a user that new recovery codes replaced
// the old ones.
func (r *Renderer) RecoveryCodesRegenerated(to string, c Context) (Message, error) {
	return r.render("recovery_codes_regenerated", to, notice{
		Subject: "new recovery codes were made",
		Heading: "Your recovery codes were replaced",
		Intro:   "New recovery codes were made for your account. The old ones no longer work.",
		Details: r.details(c),
	})
}

// FactorsReset tells a user that their second factors were reset, by whom
// ("an administrator of Acme", "an operator", "you"), with the one-time
// link that lets a browser set up a new one (enrollURL, for a day).
func (r *Renderer) FactorsReset(to, by, enrollURL string, c Context) (Message, error) {
	return r.render("factors_reset", to, notice{
		Subject: "your two-step verification was reset",
		Heading: "Your two-step verification was reset",
		Intro: "All second factors and recovery codes of your account were removed by " + by +
			", and every device was signed out. To keep anyone who knows only your password from adding their own, " +
			"a new second factor can be set up only from the link below (or the browser that confirmed the reset).",
		Details:     r.details(c),
		ActionURL:   enrollURL,
		ActionLabel: "Set up two-step verification again",
		ActionNote:  "The link works once, in one browser, for 24 hours.",
	})
}

// EnrollmentLink sends a user who asked for one a new link to set up a
// second factor after a reset; older links stop working.
func (r *Renderer) EnrollmentLink(to, enrollURL string, c Context) (Message, error) {
	return r.render("enrollment_link", to, notice{
		Subject:     "your link to set up two-step verification",
		Heading:     "Set up two-step verification again",
		Intro:       "You asked for a new link to set up a second factor on your account. Earlier links no longer work.",
		Details:     r.details(c),
		ActionURL:   enrollURL,
		ActionLabel: "Set up two-step verification",
		ActionNote:  "The link works once, in one browser, for 24 hours.",
		IfNotYou: "If this wasn't you, someone knows your password: do not open the link, and change your password " +
			"or ask your administrator to.",
	})
}

// RecoveryRequested asks a user to confirm the recovery a recovery code
// started (confirmURL), or to cancel it (cancelURL) if it was not them.
func (r *Renderer) RecoveryRequested(to, confirmURL, cancelURL string, c Context) (Message, error) {
	return r.render("recovery_requested", to, notice{
		Subject: "confirm resetting your two-step verification",
		Heading: "Confirm resetting your two-step verification",
		Intro: "One of your recovery codes was just used, with your password, to reset two-step verification. " +
			"Confirm it to remove your old second factors; then you sign in with your password and set up a new one.",
		Details:     r.details(c),
		ActionURL:   confirmURL,
		ActionLabel: "Review and confirm the reset",
		ActionNote:  "The link works once, for 30 minutes. Opening it changes nothing until you confirm.",
		CancelURL:   cancelURL,
		CancelLabel: "This wasn't me: cancel the reset",
		IfNotYou: "If this wasn't you, someone has your password and one of your recovery codes: cancel the reset, " +
			"then change your password and make new recovery codes.",
	})
}

// RecoveryCancelled tells a user that a pending recovery was cancelled
// from its mail.
func (r *Renderer) RecoveryCancelled(to string, c Context) (Message, error) {
	return r.render("recovery_cancelled", to, notice{
		Subject: "the reset of your two-step verification was cancelled",
		Heading: "The reset was cancelled",
		Intro: "The reset of your two-step verification was cancelled; your second factors are unchanged. " +
			"The recovery code that started it no longer works.",
		Details: r.details(c),
		IfNotYou: "If this wasn't you who started the reset, someone knew your password and had one of your recovery codes: " +
			"change your password and make new recovery codes now.",
	})
}

// PasswordReset sends a user who forgot their password the link that sets
// a new one (resetURL).
func (r *Renderer) PasswordReset(to, resetURL string, c Context) (Message, error) {
	return r.render("password_reset", to, notice{
		Subject:     "reset your password",
		Heading:     "Reset your password",
		Intro:       "Someone, hopefully you, asked to reset the password of your account. Your two-step verification stays as it is.",
		Details:     r.details(c),
		ActionURL:   resetURL,
		ActionLabel: "Choose a new password",
		ActionNote:  "The link works once, for 30 minutes.",
		IfNotYou:    "If this wasn't you, ignore this mail: your password stays as it is.",
	})
}

// AccountLocked tells a user that too many wrong codes locked their
// account's second factor: until a time, or (until zero) until it is
// unlocked.
func (r *Renderer) AccountLocked(to string, until time.Time, c Context) (Message, error) {
	intro := "Too many wrong second-factor codes were entered for your account, so it is locked until an administrator unlocks it."
	if !until.IsZero() {
		intro = "Too many wrong second-factor codes were entered for your account, so two-step verification is locked until " +
			until.UTC().Format("15:04 UTC on 2 January 2006") + "."
	}
	return r.render("account_locked", to, notice{
		Subject: "your account was locked after wrong codes",
		Heading: "Your account was locked",
		Intro:   intro + " Your password was right: someone may know it.",
		Details: r.details(c),
		IfNotYou: "If this wasn't you, change your password as soon as you can sign in, " +
			"and tell your administrator: someone may be trying to get into your account.",
	})
}

// PasswordChanged tells a user that their password was changed.
func (r *Renderer) PasswordChanged(to string, c Context) (Message, error) {
	intro := "The password of your account was changed."
	if c.ByOperator {
		intro = "The password of your account was set by an operator."
	}
	return r.render("password_changed", to, notice{
		Subject:  "your password was changed",
		Heading:  "Your password was changed",
		Intro:    intro,
		Details:  r.details(c),
		IfNotYou: "If this wasn't you, contact your administrator at once: someone else may control your account.",
	})
}

// EnrollmentDeadline reminds a member without a second factor that org
// requires one from deadline.
func (r *Renderer) EnrollmentDeadline(to, org string, deadline time.Time) (Message, error) {
	when := deadline.UTC().Format("Monday 2 January 2006, 15:04 UTC")
	return r.render("enrollment_deadline", to, notice{
		Subject: org + " requires two-step verification from " + deadline.UTC().Format("2 January"),
		Heading: "Set up two-step verification before " + deadline.UTC().Format("2 January"),
		Intro: "Your organisation " + org + " requires a second factor, such as an authenticator app, from " + when +
			". Until then you can choose \"Remind me later\" at sign-in; after it, signing in asks you to set one up first. It takes a minute.",
		IfNotYou: "If you do not know " + org + ", you can ignore this mail; nothing changes for you until you sign in.",
	})
}

// AccessPassIssued tells a member that an administrator of org gave them
// a temporary access pass, which works until expires.
func (r *Renderer) AccessPassIssued(to, org string, expires time.Time, c Context) (Message, error) {
	return r.render("access_pass_issued", to, notice{
		Subject: "a temporary access pass was issued for your account",
		Heading: "A temporary access pass was issued for you",
		Intro: "An administrator of " + org + " issued a temporary access pass for your account, valid until " +
			expires.UTC().Format("15:04 UTC on 2 January 2006") + ". With your password, it lets you set up a new second factor in place of a lost one. The administrator gives it to you; it is not in this mail.",
		Details:  r.details(c),
		IfNotYou: "If this wasn't at your request, tell the administrators of " + org + " at once: someone may be trying to get into your account.",
	})
}

// Invitation invites someone to join org, by inviter (an email), with the
// link that accepts (acceptURL).
func (r *Renderer) Invitation(to, org, inviter, acceptURL string) (Message, error) {
	return r.render("invitation", to, notice{
		Subject:     "you are invited to join " + org,
		Heading:     "Join " + org,
		Intro:       inviter + " invites you to join " + org + " on " + r.product + ". If you have no account yet, you choose a password when you accept.",
		ActionURL:   acceptURL,
		ActionLabel: "Accept the invitation",
		ActionNote:  "The link works once, for 7 days.",
		IfNotYou:    "If this wasn't expected, you can ignore this mail: nothing happens unless you accept.",
	})
}

// PolicyChanged tells an owner of org that its two-step verification
// policy changed (change says from what to what).
func (r *Renderer) PolicyChanged(to, org, change string, c Context) (Message, error) {
	return r.render("policy_changed", to, notice{
		Subject: "the two-step verification policy of " + org + " changed",
		Heading: "The policy of " + org + " changed",
		Intro:   "You own " + org + ". Its policy changed: " + change + ".",
		Details: r.details(c),
		IfNotYou: "If this wasn't you or a fellow owner, check the organisation's audit log and " +
			"ask your operator who made the change.",
	})
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// OrgRequiresMFA tells a member that their organisation now requires
// two-step verification.
func (r *Renderer) OrgRequiresMFA(to, org string) (Message, error) {
	return r.render("org_requires_mfa", to, notice{
		Subject: org + " requires two-step verification",
		Heading: org + " now requires two-step verification",
		Intro: "Your organisation " + org + " requires a second factor, such as an authenticator app, for every member. " +
			"If you have none yet, you will set one up at your next sign-in; it takes a minute.",
		IfNotYou: "If you do not know " + org + ", you can ignore this mail; nothing changes for you until you sign in.",
	})
}
