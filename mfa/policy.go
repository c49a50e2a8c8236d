package mfa

import (
	"slices"
	"strings"
	"time"
)

// Prompt values of the authorization request that the policy reads.
const (
	PromptNone          = "none"
	PromptLogin         = "login"
	PromptSelectAccount = "select_account"
	PromptConsent       = "consent"
)

// OAuth error codes a sign-in can end with (OpenID Connect Core §3.1.2.6).
const (
	// LoginRequired: prompt=none and the user must sign in.
	LoginRequired = "login_required"
	// InteractionRequired: prompt=none and a signed-in user must do
	// something on a page, such as enter a second factor or enroll one.
	InteractionRequired = "interaction_required"
	// AccessDenied: the request demands a level the user can never reach
	// (an essential acr whose factor is not offered), or the user declined.
	AccessDenied = "access_denied"
	// ConsentRequired: prompt=none and the user must consent on a page.
	ConsentRequired = "consent_required"
)

// Input is everything the policy looks at, as plain values.
type Input struct {
	Request Request
	Session Session
	// ClientRequiresMFA: the client asks every user for a second factor.
	ClientRequiresMFA bool
	// Orgs are the policies of the session user's organisations.
	Orgs []OrgPolicy
	// Offered are the second factors this server can ask for. A level no
	// offered factor reaches can never be met.
	Offered []Factor
	Now     time.Time
}

// Request is what the authorization request asked for.
type Request struct {
	Prompt []string
	// MaxAge is the longest time since the user last actively signed in
	// that the client accepts; nil when the request did not say.
	MaxAge *time.Duration
	// HintSubject is the user a valid id_token_hint names, or "".
	HintSubject string
	// LoginHint is the login_hint: the email of the user the client wants
	// signed in, or "".
	LoginHint string
	// AccountChosen: asked to select an account, the user chose the one
	// signed in.
	AccountChosen bool
	// ConsentNeeded: the user must allow the client what it asks before
	// the sign-in completes (prompt=consent, or a client that asks for
	// consent and has none remembered for these scopes).
	ConsentNeeded bool
	// EnrollmentDeferred: the member chose "Remind me later" during this
	// request, for a requirement whose deadline has not passed.
	EnrollmentDeferred bool
	// ACRValues are the voluntary levels asked for (acr_values), in order
	// of preference.
	ACRValues []string
	// EssentialACR are the levels the claims parameter demands (see
	// EssentialACR); at least the lowest of them must be met.
	EssentialACR []string
	CreatedAt    time.Time
}

// Session is the browser's live session, if any, and its user's state.
// The zero value is "no session".
type Session struct {
	Present  bool
	UserID   string
	Email    string // the user's, to compare with a login_hint
	Disabled bool   // the session's user may no longer sign in
	// AuthTime is when the user last actively signed in.
	AuthTime time.Time
	AMR      []string
	// Factors are the kinds of the user's confirmed second factors, the
	// default first. A user who has one must use it at every sign-in.
	Factors []FactorKind
	// AwaitingEnrollment: the user's second factors were reset and no new
	// one is set up yet. The password alone must not add one: only a
	// browser with an enrollment grant may (EnrollmentGranted).
	AwaitingEnrollment bool
	// EnrollmentGranted: this browser may add a factor for the user after
	// a reset (it confirmed the reset, opened a mailed enrollment link, or
	// used a temporary access pass), and must before the sign-in goes on.
	EnrollmentGranted bool
}

// Next is what a sign-in needs next.
type Next int

// The decisions.
const (
	// Complete: the session satisfies the request; finish it with the
	// Decision's AMR, ACR and AuthTime.
	Complete Next = iota + 1
	// NeedPassword: the user must enter their password (again).
	NeedPassword
	// Fail: the request ends with the Decision's Error for the client.
	Fail
	// NeedSecondFactor: the user must prove one of the Decision's Factors.
	NeedSecondFactor
	// NeedEnrollment: the user must enroll one of the Decision's Factors
	// (enrolling proves it).
	NeedEnrollment
	// NeedAccountChoice: prompt=select_account: the user must say whether
	// to continue as the signed-in user or sign in as another.
	NeedAccountChoice
	// NeedConsent: the user must allow (or refuse) what the client asks.
	NeedConsent
	// NeedEnrollmentGrant: the user must enroll, but their factors were
	// reset and this browser holds no enrollment grant: they must come
	// back through a mailed enrollment link or the browser that confirmed
	// the reset.
	NeedEnrollmentGrant
)

