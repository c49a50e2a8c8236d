package ui

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"

	"github.com/gatehouse-id/gatehouse/middleware"
)

//go:embed templates
var templateFiles embed.FS

// The page templates. Each is parsed together with layout.html and defines
// the blocks "title" and "content".
const (
	layoutTemplate        = "layout.html"
	passwordTemplate      = "password.html"
	logoutTemplate        = "logout.html"
	signedOutTemplate     = "signed_out.html"
	errorTemplate         = "error.html"
	otpTemplate           = "otp.html"
	selectAccountTemplate = "select_account.html"
	consentTemplate       = "consent.html"
	messageTemplate       = "message.html"
	recoveryTemplate      = "recovery.html"
	forgotTemplate        = "forgot.html"
	resetTemplate         = "reset.html"

	consoleHomeTemplate    = "console_home.html"
	consoleMembersTemplate = "console_members.html"
	consoleMemberTemplate  = "console_member.html"
	consoleAuditTemplate   = "console_audit.html"
	accessPassTemplate     = "access_pass.html"
	consolePassTemplate    = "console_pass.html"
	consolePolicyTemplate  = "console_policy.html"
	invitationTemplate     = "invitation.html"

	accountSecurityTemplate   = "account_security.html"
	accountRegenerateTemplate = "account_regenerate.html"
	accountDisableTemplate    = "account_disable.html"
	enrollStartTemplate       = "enroll_start.html"
	enrollGuideTemplate       = "enroll_guide.html"
	enrollQRTemplate          = "enroll_qr.html"
	enrollCodesTemplate       = "enroll_codes.html"
	keyStepTemplate           = "key_step.html"
	keyAddTemplate            = "key_add.html"
	keyRemoveTemplate         = "key_remove.html"
)

// requiredPages is checked at start: New fails if one is missing or broken.
var requiredPages = []string{passwordTemplate, logoutTemplate, signedOutTemplate, errorTemplate, otpTemplate, selectAccountTemplate, consentTemplate,
	messageTemplate, recoveryTemplate, forgotTemplate, resetTemplate, consoleHomeTemplate, consoleMembersTemplate, consoleMemberTemplate, consoleAuditTemplate, accessPassTemplate, consolePassTemplate, consolePolicyTemplate, invitationTemplate,
	accountSecurityTemplate, accountRegenerateTemplate, accountDisableTemplate,
	enrollStartTemplate, enrollGuideTemplate, enrollQRTemplate, enrollCodesTemplate, keyStepTemplate, keyAddTemplate, keyRemoveTemplate}

// pages holds the parsed templates and what every page shows.
type pages struct {
	productName   string
	stylesheetURL string
	byName        map[string]*template.Template
}

// parsePages parses every required page from files (holding templates/).
func parsePages(files fs.FS, productName, stylesheetURL string) (*pages, error) {
	p := &pages{productName: productName, stylesheetURL: stylesheetURL, byName: map[string]*template.Template{}}
	for _, name := range requiredPages {
		t, err := template.New(name).ParseFS(files, "templates/"+layoutTemplate, "templates/"+name)
		if err != nil {
			return nil, fmt.Errorf("ui: page template %s: %w", name, err)
		}
		for _, block := range []string{"layout", "title", "content"} {
			if t.Lookup(block) == nil {
				return nil, fmt.Errorf("ui: page template %s: no %q block", name, block)
			}
		}
		p.byName[name] = t
	}
	return p, nil
}

// layout is what the frame around every page shows.
type layout struct {
	ProductName   string
	StylesheetURL string
	// ScriptURL is the security keys' script, on the pages that use them.
	ScriptURL string
	RequestID string
}

func (u *UI) layout(r *http.Request) layout {
	return layout{
		ProductName:   u.pages.productName,
		StylesheetURL: u.pages.stylesheetURL,
		RequestID:     middleware.RequestIDFrom(r.Context()),
	}
}

// passwordPage is the password step's form.
type passwordPage struct {
	layout
	ID         string // the auth request
	ClientName string
	Email      string
	// Error is about the whole form (a wrong email or password, a lock);
	// EmailError and PasswordError are about one field.
	Error, EmailError, PasswordError string
	// Passkey, when keys are offered, signs in with a passkey instead.
	Passkey *keyCeremony
}

// ForgotURL is the forgotten-password page for this sign-in.
func (p passwordPage) ForgotURL() string { return forgotURL(p.ID) }

// FocusPassword puts the cursor where the user types next: the password
// once an acceptable email is filled in.
func (p passwordPage) FocusPassword() bool { return p.Email != "" && p.EmailError == "" }

func (u *UI) renderPassword(w http.ResponseWriter, r *http.Request, status int, p passwordPage) {
	p.layout = u.layout(r)
	if u.keys != nil && p.ID != "" {
		// Each showing of the form offers passkeys with a new challenge.
		kc, err := u.passkeyCeremony(r, p.ID)
		if err != nil {
			u.log.ErrorContext(r.Context(), "starting a passkey sign-in failed", slog.String("error", err.Error()))
		} else {
			p.Passkey, p.layout = kc, u.keyLayout(r)
		}
	}
	u.render(w, r, status, passwordTemplate, p)
}

// logoutPage asks the user to confirm signing out.
type logoutPage struct {
	layout
	Email      string // the signed-in user, "" when none
	ClientName string // the application that asked, "" when none
	// Carried to the POST unchanged.
	ClientID, PostLogoutRedirectURI, State string
}

func (u *UI) renderLogout(w http.ResponseWriter, r *http.Request, p logoutPage) {
	p.layout = u.layout(r)
	u.render(w, r, http.StatusOK, logoutTemplate, p)
}

// signedOutPage says the session ended.
type signedOutPage struct {
	layout
}

func (u *UI) renderSignedOut(w http.ResponseWriter, r *http.Request) {
	u.render(w, r, http.StatusOK, signedOutTemplate, signedOutPage{layout: u.layout(r)})
}

// errorPage explains, kindly and without details, why a request failed.
type errorPage struct {
	layout
	Heading string
	Message string
}

func (u *UI) renderError(w http.ResponseWriter, r *http.Request, e pageError) {
	u.render(w, r, e.status, errorTemplate, errorPage{layout: u.layout(r), Heading: e.heading, Message: e.message})
}

// ErrorPage shows the hosted pages' error page, with their security
// headers, for a failure outside them (the provider's refusals): the same
// look, product name and request id as every other page.
func (u *UI) ErrorPage(w http.ResponseWriter, r *http.Request, status int, heading, message string) {
	middleware.SecurityHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.renderError(w, r, pageError{status: status, heading: heading, message: message})
	})).ServeHTTP(w, r)
}

// render executes a page into memory first, so a template error becomes a
// clean 500 instead of half a page.
func (u *UI) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	var buf bytes.Buffer
	if err := u.pages.byName[name].ExecuteTemplate(&buf, "layout", data); err != nil {
		u.log.ErrorContext(r.Context(), "rendering a page failed", slog.String("page", name), slog.String("error", err.Error()))
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	buf.WriteTo(w)
}
