package storage_test

import (
	"testing"

	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

func TestConformance(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			storagetest.Run(t, func(t *testing.T) *storage.Store { return storagetest.Open(t, b.URL(t)) })
		})
	}
}
