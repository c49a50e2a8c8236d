package password

import (
	"errors"
	"testing"
)

func TestValidate(t *testing.T) {
	with := func(change func(*Params)) Params {
		p := DefaultParams
		change(&p)
		return p
	}
	tests := []struct {
		name string
		p    Params
		ok   bool
	}{
		{"defaults", DefaultParams, true},
		{"more memory, one pass (OWASP 46 MiB)", with(func(p *Params) { p.Memory, p.Iterations = 47104, 1 }), true},
		{"less memory, five passes (OWASP 7 MiB)", with(func(p *Params) { p.Memory, p.Iterations = 7168, 5 }), true},
		{"stronger than defaults", with(func(p *Params) { p.Memory, p.Iterations, p.Parallelism = 65536, 3, 4 }), true},
		{"one GiB is allowed", with(func(p *Params) { p.Memory = 1 << 20 }), true},
		{"default memory with one pass", with(func(p *Params) { p.Iterations = 1 }), false},
		{"7 MiB with four passes", with(func(p *Params) { p.Memory, p.Iterations = 7168, 4 }), false},
		{"tiny memory with many passes", with(func(p *Params) { p.Memory, p.Iterations = 1024, 50 }), false},
		{"zero iterations", with(func(p *Params) { p.Iterations = 0 }), false},
		{"more than one GiB", with(func(p *Params) { p.Memory = 1<<20 + 1 }), false},
		{"absurd iterations", with(func(p *Params) { p.Iterations = 1000 }), false},
		{"zero parallelism", with(func(p *Params) { p.Parallelism = 0 }), false},
		{"absurd parallelism", with(func(p *Params) { p.Parallelism = 200 }), false},
		{"short salt", with(func(p *Params) { p.SaltLen = 8 }), false},
		{"huge salt", with(func(p *Params) { p.SaltLen = 1 << 20 }), false},
		{"short key", with(func(p *Params) { p.KeyLen = 8 }), false},
		{"huge key", with(func(p *Params) { p.KeyLen = 1 << 20 }), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Validate()
			if tt.ok && err != nil {
				t.Fatalf("Validate() = %v, want nil", err)
			}
			if !tt.ok && !errors.Is(err, ErrInvalidParams) {
				t.Fatalf("Validate() = %v, want ErrInvalidParams", err)
			}
		})
	}
}

func TestNewHasherRefusesWeakParams(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("NewHasher accepted parameters below the OWASP minimum")
		}
	}()
	NewHasher(testParams, 1)
}
