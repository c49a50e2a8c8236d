package mfa

import (
	"slices"
	"time"
)

// Prompt values of the authorization request that the policy reads.
const (
	PromptNone  = "none"
	PromptLogin = "login"
)

// OAuth error codes a sign-in can end with (OpenID Connect Core §3.1.2.6).
const (
	// LoginRequired: prompt=none and the user must sign in.
	LoginRequired = "login_required"
	// InteractionRequired: prompt=none and a signed-in user must do
	// something on a page, such as enter a second factor or enroll one.
	InteractionRequired = "interaction_required"
	// AccessDenied: the request demands a level the user can never reach
	// (an essential acr whose factor is not offered).
	AccessDenied = "access_denied"
)

// Input is everything the policy looks at, as plain values.
//
// The second factor adds here the user's enrolled factors, their
// organisations' requirements, the client's requirement and an essential acr
// from the request's claims parameter.
type Input struct {
	Request Request
	Session Session
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
	// ACRValues are the voluntary levels asked for (acr_values). No factor
	// beyond the password exists yet, so a higher level cannot be reached
	// and the sign-in ends at the highest level met (SPEC §4).
	ACRValues []string
	CreatedAt time.Time
}

// Session is the browser's live session, if any, and its user's state.
// The zero value is "no session".
type Session struct {
	Present  bool
	UserID   string
	Disabled bool // the session's user may no longer sign in
	// AuthTime is when the user last actively signed in.
	AuthTime time.Time
	AMR      []string
}

// Kind is what a sign-in needs next.
type Kind int

// The decisions. NeedSecondFactor (the user must prove a second factor) and
// NeedEnrollment (policy requires a factor the user has not enrolled) come
// with the TOTP factor.
const (
	// Complete: the session satisfies the request; finish it with the
	// Decision's AMR, ACR and AuthTime.
	Complete Kind = iota + 1
	// NeedPassword: the user must enter their password (again).
	NeedPassword
	// Fail: the request ends with the Decision's Error for the client.
	Fail
)

// Decision is the policy's answer. Only the fields of its Kind are set.
type Decision struct {
	Kind Kind

	// For Complete.
	AMR      []string
	ACR      string
	AuthTime time.Time

	// For Fail.
	Error            string
	ErrorDescription string
}

// Decide says what the sign-in for in.Request still needs, given what the
// browser session has proved by in.Now. prompt=none never gets a page:
// where one would be needed, the request fails instead.
func Decide(in Input) Decision {
	if reason := passwordNeeded(in); reason != "" {
		if slices.Contains(in.Request.Prompt, PromptNone) {
			return Decision{Kind: Fail, Error: LoginRequired, ErrorDescription: reason}
		}
		return Decision{Kind: NeedPassword}
	}
	s := in.Session
	return Decision{
		Kind:     Complete,
		AMR:      slices.Clone(s.AMR),
		ACR:      ACRFor(s.AMR),
		AuthTime: s.AuthTime,
	}
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
	case slices.Contains(req.Prompt, PromptLogin) && !signedInForThisRequest:
		return "The request asks the user to sign in again."
	case req.MaxAge != nil && !signedInForThisRequest && in.Now.Sub(s.AuthTime) > *req.MaxAge:
		return "The user's last sign-in is older than max_age."
	}
	return ""
}
