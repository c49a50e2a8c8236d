package main

import (
	"bytes"
	"context"
	"io"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/mail/mailtest"
	"github.com/gatehouse-id/gatehouse/secretkey"
	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

// gatehouseCmd runs one command and fails the test unless it succeeds.
func gatehouseCmd(t *testing.T, stdin string, args ...string) {
	t.Helper()
	var stderr bytes.Buffer
	if code := run(context.Background(), args, strings.NewReader(stdin), io.Discard, &stderr); code != 0 {
		t.Fatalf("gatehouse %s: exit %d: %s", strings.Join(args, " "), code, stderr.String())
	}
}

// serveMail starts a whole server, background work included, with cfg.
func serveMail(t *testing.T, cfg *Config, key string, st *storage.Store, logs io.Writer) {
	t.Helper()
	k, err := secretkey.Parse(key)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := newServer(context.Background(), cfg, k, st, cfg.Logger(logs))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.handler)
	t.Cleanup(ts.Close)
	srv.startBackground(context.Background())
	t.Cleanup(srv.stopBackground)
}

// TestAPasswordSetFromTheCommandLineIsMailed: an operator's change is
// queued with the change, and the server sends it, naming the command line.
func TestAPasswordSetFromTheCommandLineIsMailed(t *testing.T) {
	smtp := mailtest.Start(t, "127.0.0.1:0", nil, "")
	db := storagetest.SQLiteURL(t)
	flags := []string{"--database", db, "--secret-key", testKey, "--issuer", "https://id.example.com",
		"--smtp-url", "smtp://127.0.0.1:" + strconv.Itoa(smtp.Port())}
	gatehouseCmd(t, "correct horse battery\n", append([]string{"user", "create", "--email", "ada@example.com", "--password-stdin"}, flags...)...)
	gatehouseCmd(t, "another long passphrase\n", append([]string{"user", "set-password", "--email", "ada@example.com", "--password-stdin"}, flags...)...)

	st := storagetest.Open(t, db)
	if n, err := st.Outbox().Count(context.Background()); err != nil || n != 1 {
		t.Fatalf("%d mails queued (%v), want the notice of the new password", n, err)
	}
	if n := len(smtp.Mails()); n != 0 {
		t.Fatalf("the command sent %d mails itself; the server sends them", n)
	}
	cfg := mustLoad(t, flags...)
	serveMail(t, cfg, testKey, st, io.Discard)
	got := smtp.Wait(1)
	m := got[0]
	if m.To != "ada@example.com" || m.From != "gatehouse@id.example.com" || !strings.Contains(m.Data, "your password was changed") ||
		!strings.Contains(m.Data, "set by an operator") || !strings.Contains(m.Data, "the command line on the server") {
		t.Errorf("mail %+v", m)
	}
}

// TestDevelopmentMailGoesToTheLog: with a localhost issuer and no mail
// server, each mail is written to the log, marked as development mail.
func TestDevelopmentMailGoesToTheLog(t *testing.T) {
	db := storagetest.SQLiteURL(t)
	flags := []string{"--database", db, "--secret-key", testKey, "--issuer", "http://localhost:8080"}
	gatehouseCmd(t, "correct horse battery\n", append([]string{"user", "create", "--email", "ada@example.com", "--password-stdin"}, flags...)...)
	gatehouseCmd(t, "another long passphrase\n", append([]string{"user", "set-password", "--email", "ada@example.com", "--password-stdin"}, flags...)...)
	st := storagetest.Open(t, db)
	logs := &syncBuffer{}
	serveMail(t, mustLoad(t, flags...), testKey, st, logs)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if n, _ := st.Outbox().Count(context.Background()); n == 0 {
			break
		}
	}
	out := logs.String()
	if !strings.Contains(out, "development mail") || !strings.Contains(out, "your password was changed") {
		t.Errorf("the log holds no development mail:\n%s", out)
	}
}

// TestWithoutMailNothingIsQueuedAndTheServerSaysSo: with no mail server and
// an issuer elsewhere, no notice waits in the database for nobody, and the
// start-up log says mail is not configured.
func TestWithoutMailNothingIsQueuedAndTheServerSaysSo(t *testing.T) {
	db := storagetest.SQLiteURL(t)
	flags := []string{"--database", db, "--secret-key", testKey, "--issuer", "https://id.example.com"}
	gatehouseCmd(t, "correct horse battery\n", append([]string{"user", "create", "--email", "ada@example.com", "--password-stdin"}, flags...)...)
	gatehouseCmd(t, "another long passphrase\n", append([]string{"user", "set-password", "--email", "ada@example.com", "--password-stdin"}, flags...)...)
	st := storagetest.Open(t, db)
	if n, _ := st.Outbox().Count(context.Background()); n != 0 {
		t.Errorf("%d mails queued with mail not configured", n)
	}
	logs := &syncBuffer{}
	serveMail(t, mustLoad(t, flags...), testKey, st, logs)
	if !strings.Contains(logs.String(), "mail is not configured") {
		t.Errorf("the start-up log does not say mail is not configured:\n%s", logs.String())
	}
}
