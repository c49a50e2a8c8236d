package ui

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/storage"
)

// remindLater is the "Remind me later" offer of a sign-in's enrollment:
// only organisations ask for the factor, and their deadline is ahead.
type remindLater struct {
	RequestID string
	Text      string // from when the factor is required
}

// laterFor is the offer for sign-in id when the decision d allows one.
func laterFor(id string, s *signin, d mfa.Decision, now time.Time) *remindLater {
	if d.SkipUntil.IsZero() {
		return nil
	}
	org := "Your organisation"
	for _, p := range s.input.Orgs {
		if deadline, ok := p.Deadline(); ok && deadline.Equal(d.SkipUntil) && p.Org != "" {
			org = p.Org
			break
		}
	}
	days := int(math.Ceil(d.SkipUntil.Sub(now).Hours() / 24))
	in := fmt.Sprintf("in %d days", days)
	if days <= 1 {
		in = "within a day"
	}
	return &remindLater{RequestID: id, Text: fmt.Sprintf("%s requires two-step verification from %s UTC (%s). Until then you can set it up later.",
		org, d.SkipUntil.UTC().Format("2 January 2006, 15:04"), in)}
}

// remindLater is POST /login/enroll/later: the member puts enrollment off
// for this sign-in, which goes on with the password alone (acr says so).
// Refused (back to the dispatcher) once the deadline has passed or when
// anything but an organisation's pending requirement asks for the factor.
func (u *UI) remindLater(w http.ResponseWriter, r *http.Request) {
	if !u.parseForm(w, r) {
		return
	}
	id := r.PostForm.Get("id")
	a := u.openAuthRequest(w, r, id)
	if a == nil {
		return
	}
	s := u.signinFor(w, r, a)
	if s == nil {
		return
	}
	d := s.decide()
	if (d.Next != mfa.NeedEnrollment && d.Next != mfa.NeedEnrollmentGrant) || d.SkipUntil.IsZero() {
		http.Redirect(w, r, dispatcherURL(a.ID), http.StatusSeeOther)
		return
	}
	ctx := r.Context()
	user := s.session.user
	err := u.store.InTx(ctx, func(tx *storage.Store) error {
		if err := tx.AuthRequests().DeferEnrollment(ctx, a.ID); err != nil {
			return err
		}
		return directory.Record(ctx, tx, actor(r, user.ID, a.ClientID), directory.Event{Type: directory.EventEnrollmentDeferred,
			SubjectID: user.ID, Details: map[string]any{"until": d.SkipUntil.UTC()}})
	})
	switch {
	case errors.Is(err, storage.ErrNotFound):
		u.renderError(w, r, errFinishedRequest)
	case err != nil:
		u.serverError(w, r, "putting enrollment off failed", err)
	default:
		http.Redirect(w, r, dispatcherURL(a.ID), http.StatusSeeOther)
	}
}
