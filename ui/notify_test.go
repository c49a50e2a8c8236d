package ui

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/mail"
	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

// TestUsersAreToldOfPasswordChangesAndLocks: the changes a user must hear
// of reach the notifier from the pages, in the change's transaction.
func TestUsersAreToldOfPasswordChangesAndLocks(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		env := newEnv(t, store)
		notes := &recordingNotifier{}
		env.ui.dir.SetNotifier(notes)
		t.Cleanup(func() { env.ui.dir.SetNotifier(nil) })

		e := env.browser(t)
		user := e.newUser()
		e.signInAs(user, time.Now())
		next := "a brand new passphrase"
		resp := e.post("/account/security/password", url.Values{"current_password": {testPassword}, "new_password": {next}, "confirm_password": {next}})
		wantRedirect(t, resp, "/account/security?done=password")
		if want := []string{user.Email + " " + string(directory.EventPasswordChanged)}; !slices.Equal(notes.events, want) {
			t.Errorf("notified %q, want %q", notes.events, want)
		}

		notes.events = nil
		locked := e.newUser()
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		for range mfaLockEvery {
			_, err := env.ui.guardSecondFactor(context.Background(), r, mfaAttempt{UserID: locked.ID, Method: "totp"},
				func(*storage.Store) (string, error) { return "wrong_code", nil })
			must(t, err)
		}
		if want := []string{locked.Email + " " + string(directory.EventFactorLocked)}; !slices.Equal(notes.events, want) {
			t.Errorf("notified %q, want %q", notes.events, want)
		}
	})
}

func TestTheSecurityPageSaysWhenMailIsNotConfigured(t *testing.T) {
	store := storagetest.Open(t, storagetest.SQLiteURL(t))
	env := newEnv(t, store)
	e := env.browser(t)
	e.signInAs(e.newUser(), time.Now())
	if len(find(page(t, e.get(accountHome)), byID("no-mail"))) != 1 {
		t.Error("no word that mail is not configured")
	}
	env.ui.cfg.MailConfigured = true
	t.Cleanup(func() { env.ui.cfg.MailConfigured = false })
	if len(find(page(t, e.get(accountHome)), byID("no-mail"))) != 0 {
		t.Error("says mail is not configured when it is")
	}
}

// TestAChangeQueuesItsMailWhateverTheMailServerDoes: the page only queues
// the notice with the change, so a mail server that is down never turns a
// page into an error; the outbox sends it later.
func TestAChangeQueuesItsMailWhateverTheMailServerDoes(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		env := newEnv(t, store)
		key := make([]byte, 32)
		sender := mail.LogSender{Log: slog.New(slog.DiscardHandler)} // the page never waits for it
		outbox, err := mail.NewOutbox(store, key, sender, nil, nil)
		must(t, err)
		messages, err := mail.NewRenderer("Gatehouse", "http://localhost:8080/account/security")
		must(t, err)
		env.ui.dir.SetNotifier(directory.MailNotifier{Messages: messages, Outbox: outbox})
		t.Cleanup(func() { env.ui.dir.SetNotifier(nil) })

		e := env.browser(t)
		e.signInAs(e.newUser(), time.Now())
		next := "a brand new passphrase"
		resp := e.post("/account/security/password", url.Values{"current_password": {testPassword}, "new_password": {next}, "confirm_password": {next}})
		wantRedirect(t, resp, "/account/security?done=password")
		if n, err := store.Outbox().Count(context.Background()); err != nil || n != 1 {
			t.Errorf("%d mails queued (%v), want the notice", n, err)
		}
	})
}
