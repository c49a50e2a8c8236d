package op

import (
	"html/template"
	"net/http"
)

// errorPage is shown when a request cannot be answered to the client (an
// unknown client or redirect URI, an unusable callback): never a redirect.
var errorPage = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign-in problem</title></head>
<body>
<main>
<h1>We could not continue signing you in</h1>
<p>{{.}}</p>
<p>Go back to the application and try again. If this keeps happening, contact the application's support.</p>
</main>
</body>
</html>
`))

func (p *Provider) errorPage(w http.ResponseWriter, r *http.Request, status int, message string) {
	p.log.InfoContext(r.Context(), "sign-in request refused", "path", r.URL.Path, "status", status, "reason", message)
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	errorPage.Execute(w, message)
}
