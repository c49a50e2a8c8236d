package storage

import (
	"context"
	"sync"
	"time"
)

// ClientCacheTTL is how long a ClientCache keeps a client. Every sign-in
// page reads its client; a registered client rarely changes, and nothing
// read from the cache grants anything by itself: the token endpoint
// authenticates the client from the database and checks again what it
// requires, so a client deleted, given a new secret or told to require a
// second factor is held to it there at once.
const ClientCacheTTL = 5 * time.Second

// clientCacheMax bounds the cache. Only registered clients are kept, so it
// is reached only by a deployment with that many clients signing users in
// within ClientCacheTTL; the cache is then emptied and refilled.
const clientCacheMax = 1024

// ClientCache holds recently loaded clients for the sign-in pages and
// /authorize. An unknown client id is never kept, so a newly registered
// client works at once. Safe for concurrent use.
type ClientCache struct {
	store *Store
	now   func() time.Time

	mu      sync.Mutex
	entries map[string]cachedClient
}

type cachedClient struct {
	c       *Client
	expires time.Time
}

// NewClientCache caches the clients of store.
func NewClientCache(store *Store) *ClientCache {
	return &ClientCache{store: store, now: time.Now, entries: map[string]cachedClient{}}
}

// Get returns the client with this id, from the cache while it is fresh
// (ErrNotFound for an unknown id). The client is shared with other
// callers: do not modify it.
func (cc *ClientCache) Get(ctx context.Context, id string) (*Client, error) {
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
	cc.entries[id] = cachedClient{c: c, expires: now.Add(ClientCacheTTL)}
	cc.mu.Unlock()
	return c, nil
}
