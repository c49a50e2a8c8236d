// Package signing manages Gatehouse's token signing keys: it creates the
// first key once for all replicas, rotates keys so that relying parties
// hold a new public key before it signs anything, keeps old keys published
// until every token they signed has expired, and serves the active key and
// the published set from memory.
//
// Private keys are stored encrypted with AES-256-GCM under a key derived
// from the server secret, so a copy of the database alone cannot sign.
package signing

import (
	"context"
	"crypto"
	"crypto/cipher"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-id/gatehouse/secretkey"
	"github.com/gatehouse-id/gatehouse/storage"
)

// Defaults for Options fields left zero.
const (
	DefaultCacheMaxAge   = time.Hour
	DefaultTokenLifetime = time.Hour
	DefaultReload        = 60 * time.Second
)

// retireSkew is added to a retiring key's lifetime so that a token signed
// just before the switch and checked by a relying party whose clock runs
// behind still finds its key.
const retireSkew = 5 * time.Minute

// retryAfterFailure is how long a stale cache is served after a reload
// failed, so that a database outage is not met with a query per token.
const retryAfterFailure = 5 * time.Second

// ErrNoActiveKey means no stored key is active yet: EnsureKey has not run.
var ErrNoActiveKey = errors.New("no signing key is active; the server creates one on start")

