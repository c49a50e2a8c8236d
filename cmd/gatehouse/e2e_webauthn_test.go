package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/mfa/webauthn"
	"github.com/gatehouse-id/gatehouse/mfa/webauthn/webauthntest"
	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

// addSecurityKey registers a new key for user, as the settings would:
// through the relying party of the server's issuer, stored as a factor.
func (g *keyedGatehouse) addSecurityKey(user *storage.User, synced bool) *webauthntest.Key {
	g.t.Helper()
	k := webauthntest.New(g.issuer, []byte(user.ID), synced)
	rp, err := webauthn.New(g.issuer, "Gatehouse")
	if err != nil {
		g.t.Fatal(err)
	}
	wu := webauthn.User{Handle: []byte(user.ID), Name: user.Email}
	c, err := rp.BeginRegistration(wu)
	if err != nil {
		g.t.Fatal(err)
	}
	resp, err := k.Create(string(c.Options))
	if err != nil {
		g.t.Fatal(err)
	}
	key, err := rp.FinishRegistration(wu, c.State, []byte(resp))
	if err != nil {
		g.t.Fatal(err)
	}
	f := &storage.Factor{ID: storage.NewFactorID(), UserID: user.ID, Kind: mfa.FactorWebAuthn, Name: "Key",
		CredentialID: key.CredentialID, Credential: key.Record, LastUsedStep: key.Counter}
	if err := g.store.Factors().CreateConfirmed(context.Background(), f); err != nil {
		g.t.Fatal(err)
	}
	return k
}

// useKey answers the page's form marked data-webauthn=mode with the key,
// as the page's script would: the options go to the authenticator, its
// answer is posted with the form's fields.
func useKey(t *testing.T, k *webauthntest.Key, b *browser, p page, mode string) page {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(p.body))
	if err != nil {
		t.Fatal(err)
	}
	var form *html.Node
	for n := range doc.Descendants() {
		if n.Type == html.ElementNode && n.Data == "form" && attr(n, "data-webauthn") == mode {
			form = n
		}
	}
	if form == nil {
		t.Fatalf("no %s key form at %s:\n%.1500s", mode, p.url, p.body)
	}
	values := url.Values{}
	for n := range form.Descendants() {
		if n.Type == html.ElementNode && n.Data == "input" && attr(n, "type") == "hidden" {
			values.Set(attr(n, "name"), attr(n, "value"))
		}
	}
	answer := k.Get
	if mode == "create" {
		answer = k.Create
	}
	response, err := answer(attr(form, "data-options"))
	if err != nil {
		t.Fatal(err)
	}
	values.Set("response", response)
	target, _ := url.Parse(attr(form, "action"))
	req, _ := http.NewRequest(http.MethodPost, p.url.ResolveReference(target).String(), strings.NewReader(values.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", p.url.Scheme+"://"+p.url.Host)
	return b.do(req)
}

// startWithKeys starts a whole server whose issuer is a domain name
// (localhost), so that it offers security keys.
func startWithKeys(t *testing.T, b storagetest.Backend) *keyedGatehouse {
	return startConfiguredGatehouse(t, b.URL(t), newSecretKey(t), func(c *Config) {
		c.Issuer = strings.Replace(c.Issuer, "127.0.0.1", "localhost", 1)
	})
}

const acrPHR = "urn:gatehouse:acr:phr"

// TestSecurityKeysThroughTheWholeServer: with a domain-name issuer,
// discovery lists phr; a key after the password and a passkey alone sign
// in through the hosted pages, and the relying party's ID tokens (checked
// by go-oidc) say how: hwk or swk, user, mfa and phr, also after a
// refresh. An essential phr is met by the key.
func TestSecurityKeysThroughTheWholeServer(t *testing.T) {
	for _, backend := range storagetest.Backends() {
		t.Run(backend.Name, func(t *testing.T) {
			g := startWithKeys(t, backend)
			resp, err := http.Get(g.issuer + "/.well-known/openid-configuration")
			if err != nil {
				t.Fatal(err)
			}
			var disc struct {
				ACR []string `json:"acr_values_supported"`
			}
			json.NewDecoder(resp.Body).Decode(&disc)
			resp.Body.Close()
			if !slices.Equal(disc.ACR, []string{"urn:gatehouse:acr:pwd", acrMFA, acrPHR}) {
				t.Fatalf("acr_values_supported %q, want phr listed", disc.ACR)
			}

			ada := g.user("ada@example.com", "correct horse battery")
			key := g.addSecurityKey(ada, false)
			g.enrollApp(ada)
			rp := g.relyingParty("app")

			// The key, asked first, after the password.
			b := newBrowser(t)
			f, p := rp.start(b)
			keyStep := signIn(t, b, p, ada.Email, "correct horse battery")
			if keyStep.url.Path != "/login/key" || !strings.Contains(keyStep.body, `id="use-app"`) {
				t.Fatalf("after the password: %d at %s", keyStep.status, keyStep.url)
			}
			got := f.finish(useKey(t, key, b, keyStep, "get"))
			if !slices.Equal(got.claims.AMR, []string{"pwd", "hwk", "user", "mfa"}) || got.claims.ACR != acrPHR {
				t.Fatalf("amr %v acr %q", got.claims.AMR, got.claims.ACR)
			}
			if m := rp.introspect(got.oauth.AccessToken); m["acr"] != acrPHR {
				t.Errorf("introspection %v", m)
			}
			_, rc := rp.refresh(got.oauth.RefreshToken)
			if !slices.Equal(rc.AMR, got.claims.AMR) || rc.ACR != acrPHR {
				t.Errorf("refreshed ID token amr %v acr %q", rc.AMR, rc.ACR)
			}

			// A passkey alone, on another browser.
			grace := g.user("grace@example.com", "correct horse battery")
			phone := g.addSecurityKey(grace, true)
			b = newBrowser(t)
			f, p = rp.start(b)
			if !isPasswordPage(p) || !strings.Contains(p.body, `autocomplete="username webauthn"`) {
				t.Fatalf("the password page does not offer passkeys:\n%.1500s", p.body)
			}
			got = f.finish(useKey(t, phone, b, p, "passkey"))
			if got.id.Subject != grace.ID || !slices.Equal(got.claims.AMR, []string{"swk", "user", "mfa"}) || got.claims.ACR != acrPHR {
				t.Fatalf("passkey sign-in: sub %q amr %v acr %q", got.id.Subject, got.claims.AMR, got.claims.ACR)
			}
			// Single sign-on carries it to another application.
			f, p = g.relyingParty("other").start(b)
			if got := f.finish(p); got.claims.ACR != acrPHR {
				t.Errorf("SSO acr %q", got.claims.ACR)
			}

			// An essential phr for a user with an app and a key: the key.
			claims, _ := json.Marshal(map[string]any{"id_token": map[string]any{"acr": map[string]any{"essential": true, "values": []string{acrPHR}}}})
			b = newBrowser(t)
			f, p = rp.start(b, oauth2.SetAuthURLParam("claims", string(claims)))
			keyStep = signIn(t, b, p, ada.Email, "correct horse battery")
			if strings.Contains(keyStep.body, `id="use-app"`) {
				t.Error("the app is offered where only a key meets the request")
			}
			if got := f.finish(useKey(t, key, b, keyStep, "get")); got.claims.ACR != acrPHR {
				t.Errorf("essential phr: acr %q", got.claims.ACR)
			}
		})
	}
}
