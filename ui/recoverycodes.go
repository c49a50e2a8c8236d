package ui

import (
	"errors"
	"net/http"

	"github.com/gatehouse-id/gatehouse/mfa/recovery"
	"github.com/gatehouse-id/gatehouse/storage"
)

// recoveryCodesFile names the downloaded file of recovery codes.
const recoveryCodesFile = "recovery-codes.txt"

// recoveryCodesPage shows new recovery codes, the one time they are ever
// shown: only their HMACs are stored.
type recoveryCodesPage struct {
	layout
	Codes       []string
	Regenerated bool   // new codes replaced the old ones
	InSignIn    bool   // the codes came with an enrollment during a sign-in
	ContinueURL string // where the user goes on
}

func (u *UI) renderRecoveryCodes(w http.ResponseWriter, r *http.Request, p recoveryCodesPage) {
	p.layout = u.layout(r)
	u.render(w, r, http.StatusOK, enrollCodesTemplate, p)
}

// newRecoveryCodes makes a user's set of codes and the HMACs to store.
func (u *UI) newRecoveryCodes() (codes []string, hashes [][]byte, err error) {
	if len(u.cfg.RecoveryKey) != 32 {
		return nil, nil, errors.New("ui: Config.RecoveryKey must be the 32-byte key derived for recovery codes")
	}
	if codes, err = recovery.Generate(recovery.EnrollmentCount); err != nil {
		return nil, nil, err
	}
	hashes = make([][]byte, len(codes))
	for i, c := range codes {
		hashes[i] = recovery.Hash(u.cfg.RecoveryKey, c)
	}
	return codes, hashes, nil
}

// downloadCodes is POST /account/security/codes/download: it returns the
// codes the page holds as a text file, one per line. The server keeps no
// plain code to send, so the page posts back the codes it shows; only
// well-formed codes are accepted, so the answer is never other content.
// Nothing is generated or changed.
func (u *UI) downloadCodes(w http.ResponseWriter, r *http.Request) {
	if !u.parseForm(w, r) {
		return
	}
	posted := r.PostForm["code"]
	if len(posted) == 0 || len(posted) > recovery.EnrollmentCount {
		u.renderError(w, r, errBadForm)
		return
	}
	codes := make([]string, len(posted))
	for i, c := range posted {
		var err error
		if codes[i], err = recovery.Normalize(c); err != nil {
			u.renderError(w, r, errBadForm)
			return
		}
	}
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="`+recoveryCodesFile+`"`)
	w.Write(recovery.File(codes))
}

// regeneratePage asks for a current code before replacing the recovery codes.
type regeneratePage struct {
	layout
	Error string
	// KeysOnly: the user has security keys and no app; the key used in
	// the last ten minutes stands in for a code.
	KeysOnly bool
}

func (u *UI) renderRegenerate(w http.ResponseWriter, r *http.Request, status int, p regeneratePage) {
	p.layout = u.layout(r)
	u.render(w, r, status, accountRegenerateTemplate, p)
}

// showRegenerate is GET /account/security/codes/regenerate.
func (u *UI) showRegenerate(w http.ResponseWriter, r *http.Request) {
	a := u.requireAccount(w, r, r.URL.Path, false)
	switch {
	case a == nil:
	case a.totp() != nil:
		u.renderRegenerate(w, r, http.StatusOK, regeneratePage{})
	case len(keyRows(a.factors)) == 0:
		u.renderError(w, r, errNoTOTP)
	case u.recentFactor(w, r, a, r.URL.Path):
		u.renderRegenerate(w, r, http.StatusOK, regeneratePage{KeysOnly: true})
	}
}

// regenerateCodes is POST /account/security/codes/regenerate: with a
// current code from the app, new recovery codes replace the old ones, which
// stop working at once.
func (u *UI) regenerateCodes(w http.ResponseWriter, r *http.Request) {
	if !u.parseForm(w, r) {
		return
	}
	a := u.requireAccount(w, r, accountHome, true)
	if a == nil {
		return
	}
	f := a.totp()
	keysOnly := f == nil && len(keyRows(a.factors)) > 0
	switch {
	case f == nil && !keysOnly:
		u.renderError(w, r, errNoTOTP)
		return
	case keysOnly && !u.recentFactor(w, r, a, "/account/security/codes/regenerate"):
		return
	}
	codes, hashes, err := u.newRecoveryCodes()
	if err != nil {
		u.serverError(w, r, "making recovery codes failed", err)
		return
	}
	ctx := r.Context()
	if keysOnly {
		if err := u.dir.RegenerateRecoveryCodes(ctx, actor(r, a.user.ID, AccountClientID), a.user, hashes); err != nil {
			u.serverError(w, r, "regenerating recovery codes failed", err)
			return
		}
		u.renderRecoveryCodes(w, r, recoveryCodesPage{Codes: codes, Regenerated: true, ContinueURL: accountHome})
		return
	}
	ok := u.checkActiveCode(w, r, a, f, r.PostForm.Get("code"), func(status int, msg string) {
		u.renderRegenerate(w, r, status, regeneratePage{Error: msg})
	}, func(tx *storage.Store) error {
		return u.dir.In(tx).RegenerateRecoveryCodes(ctx, actor(r, a.user.ID, AccountClientID), a.user, hashes)
	})
	if !ok {
		return
	}
	u.renderRecoveryCodes(w, r, recoveryCodesPage{Codes: codes, Regenerated: true, ContinueURL: accountHome})
}
