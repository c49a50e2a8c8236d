package ui

import (
	"context"
	_ "embed"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

// axeSource is axe-core, vendored for these tests (testdata/axe-core).
//
//go:embed testdata/axe-core/axe.min.js
var axeSource string

// wantAccessible runs axe-core on the page and fails the test for any
// violation of impact serious or critical.
func wantAccessible(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	for _, v := range axeViolations(t, ctx) {
		t.Errorf("%s: accessibility violation %s", name, v)
	}
}

// axeViolations are the serious and critical violations axe-core finds.
func axeViolations(t *testing.T, ctx context.Context) []string {
	t.Helper()
	_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](axeSource+";true"))
	must(t, err)
	found, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`axe.run(document, {resultTypes: ["violations"]}).then(r =>
		r.violations.filter(v => v.impact === "serious" || v.impact === "critical")
			.map(v => v.id + ": " + v.nodes.map(n => n.target.join(" ")).join(", ")))`, chromedp.EvalAwaitPromise))
	must(t, err)
	return found
}

// signInBrowser gives Chromium the session cookie of user's session.
func signInBrowser(t *testing.T, ctx context.Context, e *testEnv, user *storage.User, amr ...string) {
	t.Helper()
	b := e.browser(t)
	value := b.signInAs(user, time.Now(), amr...)
	_, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: testCookie, Value: value, URL: e.http.URL + "/"})
	must(t, err)
}

// wantFitsWidth checks that the page does not scroll sideways.
func wantFitsWidth(t *testing.T, ctx context.Context, name string, width int64) {
	t.Helper()
	scroll, err := chromedp.Run(ctx, chromedp.Evaluate[int64](`document.documentElement.scrollWidth`))
	must(t, err)
	if scroll > width {
		t.Errorf("%s is %dpx wide at a %dpx screen", name, scroll, width)
	}
}

// TestBrowserConsole: an admin sees the compliance bar, filters the
// members, and issues a temporary access pass that the member, in another
// browser, uses in place of their lost phone. Every console page passes
// axe-core and fits a phone's width.
func TestBrowserConsole(t *testing.T) {
	admin := newBrowser(t)
	c := newConsoleEnv(t, storagetest.Open(t, storagetest.SQLiteURL(t)))
	c.ui.cfg.AccessPassKey = randomKey(t)
	lost := c.newUser()
	must(t, c.store.Orgs().AddMember(context.Background(), c.org.ID, lost.ID, storage.RoleMember))
	c.addTOTP(lost)
	signInBrowser(t, admin, c.testEnv, c.admin, "pwd", "otp", "mfa")

	resp, err := chromedp.RunResponse(admin, chromedp.Navigate(c.http.URL+"/orgs/acme"))
	must(t, err)
	if resp.Status != 200 {
		t.Fatalf("the console answered %d", resp.Status)
	}
	value, err := chromedp.Run(admin, chromedp.Evaluate[string](`document.getElementById("compliance-bar").value + " of " + document.getElementById("compliance-bar").max`))
	must(t, err)
	if value != "3 of 4" {
		t.Errorf("the bar shows %s, want 3 of 4 enrolled", value)
	}
	screenshot(t, admin, "console-overview")
	wantAccessible(t, admin, "overview")

	// A filter, chosen with the keyboard.
	_, err = chromedp.RunResponse(admin, chromedp.Navigate(c.http.URL+"/orgs/acme/members"))
	must(t, err)
	must(t, chromedp.Do(admin, chromedp.Focus(chromedp.ID("status"))))
	must(t, chromedp.Do(admin, chromedp.SetValue(chromedp.ID("status"), "overdue")))
	resp, err = chromedp.RunResponse(admin, chromedp.Click(chromedp.ID("apply-filters"), chromedp.NodeVisible))
	must(t, err)
	if !strings.Contains(resp.URL, "status=overdue") {
		t.Fatalf("the filter went to %s", resp.URL)
	}
	rows, err := chromedp.Run(admin, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#members tbody th a")].map(a => a.textContent)`))
	must(t, err)
	if fmt.Sprint(rows) != "[mia@example.com]" {
		t.Errorf("overdue members %v", rows)
	}
	screenshot(t, admin, "console-members-overdue")
	wantAccessible(t, admin, "members")

	// At a phone's width.
	_, err = chromedp.Call(admin, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{Width: 375, Height: 800, DeviceScaleFactor: 2, Mobile: true})
	must(t, err)
	for _, path := range []string{"/orgs/acme", "/orgs/acme/members", "/orgs/acme/policy", "/orgs/acme/audit", "/orgs/acme/members/" + lost.ID} {
		_, err = chromedp.RunResponse(admin, chromedp.Navigate(c.http.URL+path))
		must(t, err)
		wantFitsWidth(t, admin, path, 375)
		wantAccessible(t, admin, path)
	}
	screenshot(t, admin, "console-member-phone")
	_, err = chromedp.Call(admin, emulation.ClearDeviceMetricsOverride, cdp.Empty{})
	must(t, err)

	// The pass, issued here...
	_, err = chromedp.RunResponse(admin, chromedp.Navigate(c.http.URL+"/orgs/acme/members/"+lost.ID))
	must(t, err)
	_, err = chromedp.RunResponse(admin, chromedp.Click(chromedp.ID("issue-pass"), chromedp.NodeVisible))
	must(t, err)
	pass, err := chromedp.Run(admin, chromedp.Text(chromedp.ID("access-pass"), chromedp.NodeVisible))
	must(t, err)
	screenshot(t, admin, "console-pass")
	wantAccessible(t, admin, "pass")
	// The check can fail: an image without a text alternative is critical.
	_, err = chromedp.Run(admin, chromedp.Evaluate[bool](`document.querySelector("main").appendChild(document.createElement("img")) !== null`))
	must(t, err)
	if found := axeViolations(t, admin); len(found) == 0 || !strings.HasPrefix(found[0], "image-alt") {
		t.Errorf("axe-core missed an image without alt: %q", found)
	}

	// ...and used in the member's own browser.
	member := newBrowser(t)
	a := c.addAuthRequest(nil)
	_, err = chromedp.RunResponse(member, chromedp.Navigate(c.http.URL+"/login?id="+a.ID))
	must(t, err)
	wantFocus(t, member, "email")
	_, err = chromedp.RunResponse(member, chromedp.KeyEvent(lost.Email+"\t"+testPassword+"\r"))
	must(t, err)
	resp, err = chromedp.RunResponse(member, chromedp.Click(chromedp.ID("use-access-pass"), chromedp.NodeVisible))
	must(t, err)
	if !strings.HasSuffix(resp.URL, accessPassURL(a.ID)) {
		t.Fatalf("the pass link led to %s", resp.URL)
	}
	wantFocus(t, member, "pass")
	resp, err = chromedp.RunResponse(member, chromedp.KeyEvent(pass+"\r"))
	must(t, err)
	if !strings.HasSuffix(resp.URL, enrollStepURL(a.ID)) {
		t.Fatalf("after the pass the member is at %s, want the enrollment", resp.URL)
	}
	screenshot(t, member, "access-pass-then-enroll")
}
