package main

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/op/signing"
	"github.com/gatehouse-id/gatehouse/secretkey"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

// defaultRetirement is how long a replaced key stays published with the
// default token lifetimes: the 1h ID token plus 5 minutes of clock skew.
const defaultRetirement = 65 * time.Minute

// startedServerKey creates the first signing key as gatehouse serve does
// on its first start, and returns its id.
func (d *cliDB) startedServerKey(alg string) string {
	d.t.Helper()
	ctx := context.Background()
	m := d.signingManager(alg)
	if err := m.EnsureKey(ctx); err != nil {
		d.t.Fatal(err)
	}
	k, err := m.Active(ctx)
	if err != nil {
		d.t.Fatal(err)
	}
	return k.ID
}

// signingManager is the key manager a server with the test's secret runs.
func (d *cliDB) signingManager(alg string) *signing.Manager {
	d.t.Helper()
	key, err := secretkey.Parse(d.key)
	if err != nil {
		d.t.Fatal(err)
	}
	return signing.New(d.store(), key, alg, signing.Options{})
}

func (d *cliDB) signingKeys() []signing.Info {
	d.t.Helper()
	infos, err := signing.List(context.Background(), d.store(), time.Now())
	if err != nil {
		d.t.Fatal(err)
	}
	return infos
}

func TestKeysRotateNowAndList(t *testing.T) {
	eachBackend(t, func(t *testing.T, b storagetest.Backend) {
		d := newCLIDB(t, b)
		wantContains(t, d.ok("", "keys", "list"), "No signing keys yet")
		var none []keyView
		d.okJSON(&none, "", "keys", "list")
		if none == nil || len(none) != 0 {
			t.Fatalf("keys list --output json on an empty database = %#v, want []", none)
		}

		first := d.startedServerKey("RS256")
		before := time.Now().Truncate(time.Microsecond)
		var r rotatedKey
		d.okJSON(&r, "", "keys", "rotate", "--now")
		if r.KID == "" || r.KID == first || r.Alg != "RS256" || r.Generation != 2 || !r.Now {
			t.Fatalf("keys rotate --now = %+v, want a new RS256 key of generation 2", r)
		}
		if r.ActiveFrom.Before(before) || r.ActiveFrom.After(time.Now()) {
			t.Errorf("the key rotated with --now is active from %v, want the time of rotation", r.ActiveFrom)
		}
		if want := r.ActiveFrom.Add(defaultRetirement); r.OlderKeysRetireAt == nil || !r.OlderKeysRetireAt.Equal(want) {
			t.Errorf("older keys retire at %v, want %v", r.OlderKeysRetireAt, want)
		}

		// A server started now signs with the key the command made.
		k, err := d.signingManager("RS256").Active(context.Background())
		if err != nil {
			t.Fatalf("a server started after the rotation: %v", err)
		}
		if k.ID != r.KID {
			t.Fatalf("a server signs with %s, want the rotated key %s", k.ID, r.KID)
		}

		e := d.lastAudit("key.rotated")
		want := map[string]any{"kid": r.KID, "alg": "RS256", "now": true}
		if got := d.auditDetails(e); !reflect.DeepEqual(got, want) {
			t.Errorf("key.rotated details = %v, want %v", got, want)
		}

		var list []keyView
		d.okJSON(&list, "", "keys", "list")
		if len(list) != 2 || list[0].KID != r.KID || list[0].Status != "active" || list[0].RetiredAt != nil ||
			list[1].KID != first || list[1].Status != "published" || list[1].RetiredAt == nil || !list[1].RetiredAt.Equal(*r.OlderKeysRetireAt) {
			t.Fatalf("keys list after rotation = %+v, want the new key active and the first published until %v", list, r.OlderKeysRetireAt)
		}
		wantContains(t, d.ok("", "keys", "list"), "KID", "STATUS", r.KID, "active", first, "published",
			formatTime(*r.OlderKeysRetireAt))
	})
}

func TestKeysRotateWaitsForRelyingPartiesToCacheTheKey(t *testing.T) {
	eachBackend(t, func(t *testing.T, b storagetest.Backend) {
		d := newCLIDB(t, b)
		first := d.startedServerKey("ES256")
		before := time.Now().Truncate(time.Microsecond)
		out := d.ok("", "keys", "rotate", "--signing-alg", "ES256")
		after := time.Now()
		keys := d.signingKeys()
		if len(keys) != 2 || keys[0].Alg != "ES256" || keys[0].Status != signing.StatusPending || keys[1].ID != first || keys[1].Status != signing.StatusActive {
			t.Fatalf("keys after rotation = %+v, want a pending ES256 key and the first still active", keys)
		}
		if from := keys[0].ActiveFrom; from.Before(before.Add(signing.DefaultCacheMaxAge)) || from.After(after.Add(signing.DefaultCacheMaxAge)) {
			t.Errorf("the rotated key starts signing at %v, want the /keys cache lifetime (%v) after the rotation", from, signing.DefaultCacheMaxAge)
		}
		wantContains(t, out, "Published signing key "+keys[0].ID+" (ES256, generation 2)",
			"active signing key at "+formatTime(keys[0].ActiveFrom),
			"Older keys stay published until "+formatTime(*keys[1].RetiredAt))
		if got, want := *keys[1].RetiredAt, keys[0].ActiveFrom.Add(defaultRetirement); !got.Equal(want) {
			t.Errorf("the first key retires at %v, want %v", got, want)
		}
		if details := d.auditDetails(d.lastAudit("key.rotated")); details["now"] != false {
			t.Errorf("key.rotated details = %v, want now false", details)
		}
	})
}

func TestKeysRotateBeforeFirstStartSignsAtOnce(t *testing.T) {
	eachBackend(t, func(t *testing.T, b storagetest.Backend) {
		d := newCLIDB(t, b)
		wantContains(t, d.ok("", "keys", "rotate"), "It signs new tokens from now on")
		keys := d.signingKeys()
		if len(keys) != 1 || keys[0].Generation != 1 || keys[0].Status != signing.StatusActive {
			t.Fatalf("keys after rotating an empty database = %+v, want one active key", keys)
		}
	})
}

func TestKeysRotateRefusesAnotherSecretKey(t *testing.T) {
	eachBackend(t, func(t *testing.T, b storagetest.Backend) {
		d := newCLIDB(t, b)
		first := d.startedServerKey("RS256")
		other, err := secretkey.Generate()
		if err != nil {
			t.Fatal(err)
		}
		wrong := *d
		wrong.key = other.String()
		wrong.fails("rotate: signing key "+first+": cannot decrypt the private key; is --secret-key the one this database was set up with?",
			"", "keys", "rotate", "--now")
		if keys := d.signingKeys(); len(keys) != 1 {
			t.Fatalf("%d keys stored after a refused rotation, want only the first", len(keys))
		}
	})
}

// Without --signing-alg, keys rotate keeps the servers' algorithm: an
// ES256 server gets an ES256 key, not the RS256 default.
func TestKeysRotateKeepsTheServersAlgorithm(t *testing.T) {
	eachBackend(t, func(t *testing.T, b storagetest.Backend) {
		d := newCLIDB(t, b)
		d.startedServerKey("ES256")
		var r rotatedKey
		d.okJSON(&r, "", "keys", "rotate")
		if r.Alg != "ES256" {
			t.Errorf("rotated to %s, want the servers' ES256", r.Alg)
		}
		d.okJSON(&r, "", "keys", "rotate", "--signing-alg", "RS256")
		if r.Alg != "RS256" {
			t.Errorf("--signing-alg RS256 rotated to %s", r.Alg)
		}
	})
}
