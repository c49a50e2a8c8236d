package op

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/gatehouse-id/gatehouse/op/signing"
	"github.com/gatehouse-id/gatehouse/secretkey"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

// Discovery lists the algorithm of every published key, so a rotation to
// another algorithm is announced before its key signs a token.
func TestDiscoveryFollowsKeyRotation(t *testing.T) {
	store := storagetest.Open(t, storagetest.SQLiteURL(t))
	secret, err := secretkey.Generate()
	must(t, err)
	keys := signing.New(store, secret, "RS256", signing.Options{})
	must(t, keys.EnsureKey(context.Background()))
	var cryptoKey [32]byte
	rand.Read(cryptoKey[:])
	e := newEnvWith(t, store, keys, cryptoKey)
	algs := func() []string {
		resp, err := http.Get(e.issuer + pathDiscovery)
		must(t, err)
		defer resp.Body.Close()
		var doc struct {
			Algs []string `json:"id_token_signing_alg_values_supported"`
		}
		must(t, json.NewDecoder(resp.Body).Decode(&doc))
		return doc.Algs
	}
	if got := algs(); !slices.Equal(got, []string{"RS256"}) {
		t.Fatalf("before the rotation: %v", got)
	}
	_, err = signing.New(store, secret, "ES256", signing.Options{}).Rotate(context.Background(), false)
	must(t, err)
	keys.Invalidate() // as the manager's reload does within the /keys cache lifetime
	if got := algs(); !slices.Equal(got, []string{"ES256", "RS256"}) {
		t.Errorf("after publishing an ES256 key: %v, want both", got)
	}
}
