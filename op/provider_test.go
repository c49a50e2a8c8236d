package op

import (
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

func TestNewValidatesConfig(t *testing.T) {
	store := storagetest.Open(t, storagetest.SQLiteURL(t))
	keys := newTestKeys(t)
	key := [32]byte{1}
	for name, cfg := range map[string]Config{
		"no issuer":           {CryptoKey: key},
		"relative issuer":     {Issuer: "/auth", CryptoKey: key},
		"issuer with path":    {Issuer: "https://id.example.com/auth", CryptoKey: key},
		"issuer with query":   {Issuer: "https://id.example.com?x=1", CryptoKey: key},
		"ftp issuer":          {Issuer: "ftp://id.example.com", CryptoKey: key},
		"no token crypto key": {Issuer: "https://id.example.com"},
	} {
		if _, err := New(withTestPages(cfg), store, keys); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := New(Config{Issuer: "https://id.example.com", CryptoKey: key}, store, keys); err == nil {
		t.Error("accepted a provider without the hosted pages' side of the contract")
	}
	p, err := New(withTestPages(Config{Issuer: "https://id.example.com/", CryptoKey: key}), store, keys)
	must(t, err)
	c := p.cfg
	if c.Issuer != "https://id.example.com" || c.AccessTokenTTL != 15*time.Minute || c.IDTokenTTL != time.Hour ||
		c.RefreshTokenTTL != 720*time.Hour || c.KeysCacheMaxAge != time.Hour || c.SessionCookie != testCookie {
		t.Errorf("defaults: %+v", c)
	}
}
