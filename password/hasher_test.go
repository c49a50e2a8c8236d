package password

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestHashThenVerify(t *testing.T) {
	h := newTestHasher(0)
	ctx := context.Background()
	encoded, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(encoded, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash %q is not a PHC argon2id string with the hasher's settings", encoded)
	}
	tests := []struct {
		name  string
		plain string
		want  bool
	}{
		{"same password", "correct horse battery staple", true},
		{"wrong password", "correct horse battery stapler", false},
		{"different case", "Correct horse battery staple", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := h.Verify(ctx, tt.plain, encoded)
			if err != nil {
				t.Fatal(err)
			}
			if ok != tt.want {
				t.Fatalf("Verify() = %v, want %v", ok, tt.want)
			}
		})
	}
}

func TestVerifyUsesTheStoredParameters(t *testing.T) {
	ctx := context.Background()
	older := newHasher(Params{Memory: 32, Iterations: 3, Parallelism: 2, SaltLen: 8, KeyLen: 16}, 1)
	encoded, err := older.Hash(ctx, "a password from long ago")
	if err != nil {
		t.Fatal(err)
	}
	current := newTestHasher(1)
	ok, err := current.Verify(ctx, "a password from long ago", encoded)
	if err != nil || !ok {
		t.Fatalf("Verify() = %v, %v; want true, nil", ok, err)
	}
	if ok, _ := current.Verify(ctx, "another password", encoded); ok {
		t.Fatal("Verify() accepted a wrong password")
	}
}

func TestSaltsDiffer(t *testing.T) {
	h := newTestHasher(0)
	ctx := context.Background()
	a, err := h.Hash(ctx, "same password twice")
	if err != nil {
		t.Fatal(err)
	}
	b, err := h.Hash(ctx, "same password twice")
	if err != nil {
		t.Fatal(err)
	}
	saltOf := func(s string) string { return strings.Split(s, "$")[4] }
	if saltOf(a) == saltOf(b) || a == b {
		t.Fatalf("two hashes of one password share a salt: %q and %q", a, b)
	}
}

func TestVerifyMalformed(t *testing.T) {
	const salt = "c29tZXNhbHRzb21lc2FsdA"                     // 16 bytes
	const key = "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g" // 32 bytes
	valid := "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key
	tests := []struct {
		name    string
		encoded string
	}{
		{"empty", ""},
		{"not PHC", "argon2id"},
		{"missing hash", "$argon2id$v=19$m=64,t=1,p=1$" + salt},
		{"extra field", valid + "$x"},
		{"text before", "x" + valid},
		{"argon2i", "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key},
		{"bcrypt", "$2b$10$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz01234"},
		{"version 16", "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key},
		{"no version", "$argon2id$m=64,t=1,p=1$" + salt + "$" + key},
		{"params out of order", "$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + key},
		{"missing param", "$argon2id$v=19$m=64,t=1$" + salt + "$" + key},
		{"extra param", "$argon2id$v=19$m=64,t=1,p=1,k=2$" + salt + "$" + key},
		{"negative memory", "$argon2id$v=19$m=-64,t=1,p=1$" + salt + "$" + key},
		{"signed iterations", "$argon2id$v=19$m=64,t=+1,p=1$" + salt + "$" + key},
		{"leading zero", "$argon2id$v=19$m=064,t=1,p=1$" + salt + "$" + key},
		{"hex memory", "$argon2id$v=19$m=0x40,t=1,p=1$" + salt + "$" + key},
		{"empty memory", "$argon2id$v=19$m=,t=1,p=1$" + salt + "$" + key},
		{"zero iterations", "$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key},
		{"zero parallelism", "$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key},
		{"parallelism over a byte", "$argon2id$v=19$m=4096,t=1,p=256$" + salt + "$" + key},
		{"memory below 8 KiB per lane", "$argon2id$v=19$m=15,t=1,p=2$" + salt + "$" + key},
		{"huge memory", "$argon2id$v=19$m=4294967295,t=1,p=1$" + salt + "$" + key},
		{"memory just over 1 GiB", "$argon2id$v=19$m=1048577,t=1,p=1$" + salt + "$" + key},
		{"memory beyond 32 bits", "$argon2id$v=19$m=4294967296,t=1,p=1$" + salt + "$" + key},
		{"huge iterations", "$argon2id$v=19$m=64,t=4294967295,p=1$" + salt + "$" + key},
		{"bad base64 salt", "$argon2id$v=19$m=64,t=1,p=1$!!!!$" + key},
		{"padded salt", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + key},
		{"url-safe base64 hash", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + strings.Repeat("_-", 22)},
		{"line break in hash", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key[:20] + "\n" + key[20:]},
		{"non-canonical trailing bits", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key[:len(key)-1] + "h"},
		{"short salt", "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$" + key},
		{"empty salt", "$argon2id$v=19$m=64,t=1,p=1$$" + key},
		{"short hash", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$aGFzaA"},
		{"empty hash", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$"},
		{"too long", valid + strings.Repeat("A", 600)},
	}
	h := newTestHasher(1)
	if _, err := h.Verify(context.Background(), "x", valid); err != nil {
		t.Fatalf("the table's base string should be valid: %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := h.Verify(context.Background(), "x", tt.encoded)
			if ok || !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("Verify() = %v, %v; want false, ErrMalformedHash", ok, err)
			}
			if tt.encoded != "" && strings.Contains(err.Error(), tt.encoded) {
				t.Fatalf("error %q quotes the stored hash", err)
			}
		})
	}
}

func TestNeedsRehash(t *testing.T) {
	ctx := context.Background()
	current := newTestHasher(1)
	hashWith := func(p Params) string {
		t.Helper()
		s, err := newHasher(p, 1).Hash(ctx, "pw")
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	with := func(change func(*Params)) Params {
		p := testParams
		change(&p)
		return p
	}
	tests := []struct {
		name    string
		encoded string
		want    bool
	}{
		{"same settings", hashWith(testParams), false},
		{"stronger settings", hashWith(with(func(p *Params) { p.Memory, p.Iterations = 128, 2 })), false},
		{"less memory", hashWith(with(func(p *Params) { p.Memory = 32 })), true},
		{"shorter salt", hashWith(with(func(p *Params) { p.SaltLen = 8 })), true},
		{"shorter key", hashWith(with(func(p *Params) { p.KeyLen = 16 })), true},
		{"unreadable", "$argon2i$whatever", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := current.NeedsRehash(tt.encoded); got != tt.want {
				t.Fatalf("NeedsRehash() = %v, want %v", got, tt.want)
			}
		})
	}

	stricter := newHasher(with(func(p *Params) { p.Iterations = 2 }), 1)
	if !stricter.NeedsRehash(hashWith(testParams)) {
		t.Fatal("a hash with fewer iterations than the hasher's does not need rehashing")
	}
}

func TestVerifyDummyMatchesTheHasherSettings(t *testing.T) {
	h := newHasher(Params{Memory: 96, Iterations: 2, Parallelism: 2, SaltLen: 16, KeyLen: 32}, 1)
	d := h.dummy
	if d.memory != 96 || d.iterations != 2 || d.parallelism != 2 || len(d.salt) != 16 || len(d.key) != 32 {
		t.Fatalf("dummy hash settings %+v differ from the hasher's, so unknown users would answer at a different speed", d)
	}
	if err := h.VerifyDummy(context.Background(), "anything"); err != nil {
		t.Fatal(err)
	}
}
