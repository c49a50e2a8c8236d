package storage_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

// BenchmarkStartSignIn stores a sign-in request from a network that has
// finished none, or 5,000, within the requests' lifetime (an office behind
// one address): the bound on open requests counts the open ones only, so
// both cost the same.
//
//	go test -run '^$' -bench BenchmarkStartSignIn ./storage
func BenchmarkStartSignIn(b *testing.B) {
	for _, backend := range storagetest.Backends() {
		for _, finished := range []int{0, 5000} {
			b.Run(backend.Name+"/finished="+strconv.Itoa(finished), func(b *testing.B) {
				s := storagetest.Open(b, backend.URL(b))
				ctx := context.Background()
				start := func() *storage.AuthRequest {
					a := &storage.AuthRequest{ClientID: "app", RedirectURI: "https://app.example.com/cb",
						ClientNetwork: "203.0.113.0", ExpiresAt: time.Now().Add(30 * time.Minute)}
					if err := s.AuthRequests().Create(ctx, a, 10000); err != nil {
						b.Fatal(err)
					}
					return a
				}
				finish := func(a *storage.AuthRequest) {
					if err := s.AuthRequests().Fail(ctx, a.ID, "access_denied", ""); err != nil {
						b.Fatal(err)
					}
				}
				for range finished {
					finish(start())
				}
				for b.Loop() {
					// Finished, as a sign-in soon is: the open ones stay few.
					finish(start())
				}
			})
		}
	}
}
