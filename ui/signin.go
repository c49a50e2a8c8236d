package ui

import (
	"context"
	"errors"
	"math"
	"slices"
	"time"

	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/storage"
)

// offeredFactors are the second factors the sign-in can ask for, the
// preferred first. Each has its page: see secondFactorURL.
var offeredFactors = []mfa.Factor{mfa.TOTP{}}

// errClientGone reports an auth request whose client was deleted.
var errClientGone = errors.New("the request's client no longer exists")

// signin is what the sign-in steps know about a request in progress.
type signin struct {
	client  *storage.Client
	session *browserSession  // nil: no live session
	factors []storage.Factor // the session user's confirmed second factors
	input   mfa.Input
}

// loadSignin gathers the policy's inputs for request a and the browser
// session bs (nil for none) with one query each: the client, and — for a
// session whose user may sign in — the user's confirmed factors and their
// organisations. A deleted client is errClientGone.
func (u *UI) loadSignin(ctx context.Context, a *storage.AuthRequest, bs *browserSession) (*signin, error) {
	c, err := u.store.Clients().Get(ctx, a.ClientID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, errClientGone
	}
	if err != nil {
		return nil, err
	}
	s := &signin{client: c, session: bs}
	s.input = mfa.Input{
		Request:           policyRequest(a),
		Session:           policySession(bs),
		ClientRequiresMFA: c.RequireMFA,
		Offered:           offeredFactors,
		Now:               time.Now(),
	}
	if bs == nil || bs.user.Disabled {
		return s, nil
	}
	if s.factors, err = u.store.Factors().Confirmed(ctx, bs.user.ID); err != nil {
		return nil, err
	}
	memberships, err := u.store.Orgs().MembershipsOf(ctx, bs.user.ID)
	if err != nil {
		return nil, err
	}
	s.input.OrgRequiresMFA = orgsRequireMFA(memberships)
	for _, f := range s.factors {
		if !slices.Contains(s.input.Session.Factors, f.Kind) {
			s.input.Session.Factors = append(s.input.Session.Factors, f.Kind)
		}
	}
	return s, nil
}

// decide asks the policy what the sign-in needs next.
func (s *signin) decide() mfa.Decision { return mfa.Decide(s.input) }

// factor returns the user's confirmed factor of this kind.
func (s *signin) factor(kind string) (*storage.Factor, bool) {
	for i := range s.factors {
		if s.factors[i].Kind == kind {
			return &s.factors[i], true
		}
	}
	return nil, false
}

// orgsRequireMFA reports whether an organisation requires a second factor
// of its member: of every member, or of this one. A grace period does not
// postpone the requirement (yet).
func orgsRequireMFA(ms []storage.Membership) bool {
	return slices.ContainsFunc(ms, func(m storage.Membership) bool { return m.RequireMFA || m.MemberRequireMFA })
}

// policyRequest is what the policy needs from the stored request.
func policyRequest(a *storage.AuthRequest) mfa.Request {
	req := mfa.Request{
		Prompt:       a.Prompt,
		HintSubject:  a.HintSubject,
		ACRValues:    a.ACRValues,
		EssentialACR: mfa.EssentialACR(a.Claims),
		CreatedAt:    a.CreatedAt,
	}
	// A max_age beyond what a Duration holds (292 years) limits nothing.
	if a.MaxAge != nil && *a.MaxAge <= int64(math.MaxInt64/time.Second) {
		maxAge := time.Duration(max(*a.MaxAge, 0)) * time.Second
		req.MaxAge = &maxAge
	}
	return req
}

// policySession is what the policy needs from the browser session.
func policySession(bs *browserSession) mfa.Session {
	if bs == nil {
		return mfa.Session{}
	}
	return mfa.Session{
		Present:  true,
		UserID:   bs.user.ID,
		Disabled: bs.user.Disabled,
		AuthTime: bs.session.AuthTime,
		AMR:      bs.session.AMR,
	}
}
