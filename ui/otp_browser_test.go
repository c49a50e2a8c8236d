package ui

import (
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

// TestBrowserSignInWithACode signs in with a password and then a code from
// the authenticator app, with the keyboard alone, after one wrong code.
func TestBrowserSignInWithACode(t *testing.T) {
	ctx := newBrowser(t)
	e := newEnv(t, storagetest.Open(t, storagetest.SQLiteURL(t)))
	app := e.enrollApp(e.user)
	a := e.addAuthRequest(nil)

	_, err := chromedp.RunResponse(ctx, chromedp.Navigate(e.http.URL+"/login?id="+a.ID))
	must(t, err)
	wantFocus(t, ctx, "email")
	resp, err := chromedp.RunResponse(ctx, chromedp.KeyEvent(e.user.Email+"\t"+testPassword+"\r"))
	must(t, err)
	if !strings.HasSuffix(resp.URL, "/login/otp?id="+a.ID) || resp.Status != 200 {
		t.Fatalf("after the password the browser is at %s (%d), want the code step", resp.URL, resp.Status)
	}
	if got := e.authRequest(a.ID); got.Done {
		t.Fatal("the request completed before the second factor")
	}
	wantFocus(t, ctx, "code")
	screenshot(t, ctx, "otp")

	resp, err = chromedp.RunResponse(ctx, chromedp.KeyEvent(app.wrongCode()+"\r"))
	must(t, err)
	if resp.Status != 401 {
		t.Fatalf("a wrong code answered %d, want 401", resp.Status)
	}
	msg, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("code-error"), chromedp.NodeVisible))
	must(t, err)
	if msg != msgWrongCode {
		t.Fatalf("message %q, want %q", msg, msgWrongCode)
	}
	screenshot(t, ctx, "otp-wrong-code")

	wantFocus(t, ctx, "code")
	must(t, chromedp.Do(ctx, chromedp.Clear(chromedp.ID("code"))))
	resp, err = chromedp.RunResponse(ctx, chromedp.KeyEvent(app.code()+"\r"))
	must(t, err)
	if !strings.HasSuffix(resp.URL, "/authorize/callback?id="+a.ID) {
		t.Fatalf("after the code the browser is at %s, want the provider's callback", resp.URL)
	}
	got := e.authRequest(a.ID)
	if !got.Done || !slices.Equal(got.AMR, []string{"pwd", "otp", "mfa"}) || got.ACR != "urn:gatehouse:acr:mfa" {
		t.Fatalf("request done %v with amr %v acr %q, want pwd+otp+mfa at the mfa level", got.Done, got.AMR, got.ACR)
	}
}
