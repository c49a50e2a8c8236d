package ui

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse-id/gatehouse/password"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

func TestNewConfig(t *testing.T) {
	store := storagetest.Open(t, storagetest.SQLiteURL(t))
	hasher := password.NewHasher(password.DefaultParams, 1)

	t.Run("defaults", func(t *testing.T) {
		u, err := New(Config{CallbackURL: testCallbackURL}, store, hasher)
		must(t, err)
		want := Config{ProductName: "Gatehouse", SessionCookie: "gatehouse_session", SessionIdle: 30 * time.Minute, SessionMax: 12 * time.Hour}
		got := u.cfg
		if got.ProductName != want.ProductName || got.SessionCookie != want.SessionCookie ||
			got.SessionIdle != want.SessionIdle || got.SessionMax != want.SessionMax || got.Logger == nil {
			t.Errorf("defaults %+v, want %+v and a logger", got, want)
		}
	})
	t.Run("secure cookies get the __Host- prefix", func(t *testing.T) {
		u, err := New(Config{Issuer: "https://id.example", SecureCookies: true, CallbackURL: testCallbackURL}, store, hasher)
		must(t, err)
		if u.cfg.SessionCookie != "__Host-gatehouse_session" {
			t.Errorf("cookie %q, want __Host-gatehouse_session", u.cfg.SessionCookie)
		}
	})
	t.Run("two UIs share one registry's metrics", func(t *testing.T) {
		reg := prometheus.NewRegistry()
		_, err := New(Config{Metrics: reg, CallbackURL: testCallbackURL}, store, hasher)
		must(t, err)
		_, err = New(Config{Metrics: reg, CallbackURL: testCallbackURL}, store, hasher)
		must(t, err)
	})

	refused := []struct {
		name   string
		cfg    Config
		noDeps bool
		want   string
	}{
		{name: "__Host- cookie without Secure", cfg: Config{SessionCookie: "__Host-gatehouse_session", CallbackURL: testCallbackURL}, want: "SecureCookies"},
		{name: "relative issuer", cfg: Config{Issuer: "/auth", CallbackURL: testCallbackURL}, want: "issuer"},
		{name: "no callback URL", cfg: Config{}, want: "callback"},
		{name: "no store or hasher", noDeps: true, want: "required"},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.noDeps {
				_, err = New(tc.cfg, nil, nil)
			} else {
				_, err = New(tc.cfg, store, hasher)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: %v, want an error about %s", err, tc.want)
			}
		})
	}
}
