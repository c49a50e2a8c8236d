package ui

import (
	"errors"
	"log/slog"
	"mime"
	"net/http"
)

// pageError is a failure shown to the user as a page: a status, a heading
// and a kind sentence saying what to do. It never holds details.
type pageError struct {
	status  int
	heading string
	message string
}

var (
	errMissingRequest = pageError{http.StatusBadRequest, "This sign-in link is incomplete",
		"Go back to the application and start signing in again."}
	errUnknownRequest = pageError{http.StatusNotFound, "This sign-in has expired",
		"Sign-in links only work for a short while. Go back to the application and start signing in again."}
	errFinishedRequest = pageError{http.StatusBadRequest, "This sign-in has already finished",
		"Go back to the application. If you are not signed in there, start signing in again."}
	errUnknownClient = pageError{http.StatusBadRequest, "This application is not available",
		"The application you came from is no longer registered. Contact its support team."}
	errBadLogout = pageError{http.StatusBadRequest, "This sign-out link is not valid",
		"The application asked to send you to an address it has not registered, so you were not sent anywhere. You can close this page."}
	errCrossOrigin = pageError{http.StatusForbidden, "This form came from another site",
		"For your safety the form was not sent. Go back to the application and try again."}
	errTooLarge = pageError{http.StatusRequestEntityTooLarge, "That form was too large",
		"Go back, check what you entered and try again."}
	errContentType = pageError{http.StatusUnsupportedMediaType, "That form could not be read",
		"Go back and send the form from the page again."}
	errBadForm = pageError{http.StatusBadRequest, "That form could not be read",
		"Go back and send the form from the page again."}
	errNotFound = pageError{http.StatusNotFound, "Page not found",
		"Check the address, or go back to the application you came from."}
	errInternal = pageError{http.StatusInternalServerError, "Something went wrong",
		"This is a problem on our side. Please try again in a moment."}
)

// serverError logs err with the request id and shows the generic page.
func (u *UI) serverError(w http.ResponseWriter, r *http.Request, what string, err error) {
	u.log.ErrorContext(r.Context(), what, slog.String("error", err.Error()))
	u.renderError(w, r, errInternal)
}

// parseForm reads an urlencoded POST body into r.PostForm. Anything else (a
// body too large, another content type, malformed encoding) gets its page
// and false.
func (u *UI) parseForm(w http.ResponseWriter, r *http.Request) bool {
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "application/x-www-form-urlencoded" {
		u.renderError(w, r, errContentType)
		return false
	}
	if err := r.ParseForm(); err != nil {
		if maxErr := (*http.MaxBytesError)(nil); errors.As(err, &maxErr) {
			u.renderError(w, r, errTooLarge)
		} else {
			u.renderError(w, r, errBadForm)
		}
		return false
	}
	return true
}
