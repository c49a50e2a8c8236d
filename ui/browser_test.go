package ui

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

const chromiumPath = "/usr/bin/chromium"

// newBrowser starts a headless Chromium for the test, or skips the test
// where none is installed.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("Chromium is not installed at %s", chromiumPath)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.NoSandbox,
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(cancel)
	// The first run starts the browser and must not have a timeout: the
	// timeout would end the browser with it.
	must(t, chromedp.Do(ctx))
	stepCtx, cancelSteps := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(cancelSteps)
	return stepCtx
}

// screenshot saves the page as it looks now into $GATEHOUSE_TEST_ARTIFACTS.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("GATEHOUSE_TEST_ARTIFACTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	must(t, err)
	must(t, os.MkdirAll(dir, 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "ui-"+name+".png"), png, 0o644))
}

// wantFocus waits until the element with this id has the keyboard focus.
// Browsers apply autofocus when they next render, which can be after the
// load event.
func wantFocus(t *testing.T, ctx context.Context, id string) {
	t.Helper()
	var got string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var err error
		got, err = chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement ? document.activeElement.id : ""`))
		must(t, err)
		if got == id {
			return
		}
	}
	t.Fatalf("focus is on %q, want #%s", got, id)
}

// TestBrowserSignInWithTheKeyboard signs in as a keyboard user would: the
// cursor starts in the email field, Tab moves on, Enter sends.
func TestBrowserSignInWithTheKeyboard(t *testing.T) {
	ctx := newBrowser(t)
	e := newEnv(t, storagetest.Open(t, storagetest.SQLiteURL(t)))
	a := e.addAuthRequest(nil)

	// The provider sends the browser to the dispatcher, which asks for a password.
	resp, err := chromedp.RunResponse(ctx, chromedp.Navigate(e.http.URL+"/login?id="+a.ID))
	must(t, err)
	if !strings.HasSuffix(resp.URL, "/login/password?id="+a.ID) || resp.Status != 200 {
		t.Fatalf("landed on %s (%d), want the password page", resp.URL, resp.Status)
	}
	// The stylesheet loaded despite the strict Content-Security-Policy.
	width, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector("main")).maxWidth`))
	must(t, err)
	if width != "400px" {
		t.Errorf("the card's max-width is %q: the stylesheet did not apply", width)
	}
	screenshot(t, ctx, "password")
	wantFocus(t, ctx, "email")

	// A wrong password, typed and sent with the keyboard.
	resp, err = chromedp.RunResponse(ctx, chromedp.KeyEvent(e.user.Email+"\t"+"not the password"+"\r"))
	must(t, err)
	if resp.Status != 401 {
		t.Fatalf("a wrong password answered %d, want 401", resp.Status)
	}
	msg, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("form-error"), chromedp.NodeVisible))
	must(t, err)
	if msg != "Incorrect email or password." {
		t.Fatalf("message %q, want %q", msg, "Incorrect email or password.")
	}
	screenshot(t, ctx, "password-error")

	// The email is kept and the cursor waits in the password field.
	wantFocus(t, ctx, "password")
	resp, err = chromedp.RunResponse(ctx, chromedp.KeyEvent(testPassword+"\r"))
	must(t, err)
	if !strings.HasSuffix(resp.URL, "/authorize/callback?id="+a.ID) {
		t.Fatalf("landed on %s, want the provider's callback", resp.URL)
	}
	if !slices.Contains(e.callbackHits(), a.ID) {
		t.Fatal("the provider's callback was not reached for the request")
	}
	if got := e.authRequest(a.ID); !got.Done || got.Subject != e.user.ID {
		t.Fatalf("request done %v for %q, want completed for %q", got.Done, got.Subject, e.user.ID)
	}

	// Signing out: the confirmation's button has the focus, Enter confirms.
	must(t, chromedp.Do(ctx, chromedp.Navigate(e.http.URL+"/logout")))
	wantFocus(t, ctx, "sign-out")
	screenshot(t, ctx, "logout")
	resp, err = chromedp.RunResponse(ctx, chromedp.KeyEvent("\r"))
	must(t, err)
	if !strings.HasSuffix(resp.URL, "/logout?done=1") {
		t.Fatalf("landed on %s, want the signed-out page", resp.URL)
	}
	h, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1")))
	must(t, err)
	if h != "You are signed out" {
		t.Errorf("heading %q after signing out", h)
	}
	screenshot(t, ctx, "signed-out")

	// Without a session the dispatcher asks for the password again.
	resp, err = chromedp.RunResponse(ctx, chromedp.Navigate(e.http.URL+"/login?id="+e.addAuthRequest(nil).ID))
	must(t, err)
	if !strings.Contains(resp.URL, "/login/password?id=") {
		t.Errorf("after signing out the dispatcher sent the browser to %s", resp.URL)
	}

	resp, err = chromedp.RunResponse(ctx, chromedp.Navigate(e.http.URL+"/login?id=expired"))
	must(t, err)
	if resp.Status != 404 {
		t.Errorf("an unknown request answered %d, want 404", resp.Status)
	}
	screenshot(t, ctx, "error")
}

// TestBrowserLooks checks the focus ring, and saves the password page in
// dark mode and on a phone.
func TestBrowserLooks(t *testing.T) {
	ctx := newBrowser(t)
	e := newEnv(t, storagetest.Open(t, storagetest.SQLiteURL(t)))
	url := e.http.URL + "/login/password?id=" + e.addAuthRequest(nil).ID

	must(t, chromedp.Do(ctx, chromedp.Navigate(url)))
	wantFocus(t, ctx, "email")
	must(t, chromedp.Do(ctx, chromedp.KeyEvent("\t")))
	ring, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`document.activeElement.id + " " + getComputedStyle(document.activeElement).outlineStyle`))
	must(t, err)
	if ring != "password solid" {
		t.Errorf("after Tab: %q, want the password field with a visible focus ring", ring)
	}

	_, err = chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}},
	})
	must(t, err)
	must(t, chromedp.Do(ctx, chromedp.Navigate(url)))
	bg, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.body).backgroundColor`))
	must(t, err)
	if bg != "rgb(16, 19, 26)" {
		t.Errorf("dark mode background %q, want the dark palette", bg)
	}
	screenshot(t, ctx, "password-dark")

	must(t, chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile)))
	must(t, chromedp.Do(ctx, chromedp.Navigate(url)))
	// The card fits the screen: nothing scrolls sideways.
	overflow, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`))
	must(t, err)
	if overflow {
		t.Error("the page is wider than a phone's screen")
	}
	screenshot(t, ctx, "password-phone")
}
