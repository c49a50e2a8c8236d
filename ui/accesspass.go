package ui

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/mfa/recovery"
	"github.com/gatehouse-id/gatehouse/storage"
)

// methodAccessPass names temporary access passes in the lockout's events.
const methodAccessPass mfa.FactorKind = "access_pass"

func accessPassURL(id string) string { return "/login/pass?id=" + url.QueryEscape(id) }

const (
	msgAccessPassForm  = "A temporary access pass has 12 letters and digits, like abcd-efgh-jkmn, as your administrator gave it."
	msgWrongAccessPass = "That is not a temporary access pass for your account, or it has expired. Check it with your administrator."
)

// accessPassPage is the form for a pass.
type accessPassPage struct {
	layout
	ID               string
	Error, CodeError string
}

func (u *UI) renderAccessPass(w http.ResponseWriter, r *http.Request, status int, p accessPassPage) {
	p.layout = u.layout(r)
	u.render(w, r, status, accessPassTemplate, p)
}

// accessPassStep loads the sign-in id when a pass can stand in for a
// factor: the policy asks for a second factor or an enrollment, and the
// password was entered in this very sign-in (a pass replaces the factors).
func (u *UI) accessPassStep(w http.ResponseWriter, r *http.Request, id string) (*storage.AuthRequest, *signin) {
	a := u.openAuthRequest(w, r, id)
	if a == nil {
		return nil, nil
	}
	s := u.signinFor(w, r, a)
	if s == nil {
		return nil, nil
	}
	switch s.decide().Next {
	case mfa.NeedSecondFactor, mfa.NeedEnrollment, mfa.NeedEnrollmentGrant:
	default:
		http.Redirect(w, r, dispatcherURL(a.ID), http.StatusSeeOther)
		return nil, nil
	}
	if !s.session.session.AuthTime.After(a.CreatedAt) {
		http.Redirect(w, r, passwordURL(a.ID), http.StatusSeeOther)
		return nil, nil
	}
	return a, s
}

// showAccessPass is GET /login/pass?id=ID.
func (u *UI) showAccessPass(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	if a, _ := u.accessPassStep(w, r, id); a != nil {
		u.renderAccessPass(w, r, http.StatusOK, accessPassPage{ID: id})
	}
}

// submitAccessPass is POST /login/pass: the pass, checked under the
// account's lockout like any factor. A right one is used up and replaces
// the user's factors: their other sessions and refresh tokens end, and
// this browser moves to a new session that must set up a new factor
// before the sign-in goes on.
func (u *UI) submitAccessPass(w http.ResponseWriter, r *http.Request) {
	if !u.parseForm(w, r) {
		return
	}
	id := r.PostForm.Get("id")
	a, s := u.accessPassStep(w, r, id)
	if a == nil {
		return
	}
	p := accessPassPage{ID: id}
	code, err := recovery.Normalize(r.PostForm.Get("pass"))
	if err != nil {
		p.CodeError = msgAccessPassForm
		u.renderAccessPass(w, r, http.StatusBadRequest, p)
		return
	}
	if len(u.cfg.AccessPassKey) != 32 {
		u.serverError(w, r, "the access pass key is not configured", errors.New("ui: Config.AccessPassKey must be 32 bytes"))
		return
	}
	ctx := r.Context()
	user := s.session.user
	cookie, digest := storage.NewSecret()
	now := time.Now()
	keep := *s.session.session
	keep.IDHash, keep.AuthTime, keep.AMR, keep.MFATime = digest, now, storage.StringList{string(mfa.AMRPassword)}, nil
	var grant string
	res, err := u.guardSecondFactor(ctx, r, mfaAttempt{UserID: user.ID, ClientID: a.ClientID, Method: methodAccessPass},
		func(tx *storage.Store) (string, error) {
			var err error
			grant, err = u.dir.In(tx).UseAccessPass(ctx, actor(r, user.ID, a.ClientID), user, recovery.Hash(u.cfg.AccessPassKey, code), &keep)
			if errors.Is(err, directory.ErrWrongAccessPass) {
				return "wrong_code", nil
			}
			return "", err
		})
	switch {
	case err != nil:
		u.serverError(w, r, "checking a temporary access pass failed", err)
	case res.Accepted():
		u.setSessionCookie(w, cookie)
		u.setGrantCookie(w, grant)
		http.Redirect(w, r, dispatcherURL(a.ID), http.StatusSeeOther)
	case res.Lock.Locked():
		res.Lock.answer(w, time.Now())
		p.Error = res.Lock.Message()
		u.renderAccessPass(w, r, http.StatusTooManyRequests, p)
	default:
		p.CodeError = msgWrongAccessPass
		u.renderAccessPass(w, r, http.StatusUnauthorized, p)
	}
}
