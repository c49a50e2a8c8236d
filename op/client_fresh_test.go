package op

import (
	"net/http"
	"testing"

	"github.com/gatehouse-id/gatehouse/storage"
)

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
