package op

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/gatehouse-id/gatehouse/op/signing"
	"github.com/gatehouse-id/gatehouse/secretkey"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

// Two replicas built as `gatehouse serve` builds them — the same secret
// key, their own signing key managers, one database — honour each other's
// tokens, here with ES256 ID tokens.
func TestReplicasShareTokensAndKeys(t *testing.T) {
	for _, backend := range storagetest.Backends() {
		t.Run(backend.Name, func(t *testing.T) {
			store := storagetest.Open(t, backend.URL(t))
			secret, err := secretkey.Generate()
			must(t, err)
			var cryptoKey [32]byte
			copy(cryptoKey[:], secret.Derive(secretkey.PurposeTokenCrypto))
			first := signing.New(store, secret, "ES256", signing.Options{})
			must(t, first.EnsureKey(t.Context()))
			a := newEnvWith(t, store, first, cryptoKey)

			// The second replica serves the same issuer from another address.
			b := httptest.NewServer(newTestProvider(t, a.issuer, store, signing.New(store, secret, "ES256", signing.Options{}),
				cryptoKey, nil).Handler())
			defer b.Close()

			s := a.signIn(a.rp(a.conf, a.secret))
			req, _ := http.NewRequest(http.MethodGet, b.URL+pathUserinfo, nil)
			req.Header.Set("Authorization", "Bearer "+s.token.AccessToken)
			if status, m := a.do(req); status != http.StatusOK || m["sub"] != a.user.ID {
				t.Fatalf("userinfo at the other replica: %d %v", status, m)
			}
			form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {s.token.RefreshToken}}
			status, m := a.postTo(b.URL, pathToken, form, a.conf.ID, a.secret)
			if status != http.StatusOK {
				t.Fatalf("refresh at the other replica: %d %v", status, m)
			}
			raw, _ := m["id_token"].(string)
			if _, err := a.rp(a.conf, a.secret).verifier.Verify(a.ctx, raw); err != nil {
				t.Fatalf("ES256 ID token of the other replica does not verify: %v", err)
			}
		})
	}
}
