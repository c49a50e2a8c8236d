package op

import (
	"context"
	"sync"
	"time"

	"github.com/gatehouse-id/gatehouse/storage"
)

// Clients loaded by /authorize are kept this long. Every sign-in starts
// with a client lookup; a registered client rarely changes, and what
// /authorize reads of it (redirect URIs, public or not) grants nothing by
// itself: the token endpoint loads the client afresh, so a client deleted
// or given a new secret is refused there at once.
const clientCacheTTL = 5 * time.Second

// clientCacheMax bounds the cache. Only registered clients are cached, so
// it is reached only by a deployment with that many clients signing users
// in within clientCacheTTL; the cache is then emptied and refilled.
const clientCacheMax = 1024

// clientCache holds recently loaded clients for /authorize. An unknown
// client id is never cached, so a newly registered client works at once.
type clientCache struct {
	store *storage.Store
	now   func() time.Time

	mu      sync.Mutex
	entries map[string]cachedClient
}

type cachedClient struct {
	c       *storage.Client
	expires time.Time
}

func newClientCache(store *storage.Store) *clientCache {
	return &clientCache{store: store, now: time.Now, entries: map[string]cachedClient{}}
}

// get returns the client with this id, from the cache while it is fresh.
// The client is shared with other callers: do not modify it.
func (cc *clientCache) get(ctx context.Context, id string) (*storage.Client, error) {
	now := cc.now()
	cc.mu.Lock()
	e, ok := cc.entries[id]
	cc.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.c, nil
	}
	c, err := cc.store.Clients().Get(ctx, id)
	if err != nil {
		return nil, err
	}
	cc.mu.Lock()
	if len(cc.entries) >= clientCacheMax {
		clear(cc.entries)
	}
	cc.entries[id] = cachedClient{c: c, expires: now.Add(clientCacheTTL)}
	cc.mu.Unlock()
	return c, nil
}