// Decision is the policy's answer. Only the fields of its Next are set.
type Decision struct {
	Next Next

	// For Complete.
	AMR      []string
	ACR      string
	AuthTime time.Time

	// For NeedSecondFactor: the user's factors that meet the requirement,
	// the default first. For NeedEnrollment and NeedEnrollmentGrant: the
	// offered factors that would.
	Factors []FactorKind
	// SkipUntil, for NeedEnrollment and NeedEnrollmentGrant, is the
	// deadline before which the member may choose "Remind me later": only
	// organisations require the factor, none of them yet. Zero: no skip.
	SkipUntil time.Time

	// For Fail.
	Error            string
	ErrorDescription string
}

// Descriptions of the failures, for the client.
const (
	descEssentialUnmet   = "None of the essential acr values requested can be met."
	descNoFactorOffered  = "A second factor is required, but none is available."
	descNeedSecondFactor = "The user must enter a second factor."
	descNeedEnrollment   = "The user must set up a second factor."
	descNeedConsent      = "The user must consent to the application's request."
)

// Decide says what the sign-in for in.Request still needs, given what the
// browser session has proved by in.Now, following OpenID Connect
// Core §3.1.2.1 (prompt, max_age, acr_values) and §5.5.1.1 (an essential acr).
// prompt=none never gets a page: where one would be needed, the request
// fails instead.
func Decide(in Input) Decision {
	none := slices.Contains(in.Request.Prompt, PromptNone)
	passwordReason := passwordNeeded(in)
	if passwordReason != "" && none {
		return fail(LoginRequired, passwordReason)
	}
	need, unmet := requiredLevel(in)
	switch {
	case unmet != "" && none:
		return fail(InteractionRequired, unmet)
	case unmet != "":
		return fail(AccessDenied, unmet)
	case passwordReason != "":
		return Decision{Next: NeedPassword}
	case slices.Contains(in.Request.Prompt, PromptSelectAccount) && !in.Request.AccountChosen &&
		!in.Session.AuthTime.After(in.Request.CreatedAt):
		// OIDC Core §3.1.2.1: offer the signed-in account or another one;
		// a sign-in during this request was the choice.
		return Decision{Next: NeedAccountChoice}
	}

	s := in.Session
	met := ACRRank(ACRFor(s.AMR))
	// Organisations whose deadline is still ahead: asked for, but the
	// member may put it off ("Remind me later"), and prompt=none does.
	soon, until := pendingOrgRank(in)
	if met >= need && (soon <= met || none || in.Request.EnrollmentDeferred) {
		switch {
		case in.Request.ConsentNeeded && none:
			return fail(ConsentRequired, descNeedConsent)
		case in.Request.ConsentNeeded:
			return Decision{Next: NeedConsent}
		}
		return Decision{Next: Complete, AMR: slices.Clone(s.AMR), ACR: grantedACR(in), AuthTime: s.AuthTime}
	}
	if met >= need {
		if usable := usableFactors(in, soon); len(usable) > 0 {
			return Decision{Next: NeedSecondFactor, Factors: usable}
		}
		if d, ok := proveFirst(in, met); ok {
			return d
		}
		return enrollment(in, soon, until)
	}
	if usable := usableFactors(in, need); len(usable) > 0 {
		if none {
			return fail(InteractionRequired, descNeedSecondFactor)
		}
		return Decision{Next: NeedSecondFactor, Factors: usable}
	}
	if none {
		return fail(InteractionRequired, descNeedEnrollment)
	}
	if d, ok := proveFirst(in, met); ok {
		return d
	}
	return enrollment(in, need, time.Time{})
}

// proveFirst asks a user who has a second factor, but whose session has not
// proved one, for it before they add a stronger one (an app before a key):
// the password alone never adds a factor to an account that has one.
func proveFirst(in Input, met int) (Decision, bool) {
	if met >= ACRRank(ACRMFA) {
		return Decision{}, false
	}
	if have := usableFactors(in, ACRRank(ACRMFA)); len(have) > 0 {
		return Decision{Next: NeedSecondFactor, Factors: have}, true
	}
	return Decision{}, false
}

// enrollment asks the user to set up a factor reaching rank need, which
// they may put off until skipUntil (zero: no skip).
func enrollment(in Input, need int, skipUntil time.Time) Decision {
	d := Decision{Next: NeedEnrollment, Factors: enrollableFactors(in, need), SkipUntil: skipUntil}
	if in.Session.AwaitingEnrollment && !in.Session.EnrollmentGranted {
		// After a reset, whoever holds only the password must not put
		// their own authenticator on the account.
		d.Next = NeedEnrollmentGrant
	}
	return d
}

// pendingOrgRank is the rank the user's organisations will require from
// until, when that is still ahead (and reachable), or 0.
func pendingOrgRank(in Input) (int, time.Time) {
	rank, from := OrgRequirement(in.Orgs)
	if rank == 0 || !from.After(in.Now) || rank > reachableRank(in) {
		return 0, time.Time{}
	}
	return rank, from
}

func fail(code, description string) Decision {
	return Decision{Next: Fail, Error: code, ErrorDescription: description}
}

