package op

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/storage"
)

func TestClientCacheKeepsClientsBriefly(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		cc := newClientCache(e.store)
		clock := time.Now()
		cc.now = func() time.Time { return clock }

		c, err := cc.get(e.ctx, e.conf.ID)
		if err != nil || c.ID != e.conf.ID || !registeredRedirect(c, confRedirect) {
			t.Fatalf("get: %+v, %v; want the registered client", c, err)
		}
		must(t, e.store.Clients().Delete(e.ctx, e.conf.ID))

		clock = clock.Add(clientCacheTTL - time.Second)
		if _, err := cc.get(e.ctx, e.conf.ID); err != nil {
			t.Errorf("within the cache lifetime: %v, want the client kept", err)
		}
		clock = clock.Add(2 * time.Second)
		if _, err := cc.get(e.ctx, e.conf.ID); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("after the cache lifetime: %v, want ErrNotFound (the deletion seen)", err)
		}
	})
}

func TestClientCacheNeverKeepsUnknownClients(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		cc := newClientCache(e.store)
		const id = "registered-after-first-try"
		if _, err := cc.get(e.ctx, id); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("unknown client: %v, want ErrNotFound", err)
		}
		must(t, e.store.Clients().Create(e.ctx, &storage.Client{ID: id, Name: "New", Public: true,
			RedirectURIs: storage.StringList{pubRedirect}}))
		if c, err := cc.get(e.ctx, id); err != nil || c.ID != id {
			t.Errorf("after registration: %+v, %v; want the new client at once", c, err)
		}
	})
}

// The token endpoint never trusts the cache of /authorize: a client
// deleted after its user signed in cannot redeem the code.
func TestDeletedClientCannotRedeemCodeIssuedBefore(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		code, verifier := e.code(e.rp(e.conf, e.secret))
		must(t, e.store.Clients().Delete(e.ctx, e.conf.ID))
		status, body := e.redeem(code, verifier)
		if status != http.StatusUnauthorized || body["error"] != "invalid_client" {
			t.Errorf("redeem after deletion: %d %v, want 401 invalid_client", status, body)
		}
	})
}

// A client with a new secret is refused the old one at once, although
// /authorize has just loaded it.
func TestRotatedSecretRefusedAtOnce(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		code, verifier := e.code(e.rp(e.conf, e.secret))
		_, digest := storage.NewSecret()
		must(t, e.store.Clients().SetSecretHash(e.ctx, e.conf.ID, digest))
		status, body := e.redeem(code, verifier)
		if status != http.StatusUnauthorized || body["error"] != "invalid_client" {
			t.Errorf("redeem with the old secret: %d %v, want 401 invalid_client", status, body)
		}
	})
}
