package ui

import (
	"context"
	"encoding/base32"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

// setBrowserSession gives Chromium a session cookie for the test server.
func setBrowserSession(t *testing.T, ctx context.Context, e *testEnv, value string) {
	t.Helper()
	httpOnly := true
	_, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{
		Name: testCookie, Value: value, URL: e.http.URL, Path: "/", HTTPOnly: &httpOnly,
	})
	must(t, err)
}

// clickTo clicks the element with this id and returns the URL and status
// of the page it leads to.
func clickTo(t *testing.T, ctx context.Context, id string) (string, int64) {
	t.Helper()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID(id), chromedp.NodeVisible))
	must(t, err)
	return resp.URL, resp.Status
}

// TestBrowserEnrollWithTheGuide adds an authenticator app from the security
// settings the guided way, as a user would: Guide me, the QR code, a code
// typed from the app, and the recovery codes.
func TestBrowserEnrollWithTheGuide(t *testing.T) {
	ctx := newBrowser(t)
	e := accountEnv(t, storagetest.Open(t, storagetest.SQLiteURL(t)))
	user := e.newUser()
	setBrowserSession(t, ctx, e, e.signInAs(user, time.Now()))

	resp, err := chromedp.RunResponse(ctx, chromedp.Navigate(e.http.URL+"/account/security"))
	must(t, err)
	if resp.Status != 200 {
		t.Fatalf("the security settings answered %d", resp.Status)
	}
	screenshot(t, ctx, "account-security")

	url, status := clickTo(t, ctx, "guide-me")
	if !strings.HasSuffix(url, "/account/security/totp/guide") || status != 200 {
		t.Fatalf("Guide me led to %s (%d)", url, status)
	}
	step, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("step")))
	must(t, err)
	if !strings.EqualFold(step, "Step 1 of 3") { // shown in capitals
		t.Errorf("the guide starts with %q", step)
	}
	screenshot(t, ctx, "enroll-guide")

	url, status = clickTo(t, ctx, "guide-next")
	if !strings.Contains(url, "/account/security/totp/setup?") || status != 200 {
		t.Fatalf("the guide's next step is %s (%d)", url, status)
	}
	// The inline QR code displays despite the Content-Security-Policy.
	width, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.getElementById("qr-code").naturalWidth`))
	must(t, err)
	if width != 256 {
		t.Errorf("the QR code is %d pixels wide: it did not load", width)
	}
	screenshot(t, ctx, "enroll-qr")

	// A wrong code first: the page says so and the app stays off.
	key, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("totp-key")))
	must(t, err)
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ReplaceAll(key, " ", ""))
	must(t, err)
	must(t, chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("code"), wrongCode(secret))))
	_, status = clickTo(t, ctx, "confirm")
	if status != 401 {
		t.Fatalf("a wrong code answered %d, want 401", status)
	}
	msg, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("code-error"), chromedp.NodeVisible))
	must(t, err)
	if !strings.Contains(msg, "didn't work") {
		t.Errorf("message %q for a wrong code", msg)
	}
	screenshot(t, ctx, "enroll-qr-wrong-code")

	// The code the app shows now turns it on.
	must(t, chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("code"), enrollTestCode(secret, currentStep()))))
	url, status = clickTo(t, ctx, "confirm")
	if !strings.HasSuffix(url, "/account/security/totp/confirm") || status != 200 {
		t.Fatalf("confirming led to %s (%d)", url, status)
	}
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#recovery-codes li").length`))
	must(t, err)
	if n != 10 {
		t.Errorf("%d recovery codes shown, want 10", n)
	}
	screenshot(t, ctx, "enroll-recovery-codes")
	if e.totpFactor(user) == nil {
		t.Fatal("the app is not active")
	}

	url, _ = clickTo(t, ctx, "continue")
	if !strings.HasSuffix(url, "/account/security") {
		t.Fatalf("Done led to %s", url)
	}
	added, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("totp-factor")))
	must(t, err)
	if !strings.Contains(added, "Added on") {
		t.Errorf("the settings describe the app as %q", added)
	}
	screenshot(t, ctx, "account-security-enrolled")

	for _, p := range []struct{ path, name string }{
		{"/account/security/codes/regenerate", "account-regenerate"},
		{"/account/security/totp/disable", "account-disable"},
	} {
		resp, err := chromedp.RunResponse(ctx, chromedp.Navigate(e.http.URL+p.path))
		must(t, err)
		if resp.Status != 200 {
			t.Errorf("%s answered %d", p.path, resp.Status)
		}
		screenshot(t, ctx, p.name)
	}
}

// TestBrowserSignInEnrollmentLooks saves the enrollment a sign-in asks
// for, on a desktop and on a phone, where nothing may scroll sideways.
func TestBrowserSignInEnrollmentLooks(t *testing.T) {
	ctx := newBrowser(t)
	e := accountEnv(t, storagetest.Open(t, storagetest.SQLiteURL(t)))
	user := e.newUser()
	e.addOrg(user, "Acme")
	a := e.addAuthRequest(nil)
	setBrowserSession(t, ctx, e, e.signInAs(user, time.Now()))

	resp, err := chromedp.RunResponse(ctx, chromedp.Navigate(e.http.URL+"/login?id="+a.ID))
	must(t, err)
	if !strings.HasSuffix(resp.URL, "/login/enroll?id="+a.ID) || resp.Status != 200 {
		t.Fatalf("the sign-in went to %s (%d), want the enrollment", resp.URL, resp.Status)
	}
	screenshot(t, ctx, "enroll-start")

	must(t, chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile)))
	url, status := clickTo(t, ctx, "skip-to-qr")
	if !strings.Contains(url, "/login/enroll/setup?") || status != 200 {
		t.Fatalf("Skip to the QR code led to %s (%d)", url, status)
	}
	overflow, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`))
	must(t, err)
	if overflow {
		t.Error("the QR code page is wider than a phone's screen")
	}
	screenshot(t, ctx, "enroll-qr-phone")
}
