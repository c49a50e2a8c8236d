package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/middleware"
	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

// jsonLines reads a JSON log, one entry a line.
func jsonLines(log *syncBuffer) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(log.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

// TestAuthorizeRefusalsAreStyledPages: /authorize's refusals that cannot go
// back to the application look like every other hosted page (the
// stylesheet, which follows the system's light or dark mode, the product
// name, the request id for support), and the provider's log line about it
// names the same request id.
func TestAuthorizeRefusalsAreStyledPages(t *testing.T) {
	st := storagetest.Open(t, storagetest.SQLiteURL(t))
	ts := httptest.NewUnstartedServer(nil)
	issuer := "http://" + ts.Listener.Addr().String()
	cfg := &Config{Addr: ts.Listener.Addr().String(), Issuer: issuer, Database: "sqlite:unused", SigningAlg: "RS256",
		AccessTokenTTL: 15 * time.Minute, IDTokenTTL: time.Hour, RefreshTokenTTL: 720 * time.Hour,
		SessionIdle: 30 * time.Minute, SessionMax: 12 * time.Hour, LogFormat: "json"}
	logs := &syncBuffer{}
	srv, err := newServer(context.Background(), cfg, newSecretKey(t), st, cfg.Logger(logs))
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = srv.handler
	ts.Start()
	t.Cleanup(ts.Close)
	app := &storage.Client{Name: "App", RedirectURIs: storage.StringList{"https://rp.example.com/cb"}}
	if err := st.Clients().Create(context.Background(), app); err != nil {
		t.Fatal(err)
	}

	authorize := url.Values{"response_type": {"code"}, "scope": {"openid"}, "client_id": {app.ID}, "redirect_uri": {"https://rp.example.com/cb"}}
	with := func(name, value string) string {
		q := url.Values{}
		for k, v := range authorize {
			q[k] = v
		}
		q.Set(name, value)
		return issuer + "/authorize?" + q.Encode()
	}
	noRedirects := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for name, req := range map[string]func() (*http.Response, error){
		"unknown client": func() (*http.Response, error) { return noRedirects.Get(with("client_id", "nobody")) },
		"untrusted redirect URI": func() (*http.Response, error) {
			return noRedirects.Get(with("redirect_uri", "https://evil.example/cb"))
		},
		"malformed request": func() (*http.Response, error) {
			return noRedirects.Post(issuer+"/authorize", "application/json", strings.NewReader("{}"))
		},
	} {
		t.Run(name, func(t *testing.T) {
			resp, err := req()
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			page := string(body)
			id := resp.Header.Get(middleware.RequestIDHeader)
			if resp.StatusCode != http.StatusBadRequest || id == "" {
				t.Fatalf("status %d, request id %q", resp.StatusCode, id)
			}
			for _, want := range []string{`<link rel="stylesheet" href="/static/gatehouse.css`, `class="brand-name">Gatehouse<`,
				"We could not continue signing you in", id} {
				if !strings.Contains(page, want) {
					t.Errorf("the page lacks %q:\n%.2000s", want, page)
				}
			}
			if csp := resp.Header.Get("Content-Security-Policy"); csp != middleware.ContentSecurityPolicy {
				t.Errorf("Content-Security-Policy %q", csp)
			}
			found := false
			for _, line := range jsonLines(logs) {
				if line["msg"] == "sign-in request refused" && line["request_id"] == id {
					found = true
				}
			}
			if !found {
				t.Errorf("no log line about the refusal names request id %s", id)
			}
		})
	}
}
