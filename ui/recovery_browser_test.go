package ui

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

// TestBrowserRecovery: lost phone. At the code step the user follows
// "Enter a recovery code", types one, opens the mailed link, confirms.
func TestBrowserRecovery(t *testing.T) {
	ctx := newBrowser(t)
	e := accountEnv(t, storagetest.Open(t, storagetest.SQLiteURL(t)))
	mb := withMail(t, e)
	e.addTOTP(e.user, testCodes...)
	a := e.addAuthRequest(nil)

	_, err := chromedp.RunResponse(ctx, chromedp.Navigate(e.http.URL+"/login?id="+a.ID))
	must(t, err)
	wantFocus(t, ctx, "email")
	resp, err := chromedp.RunResponse(ctx, chromedp.KeyEvent(e.user.Email+"\t"+testPassword+"\r"))
	must(t, err)
	if !strings.HasSuffix(resp.URL, otpStepURL(a.ID)) {
		t.Fatalf("after the password: %s", resp.URL)
	}
	resp, err = chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID("use-recovery-code"), chromedp.NodeVisible))
	must(t, err)
	if !strings.HasSuffix(resp.URL, recoveryStepURL(a.ID)) || resp.Status != 200 {
		t.Fatalf("the recovery link led to %s (%d)", resp.URL, resp.Status)
	}
	wantFocus(t, ctx, "code")
	screenshot(t, ctx, "recovery-code")

	resp, err = chromedp.RunResponse(ctx, chromedp.KeyEvent("ABCD EFGH JKMN\r"))
	must(t, err)
	if !strings.HasSuffix(resp.URL, recoverySentURL(a.ID)) || resp.Status != 200 {
		t.Fatalf("after the code: %s (%d)", resp.URL, resp.Status)
	}
	lead, err := chromedp.Run(ctx, chromedp.Text("p.lead", chromedp.NodeVisible))
	must(t, err)
	if !strings.Contains(lead, "a•••@example.com") {
		t.Errorf("the sent page says %q", lead)
	}
	screenshot(t, ctx, "recovery-sent")

	confirm := link(t, mb.next(), directory.PathRecoveryConfirm)
	resp, err = chromedp.RunResponse(ctx, chromedp.Navigate(e.http.URL+confirm))
	must(t, err)
	if resp.Status != 200 {
		t.Fatalf("the confirm link answered %d", resp.Status)
	}
	screenshot(t, ctx, "recovery-confirm")
	if fs, _ := e.store.Factors().Confirmed(context.Background(), e.user.ID); len(fs) != 1 {
		t.Fatal("opening the link changed the factors")
	}
	resp, err = chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID("confirm-reset"), chromedp.NodeVisible))
	must(t, err)
	h, err := chromedp.Run(ctx, chromedp.Text("h1", chromedp.NodeVisible))
	must(t, err)
	if resp.Status != 200 || h != "Two-step verification was reset" {
		t.Fatalf("after confirming: %d %q", resp.Status, h)
	}
	screenshot(t, ctx, "recovery-done")
	if fs, _ := e.store.Factors().Confirmed(context.Background(), e.user.ID); len(fs) != 0 {
		t.Error("the factors survived the confirmed reset")
	}
}

// TestBrowserForgottenPassword: "Forgot your password?", the mail's link,
// a new password typed twice; the sign-in goes on to the second factor.
func TestBrowserForgottenPassword(t *testing.T) {
	ctx := newBrowser(t)
	e := accountEnv(t, storagetest.Open(t, storagetest.SQLiteURL(t)))
	mb := withMail(t, e)
	e.enrollApp(e.user)
	a := e.addAuthRequest(nil)

	_, err := chromedp.RunResponse(ctx, chromedp.Navigate(e.http.URL+"/login?id="+a.ID))
	must(t, err)
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID("forgot-password"), chromedp.NodeVisible))
	must(t, err)
	if !strings.HasSuffix(resp.URL, forgotURL(a.ID)) || resp.Status != 200 {
		t.Fatalf("the forgot link led to %s (%d)", resp.URL, resp.Status)
	}
	wantFocus(t, ctx, "email")
	screenshot(t, ctx, "forgot")
	resp, err = chromedp.RunResponse(ctx, chromedp.KeyEvent(e.user.Email+"\r"))
	must(t, err)
	h, err := chromedp.Run(ctx, chromedp.Text("h1", chromedp.NodeVisible))
	must(t, err)
	if resp.Status != 200 || h != "Check your mail" {
		t.Fatalf("after asking: %d %q", resp.Status, h)
	}
	screenshot(t, ctx, "forgot-sent")

	e.ui.Wait()
	reset := link(t, mb.next(), directory.PathPasswordReset)
	_, err = chromedp.RunResponse(ctx, chromedp.Navigate(e.http.URL+reset))
	must(t, err)
	wantFocus(t, ctx, "new_password")
	screenshot(t, ctx, "reset")
	next := "a fresh and long passphrase"
	resp, err = chromedp.RunResponse(ctx, chromedp.KeyEvent(next+"\t"+next+"\r"))
	must(t, err)
	if !strings.HasSuffix(resp.URL, otpStepURL(a.ID)) || resp.Status != 200 {
		t.Fatalf("after the new password the browser is at %s (%d), want the code step", resp.URL, resp.Status)
	}
	screenshot(t, ctx, "reset-then-code")
}
