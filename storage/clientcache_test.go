package storage_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

func TestClientCacheKeepsClientsBriefly(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			s := storagetest.Open(t, b.URL(t))
			if err := s.Clients().Create(ctx, &storage.Client{ID: "kept", Name: "Kept", Public: true,
				RedirectURIs: storage.StringList{"https://app.example/cb"}}); err != nil {
				t.Fatal(err)
			}
			cc := storage.NewClientCache(s)
			clock := time.Now()
			cc.SetClock(func() time.Time { return clock })
			if c, err := cc.Get(ctx, "kept"); err != nil || c.Name != "Kept" {
				t.Fatalf("Get: %+v, %v; want the registered client", c, err)
			}
			if err := s.Clients().Delete(ctx, "kept"); err != nil {
				t.Fatal(err)
			}
			clock = clock.Add(storage.ClientCacheTTL - time.Second)
			if _, err := cc.Get(ctx, "kept"); err != nil {
				t.Errorf("within the cache lifetime: %v, want the client kept", err)
			}
			clock = clock.Add(2 * time.Second)
			if _, err := cc.Get(ctx, "kept"); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("after the cache lifetime: %v, want ErrNotFound (the deletion seen)", err)
			}
		})
	}
}

func TestClientCacheNeverKeepsUnknownClients(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			s := storagetest.Open(t, b.URL(t))
			cc := storage.NewClientCache(s)
			const id = "registered-after-first-try"
			if _, err := cc.Get(ctx, id); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("unknown client: %v, want ErrNotFound", err)
			}
			if err := s.Clients().Create(ctx, &storage.Client{ID: id, Name: "New", Public: true,
				RedirectURIs: storage.StringList{"https://app.example/cb"}}); err != nil {
				t.Fatal(err)
			}
			if c, err := cc.Get(ctx, id); err != nil || c.ID != id {
				t.Errorf("after registration: %+v, %v; want the new client at once", c, err)
			}
		})
	}
}
