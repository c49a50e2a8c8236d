package ui

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	cdpwebauthn "github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

// addVirtualAuthenticator gives Chromium a platform authenticator, through
// the DevTools WebAuthn domain, that holds passkeys and verifies its user
// (as a fingerprint reader would) without anyone touching it.
func addVirtualAuthenticator(t *testing.T, ctx context.Context) cdpwebauthn.AuthenticatorID {
	t.Helper()
	_, err := chromedp.Call(ctx, cdpwebauthn.Enable, cdpwebauthn.EnableParams{})
	must(t, err)
	res, err := chromedp.Call(ctx, cdpwebauthn.AddVirtualAuthenticator, cdpwebauthn.AddVirtualAuthenticatorParams{
		Options: &cdpwebauthn.VirtualAuthenticatorOptions{
			Protocol: cdpwebauthn.AuthenticatorProtocolCtap2, Ctap2version: cdpwebauthn.Ctap2versionCtap21,
			Transport: cdpwebauthn.AuthenticatorTransportInternal, HasResidentKey: true, HasUserVerification: true,
			IsUserVerified: true, AutomaticPresenceSimulation: true,
			// The protocol types always send the CMTG fields, which an
			// authenticator without the extension refuses when a credential is added.
			HasCmtgKey: true,
		}})
	must(t, err)
	return res.AuthenticatorID
}

