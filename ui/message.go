package ui

import (
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/storage"
)

// messagePage is a page that says what happened or what to do next, with
// at most one form (a button) and some links.
type messagePage struct {
	layout
	Heading, Lead string
	// Alert is a refusal; Done says something just worked.
	Alert, Done string
	Paragraphs  []string
	Form        *buttonForm
	Links       []pageLink
	Hint        string
	// Later offers "Remind me later" for a sign-in's enrollment.
	Later *remindLater
}

// buttonForm is a form of hidden fields and one button.
type buttonForm struct {
	Action   string
	Hidden   []hiddenField
	Button   string
	ButtonID string
	Danger   bool
}

type hiddenField struct{ Name, Value string }

type pageLink struct{ URL, Label, ID string }

func (u *UI) renderMessage(w http.ResponseWriter, r *http.Request, status int, p messagePage) {
	p.layout = u.layout(r)
	u.render(w, r, status, messageTemplate, p)
}

// maskEmail shows enough of an address for its owner to recognise it:
// the first letter and the domain, "a•••@example.com".
func maskEmail(email string) string {
	local, domain, ok := strings.Cut(email, "@")
	if !ok || local == "" {
		return "your address"
	}
	first, _ := utf8.DecodeRuneInString(local)
	return string(first) + "•••@" + domain
}

// The pages of links that do not work; none changes anything.
var (
	errLinkUnknown = pageError{http.StatusBadRequest, "This link is not valid",
		"Check that you opened the whole address from the mail. If it still fails, ask for a new mail."}
	errLinkUsed = pageError{http.StatusGone, "This link was already used",
		"Each link in our mails works once. If you still need to, start again to get a new one."}
	errLinkExpired = pageError{http.StatusGone, "This link has expired",
		"Links in our mails work only for a short while. Start again to get a new one."}
	errLinkEnded = pageError{http.StatusGone, "This link no longer works",
		"What it was for was already done or cancelled. Nothing was changed."}
	errLinkReplaced = pageError{http.StatusGone, "A newer link was sent",
		"Use the link in the most recent mail; earlier ones stop working."}
	errLinkUserDisabled = pageError{http.StatusForbidden, "This account is disabled",
		"Nothing was changed. Contact your administrator."}
)

// openLink is the token of the mailed link of this kind a GET opens, when
// it works; otherwise it shows the page saying what became of it and
// reports false. It changes nothing.
func (u *UI) openLink(w http.ResponseWriter, r *http.Request, kind storage.LinkKind) (string, bool) {
	token := linkToken(r)
	if _, err := u.dir.CheckLink(r.Context(), kind, token); err != nil {
		if !u.linkError(w, r, err) {
			u.serverError(w, r, "checking a mailed link failed", err)
		}
		return "", false
	}
	return token, true
}

// linkError shows the page for a link that does not work and reports
// true, or reports false for any other error.
func (u *UI) linkError(w http.ResponseWriter, r *http.Request, err error) bool {
	for _, c := range []struct {
		err  error
		page pageError
	}{
		{directory.ErrLinkUnknown, errLinkUnknown},
		{directory.ErrLinkUsed, errLinkUsed},
		{directory.ErrLinkExpired, errLinkExpired},
		{directory.ErrLinkEnded, errLinkEnded},
		{directory.ErrLinkReplaced, errLinkReplaced},
		{directory.ErrUserDisabled, errLinkUserDisabled},
	} {
		if errors.Is(err, c.err) {
			u.renderError(w, r, c.page)
			return true
		}
	}
	return false
}
