package ui

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"
	"golang.org/x/net/html"

	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/mfa/webauthn"
	"github.com/gatehouse-id/gatehouse/mfa/webauthn/webauthntest"
	"github.com/gatehouse-id/gatehouse/storage"
)

// keysEnv is accountEnv with security keys offered, for the issuer
// http://localhost:8080.
func keysEnv(t *testing.T, store *storage.Store) *testEnv {
	t.Helper()
	return accountEnv(t, store, withSecurityKeys())
}

// theBrowser is where the issuer's pages run, as the key sees them.
var theBrowser = virtualwebauthn.RelyingParty{Name: "Gatehouse", ID: "localhost", Origin: "http://localhost:8080"}

// device is a software security key or passkey of one user.
type device struct{ *webauthntest.Key }

// newDevice is a key for user; synced makes it a passkey that is backed
// up (a synced passkey).
func newDevice(user *storage.User, synced bool) *device {
	return &device{webauthntest.New(theBrowser.Origin, []byte(user.ID), synced)}
}

// create answers a registration's options as navigator.credentials.create.
func (d *device) create(t testing.TB, options string) string {
	t.Helper()
	resp, err := d.Create(options)
	must(t, err)
	return resp
}

// get answers a sign-in's options as navigator.credentials.get, with the
// next signature counter.
func (d *device) get(t testing.TB, options string) string {
	t.Helper()
	resp, err := d.Get(options)
	must(t, err)
	return resp
}

// keyForm is a page's WebAuthn form: where it posts and what it carries.
type keyForm struct {
	action   string
	options  string
	ceremony string
	fields   url.Values // its hidden fields, response empty
}

// readKeyForm reads the form marked data-webauthn=mode on a page.
func readKeyForm(t testing.TB, resp *http.Response, mode string) keyForm {
	t.Helper()
	doc := page(t, resp)
	forms := find(doc, func(n *html.Node) bool { v, _ := attr(n, "data-webauthn"); return n.Data == "form" && v == mode })
	if len(forms) != 1 {
		t.Fatalf("%d forms with data-webauthn=%q, want 1", len(forms), mode)
	}
	f := keyForm{fields: url.Values{}}
	f.action, _ = attr(forms[0], "action")
	f.options, _ = attr(forms[0], "data-options")
	for _, in := range find(forms[0], byTag("input")) {
		if typ, _ := attr(in, "type"); typ == "hidden" {
			name, _ := attr(in, "name")
			value, _ := attr(in, "value")
			f.fields.Set(name, value)
		}
	}
	f.ceremony = f.fields.Get("ceremony")
	if f.options == "" || f.ceremony == "" {
		t.Fatalf("key form %+v: no options or ceremony", f)
	}
	return f
}

// answer posts the form with the key's response and any extra fields.
func (e *testEnv) answer(f keyForm, response string, extra ...string) *http.Response {
	e.t.Helper()
	form := url.Values{}
	for k, v := range f.fields {
		form[k] = v
	}
	form.Set("response", response)
	for i := 0; i+1 < len(extra); i += 2 {
		form.Set(extra[i], extra[i+1])
	}
	return e.post(f.action, form)
}

// registerKey adds d to the signed-in user's account from the settings,
// named name, and returns the response.
func (e *testEnv) registerKey(d *device, name string) *http.Response {
	e.t.Helper()
	resp := e.get("/account/security/keys/add")
	wantStatus(e.t, resp, http.StatusOK)
	f := readKeyForm(e.t, resp, "create")
	return e.answer(f, d.create(e.t, f.options), "name", name)
}

// addKey stores d as a key of user directly, as a registration would.
func (e *testEnv) addKey(user *storage.User, d *device, name string) *storage.Factor {
	e.t.Helper()
	c, err := e.ui.keys.RP.BeginRegistration(webauthn.User{Handle: []byte(user.ID), Name: user.Email})
	must(e.t, err)
	k, err := e.ui.keys.RP.FinishRegistration(webauthn.User{Handle: []byte(user.ID), Name: user.Email}, c.State, []byte(d.create(e.t, string(c.Options))))
	must(e.t, err)
	f := &storage.Factor{ID: storage.NewFactorID(), UserID: user.ID, Kind: mfa.FactorWebAuthn, Name: name,
		CredentialID: k.CredentialID, Credential: k.Record, LastUsedStep: k.Counter}
	must(e.t, e.store.Factors().CreateConfirmed(context.Background(), f))
	return f
}

// keys lists user's security keys.
func (e *testEnv) keys(user *storage.User) []storage.Factor {
	e.t.Helper()
	fs, err := e.store.Factors().Confirmed(context.Background(), user.ID)
	must(e.t, err)
	var out []storage.Factor
	for _, f := range fs {
		if f.Kind == mfa.FactorWebAuthn {
			out = append(out, f)
		}
	}
	return out
}

// sessionWith stores a session for user signed in at authTime whose last
// second factor was at mfaTime, and returns its cookie value.
func (e *testEnv) sessionWith(user *storage.User, authTime, mfaTime time.Time, amr ...string) string {
	e.t.Helper()
	secret, digest := storage.NewSecret()
	s := &storage.Session{IDHash: digest, UserID: user.ID, AuthTime: authTime, MFATime: &mfaTime, AMR: amr, ExpiresAt: time.Now().Add(time.Hour)}
	must(e.t, e.store.Sessions().Create(context.Background(), s))
	return secret
}