// TestBrowserSecurityKeys runs security keys through the real pages and
// the page's script in Chromium, with its virtual authenticator: adding a
// passkey from the settings, using it as the second factor, and signing in
// with it alone; a key registered twice gets the script's message. The
// pages pass axe-core.
func TestBrowserSecurityKeys(t *testing.T) {
	ctx := newBrowser(t)
	e := accountEnv(t, storagetest.Open(t, storagetest.SQLiteURL(t)), withSecurityKeys(), servedAtLocalhost())
	id := addVirtualAuthenticator(t, ctx)
	user := e.newUser()
	setBrowserSession(t, ctx, e, e.signInAs(user, time.Now()))

	// Adding a passkey from the settings.
	resp, err := chromedp.RunResponse(ctx, chromedp.Navigate(e.http.URL+"/account/security"))
	must(t, err)
	if resp.Status != 200 {
		t.Fatalf("the security settings answered %d", resp.Status)
	}
	url, status := clickTo(t, ctx, "add-key")
	if !strings.HasSuffix(url, "/account/security/keys/add") || status != 200 {
		t.Fatalf("Add a security key led to %s (%d)", url, status)
	}
	wantAccessible(t, ctx, "the key registration")
	screenshot(t, ctx, "key-add")
	must(t, chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("key-name"), "Laptop")))
	url, status = clickTo(t, ctx, "add-key")
	if !strings.HasSuffix(url, "/account/security/keys/add") || status != 200 {
		t.Fatalf("adding the key led to %s (%d)", url, status)
	}
	codes, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#recovery-codes li").length`))
	must(t, err)
	if codes != 10 {
		t.Fatalf("%d recovery codes shown with the first key, want 10", codes)
	}
	screenshot(t, ctx, "key-codes")
	keys := e.keys(user)
	if len(keys) != 1 || keys[0].Name != "Laptop" {
		t.Fatalf("keys %+v", keys)
	}
	creds, err := chromedp.Call(ctx, cdpwebauthn.GetCredentials, cdpwebauthn.GetCredentialsParams{AuthenticatorID: id})
	must(t, err)
	if len(creds.Credentials) != 1 || !creds.Credentials[0].IsResidentCredential || creds.Credentials[0].RpID != "localhost" {
		t.Fatalf("the authenticator holds %+v, want one passkey for localhost", creds.Credentials)
	}

	// The key after the password: this session proved only the password.
	a := e.addAuthRequest(nil)
	resp, err = chromedp.RunResponse(ctx, chromedp.Navigate(e.http.URL+"/login?id="+a.ID))
	must(t, err)
	if !strings.HasSuffix(resp.URL, "/login/key?id="+a.ID) {
		t.Fatalf("landed on %s, want the key step", resp.URL)
	}
	wantAccessible(t, ctx, "the key step")
	screenshot(t, ctx, "key-step")
	url, _ = clickTo(t, ctx, "use-key")
	if !strings.HasSuffix(url, "/authorize/callback?id="+a.ID) {
		t.Fatalf("the key led to %s, want the provider's callback", url)
	}
	if got := e.authRequest(a.ID); got.ACR != mfa.ACRPhishingResistant || !slices.Contains(got.AMR, "hwk") || !slices.Contains(got.AMR, "user") {
		t.Errorf("completed with acr %q, amr %q", got.ACR, got.AMR)
	}

	// The settings list the key, now that this browser proved it.
	resp, err = chromedp.RunResponse(ctx, chromedp.Navigate(e.http.URL+"/account/security"))
	must(t, err)
	if resp.Status != 200 {
		t.Fatalf("the settings answered %d after the key step", resp.Status)
	}
	listed, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#keys .factor-name")))
	must(t, err)
	if listed != "Laptop Security key" {
		t.Errorf("the settings list %q", listed)
	}
	wantAccessible(t, ctx, "the settings with a key")
	screenshot(t, ctx, "account-keys")

	// The same authenticator again: the options exclude it, and the script
	// says so.
	must(t, chromedp.Do(ctx, chromedp.Navigate(e.http.URL+"/account/security/keys/add")))
	must(t, chromedp.Do(ctx, chromedp.Click(chromedp.ID("add-key"), chromedp.NodeVisible)))
	msg, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("key-error"), chromedp.NodeVisible))
	must(t, err)
	if msg != "This key is already registered to your account. Use another one." {
		t.Errorf("message %q", msg)
	}
	screenshot(t, ctx, "key-add-twice")

	// A passkey alone, in a browser signed out: with the button. The
	// authenticator is emptied while the page loads, so that its autofill
	// offer has nothing to show, and then holds the passkey again.
	saved, err := chromedp.Call(ctx, cdpwebauthn.GetCredentials, cdpwebauthn.GetCredentialsParams{AuthenticatorID: id})
	must(t, err)
	_, err = chromedp.Call(ctx, cdpwebauthn.ClearCredentials, cdpwebauthn.ClearCredentialsParams{AuthenticatorID: id})
	must(t, err)
	_, err = chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{})
	must(t, err)
	a = e.addAuthRequest(nil)
	resp, err = chromedp.RunResponse(ctx, chromedp.Navigate(e.http.URL+"/login?id="+a.ID))
	must(t, err)
	if !strings.Contains(resp.URL, "/login/password?id=") {
		t.Fatalf("landed on %s, want the password page", resp.URL)
	}
	wantAccessible(t, ctx, "the password page with passkeys")
	screenshot(t, ctx, "passkey")
	c := *saved.Credentials[0]
	c.CmtgKeys, c.ActiveCmtgKeyIndex = nil, nil // none were made; the index would point at nothing
	_, err = chromedp.Call(ctx, cdpwebauthn.AddCredential, cdpwebauthn.AddCredentialParams{AuthenticatorID: id, Credential: &c})
	must(t, err)
	_, err = chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("sign-in-with-passkey").click(), true`))
	must(t, err)
	waitForURL(t, ctx, "/authorize/callback?id="+a.ID)
	if got := e.authRequest(a.ID); got.Subject != user.ID || got.ACR != mfa.ACRPhishingResistant || slices.Contains(got.AMR, "pwd") || !slices.Contains(got.AMR, "mfa") {
		t.Errorf("completed as %q with acr %q, amr %q", got.Subject, got.ACR, got.AMR)
	}

	// And from the email field's autofill: the browser offers the passkey
	// as the page loads (the virtual authenticator picks it at once).
	_, err = chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{})
	must(t, err)
	a = e.addAuthRequest(nil)
	must(t, chromedp.Do(ctx, chromedp.Navigate(e.http.URL+"/login/password?id="+a.ID)))
	waitForURL(t, ctx, "/authorize/callback?id="+a.ID)
	if got := e.authRequest(a.ID); got.Subject != user.ID || got.ACR != mfa.ACRPhishingResistant {
		t.Errorf("autofill: completed as %q with acr %q", got.Subject, got.ACR)
	}
}

// waitForURL waits until the page's address ends with suffix.
func waitForURL(t *testing.T, ctx context.Context, suffix string) {
	t.Helper()
	var got string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var err error
		got, err = chromedp.Run(ctx, chromedp.Evaluate[string](`location.href`))
		if err == nil && strings.HasSuffix(got, suffix) {
			return
		}
	}
	t.Fatalf("the page is at %s, want …%s", got, suffix)
}