// passwordNeeded says, in words fit for the client, why the session does not
// satisfy the request, or returns "" when it does.
func passwordNeeded(in Input) string {
	s, req := in.Session, in.Request
	// A sign-in made after the request arrived answers prompt=login and any
	// max_age (even 0): it is the re-authentication they ask for.
	signedInForThisRequest := s.AuthTime.After(req.CreatedAt)
	switch {
	case !s.Present || s.Disabled || ACRFor(s.AMR) == "":
		return "The user is not signed in."
	case req.HintSubject != "" && req.HintSubject != s.UserID:
		return "The signed-in user is not the user named by id_token_hint."
	case req.LoginHint != "" && !signedInForThisRequest && !strings.EqualFold(strings.TrimSpace(req.LoginHint), s.Email):
		// OIDC Core §3.1.2.1: the hint names who should sign in. It is a
		// hint: whoever signs in during the request is who it gets.
		return "The signed-in user is not the user named by login_hint."
	case slices.Contains(req.Prompt, PromptLogin) && !signedInForThisRequest:
		return "The request asks the user to sign in again."
	case req.MaxAge != nil && !signedInForThisRequest && in.Now.Sub(s.AuthTime) > *req.MaxAge:
		return "The user's last sign-in is older than max_age."
	}
	return ""
}

// requiredLevel is the acr rank the sign-in must reach: the password's,
// raised by the essential acr, the voluntary acr_values and the policy
// (the user's own factor, the client, an organisation). When it can never
// be reached it returns why instead.
func requiredLevel(in Input) (int, string) {
	req := in.Request
	need := ACRRank(ACRPassword)
	reachable := reachableRank(in)

	if len(req.EssentialACR) > 0 {
		lowest := 0
		for _, v := range req.EssentialACR {
			if r := ACRRank(v); r > 0 && (lowest == 0 || r < lowest) {
				lowest = r
			}
		}
		if lowest == 0 || lowest > reachable {
			return 0, descEssentialUnmet
		}
		need = max(need, lowest)
	}
	// Voluntary values: the first one Gatehouse knows, or as close to it
	// as the offered factors get.
	for _, v := range req.ACRValues {
		if r := ACRRank(v); r > 0 {
			need = max(need, min(r, reachable))
			break
		}
	}
	// A browser that may enroll after a reset was given that right to set
	// the new factor up now.
	granted := in.Session.AwaitingEnrollment && in.Session.EnrollmentGranted
	if in.ClientRequiresMFA || hasOfferedFactor(in) || granted {
		if reachable < ACRRank(ACRMFA) {
			return 0, descNoFactorOffered
		}
		need = max(need, ACRRank(ACRMFA))
	}
	// The organisations' requirement, once its deadline has passed.
	if rank, from := OrgRequirement(in.Orgs); rank > 0 && !from.After(in.Now) {
		if reachable < rank {
			return 0, descNoFactorOffered
		}
		need = max(need, rank)
	}
	return need, ""
}

// reachableRank is the highest acr rank the offered factors reach.
func reachableRank(in Input) int {
	reachable := ACRRank(ACRPassword)
	for _, f := range in.Offered {
		reachable = max(reachable, ACRRank(Level(f)))
	}
	return reachable
}

// grantedACR is the acr a completed sign-in reports: the highest essential
// value the session meets when the claims parameter demanded some, or else
// the highest level it meets.
func grantedACR(in Input) string {
	met := ACRFor(in.Session.AMR)
	if len(in.Request.EssentialACR) == 0 {
		return met
	}
	best := ""
	for _, v := range in.Request.EssentialACR {
		if r := ACRRank(v); r > 0 && r <= ACRRank(met) && r > ACRRank(best) {
			best = v
		}
	}
	return best
}

// offered returns the offered factor of this kind.
func offered(in Input, kind FactorKind) (Factor, bool) {
	for _, f := range in.Offered {
		if f.Kind() == kind {
			return f, true
		}
	}
	return nil, false
}

func hasOfferedFactor(in Input) bool {
	return slices.ContainsFunc(in.Session.Factors, func(kind FactorKind) bool { _, ok := offered(in, kind); return ok })
}

// usableFactors are the user's offered factors that reach the rank need.
func usableFactors(in Input, need int) []FactorKind {
	var out []FactorKind
	for _, kind := range in.Session.Factors {
		if f, ok := offered(in, kind); ok && ACRRank(Level(f)) >= need && !slices.Contains(out, kind) {
			out = append(out, kind)
		}
	}
	return out
}

// enrollableFactors are the offered factors that reach the rank need.
func enrollableFactors(in Input, need int) []FactorKind {
	var out []FactorKind
	for _, f := range in.Offered {
		if ACRRank(Level(f)) >= need {
			out = append(out, f.Kind())
		}
	}
	return out
}
