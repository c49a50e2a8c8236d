package main

import (
	"context"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/mail/mailtest"
	"github.com/gatehouse-id/gatehouse/mfa/recovery"
	"github.com/gatehouse-id/gatehouse/secretkey"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

// TestRecoveryThroughTheWholeServer: a user who lost their phone signs in
// to a relying party with a recovery code and the mailed link, as serve
// wires it (the outbox sending to a real SMTP server); afterwards the
// password alone signs in where nothing requires a second factor, and the
// tokens say so.
func TestRecoveryThroughTheWholeServer(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			smtp := mailtest.Start(t, "127.0.0.1:0", nil, "")
			key := newSecretKey(t)
			g := startConfiguredGatehouse(t, b.URL(t), key, func(c *Config) {
				c.SMTPURL = "smtp://127.0.0.1:" + strconv.Itoa(smtp.Port()) + "?tls=none"
			})
			user := g.user("lost@example.com", "correct horse battery staple")
			g.enrollApp(user)
			codes, err := recovery.Generate(2)
			if err != nil {
				t.Fatal(err)
			}
			rk := key.Derive(secretkey.PurposeRecoveryCodes)
			if err := g.store.RecoveryCodes().Replace(context.Background(), user.ID,
				[][]byte{recovery.Hash(rk, codes[0]), recovery.Hash(rk, codes[1])}); err != nil {
				t.Fatal(err)
			}
			rp := g.relyingParty("notes")

			br := newBrowser(t)
			_, p := rp.start(br)
			p = signIn(t, br, p, user.Email, "correct horse battery staple")
			if !isCodePage(p) {
				t.Fatalf("expected the code page, got %s", p.url)
			}
			p = br.get(g.issuer + "/login/recovery?" + url.Values{"id": {p.url.Query().Get("id")}}.Encode())
			p = br.submit(p, map[string]string{"code": strings.ToUpper(codes[0])})
			if p.url.Path != "/login/recovery/sent" {
				t.Fatalf("after the code: %d at %s:\n%.1000s", p.status, p.url, p.body)
			}
			m := smtp.Wait(1)[0]
			links, err := m.Links()
			if err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(links, func(l string) bool { return strings.HasPrefix(l, g.issuer+directory.PathRecoveryConfirm+"?token=") })
			if m.To != user.Email || i < 0 {
				t.Fatalf("mail to %s with links %q", m.To, links)
			}
			phone := newBrowser(t)
			confirmPage := phone.get(links[i])
			done := phone.submit(confirmPage, nil)
			if !strings.Contains(done.body, "Two-step verification was reset") {
				t.Fatalf("after confirming: %d at %s:\n%.1000s", done.status, done.url, done.body)
			}
			reset := smtp.Wait(2)[1]
			if resetLinks, _ := reset.Links(); !slices.ContainsFunc(resetLinks, func(l string) bool {
				return strings.HasPrefix(l, g.issuer+directory.PathEnrollmentLink+"?token=")
			}) {
				t.Errorf("the reset notice carries no enrollment link: %q", resetLinks)
			}

			// Nothing requires a second factor now: the password signs in, at its level.
			f, p := rp.start(br)
			got := f.finish(signIn(t, br, p, user.Email, "correct horse battery staple"))
			if !slices.Equal(got.claims.AMR, []string{"pwd"}) || got.claims.ACR != "urn:gatehouse:acr:pwd" {
				t.Errorf("after the reset: amr %v acr %q", got.claims.AMR, got.claims.ACR)
			}
		})
	}
}
