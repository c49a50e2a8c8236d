package password

import (
	"context"
	"testing"
)

func BenchmarkHashDefault(b *testing.B) {
	h := NewHasher(DefaultParams, 0)
	ctx := context.Background()
	for b.Loop() {
		if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyDefault(b *testing.B) {
	h := NewHasher(DefaultParams, 0)
	ctx := context.Background()
	encoded, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if ok, err := h.Verify(ctx, "correct horse battery staple", encoded); err != nil || !ok {
			b.Fatalf("Verify() = %v, %v", ok, err)
		}
	}
}
