package op

import "net/http"

// ErrorPage shows a failure to the user as a page: the hosted pages' error
// page, given by main so that this package never imports them.
type ErrorPage func(w http.ResponseWriter, r *http.Request, status int, heading, message string)

// errorPage answers a request that cannot be answered to the client (an
// unknown client or redirect URI, an unusable callback): never a redirect.
func (p *Provider) errorPage(w http.ResponseWriter, r *http.Request, status int, message string) {
	p.log.InfoContext(r.Context(), "sign-in request refused", "path", r.URL.Path, "status", status, "reason", message)
	w.Header().Set("Cache-Control", "no-store")
	p.cfg.ErrorPage(w, r, status, "We could not continue signing you in",
		message+" Go back to the application and try again. If this keeps happening, contact the application's support.")
}
