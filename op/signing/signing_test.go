package signing

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-id/gatehouse/secretkey"
	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

var (
	testSecret  = secretkey.Key{1, 2, 3, 4, 5, 6, 7, 8}
	otherSecret = secretkey.Key{9, 9, 9}
)

const (
	testCacheMaxAge   = time.Hour
	testTokenLifetime = 2 * time.Hour
	testReload        = time.Minute
)

// clock is a fake time source that moves only when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().UTC().Truncate(time.Second)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// database gives each test a fresh database; open returns one more
// connection pool on it, as another replica would have.
type database struct {
	url string
}

func (d database) open(t *testing.T) *storage.Store {
	t.Helper()
	return storagetest.Open(t, d.url)
}

func eachBackend(t *testing.T, fn func(t *testing.T, db database)) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) { fn(t, database{url: b.URL(t)}) })
	}
}

func newManager(st *storage.Store, alg string, c *clock) *Manager {
	return New(st, testSecret, alg, Options{
		CacheMaxAge:   testCacheMaxAge,
		TokenLifetime: testTokenLifetime,
		Reload:        testReload,
		Now:           c.Now,
	})
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func storedKeys(t *testing.T, st *storage.Store) []storage.SigningKey {
	t.Helper()
	return must[[]storage.SigningKey](t)(allKeys(context.Background(), st))
}

func activeID(t *testing.T, m *Manager) string {
	t.Helper()
	return must[*Key](t)(m.Active(context.Background())).ID
}

func publishedIDs(t *testing.T, m *Manager) []string {
	t.Helper()
	var ids []string
	for _, k := range must[[]jose.JSONWebKey](t)(m.Published(context.Background())) {
		ids = append(ids, k.KeyID)
	}
	return ids
}

func TestFirstKeyIsCreatedOnceByReplicasStartingTogether(t *testing.T) {
	eachBackend(t, func(t *testing.T, db database) {
		const replicas = 8
		c := newClock()
		managers := make([]*Manager, replicas)
		for i := range managers {
			managers[i] = newManager(db.open(t), "RS256", c)
		}
		errs := make([]error, replicas)
		var wg sync.WaitGroup
		for i, m := range managers {
			wg.Go(func() { errs[i] = m.EnsureKey(context.Background()) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("replica %d: EnsureKey: %v", i, err)
			}
		}
		keys := storedKeys(t, db.open(t))
		if len(keys) != 1 || keys[0].Generation != 1 {
			t.Fatalf("stored keys after concurrent starts = %+v, want exactly one, generation 1", keys)
		}
		for i, m := range managers {
			if got := activeID(t, m); got != keys[0].ID {
				t.Errorf("replica %d signs with %q, want the one stored key %q", i, got, keys[0].ID)
			}
		}
		// A restart finds the key and makes no other.
		check(t, managers[0].EnsureKey(context.Background()))
		if n := len(storedKeys(t, db.open(t))); n != 1 {
			t.Errorf("after a restart %d keys are stored, want 1", n)
		}
	})
}

func TestPrivateKeyIsStoredEncrypted(t *testing.T) {
	eachBackend(t, func(t *testing.T, db database) {
		ctx := context.Background()
		st := db.open(t)
		m := newManager(st, "ES256", newClock())
		check(t, m.EnsureKey(ctx))
		der := must[[]byte](t)(x509.MarshalPKCS8PrivateKey(must[*Key](t)(m.Active(ctx)).Signer))
		row := storedKeys(t, st)[0]
		if bytes.Contains(row.PrivateKey, der) {
			t.Fatal("the stored private key contains the PKCS#8 DER in clear")
		}
		if _, err := x509.ParsePKCS8PrivateKey(row.PrivateKey); err == nil {
			t.Fatal("the stored private key parses as PKCS#8 without decryption")
		}

		other := New(db.open(t), otherSecret, "ES256", Options{})
		if _, err := other.Active(ctx); !errors.Is(err, errUndecryptable) {
			t.Errorf("Active under another secret key: error %v, want %v", err, errUndecryptable)
		}
		if err := other.EnsureKey(ctx); !errors.Is(err, errUndecryptable) {
			t.Errorf("EnsureKey under another secret key: error %v, want %v", err, errUndecryptable)
		}
		if _, err := other.Rotate(ctx, true); !errors.Is(err, errUndecryptable) {
			t.Errorf("Rotate under another secret key: error %v, want %v", err, errUndecryptable)
		}
		if n := len(storedKeys(t, st)); n != 1 {
			t.Errorf("%d keys stored after the refused rotation, want only the first", n)
		}
	})
}

func TestCiphertextMovedToAnotherKeyDoesNotDecrypt(t *testing.T) {
	eachBackend(t, func(t *testing.T, db database) {
		ctx := context.Background()
		st := db.open(t)
		m := newManager(st, "RS256", newClock())
		check(t, m.EnsureKey(ctx))
		must[*storage.SigningKey](t)(m.Rotate(ctx, false))
		keys := storedKeys(t, st)
		newer, older := keys[0], keys[1]
		_, err := st.DB().ExecContext(ctx, `UPDATE signing_keys SET private_key = $1 WHERE id = $2`, older.PrivateKey, newer.ID)
		check(t, err)

		fresh := newManager(db.open(t), "RS256", newClock())
		if _, err := fresh.Active(ctx); !errors.Is(err, errUndecryptable) {
			t.Errorf("Active with a ciphertext copied from key %s onto key %s: error %v, want %v",
				older.ID, newer.ID, err, errUndecryptable)
		}
		// The same ciphertext still opens on its own row.
		if _, err := open(m.aead, older.ID, older.PrivateKey); err != nil {
			t.Errorf("the ciphertext does not open on its own row: %v", err)
		}
	})
}

func TestActiveKeySignsTokensThePublishedKeyVerifies(t *testing.T) {
	tests := []struct {
		alg     string
		keyType func(any) bool
	}{
		{"RS256", func(k any) bool { r, ok := k.(*rsa.PrivateKey); return ok && r.N.BitLen() == 2048 }},
		{"ES256", func(k any) bool { e, ok := k.(*ecdsa.PrivateKey); return ok && e.Curve == elliptic.P256() }},
	}
	kidForm := regexp.MustCompile(`^[A-Za-z0-9_-]{16}$`)
	for _, tc := range tests {
		t.Run(tc.alg, func(t *testing.T) {
			eachBackend(t, func(t *testing.T, db database) {
				ctx := context.Background()
				m := newManager(db.open(t), tc.alg, newClock())
				check(t, m.EnsureKey(ctx))
				k := must[*Key](t)(m.Active(ctx))
				if string(k.Alg) != tc.alg || !tc.keyType(k.Signer) {
					t.Fatalf("active key is %s %T, want a %s key", k.Alg, k.Signer, tc.alg)
				}
				if !kidForm.MatchString(k.ID) {
					t.Errorf("key id %q is not 16 URL-safe characters", k.ID)
				}

				signer := must[jose.Signer](t)(jose.NewSigner(jose.SigningKey{Algorithm: k.Alg, Key: k.Signer},
					(&jose.SignerOptions{}).WithHeader(jose.HeaderKey("kid"), k.ID)))
				payload := []byte(`{"sub":"user-1"}`)
				token := must[string](t)(must[*jose.JSONWebSignature](t)(signer.Sign(payload)).CompactSerialize())

				var set jose.JSONWebKeySet
				check(t, json.Unmarshal(must[[]byte](t)(m.JWKS(ctx)), &set))
				published := must[[]jose.JSONWebKey](t)(m.Published(ctx))
				for name, keys := range map[string][]jose.JSONWebKey{"Published": published, "JWKS": set.Keys} {
					if len(keys) != 1 || keys[0].KeyID != k.ID || keys[0].Algorithm != tc.alg || keys[0].Use != "sig" || !keys[0].IsPublic() {
						t.Fatalf("%s = %+v, want the public %s key %s for signatures", name, keys, tc.alg, k.ID)
					}
					jws := must[*jose.JSONWebSignature](t)(jose.ParseSigned(token, []jose.SignatureAlgorithm{k.Alg}))
					got, err := jws.Verify(keys[0])
					if err != nil || !bytes.Equal(got, payload) {
						t.Fatalf("verifying with the key from %s: %v", name, err)
					}
				}
			})
		})
	}
}

func TestRotatedKeySignsOnlyAfterRelyingPartiesCachedIt(t *testing.T) {
	eachBackend(t, func(t *testing.T, db database) {
		ctx := context.Background()
		c := newClock()
		m := newManager(db.open(t), "RS256", c)
		check(t, m.EnsureKey(ctx))
		old := activeID(t, m)

		rotated := must[*storage.SigningKey](t)(m.Rotate(ctx, false))
		if rotated.Generation != 2 || rotated.Alg != "RS256" || !rotated.ActiveFrom.Equal(c.Now().Add(testCacheMaxAge)) {
			t.Fatalf("rotated key = generation %d %s active from %v, want generation 2 RS256 active from %v",
				rotated.Generation, rotated.Alg, rotated.ActiveFrom, c.Now().Add(testCacheMaxAge))
		}
		if got := publishedIDs(t, m); !slices.Equal(got, []string{rotated.ID, old}) {
			t.Fatalf("published right after rotation = %v, want the new key then the old [%s %s]", got, rotated.ID, old)
		}
		if got := activeID(t, m); got != old {
			t.Fatalf("right after rotation the active key is %s, want the old key %s", got, old)
		}
		c.Advance(testCacheMaxAge - time.Second)
		if got := activeID(t, m); got != old {
			t.Fatalf("before the cache lifetime passed the active key is %s, want the old key %s", got, old)
		}
		c.Advance(time.Second)
		if got := activeID(t, m); got != rotated.ID {
			t.Fatalf("after the cache lifetime the active key is %s, want the new key %s", got, rotated.ID)
		}

		// The old key verifies tokens until the last one it signed expires.
		retires := rotated.ActiveFrom.Add(testTokenLifetime + retireSkew)
		c.Set(retires.Add(-time.Second))
		if got := publishedIDs(t, m); !slices.Equal(got, []string{rotated.ID, old}) {
			t.Fatalf("published just before retirement = %v, want both keys", got)
		}
		c.Set(retires)
		if got := publishedIDs(t, m); !slices.Equal(got, []string{rotated.ID}) {
			t.Fatalf("published at retirement = %v, want only the new key %s", got, rotated.ID)
		}
		var set jose.JSONWebKeySet
		check(t, json.Unmarshal(must[[]byte](t)(m.JWKS(ctx)), &set))
		if len(set.Keys) != 1 || set.Keys[0].KeyID != rotated.ID {
			t.Fatalf("JWKS at retirement = %+v, want only the new key", set.Keys)
		}
	})
}

func TestRotateNowSignsAtOnce(t *testing.T) {
	eachBackend(t, func(t *testing.T, db database) {
		ctx := context.Background()
		c := newClock()
		m := newManager(db.open(t), "ES256", c)
		check(t, m.EnsureKey(ctx))
		old := activeID(t, m)

		rotated := must[*storage.SigningKey](t)(m.Rotate(ctx, true))
		if !rotated.ActiveFrom.Equal(c.Now()) {
			t.Fatalf("key rotated with now is active from %v, want now %v", rotated.ActiveFrom, c.Now())
		}
		if got := activeID(t, m); got != rotated.ID {
			t.Fatalf("right after rotating with now the active key is %s, want the new key %s", got, rotated.ID)
		}
		c.Advance(testTokenLifetime + retireSkew - time.Second)
		if got := publishedIDs(t, m); !slices.Equal(got, []string{rotated.ID, old}) {
			t.Fatalf("published before the old key's tokens expired = %v, want both", got)
		}
		c.Advance(time.Second)
		if got := publishedIDs(t, m); !slices.Equal(got, []string{rotated.ID}) {
			t.Fatalf("published after the old key's tokens expired = %v, want only %s", got, rotated.ID)
		}
	})
}

func TestAnotherReplicaSeesRotationAfterReload(t *testing.T) {
	eachBackend(t, func(t *testing.T, db database) {
		ctx := context.Background()
		c := newClock()
		rotating := newManager(db.open(t), "RS256", c)
		replica := newManager(db.open(t), "RS256", c)
		check(t, rotating.EnsureKey(ctx))
		check(t, replica.EnsureKey(ctx))
		old := activeID(t, replica)

		rotated := must[*storage.SigningKey](t)(rotating.Rotate(ctx, true))
		c.Advance(testReload - time.Second)
		if got := activeID(t, replica); got != old {
			t.Fatalf("before its reload the replica signs with %s, want its cached key %s", got, old)
		}
		c.Advance(time.Second)
		if got := activeID(t, replica); got != rotated.ID {
			t.Fatalf("after its reload the replica signs with %s, want the rotated key %s", got, rotated.ID)
		}
		if got := publishedIDs(t, replica); !slices.Equal(got, []string{rotated.ID, old}) {
			t.Fatalf("the replica publishes %v, want [%s %s]", got, rotated.ID, old)
		}
	})
}

func TestChangedAlgorithmGetsANewKey(t *testing.T) {
	eachBackend(t, func(t *testing.T, db database) {
		ctx := context.Background()
		c := newClock()
		check(t, newManager(db.open(t), "RS256", c).EnsureKey(ctx))
		old := storedKeys(t, db.open(t))[0]

		switched := newManager(db.open(t), "ES256", c)
		check(t, switched.EnsureKey(ctx))
		// The new key is published first, as a rotation's: relying parties
		// that cached /keys fetch it before it signs anything.
		if k := must[*Key](t)(switched.Active(ctx)); k.ID != old.ID {
			t.Fatalf("right after switching to ES256 the active key is %s %s, want the RS256 one until the cache lifetime passed", k.ID, k.Alg)
		}
		if algs := must[[]string](t)(switched.Algorithms(ctx)); !slices.Equal(algs, []string{"ES256", "RS256"}) {
			t.Fatalf("algorithms %v, want both published", algs)
		}
		c.Advance(testCacheMaxAge)
		switched.Invalidate()
		k := must[*Key](t)(switched.Active(ctx))
		if k.Alg != jose.ES256 || k.ID == old.ID {
			t.Fatalf("after the cache lifetime the active key is %s %s, want the new ES256 key", k.ID, k.Alg)
		}
		if got := publishedIDs(t, switched); !slices.Equal(got, []string{k.ID, old.ID}) {
			t.Fatalf("published = %v, want the new key then the RS256 one still verifying its tokens", got)
		}
		check(t, newManager(db.open(t), "ES256", c).EnsureKey(ctx))
		keys := storedKeys(t, db.open(t))
		if len(keys) != 2 || keys[0].Generation != 2 || keys[0].Alg != "ES256" {
			t.Fatalf("stored keys = %+v, want 2 keys, the newest ES256 of generation 2", keys)
		}
		if keys[1].RetiredAt == nil || !keys[1].RetiredAt.Equal(keys[0].ActiveFrom.Add(testTokenLifetime+retireSkew)) {
			t.Fatalf("the RS256 key retires at %v, want when its last token expires", keys[1].RetiredAt)
		}
	})
}

func TestConcurrentRotationsTakeSuccessiveGenerations(t *testing.T) {
	eachBackend(t, func(t *testing.T, db database) {
		ctx := context.Background()
		c := newClock()
		first := newManager(db.open(t), "ES256", c)
		check(t, first.EnsureKey(ctx))
		managers := []*Manager{first, newManager(db.open(t), "ES256", c)}
		errs := make([]error, len(managers))
		var wg sync.WaitGroup
		for i, m := range managers {
			wg.Go(func() { _, errs[i] = m.Rotate(ctx, false) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("rotation %d: %v", i, err)
			}
		}
		keys := storedKeys(t, db.open(t))
		if len(keys) != 3 || keys[0].Generation != 3 || keys[1].Generation != 2 {
			t.Fatalf("after two concurrent rotations %d keys are stored, want generations 3, 2, 1", len(keys))
		}
	})
}

func TestKeysAreServedFromMemory(t *testing.T) {
	ctx := context.Background()
	st, err := storage.Open(ctx, storagetest.SQLiteURL(t))
	check(t, err)
	_, err = st.Migrate(ctx)
	check(t, err)
	c := newClock()
	m := newManager(st, "RS256", c)
	check(t, m.EnsureKey(ctx))
	want := activeID(t, m)
	check(t, st.Close())

	if got := activeID(t, m); got != want {
		t.Fatalf("with the database closed Active = %s, want the cached %s", got, want)
	}
	if allocs := testing.AllocsPerRun(100, func() { m.Active(ctx) }); allocs != 0 {
		t.Errorf("Active allocates %v times per call, want none", allocs)
	}
	// A database outage after the reload time keeps the known keys in use.
	c.Advance(testReload)
	if got := activeID(t, m); got != want {
		t.Fatalf("with the database away after reload time Active = %s, want the known %s", got, want)
	}
	if got := publishedIDs(t, m); !slices.Equal(got, []string{want}) {
		t.Fatalf("with the database away Published = %v, want [%s]", got, want)
	}
}

func TestNoActiveKeyBeforeEnsureKey(t *testing.T) {
	eachBackend(t, func(t *testing.T, db database) {
		m := newManager(db.open(t), "RS256", newClock())
		if _, err := m.Active(context.Background()); !errors.Is(err, ErrNoActiveKey) {
			t.Fatalf("Active on an empty database: error %v, want %v", err, ErrNoActiveKey)
		}
		jwks := must[[]byte](t)(m.JWKS(context.Background()))
		if string(jwks) != `{"keys":[]}` {
			t.Fatalf("JWKS on an empty database = %s, want an empty set", jwks)
		}
	})
}

func TestUnsupportedAlgorithmIsRefused(t *testing.T) {
	eachBackend(t, func(t *testing.T, db database) {
		st := db.open(t)
		for _, alg := range []string{"HS256", "none", "", "rs256"} {
			m := newManager(st, alg, newClock())
			if err := m.EnsureKey(context.Background()); err == nil {
				t.Errorf("EnsureKey with algorithm %q succeeded, want an error", alg)
			}
			if _, err := m.Rotate(context.Background(), true); err == nil {
				t.Errorf("Rotate with algorithm %q succeeded, want an error", alg)
			}
		}
		if n := len(storedKeys(t, st)); n != 0 {
			t.Errorf("%d keys stored for unsupported algorithms, want none", n)
		}
	})
}

func TestListShowsEachKeysStatus(t *testing.T) {
	eachBackend(t, func(t *testing.T, db database) {
		ctx := context.Background()
		c := newClock()
		st := db.open(t)
		m := newManager(st, "RS256", c)
		check(t, m.EnsureKey(ctx))
		first := activeID(t, m)
		second := must[*storage.SigningKey](t)(m.Rotate(ctx, false))

		steps := []struct {
			at   time.Time
			want []Status
		}{
			{c.Now(), []Status{StatusPending, StatusActive}},
			{second.ActiveFrom, []Status{StatusActive, StatusPublished}},
			{second.ActiveFrom.Add(testTokenLifetime + retireSkew), []Status{StatusActive, StatusRetired}},
		}
		for _, step := range steps {
			infos := must[[]Info](t)(List(ctx, st, step.at))
			if len(infos) != 2 || infos[0].ID != second.ID || infos[1].ID != first {
				t.Fatalf("List at %v = %+v, want the new key then the first", step.at, infos)
			}
			for i, info := range infos {
				if info.Status != step.want[i] {
					t.Errorf("at %v key generation %d is %s, want %s", step.at, info.Generation, info.Status, step.want[i])
				}
			}
		}

		// A pending key overtaken by a rotation with now never signs: it is
		// listed as published, and the newest key stays active even once
		// the overtaken one was due.
		c.Set(second.ActiveFrom.Add(testTokenLifetime + retireSkew))
		third := must[*storage.SigningKey](t)(m.Rotate(ctx, false))
		fourth := must[*storage.SigningKey](t)(m.Rotate(ctx, true))
		infos := must[[]Info](t)(List(ctx, st, c.Now()))
		got := []Status{infos[0].Status, infos[1].Status, infos[2].Status}
		if infos[0].ID != fourth.ID || infos[1].ID != third.ID ||
			!slices.Equal(got, []Status{StatusActive, StatusPublished, StatusPublished}) {
			t.Errorf("after a rotation with now overtook a pending key: statuses %v, want active, published, published", got)
		}
		if got := activeID(t, m); got != fourth.ID {
			t.Errorf("the active key is %s, want %s", got, fourth.ID)
		}
		c.Set(third.ActiveFrom)
		if got := activeID(t, m); got != fourth.ID {
			t.Errorf("when the overtaken key was due the active key is %s, want still %s", got, fourth.ID)
		}
	})
}

func BenchmarkActive(b *testing.B) {
	ctx := context.Background()
	st := storagetest.Open(b, storagetest.SQLiteURL(b))
	m := New(st, testSecret, "ES256", Options{})
	if err := m.EnsureKey(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := m.Active(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}
