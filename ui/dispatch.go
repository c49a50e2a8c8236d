package ui

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/middleware"
	"github.com/gatehouse-id/gatehouse/storage"
)

// dispatch is GET /login?id=ID, where every sign-in step returns. It asks
// mfa.Decide what the request still needs and either sends the browser to
// that step or finishes the request and answers the client through the
// provider. One place decides; the steps only prove.
func (u *UI) dispatch(w http.ResponseWriter, r *http.Request) {
	if a := u.authRequest(w, r, r.URL.Query().Get("id")); a != nil {
		u.decide(w, r, a, nil)
	}
}

// Dispatch is the dispatcher for the provider's /authorize, in the same
// response, given a request of this browser (its flow cookie came with r)
// that is not stored yet. When the sign-in completes at once, FinishSignIn
// stores it completed; any other step first calls store, which stores it
// (giving it its ID) or answers why it could not and returns false.
func (u *UI) Dispatch(w http.ResponseWriter, r *http.Request, a *storage.AuthRequest, store func(http.ResponseWriter) bool) {
	middleware.SecurityHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !u.boundToBrowser(r, a) {
			u.renderError(w, r, errOtherBrowser)
			return
		}
		u.decide(w, r, a, store)
	})).ServeHTTP(w, r)
}

// decide takes the sign-in a (this browser's) to its next step. A request
// not stored yet (no ID) is stored completed by finish, or by store before
// any other step.
func (u *UI) decide(w http.ResponseWriter, r *http.Request, a *storage.AuthRequest, store func(http.ResponseWriter) bool) {
	ctx := r.Context()
	if a.ErrorCode != "" {
		// Already failed: the callback tells the client.
		http.Redirect(w, r, u.cfg.CallbackURL(a.ID), http.StatusSeeOther)
		return
	}
	if a.CodeHash != nil {
		u.renderError(w, r, errFinishedRequest)
		return
	}
	s := u.signinFor(w, r, a)
	if s == nil {
		return
	}

	d := s.decide()
	if d.Next != mfa.Complete && a.ID == "" && !store(w) {
		return
	}
	var err error
	switch d.Next {
	case mfa.Complete:
		err = u.finish(w, r, a, storage.Completion{
			Subject:     s.session.user.ID,
			SessionHash: s.session.hash,
			AuthTime:    d.AuthTime,
			AMR:         d.AMR,
			ACR:         d.ACR,
		}, store)
		if err == nil {
			return
		}
	case mfa.Fail:
		err = u.store.AuthRequests().Fail(ctx, a.ID, d.Error, d.ErrorDescription)
	case mfa.NeedPassword:
		http.Redirect(w, r, passwordURL(a.ID), http.StatusSeeOther)
		return
	case mfa.NeedSecondFactor:
		// The user's default factor first: a key, when they have one.
		if u.keys != nil && slices.Contains(d.Factors, mfa.FactorWebAuthn) {
			http.Redirect(w, r, keyStepURL(a.ID), http.StatusSeeOther)
			return
		}
		if slices.Contains(d.Factors, mfa.FactorTOTP) {
			http.Redirect(w, r, otpStepURL(a.ID), http.StatusSeeOther)
			return
		}
		err = fmt.Errorf("no page for the second factors %q", d.Factors)
	case mfa.NeedEnrollment:
		http.Redirect(w, r, enrollStepURL(a.ID), http.StatusSeeOther)
		return
	case mfa.NeedEnrollmentGrant:
		http.Redirect(w, r, reenrollURL(a.ID), http.StatusSeeOther)
		return
	case mfa.NeedAccountChoice:
		http.Redirect(w, r, selectAccountURL(a.ID), http.StatusSeeOther)
		return
	case mfa.NeedConsent:
		http.Redirect(w, r, consentURL(a.ID), http.StatusSeeOther)
		return
	default:
		err = errors.New("unknown decision kind")
	}
	switch {
	case errors.Is(err, storage.ErrNotFound):
		// It expired or ended while we decided.
		u.renderError(w, r, errFinishedRequest)
	case err != nil:
		u.serverError(w, r, "recording the sign-in decision failed", err)
	default:
		http.Redirect(w, r, u.cfg.CallbackURL(a.ID), http.StatusSeeOther)
	}
}

// finish records the completed sign-in and answers it: through the
// provider in this response when it offers that, else by its callback.
func (u *UI) finish(w http.ResponseWriter, r *http.Request, a *storage.AuthRequest, c storage.Completion, store func(http.ResponseWriter) bool) error {
	if u.cfg.FinishSignIn != nil {
		return u.cfg.FinishSignIn(w, r, a, c)
	}
	if a.ID == "" && !store(w) {
		return nil // answered
	}
	if err := u.store.AuthRequests().Complete(r.Context(), a.ID, c); err != nil {
		return err
	}
	http.Redirect(w, r, u.cfg.CallbackURL(a.ID), http.StatusSeeOther)
	return nil
}

// signinFor loads this browser's session and the policy's inputs for the
// request, or shows the page saying why it cannot and returns nil.
func (u *UI) signinFor(w http.ResponseWriter, r *http.Request, a *storage.AuthRequest) *signin {
	bs, err := u.currentSession(r.Context(), r)
	if err != nil {
		u.serverError(w, r, "loading the browser session failed", err)
		return nil
	}
	return u.signinOrError(w, r, a, bs)
}

// signinOrError loads the policy's inputs, or shows the page saying why it
// cannot and returns nil.
func (u *UI) signinOrError(w http.ResponseWriter, r *http.Request, a *storage.AuthRequest, bs *browserSession) *signin {
	s, err := u.loadSignin(r.Context(), a, bs)
	switch {
	case errors.Is(err, errClientGone):
		u.renderError(w, r, errUnknownClient)
		return nil
	case err != nil:
		u.serverError(w, r, "loading the sign-in policy's inputs failed", err)
		return nil
	}
	return s
}

// enrollStepURL is the forced enrollment during sign-in.
func enrollStepURL(id string) string { return "/login/enroll?id=" + url.QueryEscape(id) }

// stepFor loads the open sign-in id for a step page, if the policy asks
// this browser for that step now (next); otherwise it sends the browser to
// the dispatcher, which knows the step, and returns nil.
func (u *UI) stepFor(w http.ResponseWriter, r *http.Request, id string, next mfa.Next) (*storage.AuthRequest, *signin) {
	a := u.openAuthRequest(w, r, id)
	if a == nil {
		return nil, nil
	}
	s := u.signinFor(w, r, a)
	if s == nil {
		return nil, nil
	}
	if s.decide().Next != next {
		http.Redirect(w, r, dispatcherURL(a.ID), http.StatusSeeOther)
		return nil, nil
	}
	return a, s
}
