package password

import (
	"context"
	"errors"
	"testing"
)

// FuzzVerifyEncoded feeds arbitrary stored hashes to Verify: whatever is in
// the database, checking a password must answer or fail cleanly.
func FuzzVerifyEncoded(f *testing.F) {
	seed := newTestHasher(1)
	valid, err := seed.Hash(context.Background(), "pw")
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		"",
		"$",
		"$$$$$",
		valid,
		"$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=4294967295,t=4294967295,p=255$$",
		"$argon2id$v=19$m=8,t=1,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA",
		"$argon2i$v=19$m=64,t=1,p=1$c29tZXNhbHQ$aGFzaA",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, encoded string) {
		h := newTestHasher(1)
		// Keep each accepted input cheap so the fuzzer explores parsing
		// rather than spending its time in argon2.
		h.limits = limits{memory: 256, iterations: 4}
		ok, err := h.Verify(context.Background(), "pw", encoded)
		if err != nil && (ok || !errors.Is(err, ErrMalformedHash)) {
			t.Fatalf("Verify() = %v, %v; an error must mean a malformed hash and not ok", ok, err)
		}
		if err != nil && !h.NeedsRehash(encoded) {
			t.Fatal("an unreadable hash does not need replacing")
		}
	})
}
