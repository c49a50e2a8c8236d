package ui

import (
	"errors"
	"math"
	"net/http"
	"time"

	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/storage"
)

// dispatch is GET /login?id=ID, where every sign-in step returns. It asks
// mfa.Decide what the request still needs and either sends the browser to
// that step or finishes the request and hands it to the provider's
// callback. One place decides; the steps only prove.
func (u *UI) dispatch(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.URL.Query().Get("id")
	a := u.authRequest(w, r, id)
	if a == nil {
		return
	}
	if a.ErrorCode != "" {
		// Already failed: the callback tells the client.
		http.Redirect(w, r, callbackURL(a.ID), http.StatusSeeOther)
		return
	}
	if a.CodeHash != nil {
		u.renderError(w, r, errFinishedRequest)
		return
	}
	bs, err := u.currentSession(ctx, r)
	if err != nil {
		u.serverError(w, r, "loading the browser session failed", err)
		return
	}

	d := mfa.Decide(mfa.Input{Request: policyRequest(a), Session: policySession(bs), Now: time.Now()})
	switch d.Kind {
	case mfa.Complete:
		err = u.store.AuthRequests().Complete(ctx, a.ID, storage.Completion{
			Subject:     bs.user.ID,
			SessionHash: bs.hash,
			AuthTime:    d.AuthTime,
			AMR:         d.AMR,
			ACR:         d.ACR,
		})
	case mfa.Fail:
		err = u.store.AuthRequests().Fail(ctx, a.ID, d.Error, d.ErrorDescription)
	case mfa.NeedPassword:
		http.Redirect(w, r, passwordURL(a.ID), http.StatusSeeOther)
		return
	default:
		u.serverError(w, r, "the sign-in policy gave an unknown decision", errors.New("unknown decision kind"))
		return
	}
	switch {
	case errors.Is(err, storage.ErrNotFound):
		// It expired or ended while we decided.
		u.renderError(w, r, errFinishedRequest)
	case err != nil:
		u.serverError(w, r, "recording the sign-in decision failed", err)
	default:
		http.Redirect(w, r, callbackURL(a.ID), http.StatusSeeOther)
	}
}

// policyRequest is what the policy needs from the stored request.
func policyRequest(a *storage.AuthRequest) mfa.Request {
	req := mfa.Request{
		Prompt:      a.Prompt,
		HintSubject: a.HintSubject,
		ACRValues:   a.ACRValues,
		CreatedAt:   a.CreatedAt,
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
