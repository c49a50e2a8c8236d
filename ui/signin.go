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

// errClientGone reports an auth request whose client was deleted.
var errClientGone = errors.New("the request's client no longer exists")

// signin is what the sign-in steps know about a request in progress.
type signin struct {
	client  *storage.Client
	session *browserSession // nil: no live session
	// factors are the session user's confirmed second factors, read by the
	// pages that prove one (loadFactors); the policy needs only their
	// kinds, read with the session.
	factors []storage.Factor
	input   mfa.Input
}

// loadSignin gathers the policy's inputs for request a and the browser
// session bs (nil for none): the client (from its cache) and what was read
// with the session (the user, their organisations and their factors'
// kinds). A deleted client is errClientGone.
func (u *UI) loadSignin(ctx context.Context, a *storage.AuthRequest, bs *browserSession) (*signin, error) {
	c, err := u.cfg.Clients.Get(ctx, a.ClientID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, errClientGone
	}
	if err != nil {
		return nil, err
	}
	s := &signin{client: c, session: bs}
	var kinds []mfa.FactorKind
	var memberships []storage.Membership
	if bs != nil && !bs.user.Disabled {
		kinds, memberships = bs.factorKinds, bs.memberships
	}
	s.input = u.policyInput(policyRequest(a), bs, kinds, memberships, c.RequireMFA)
	s.input.Now = u.cfg.Now()
	if s.input.Session.AwaitingEnrollment {
		if s.input.Session.EnrollmentGranted, err = u.dir.EnrollmentGranted(ctx, bs.user.ID, bs.grant); err != nil {
			return nil, err
		}
	}
	if s.input.Request.ConsentNeeded, err = u.consentNeeded(ctx, a, c, bs); err != nil {
		return nil, err
	}
	return s, nil
}

// loadFactors reads the session user's confirmed factors into s, for a
// page that proves one.
func (u *UI) loadFactors(ctx context.Context, s *signin) (err error) {
	if s.session == nil || s.session.user.Disabled {
		return nil
	}
	s.factors, err = u.store.Factors().Confirmed(ctx, s.session.user.ID)
	return err
}

// policyInput is the one place the policy's inputs are put together: what
// the request asked, the browser session and the kinds of its user's
// factors and their organisations, and whether the client requires a
// second factor. The user's default factor is the strongest kind they
// have: a security key before the authenticator app.
func (u *UI) policyInput(req mfa.Request, bs *browserSession, kinds []mfa.FactorKind, memberships []storage.Membership, clientRequiresMFA bool) mfa.Input {
	in := mfa.Input{
		Request:           req,
		Session:           policySession(bs),
		ClientRequiresMFA: clientRequiresMFA,
		Orgs:              storage.MFAPolicies(memberships),
		Offered:           u.offered,
		Now:               time.Now(),
	}
	for _, kind := range []mfa.FactorKind{mfa.FactorWebAuthn, mfa.FactorTOTP} {
		if slices.Contains(kinds, kind) {
			in.Session.Factors = append(in.Session.Factors, kind)
		}
	}
	return in
}

// kindsOf lists the kinds of fs.
func kindsOf(fs []storage.Factor) []mfa.FactorKind {
	kinds := make([]mfa.FactorKind, 0, len(fs))
	for _, f := range fs {
		kinds = append(kinds, f.Kind)
	}
	return kinds
}

// decide asks the policy what the sign-in needs next.
func (s *signin) decide() mfa.Decision { return mfa.Decide(s.input) }

// factor returns the user's confirmed factor of this kind.
func (s *signin) factor(kind mfa.FactorKind) (*storage.Factor, bool) {
	return factorOf(s.factors, kind)
}

// factorOf returns the factor of this kind among fs.
func factorOf(fs []storage.Factor, kind mfa.FactorKind) (*storage.Factor, bool) {
	for i := range fs {
		if fs[i].Kind == kind {
			return &fs[i], true
		}
	}
	return nil, false
}

// policyRequest is what the policy needs from the stored request.
func policyRequest(a *storage.AuthRequest) mfa.Request {
	req := mfa.Request{
		Prompt:             a.Prompt,
		HintSubject:        a.HintSubject,
		LoginHint:          a.LoginHint,
		AccountChosen:      a.AccountChosen,
		EnrollmentDeferred: a.EnrollmentDeferred,
		ACRValues:          a.ACRValues,
		EssentialACR:       mfa.EssentialACR(a.Claims),
		CreatedAt:          a.CreatedAt,
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
		Present:            true,
		UserID:             bs.user.ID,
		Email:              bs.user.Email,
		Disabled:           bs.user.Disabled,
		AuthTime:           bs.session.AuthTime,
		AMR:                bs.session.AMR,
		AwaitingEnrollment: bs.user.ReenrollSince != nil,
	}
}

// consentNeeded: prompt=consent asks the user on every sign-in; a client
// created with --require-consent asks once per user and set of scopes,
// remembered. Either way, once per request.
func (u *UI) consentNeeded(ctx context.Context, a *storage.AuthRequest, c *storage.Client, bs *browserSession) (bool, error) {
	switch {
	case a.ConsentGiven:
		return false, nil
	case slices.Contains(a.Prompt, mfa.PromptConsent):
		return true, nil
	case !c.RequireConsent || bs == nil:
		return false, nil
	}
	got, err := u.store.Consents().Get(ctx, bs.user.ID, c.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	for _, scope := range a.Scopes {
		if !slices.Contains(got.Scopes, scope) {
			return true, nil
		}
	}
	return false, nil
}
