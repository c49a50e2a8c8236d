package ui

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
	"golang.org/x/net/html"
)

// TestTheAccountPageListsAndEndsSessions: the user sees every browser they
// are signed in on, this one marked, and can sign one out or all others.
func TestTheAccountPageListsAndEndsSessions(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		env := newEnv(t, store)
		ctx := context.Background()
		e := env.browser(t)
		user := e.newUser()
		phone, laptop := e.addSession(user, time.Now(), time.Now().Add(time.Hour)), e.addSession(user, time.Now(), time.Now().Add(time.Hour))
		stranger := e.addSession(e.newUser(), time.Now(), time.Now().Add(time.Hour))
		_, refresh := storage.NewSecret()
		must(t, store.Tokens().Create(ctx, &storage.Token{IDHash: refresh, Kind: storage.TokenRefresh, FamilyID: "f", ClientID: "c",
			Subject: user.ID, ExpiresAt: time.Now().Add(time.Hour)}))
		this := e.signInAs(user, time.Now())

		doc := page(t, e.get(accountHome))
		rows := find(doc, byClass("session"))
		if len(rows) != 3 || len(find(doc, byID("this-session"))) != 1 {
			t.Fatalf("%d sessions listed, want 3 with this one marked", len(rows))
		}
		handles := map[string]bool{}
		for _, in := range find(doc, byName("session")) {
			v, _ := attr(in, "value")
			handles[v] = true
		}
		if len(handles) != 2 || handles[sessionHandle(storage.HashSecret(this))] {
			t.Fatalf("sign-out buttons for %v: want the two other browsers only", handles)
		}

		// Another user's session, or one that is gone, cannot be named.
		resp := e.post("/account/security/sessions/end", url.Values{"session": {sessionHandle(storage.HashSecret(stranger))}})
		wantStatus(t, resp, http.StatusNotFound)
		if !e.sessionLive(stranger) {
			t.Fatal("another user's browser was signed out")
		}
		wantRedirect(t, e.post("/account/security/sessions/end", url.Values{"session": {sessionHandle(storage.HashSecret(phone))}}),
			"/account/security?done=session")
		if e.sessionLive(phone) || !e.sessionLive(laptop) || !e.sessionLive(this) {
			t.Fatal("signing one browser out did not end exactly that one")
		}
		wantRedirect(t, e.post("/account/security/sessions/end-others", url.Values{}), "/account/security?done=others")
		if e.sessionLive(laptop) || !e.sessionLive(this) {
			t.Fatal("signing out everywhere else did not keep exactly this browser")
		}
		if tok, _ := store.Tokens().Get(ctx, refresh); tok.Active(time.Now()) {
			t.Error("the refresh token of an application elsewhere is still active")
		}
		if len(e.auditEvents(directory.EventSessionEnded)) != 1 || len(e.auditEvents(directory.EventOtherSessionsEnded)) != 1 {
			t.Error("the sign-outs were not audited")
		}
	})
}

func byClass(class string) func(*html.Node) bool {
	return func(n *html.Node) bool { v, _ := attr(n, "class"); return n.Type == html.ElementNode && v == class }
}

func byName(name string) func(*html.Node) bool {
	return func(n *html.Node) bool { v, _ := attr(n, "name"); return n.Type == html.ElementNode && v == name }
}