// Options tune a Manager. Zero fields take the defaults above.
type Options struct {
	// CacheMaxAge is how long relying parties may cache /keys. A rotated
	// key starts signing only after this long, so they already hold it.
	CacheMaxAge time.Duration
	// TokenLifetime is the longest lifetime of anything signed. A replaced
	// key stays published this long after it stops signing.
	TokenLifetime time.Duration
	// Reload is how often the in-memory keys are read again, so that a
	// rotation made elsewhere reaches this replica.
	Reload time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Key is a key that signs tokens. A Key returned by Active is shared by
// every caller: do not modify it.
type Key struct {
	ID     string
	Alg    jose.SignatureAlgorithm
	Signer crypto.Signer
}

// Manager creates, rotates and serves the signing keys. It is safe for
// concurrent use.
type Manager struct {
	store *storage.Store
	aead  cipher.AEAD
	alg   string
	opts  Options

	cache   atomic.Pointer[snapshot]
	loading sync.Mutex // held by the one caller reloading the cache

	// storing guards epoch and replacing the cache, so that a reload that
	// began before Invalidate cannot bring back what Invalidate dropped.
	storing sync.Mutex
	epoch   uint64
}

// snapshot is the keys as last read from the database.
type snapshot struct {
	keys    []*parsed // published at load time, newest generation first
	public  []jose.JSONWebKey
	jwks    []byte
	expires time.Time
}

// New returns a manager for the keys in store, encrypted under a key
// derived from secret. alg ("RS256" or "ES256") is the algorithm new keys
// get; it is checked when a key is made.
func New(store *storage.Store, secret secretkey.Key, alg string, opts Options) *Manager {
	if opts.CacheMaxAge <= 0 {
		opts.CacheMaxAge = DefaultCacheMaxAge
	}
	if opts.TokenLifetime <= 0 {
		opts.TokenLifetime = DefaultTokenLifetime
	}
	if opts.Reload <= 0 {
		opts.Reload = DefaultReload
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Manager{
		store: store,
		aead:  newAEAD(secret.Derive(secretkey.PurposeSigningKeys)),
		alg:   alg,
		opts:  opts,
	}
}

// Active returns the key that signs now: the newest generation whose
// ActiveFrom has come. It is served from memory.
func (m *Manager) Active(ctx context.Context) (*Key, error) {
	s, err := m.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	now := m.opts.Now()
	for _, p := range s.keys {
		if !p.row.ActiveFrom.After(now) {
			return &p.key, nil
		}
	}
	return nil, ErrNoActiveKey
}

// Algorithms are the algorithms of the published keys, each once, in the
// order of the keys: what a token from this issuer may be signed with.
func (m *Manager) Algorithms(ctx context.Context) ([]string, error) {
	s, err := m.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	var algs []string
	for _, p := range s.keys {
		if alg := string(p.key.Alg); !slices.Contains(algs, alg) {
			algs = append(algs, alg)
		}
	}
	return algs, nil
}

// Published returns the public keys relying parties need, newest first:
// every key not yet retired, including one that has not started signing.
func (m *Manager) Published(ctx context.Context) ([]jose.JSONWebKey, error) {
	s, err := m.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	return slices.Clone(s.public), nil
}

// JWKS returns the published keys as a JSON Web Key Set, {"keys":[…]}.
func (m *Manager) JWKS(ctx context.Context) ([]byte, error) {
	s, err := m.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	return slices.Clone(s.jwks), nil
}

// Invalidate drops the in-memory keys; the next call reads the database.
func (m *Manager) Invalidate() {
	m.storing.Lock()
	defer m.storing.Unlock()
	m.epoch++
	m.cache.Store(nil)
}

// snapshot returns the cached keys, reloading them when they are too old.
// Of callers arriving together after expiry one reloads; the others keep
// using the previous keys meanwhile rather than queue on the database.
func (m *Manager) snapshot(ctx context.Context) (*snapshot, error) {
	old := m.cache.Load()
	if old != nil && m.opts.Now().Before(old.expires) {
		return old, nil
	}
	if old != nil {
		if !m.loading.TryLock() {
			return old, nil
		}
	} else {
		m.loading.Lock() // nothing to serve yet: wait for the one loading
	}
	defer m.loading.Unlock()
	if cur := m.cache.Load(); cur != nil && m.opts.Now().Before(cur.expires) {
		return cur, nil // reloaded while this caller waited
	}
	m.storing.Lock()
	epoch := m.epoch
	m.storing.Unlock()

	s, err := m.load(ctx, old)
	if err != nil {
		if old == nil {
			return nil, err
		}
		// Keep signing with the keys already known while the database is
		// away, and try again shortly.
		stale := *old
		stale.expires = m.opts.Now().Add(retryAfterFailure)
		s = &stale
	}
	m.storing.Lock()
	if m.epoch == epoch {
		m.cache.Store(s)
	}
	m.storing.Unlock()
	return s, nil
}

// load reads the published keys. Keys already parsed in prev are reused,
// so a private key is decrypted once per process, not once per reload.
func (m *Manager) load(ctx context.Context, prev *snapshot) (*snapshot, error) {
	now := m.opts.Now()
	rows, err := m.store.Keys().Published(ctx, now)
	if err != nil {
		return nil, err
	}
	s := &snapshot{
		keys:    make([]*parsed, 0, len(rows)),
		public:  make([]jose.JSONWebKey, 0, len(rows)),
		expires: now.Add(m.opts.Reload),
	}
	for _, row := range rows {
		p := prev.find(row.ID)
		if p != nil {
			again := *p
			again.row = row // only the retirement time changes
			p = &again
		} else if p, err = parse(m.aead, row); err != nil {
			return nil, err
		}
		s.keys = append(s.keys, p)
		s.public = append(s.public, p.public)
		// Reload when a key retires, so it leaves /keys on time.
		if row.RetiredAt != nil && row.RetiredAt.Before(s.expires) {
			s.expires = *row.RetiredAt
		}
	}
	s.jwks, err = json.Marshal(jose.JSONWebKeySet{Keys: s.public})
	if err != nil {
		return nil, fmt.Errorf("encode signing keys: %w", err)
	}
	return s, nil
}

// find returns the parsed key with id, or nil.
func (s *snapshot) find(id string) *parsed {
	if s == nil {
		return nil
	}
	for _, p := range s.keys {
		if p.key.ID == id {
			return p
		}
	}
	return nil
}
