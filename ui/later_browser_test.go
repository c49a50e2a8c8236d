package ui

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

// TestBrowserForcedEnrollment: after the password, a member whose
// organisation requires two-step verification sees the two ways to set it
// up; before the deadline also "Remind me later", which signs them in.
func TestBrowserForcedEnrollment(t *testing.T) {
	ctx := newBrowser(t)
	e := accountEnv(t, storagetest.Open(t, storagetest.SQLiteURL(t)))

	for _, tc := range []struct {
		name  string
		since time.Time // when the organisation's 72h grace began
		later bool
	}{
		{"with-remind-me-later", time.Now().Add(-time.Hour), true},
		{"required", time.Now().Add(-100 * time.Hour), false},
	} {
		user := e.newUser()
		e.addOrgWithGrace(user, "Acme", 72*time.Hour, tc.since)
		a := e.addAuthRequest(nil)
		_, err := chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{}) // a new visitor each time
		must(t, err)
		_, err = chromedp.RunResponse(ctx, chromedp.Navigate(e.http.URL+"/login?id="+a.ID))
		must(t, err)
		wantFocus(t, ctx, "email")
		resp, err := chromedp.RunResponse(ctx, chromedp.KeyEvent(user.Email+"\t"+testPassword+"\r"))
		must(t, err)
		if !strings.HasSuffix(resp.URL, enrollStepURL(a.ID)) {
			t.Fatalf("%s: after the password: %s", tc.name, resp.URL)
		}
		later, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("remind-me-later") !== null`))
		must(t, err)
		if later != tc.later {
			t.Fatalf("%s: Remind me later offered %v, want %v", tc.name, later, tc.later)
		}
		screenshot(t, ctx, "enroll-"+tc.name)
		if !tc.later {
			continue
		}
		resp, err = chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID("remind-me-later"), chromedp.NodeVisible))
		must(t, err)
		if !strings.HasSuffix(resp.URL, testCallbackURL(a.ID)) {
			t.Fatalf("after Remind me later the browser is at %s, want the provider's callback", resp.URL)
		}
		if got := e.authRequest(a.ID); got.ACR != "urn:gatehouse:acr:pwd" {
			t.Errorf("acr %q", got.ACR)
		}
	}
}
