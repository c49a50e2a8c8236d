package op

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"time"

	"github.com/gatehouse-id/gatehouse/storage"
)

// codeTTL is the lifetime of an authorization code.
const codeTTL = 60 * time.Second

// callback is where the sign-in steps send the browser when the request is
// decided (/authorize/callback?id=ID). A completed request gets a code, but
// only in the browser whose session completed it; a failed one sends its
// error to the client. Both carry state and iss. The code is issued in one
// statement; only when that finds nothing is the request read to say why.
func (p *Provider) callback(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		p.errorPage(w, r, http.StatusMethodNotAllowed, "This address only continues a sign-in.")
		return
	}
	ids := r.URL.Query()["id"]
	if len(ids) != 1 || ids[0] == "" || !validText(ids[0]) {
		p.errorPage(w, r, http.StatusBadRequest, "The sign-in request is missing.")
		return
	}
	ctx := r.Context()
	code, digest := storage.NewSecret()
	req, err := p.store.AuthRequests().IssueCode(ctx, ids[0], storage.CodeFor{BrowserHash: p.flowHash(r),
		SessionHash: p.sessionHash(r.Header), CodeHash: digest, ExpiresAt: time.Now().Add(codeTTL)})
	if err == nil {
		back := authResponse{redirectURI: req.RedirectURI, state: req.State, iss: p.issuer}
		http.Redirect(w, r, back.codeURL(code), http.StatusFound)
		return
	}
	if !errors.Is(err, storage.ErrNotFound) {
		p.log.ErrorContext(ctx, "callback: store code", "error", err)
		p.errorPage(w, r, http.StatusInternalServerError, "Something went wrong on our side. Please try again.")
		return
	}
	// Not the common case: the stored request says why.
	req, err = p.store.AuthRequests().Get(ctx, ids[0])
	if errors.Is(err, storage.ErrNotFound) {
		p.errorPage(w, r, http.StatusBadRequest, "This sign-in request has expired or does not exist. Go back to the application and start again.")
		return
	}
	if err != nil {
		p.log.ErrorContext(ctx, "callback: load request", "error", err)
		p.errorPage(w, r, http.StatusInternalServerError, "Something went wrong on our side. Please try again.")
		return
	}
	if !p.boundToBrowser(r, req) {
		p.errorPage(w, r, http.StatusBadRequest, "This sign-in was started in another browser. Start again from the application, in this browser.")
		return
	}
	back := authResponse{redirectURI: req.RedirectURI, state: req.State, iss: p.issuer}
	switch {
	case req.ErrorCode != "":
		// The outcome is delivered once; the request has no further use.
		if err := p.store.AuthRequests().Delete(ctx, req.ID); err != nil {
			p.log.WarnContext(ctx, "callback: delete failed request", "error", err)
		}
		http.Redirect(w, r, back.errorURL(req.ErrorCode, req.ErrorDescription), http.StatusFound)
	case req.Done:
		if !p.sameSession(r, req.SessionHash) {
			p.errorPage(w, r, http.StatusBadRequest, "This sign-in was completed in another browser session. Go back to the application and start again.")
			return
		}
		err := p.store.AuthRequests().SetCode(ctx, req.ID, digest, time.Now().Add(codeTTL))
		if errors.Is(err, storage.ErrNotFound) {
			p.errorPage(w, r, http.StatusBadRequest, "This sign-in was already used. Go back to the application and start again.")
			return
		}
		if err != nil {
			p.log.ErrorContext(ctx, "callback: store code", "error", err)
			p.errorPage(w, r, http.StatusInternalServerError, "Something went wrong on our side. Please try again.")
			return
		}
		http.Redirect(w, r, back.codeURL(code), http.StatusFound)
	default:
		p.errorPage(w, r, http.StatusBadRequest, "The sign-in is not finished yet.")
	}
}

// FinishSignIn is the callback's common case done by the sign-in dispatcher
// of package ui in the same response: it records the completion c with a
// code in one statement (a request /authorize has not stored yet, with no
// ID, is stored completed) and sends the browser back to the client with
// the code. A request that has expired or ended, or that another browser
// started, is storage.ErrNotFound with nothing written.
func (p *Provider) FinishSignIn(w http.ResponseWriter, r *http.Request, a *storage.AuthRequest, c storage.Completion) error {
	code, digest := storage.NewSecret()
	to := storage.CodeFor{BrowserHash: p.flowHash(r), CodeHash: digest, ExpiresAt: time.Now().Add(codeTTL)}
	req := a
	var err error
	if a.ID == "" {
		err = p.store.AuthRequests().CreateCompleted(r.Context(), a, c, to)
	} else {
		req, err = p.store.AuthRequests().CompleteWithCode(r.Context(), a.ID, c, to)
	}
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	back := authResponse{redirectURI: req.RedirectURI, state: req.State, iss: p.issuer}
	http.Redirect(w, r, back.codeURL(code), http.StatusFound)
	return nil
}

// sameSession compares the browser's session cookie with the session that
// completed the request, in constant time.
func (p *Provider) sameSession(r *http.Request, want []byte) bool {
	got := p.sessionHash(r.Header)
	return got != nil && len(want) > 0 && subtle.ConstantTimeCompare(got, want) == 1
}
