package mfa

import (
	"context"
	"reflect"
	"testing"
	"time"
)

// stubFactor stands in for a factor: the policy reads only its kind and
// the level it reaches, never how it checks an answer.
type stubFactor struct {
	kind FactorKind
	amr  AMR
}

func (f stubFactor) Kind() FactorKind                                { return f.kind }
func (f stubFactor) AMR() AMR                                        { return f.amr }
func (stubFactor) Begin(context.Context, Subject) (Challenge, error) { return Challenge{}, nil }
func (stubFactor) Finish(context.Context, Answer) (Proof, error)     { return Proof{}, nil }

var (
	totpFactor  = stubFactor{FactorTOTP, AMROTP}
	securityKey = stubFactor{FactorWebAuthn, AMRHardwareKey}
)

func TestDecide(t *testing.T) {
	now := time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC)
	created := now.Add(-2 * time.Minute) // when the request arrived
	earlier := now.Add(-time.Hour)       // a sign-in before the request
	during := now.Add(-time.Minute)      // a sign-in while the request was open
	dur := func(d time.Duration) *time.Duration { return &d }

	pwd := []string{"pwd"}
	pwdOTP := []string{"pwd", "otp", "mfa"}
	pwdKey := []string{"pwd", "hwk", "mfa"}
	session := func(at time.Time, amr []string, factors ...FactorKind) Session {
		return Session{Present: true, UserID: "u1", AuthTime: at, AMR: amr, Factors: factors}
	}
	signedIn := func(at time.Time) Session { return session(at, pwd) }
	complete := func(at time.Time, amr []string, acr string) Decision {
		return Decision{Next: Complete, AMR: amr, ACR: acr, AuthTime: at}
	}
	completePwd := func(at time.Time) Decision { return complete(at, pwd, ACRPassword) }
	failWith := func(code, why string) Decision { return Decision{Next: Fail, Error: code, ErrorDescription: why} }
	loginRequired := func(why string) Decision { return failWith(LoginRequired, why) }
	needPassword := Decision{Next: NeedPassword}
	needCode := Decision{Next: NeedSecondFactor, Factors: []FactorKind{FactorTOTP}}
	needEnrollment := Decision{Next: NeedEnrollment, Factors: []FactorKind{FactorTOTP}}
	needGrant := Decision{Next: NeedEnrollmentGrant, Factors: []FactorKind{FactorTOTP}}
	skippable := func(until time.Time) Decision {
		return Decision{Next: NeedEnrollment, Factors: []FactorKind{FactorTOTP}, SkipUntil: until}
	}
	atOnce := OrgPolicy{Org: "Acme", RequireMFA: true, Since: now.AddDate(0, -1, 0)}
	graceFromPolicy := OrgPolicy{Org: "Acme", RequireMFA: true, Grace: 72 * time.Hour, Since: now.Add(-24 * time.Hour), JoinedAt: now.AddDate(-1, 0, 0)}
	graceFromJoin := OrgPolicy{Org: "Acme", RequireMFA: true, Grace: 72 * time.Hour, Since: now.AddDate(0, -1, 0), JoinedAt: now.Add(-time.Hour)}
	gracePassed := OrgPolicy{Org: "Acme", RequireMFA: true, Grace: 72 * time.Hour, Since: now.AddDate(0, -1, 0), JoinedAt: now.AddDate(-1, 0, 0)}
	dateAhead := OrgPolicy{Org: "Beta", RequireMFA: true, RequiredFrom: now.AddDate(0, 0, 10), Since: earlier}
	datePassed := OrgPolicy{Org: "Beta", RequireMFA: true, RequiredFrom: now.Add(-time.Minute), Since: earlier}
	awaiting := func(at time.Time, granted bool) Session {
		s := session(at, pwd)
		s.AwaitingEnrollment, s.EnrollmentGranted = true, granted
		return s
	}
	notSignedIn := "The user is not signed in."
	none := []string{"none"}
	essential := func(values ...string) Request { return Request{EssentialACR: values} }

	type policy struct {
		client, org bool
		orgs        []OrgPolicy // with org: one more that requires 2FA at once
		offered     []Factor    // nil: TOTP only
	}
	withKeys := policy{offered: []Factor{totpFactor, securityKey}}
	noFactors := policy{offered: []Factor{}}

	tests := []struct {
		name    string
		request Request
		session Session
		policy  policy
		want    Decision
	}{
		// The password step and its prompts.
		{name: "no session", session: Session{}, want: needPassword},
		{name: "no session, prompt=none", request: Request{Prompt: none}, want: loginRequired(notSignedIn)},
		{name: "live session", session: signedIn(earlier), want: completePwd(earlier)},
		{name: "disabled user", session: Session{Present: true, UserID: "u1", Disabled: true, AuthTime: earlier, AMR: pwd}, want: needPassword},
		{name: "disabled user, prompt=none", request: Request{Prompt: none},
			session: Session{Present: true, UserID: "u1", Disabled: true, AuthTime: earlier, AMR: pwd}, want: loginRequired(notSignedIn)},
		{name: "session that proved no factor", session: session(earlier, nil), want: needPassword},
		{name: "session with only an unknown method", session: session(earlier, []string{"sms"}), want: needPassword},
		{name: "session with a second factor but no password", session: session(earlier, []string{"otp"}, FactorTOTP), want: needPassword},
		{name: "id_token_hint names the signed-in user", request: Request{HintSubject: "u1"}, session: signedIn(earlier), want: completePwd(earlier)},
		{name: "id_token_hint names another user", request: Request{HintSubject: "u2"}, session: signedIn(earlier), want: needPassword},
		{name: "id_token_hint names another user, prompt=none", request: Request{HintSubject: "u2", Prompt: none}, session: signedIn(earlier),
			want: loginRequired("The signed-in user is not the user named by id_token_hint.")},
		{name: "login_hint names the signed-in user", request: Request{LoginHint: "ADA@example.com"},
			session: Session{Present: true, UserID: "u1", Email: "ada@example.com", AuthTime: earlier, AMR: pwd}, want: completePwd(earlier)},
		{name: "login_hint names another user", request: Request{LoginHint: "bob@example.com"},
			session: Session{Present: true, UserID: "u1", Email: "ada@example.com", AuthTime: earlier, AMR: pwd}, want: needPassword},
		{name: "login_hint names another user, prompt=none", request: Request{LoginHint: "bob@example.com", Prompt: none},
			session: Session{Present: true, UserID: "u1", Email: "ada@example.com", AuthTime: earlier, AMR: pwd},
			want:    loginRequired("The signed-in user is not the user named by login_hint.")},
		{name: "login_hint names another user, who signed in during the request instead", request: Request{LoginHint: "bob@example.com"},
			session: Session{Present: true, UserID: "u1", Email: "ada@example.com", AuthTime: during, AMR: pwd}, want: completePwd(during)},
		{name: "consent needed, signed in", request: Request{ConsentNeeded: true}, session: signedIn(earlier), want: Decision{Next: NeedConsent}},
		{name: "consent needed, prompt=none", request: Request{ConsentNeeded: true, Prompt: none}, session: signedIn(earlier),
			want: failWith(ConsentRequired, descNeedConsent)},
		{name: "consent needed, the password first", request: Request{ConsentNeeded: true}, want: needPassword},
		{name: "consent needed, the second factor first", request: Request{ConsentNeeded: true}, session: session(earlier, pwd, FactorTOTP),
			want: needCode},
		{name: "prompt=select_account with a session", request: Request{Prompt: []string{"select_account"}}, session: signedIn(earlier),
			want: Decision{Next: NeedAccountChoice}},
		{name: "prompt=select_account, the signed-in account chosen", request: Request{Prompt: []string{"select_account"}, AccountChosen: true},
			session: signedIn(earlier), want: completePwd(earlier)},
		{name: "prompt=select_account, another account signed in during the request", request: Request{Prompt: []string{"select_account"}},
			session: signedIn(during), want: completePwd(during)},
		{name: "prompt=select_account without a session", request: Request{Prompt: []string{"select_account"}}, want: needPassword},
		{name: "prompt=login, signed in before the request", request: Request{Prompt: []string{"login"}}, session: signedIn(earlier), want: needPassword},
		{name: "prompt=login, signed in during the request", request: Request{Prompt: []string{"login"}}, session: signedIn(during), want: completePwd(during)},
		{name: "prompt=login and consent, signed in before", request: Request{Prompt: []string{"login", "consent"}}, session: signedIn(earlier), want: needPassword},
		{name: "max_age met", request: Request{MaxAge: dur(2 * time.Hour)}, session: signedIn(earlier), want: completePwd(earlier)},
		{name: "max_age met exactly", request: Request{MaxAge: dur(time.Hour)}, session: signedIn(earlier), want: completePwd(earlier)},
		{name: "max_age exceeded", request: Request{MaxAge: dur(30 * time.Minute)}, session: signedIn(earlier), want: needPassword},
		{name: "max_age exceeded, prompt=none", request: Request{MaxAge: dur(30 * time.Minute), Prompt: none}, session: signedIn(earlier),
			want: loginRequired("The user's last sign-in is older than max_age.")},
		{name: "max_age exceeded, signed in during the request", request: Request{MaxAge: dur(30 * time.Second)}, session: signedIn(during), want: completePwd(during)},
		{name: "max_age=0, signed in before the request", request: Request{MaxAge: dur(0)}, session: signedIn(earlier), want: needPassword},
		{name: "max_age=0, signed in during the request", request: Request{MaxAge: dur(0)}, session: signedIn(during), want: completePwd(during)},

		// Both factors again: a second factor proved before the request does
		// not answer prompt=login or an exceeded max_age.
		{name: "prompt=login, both factors proved before the request", request: Request{Prompt: []string{"login"}},
			session: session(earlier, pwdOTP, FactorTOTP), want: needPassword},
		{name: "max_age exceeded, both factors proved before", request: Request{MaxAge: dur(time.Minute)},
			session: session(earlier, pwdOTP, FactorTOTP), want: needPassword},
		{name: "prompt=login, password entered again during the request", request: Request{Prompt: []string{"login"}},
			session: session(during, pwd, FactorTOTP), want: needCode},

		// No acr asked: the policy only (user, organisations, client).
		{name: "no acr / can be met now: acr is the highest level the session meets", session: session(earlier, pwdOTP, FactorTOTP),
			want: complete(earlier, pwdOTP, ACRMFA)},
		{name: "no acr / can be met now: a user without a factor signs in with the password", session: signedIn(earlier),
			want: completePwd(earlier)},
		{name: "no acr / the user's own factor is asked for", session: session(earlier, pwd, FactorTOTP), want: needCode},
		{name: "no acr / the client requires a second factor the user has", session: session(earlier, pwd, FactorTOTP),
			policy: policy{client: true}, want: needCode},
		{name: "no acr / the client requires a second factor: needs enrollment first", session: signedIn(earlier),
			policy: policy{client: true}, want: needEnrollment},
		{name: "no acr / an organisation requires a second factor: needs enrollment first", session: signedIn(earlier),
			policy: policy{org: true}, want: needEnrollment},
		{name: "no acr / an organisation requires a second factor the session proved", session: session(earlier, pwdOTP, FactorTOTP),
			policy: policy{org: true}, want: complete(earlier, pwdOTP, ACRMFA)},
		{name: "no acr / required but no second factor is offered → access_denied", session: signedIn(earlier),
			policy: policy{client: true, offered: []Factor{}}, want: failWith(AccessDenied, descNoFactorOffered)},
		{name: "no acr / a factor the server does not offer is not asked for", session: session(earlier, pwd, FactorWebAuthn),
			want: completePwd(earlier)},

		// Voluntary acr_values: raised to the first listed level Gatehouse supports.
		{name: "acr_values voluntary / can be met now", request: Request{ACRValues: []string{ACRPassword}}, session: signedIn(earlier),
			want: completePwd(earlier)},
		{name: "acr_values voluntary / can be met now: acr is the highest level met", request: Request{ACRValues: []string{ACRPassword}},
			session: session(earlier, pwdOTP, FactorTOTP), want: complete(earlier, pwdOTP, ACRMFA)},
		{name: "acr_values voluntary / asked for the missing factor", request: Request{ACRValues: []string{ACRMFA}},
			session: session(earlier, pwd, FactorTOTP), want: needCode},
		{name: "acr_values voluntary / needs enrollment first", request: Request{ACRValues: []string{ACRMFA}},
			session: signedIn(earlier), want: needEnrollment},
		{name: "acr_values voluntary / the first known level counts", request: Request{ACRValues: []string{"urn:example:loa:3", ACRPassword, ACRMFA}},
			session: signedIn(earlier), want: completePwd(earlier)},
		{name: "acr_values voluntary / only unknown levels leave the policy", request: Request{ACRValues: []string{"urn:example:loa:3"}},
			session: signedIn(earlier), want: completePwd(earlier)},
		{name: "acr_values voluntary / can never be met: ends at the highest level reachable",
			request: Request{ACRValues: []string{ACRPhishingResistant}}, session: session(earlier, pwdOTP, FactorTOTP),
			want: complete(earlier, pwdOTP, ACRMFA)},
		{name: "acr_values voluntary / can never be met: the highest level reachable needs the factor",
			request: Request{ACRValues: []string{ACRPhishingResistant}}, session: session(earlier, pwd, FactorTOTP), want: needCode},
		{name: "acr_values voluntary / can never be met: without any second factor offered, ends at the password",
			request: Request{ACRValues: []string{ACRMFA}}, session: signedIn(earlier), policy: noFactors, want: completePwd(earlier)},

		// An essential acr in the claims parameter (OIDC Core §5.5.1.1): at least the lowest listed level.
		{name: "essential acr / can be met now", request: essential(ACRPassword), session: signedIn(earlier), want: completePwd(earlier)},
		{name: "essential acr / can be met now: acr is the highest requested value met", request: essential(ACRPassword, ACRMFA),
			session: session(earlier, pwdOTP, FactorTOTP), want: complete(earlier, pwdOTP, ACRMFA)},
		{name: "essential acr / can be met now: a lower requested value when the user has no factor", request: essential(ACRMFA, ACRPassword),
			session: signedIn(earlier), want: completePwd(earlier)},
		{name: "essential acr / can be met now: never a value that was not requested", request: essential(ACRMFA),
			session: session(earlier, pwdKey, FactorWebAuthn), policy: withKeys, want: complete(earlier, pwdKey, ACRMFA)},
		{name: "essential acr / asked for the missing factor", request: essential(ACRMFA), session: session(earlier, pwd, FactorTOTP), want: needCode},
		{name: "essential acr / needs enrollment first", request: essential(ACRMFA), session: signedIn(earlier), want: needEnrollment},
		{name: "essential acr / needs enrollment first: only a factor that reaches the level", request: essential(ACRPhishingResistant),
			session: session(earlier, pwdOTP, FactorTOTP), policy: withKeys, want: Decision{Next: NeedEnrollment, Factors: []FactorKind{FactorWebAuthn}}},
		{name: "essential acr / needs enrollment first, but the app the user has first", request: essential(ACRPhishingResistant),
			session: session(earlier, pwd, FactorTOTP), policy: withKeys, want: needCode},
		{name: "essential acr / the lowest listed level counts", request: essential(ACRPhishingResistant, ACRMFA),
			session: session(earlier, pwdOTP, FactorTOTP), want: complete(earlier, pwdOTP, ACRMFA)},
		{name: "essential acr / can never be met → access_denied", request: essential(ACRPhishingResistant), session: session(earlier, pwdOTP, FactorTOTP),
			want: failWith(AccessDenied, descEssentialUnmet)},
		{name: "essential acr / can never be met → access_denied, without asking for the password", request: essential(ACRPhishingResistant),
			want: failWith(AccessDenied, descEssentialUnmet)},
		{name: "essential acr / only unknown levels can never be met → access_denied", request: essential("urn:example:loa:3"),
			session: signedIn(earlier), want: failWith(AccessDenied, descEssentialUnmet)},
		{name: "essential acr / above the voluntary acr_values wins", request: Request{EssentialACR: []string{ACRMFA}, ACRValues: []string{ACRPassword}},
			session: session(earlier, pwd, FactorTOTP), want: needCode},

		// Any of the above with prompt=none (OIDC Core §3.1.2.6).
		{name: "prompt=none / can be met now: answered at once", request: Request{Prompt: none, ACRValues: []string{ACRMFA}},
			session: session(earlier, pwdOTP, FactorTOTP), want: complete(earlier, pwdOTP, ACRMFA)},
		{name: "prompt=none / needs the second factor → interaction_required", request: Request{Prompt: none},
			session: session(earlier, pwd, FactorTOTP), want: failWith(InteractionRequired, descNeedSecondFactor)},
		{name: "prompt=none / acr_values needs the second factor → interaction_required", request: Request{Prompt: none, ACRValues: []string{ACRMFA}},
			session: session(earlier, pwd, FactorTOTP), want: failWith(InteractionRequired, descNeedSecondFactor)},
		{name: "prompt=none / needs enrollment → interaction_required", request: Request{Prompt: none}, session: signedIn(earlier),
			policy: policy{org: true}, want: failWith(InteractionRequired, descNeedEnrollment)},
		{name: "prompt=none / essential acr needs enrollment → interaction_required", request: Request{Prompt: none, EssentialACR: []string{ACRMFA}},
			session: signedIn(earlier), want: failWith(InteractionRequired, descNeedEnrollment)},
		{name: "prompt=none / can never be met → interaction_required", request: Request{Prompt: none, EssentialACR: []string{ACRPhishingResistant}},
			session: session(earlier, pwdOTP, FactorTOTP), want: failWith(InteractionRequired, descEssentialUnmet)},
		{name: "prompt=none / no session at all → login_required", request: Request{Prompt: none, EssentialACR: []string{ACRPhishingResistant}},
			want: loginRequired(notSignedIn)},

		// After a reset (self-serve, operator, admin), re-enrollment is protected: the password alone never adds a factor.
		{name: "after a reset / required by an organisation: a grant is needed", session: awaiting(earlier, false), policy: policy{org: true},
			want: needGrant},
		{name: "after a reset / required by the client: a grant is needed", session: awaiting(earlier, false), policy: policy{client: true},
			want: needGrant},
		{name: "after a reset / asked by acr_values: a grant is needed", request: Request{ACRValues: []string{ACRMFA}},
			session: awaiting(earlier, false), want: needGrant},
		{name: "after a reset / asked by an essential acr: a grant is needed", request: essential(ACRMFA, ACRPassword),
			session: awaiting(earlier, false), want: completePwd(earlier)},
		{name: "after a reset / an essential acr the password cannot meet: a grant is needed", request: essential(ACRMFA),
			session: awaiting(earlier, false), want: needGrant},
		{name: "after a reset / the browser holds a grant: it enrolls", session: awaiting(earlier, true), policy: policy{org: true},
			want: needEnrollment},
		{name: "after a reset / the browser holds a grant: it enrolls before going on, even if nothing requires it",
			session: awaiting(earlier, true), want: needEnrollment},
		{name: "after a reset / a grant with prompt=none → interaction_required", request: Request{Prompt: none},
			session: awaiting(earlier, true), want: failWith(InteractionRequired, descNeedEnrollment)},
		{name: "after a reset / nothing requires a factor: the password signs in, acr says so", session: awaiting(earlier, false),
			want: completePwd(earlier)},
		{name: "after a reset / no session: the password first", session: Session{AwaitingEnrollment: true}, policy: policy{org: true},
			want: needPassword},
		// Organisations: at once, from a date, or after a grace period from the policy or from joining.
		{name: "org / at once, not enrolled: enrollment, no skip", session: signedIn(earlier), policy: policy{orgs: []OrgPolicy{atOnce}},
			want: needEnrollment},
		{name: "org / at once, enrolled: the code", session: session(earlier, pwd, FactorTOTP), policy: policy{orgs: []OrgPolicy{atOnce}},
			want: needCode},
		{name: "org / grace from the policy, before the deadline: enrollment with a skip", session: signedIn(earlier),
			policy: policy{orgs: []OrgPolicy{graceFromPolicy}}, want: skippable(now.Add(48 * time.Hour))},
		{name: "org / grace from joining, later than the policy: the member's own period", session: signedIn(earlier),
			policy: policy{orgs: []OrgPolicy{graceFromJoin}}, want: skippable(now.Add(71 * time.Hour))},
		{name: "org / grace passed: no skip", session: signedIn(earlier), policy: policy{orgs: []OrgPolicy{gracePassed}},
			want: needEnrollment},
		{name: "org / required from a date ahead: a skip until then", session: signedIn(earlier), policy: policy{orgs: []OrgPolicy{dateAhead}},
			want: skippable(now.AddDate(0, 0, 10))},
		{name: "org / required from a date passed: no skip", session: signedIn(earlier), policy: policy{orgs: []OrgPolicy{datePassed}},
			want: needEnrollment},
		{name: "org / \"Remind me later\" chosen: the password signs in, acr says so", request: Request{EnrollmentDeferred: true},
			session: signedIn(earlier), policy: policy{orgs: []OrgPolicy{graceFromPolicy}}, want: completePwd(earlier)},
		{name: "org / \"Remind me later\" does not outlive the deadline", request: Request{EnrollmentDeferred: true},
			session: signedIn(earlier), policy: policy{orgs: []OrgPolicy{gracePassed}}, want: needEnrollment},
		{name: "org / prompt=none during the grace completes with the password", request: Request{Prompt: none},
			session: signedIn(earlier), policy: policy{orgs: []OrgPolicy{graceFromPolicy}}, want: completePwd(earlier)},
		{name: "org / prompt=none after the deadline → interaction_required", request: Request{Prompt: none},
			session: signedIn(earlier), policy: policy{orgs: []OrgPolicy{gracePassed}}, want: failWith(InteractionRequired, descNeedEnrollment)},
		{name: "org / the member's own requirement is in force at once", session: signedIn(earlier),
			policy: policy{orgs: []OrgPolicy{{Org: "Acme", MemberRequireMFA: true, RequireMFA: true, Grace: time.Hour, Since: now}}}, want: needEnrollment},
		{name: "org / with the client's requirement: no skip", session: signedIn(earlier),
			policy: policy{client: true, orgs: []OrgPolicy{graceFromPolicy}}, want: needEnrollment},
		{name: "org / with an acr request: no skip", request: Request{ACRValues: []string{ACRMFA}}, session: signedIn(earlier),
			policy: policy{orgs: []OrgPolicy{graceFromPolicy}}, want: needEnrollment},
		{name: "org / off: nothing required", session: signedIn(earlier),
			policy: policy{orgs: []OrgPolicy{{Org: "Acme", Grace: time.Hour, Since: earlier}}}, want: completePwd(earlier)},
		{name: "orgs / one at once and one with a grace: the earliest deadline wins", session: signedIn(earlier),
			policy: policy{orgs: []OrgPolicy{graceFromPolicy, atOnce}}, want: needEnrollment},
		{name: "orgs / two graces: the earliest deadline", session: signedIn(earlier),
			policy: policy{orgs: []OrgPolicy{dateAhead, graceFromPolicy}}, want: skippable(now.Add(48 * time.Hour))},
		{name: "orgs / a phishing-resistant minimum with only an app on offer can never be met", session: session(earlier, pwdOTP, FactorTOTP),
			policy: policy{orgs: []OrgPolicy{{Org: "Acme", RequireMFA: true, PhishingResistant: true}}}, want: failWith(AccessDenied, descNoFactorOffered)},
		{name: "orgs / a phishing-resistant minimum, the user has only an app: a security key is enrolled",
			session: session(earlier, pwdOTP, FactorTOTP), policy: policy{offered: []Factor{totpFactor, securityKey},
				orgs: []OrgPolicy{{Org: "Acme", RequireMFA: true, PhishingResistant: true}}},
			want: Decision{Next: NeedEnrollment, Factors: []FactorKind{FactorWebAuthn}}},
		{name: "orgs / a phishing-resistant minimum, the user has only an app: the app first, before the key is added",
			session: session(earlier, pwd, FactorTOTP), policy: policy{offered: []Factor{totpFactor, securityKey},
				orgs: []OrgPolicy{{Org: "Acme", RequireMFA: true, PhishingResistant: true}}},
			want: Decision{Next: NeedSecondFactor, Factors: []FactorKind{FactorTOTP}}},
		{name: "orgs / the strictest minimum: an app satisfies one, not the other", session: session(earlier, pwdOTP, FactorTOTP),
			policy: policy{offered: []Factor{totpFactor, securityKey}, orgs: []OrgPolicy{atOnce, {Org: "Beta", RequireMFA: true, PhishingResistant: true}}},
			want:   Decision{Next: NeedEnrollment, Factors: []FactorKind{FactorWebAuthn}}},
		{name: "orgs / a security key satisfies a weaker minimum", session: session(earlier, pwdKey, FactorWebAuthn),
			policy: policy{offered: []Factor{totpFactor, securityKey}, orgs: []OrgPolicy{atOnce}}, want: complete(earlier, pwdKey, ACRPhishingResistant)},
		{name: "org / awaiting re-enrollment during a grace: the ways back, with a skip", session: awaiting(earlier, false),
			policy: policy{orgs: []OrgPolicy{graceFromPolicy}}, want: Decision{Next: NeedEnrollmentGrant, Factors: []FactorKind{FactorTOTP}, SkipUntil: now.Add(48 * time.Hour)}},

		{name: "after a reset / prompt=none → interaction_required", request: Request{Prompt: none}, session: awaiting(earlier, false),
			policy: policy{org: true}, want: failWith(InteractionRequired, descNeedEnrollment)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.request.CreatedAt = created
			offered := tc.policy.offered
			if offered == nil {
				offered = []Factor{totpFactor}
			}
			orgs := tc.policy.orgs
			if tc.policy.org {
				orgs = append(orgs, OrgPolicy{Org: "Acme", RequireMFA: true})
			}
			got := Decide(Input{Request: tc.request, Session: tc.session, ClientRequiresMFA: tc.policy.client,
				Orgs: orgs, Offered: offered, Now: now})
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Decide = %+v\nwant      %+v", got, tc.want)
			}
		})
	}
}

func TestDecideDoesNotShareTheSessionsAMR(t *testing.T) {
	amr := []string{"pwd"}
	d := Decide(Input{Session: Session{Present: true, UserID: "u1", AuthTime: time.Now(), AMR: amr}, Now: time.Now()})
	d.AMR[0] = "changed"
	if amr[0] != "pwd" {
		t.Fatal("changing the decision's AMR changed the session's")
	}
}

func TestGrantRank(t *testing.T) {
	now := time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC)
	mfaRank, phr := ACRRank(ACRMFA), ACRRank(ACRPhishingResistant)
	tests := []struct {
		name   string
		orgs   []OrgPolicy
		client bool
		want   int
	}{
		{name: "no organisation, no client requirement", want: 0},
		{name: "the client requires it", client: true, want: mfaRank},
		{name: "an organisation, at once", orgs: []OrgPolicy{{RequireMFA: true}}, want: mfaRank},
		{name: "an organisation during its grace: password-only grants go on",
			orgs: []OrgPolicy{{RequireMFA: true, Grace: time.Hour, Since: now.Add(-time.Minute)}}, want: 0},
		{name: "an organisation after its grace", orgs: []OrgPolicy{{RequireMFA: true, Grace: time.Hour, Since: now.Add(-2 * time.Hour)}}, want: mfaRank},
		{name: "a member's own requirement", orgs: []OrgPolicy{{MemberRequireMFA: true}}, want: mfaRank},
		{name: "a phishing-resistant minimum", orgs: []OrgPolicy{{RequireMFA: true, PhishingResistant: true}}, client: true, want: phr},
		{name: "an organisation that requires nothing", orgs: []OrgPolicy{{Grace: time.Hour}}, want: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := GrantRank(tc.orgs, tc.client, now); got != tc.want {
				t.Errorf("GrantRank = %d, want %d", got, tc.want)
			}
		})
	}
	if !Satisfies([]string{"pwd", "otp", "mfa"}, mfaRank) || Satisfies([]string{"pwd"}, mfaRank) || !Satisfies([]string{"pwd"}, 0) {
		t.Error("Satisfies disagrees with the acr levels")
	}
}
